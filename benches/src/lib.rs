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
//! The race's latency and idle rows (timers, idle CPU, wake latency) are
//! in [`probes`], the IO rows (TCP echo, hyper HTTP/1) in [`io_probes`], written once over the
//! same trait.
//!
//! [`CONTENDERS`] is the single list of runtimes both harnesses use.

#![warn(missing_docs)]

pub mod async_executor_rt;
pub mod io_probes;
pub mod machine_load;
pub mod ours;
pub mod probes;
pub mod race;
pub mod report;
pub mod runtime;
pub mod stats;
pub mod tokio_rt;
pub mod workloads;

use runtime::{BenchRuntime, Contender};

/// Starts a fresh runtime with the given number of worker threads.
pub type StartContender = fn(usize) -> Box<dyn Contender>;

/// Every runtime in the race, ours first: one starter each, so a harness
/// can also run one runtime alone in the process.
pub const CONTENDERS: [StartContender; 3] = [
    start::<ours::Ours>,
    start::<tokio_rt::TokioRt>,
    start::<async_executor_rt::AsyncExecutorRt>,
];

/// Starts an `R` with `workers` worker threads, boxed.
fn start<R: BenchRuntime>(workers: usize) -> Box<dyn Contender> {
    Box::new(R::with_workers(workers))
}

/// Starts a fresh instance of every runtime in [`CONTENDERS`], each with
/// `workers` worker threads, ours first. The race binary and the criterion
/// bench both take their runtimes from here.
pub fn contenders(workers: usize) -> Vec<Box<dyn Contender>> {
    CONTENDERS.iter().map(|start| start(workers)).collect()
}
