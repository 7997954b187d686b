//! Whole-runtime benchmarks: our runtime against tokio and async-executor.
//!
//! Each workload (described in `docs/race.md`) is written once in
//! [`workloads`], generic over the small [`runtime::BenchRuntime`] trait, so
//! the runtimes cannot drift apart. The adapters live in [`tokio_rt`],
//! [`async_executor_rt`] and [`ours`]. [`race`] runs the
//! interleaved race behind `cargo run --release --bin race`; [`report`]
//! renders its table; `benches/runtime_compare.rs` runs the same workloads
//! under criterion.
//!
//! [`contenders`] is the single list of runtimes both harnesses use.

#![warn(missing_docs)]

pub mod async_executor_rt;
pub mod machine_load;
pub mod ours;
pub mod race;
pub mod report;
pub mod runtime;
pub mod stats;
pub mod tokio_rt;
pub mod workloads;

use runtime::{BenchRuntime, Contender};

/// Starts a fresh instance of every runtime in the race, each with `workers`
/// worker threads, ours first. The race binary and the criterion bench both
/// take their runtimes from here.
pub fn contenders(workers: usize) -> Vec<Box<dyn Contender>> {
    vec![
        Box::new(ours::Ours::with_workers(workers)),
        Box::new(tokio_rt::TokioRt::with_workers(workers)),
        Box::new(async_executor_rt::AsyncExecutorRt::with_workers(workers)),
    ]
}
