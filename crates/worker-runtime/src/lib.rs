//! `worker-runtime`: a multi-threaded, work-stealing async runtime with tokio's shape, built on a
//! bitmap summary tree of runnable tasks ([`summary-tree`](https://docs.rs/summary-tree)) and
//! per-worker status words with futex parking ([`signal-waker`](https://docs.rs/signal-waker)).
//!
//! ```
//! use worker_runtime::{Runtime, spawn, yield_now};
//!
//! let rt = Runtime::builder().worker_threads(2).build().unwrap();
//! let sum = rt.block_on(async {
//!     let handles: Vec<_> = (0..10u64)
//!         .map(|i| spawn(async move {
//!             yield_now().await;
//!             i * i
//!         }))
//!         .collect();
//!     let mut sum = 0;
//!     for h in handles {
//!         sum += h.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum, 285);
//! ```
//!
//! How it fits together:
//! * a spawn reserves a slot in the summary tree near the spawning worker's partition, allocates
//!   the task (one allocation: header, future, output) and either puts it in the worker's LIFO
//!   slot (from a worker) or sets its tree bit (from anywhere else), which notifies the owner of
//!   the slot's leaf through its `SignalWaker`;
//! * a worker looks in its LIFO slot (at most three times in a row), then its partition and its
//!   FIFO yield queue strictly alternately (every 31st turn it also looks at the other workers'
//!   work, so no runnable task waits for more than a bounded number of other polls), then steals
//!   (LIFO slots, other partitions, yield queues), then parks;
//! * at most one idle worker is woken per burst of new work, and no futex syscall is made unless
//!   a worker sleeps.
//!
//! * time ([`time::sleep`], [`time::timeout`], [`time::interval`]): each worker keeps its own
//!   timer wheel, fires its due timers before it searches and parks with its next deadline as the
//!   futex timeout; a timer touched from another thread goes to its owner by message;
//! * one service thread per runtime fires the timers of a worker stuck in a long poll, serves the
//!   timers of retired workers, and (with `min_workers` / `max_workers`) adds a worker when work
//!   waits while every worker is busy and retires one that stays idle; the count can also be moved
//!   by hand ([`Handle::set_worker_count`]). An idle runtime wakes no thread.
//!
//! * blocking work ([`spawn_blocking`]) runs on a pool of threads separate from the workers, up to
//!   [`Builder::max_blocking_threads`] (default 512), each leaving after
//!   [`Builder::thread_keep_alive`] idle (default 10 s); a blocking closure is a task like any
//!   other, with the same [`JoinHandle`] and [`JoinError`];
//!
//! * every call into user code on a runtime thread is contained: a panic in a poll, in a
//!   future's or an output's `Drop`, in a panic payload's `Drop` or in a `JoinHandle`'s waker
//!   never ends a worker (a panicking task's `JoinHandle` gives `JoinError::Panic`, as in tokio).
//!
//! * IO ([`net`], [`io`]): one IO driver per runtime on mio, created by the first socket. A worker
//!   that runs out of work and finds the driver free waits in it (with its next timer deadline as
//!   the timeout) instead of on its futex, and is woken through the driver's eventfd; the driver is
//!   never held while user code runs, busy workers poll it every 61 polls, and the service thread
//!   polls it when every worker is busy, so an event never waits behind a long poll. The `tokio-io`
//!   feature adds tokio's IO traits to the streams, the `hyper` feature hyper 1.x's (and
//!   `worker_runtime::hyper::{Executor, Timer}`). Design: docs/io.md in the repository.
//!
//! Dropping a [`Runtime`] (or [`Runtime::shutdown_timeout`]) refuses new spawns, cancels every task
//! that is not running (its future is dropped, its `JoinHandle` resolves to a cancelled
//! [`JoinError`]), wakes the workers and waits for them to leave; `shutdown_timeout` waits at most
//! its timeout, and a worker still inside a poll then drops that task as cancelled when the poll
//! returns. Queued blocking closures are cancelled; running ones are waited for within the same
//! deadline (without one on drop, as in tokio), and the [`ShutdownOutcome`] counts those left
//! running. Dropped inside one of its own tasks, a runtime does the same but waits for no thread;
//! dropped inside one of its blocking closures, it waits for every thread but that one.
//! Pending timers go with their tasks; no timer keeps a runtime alive. Every wait on one of its
//! sockets ends with an error, in a task or in another executor.
//!
//! Not there yet: `block_in_place`, `metrics()`.
//!
//! The no-lost-wakeup argument, edge by edge with a loom model for each, is in
//! [docs/no-lost-wakeup.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/no-lost-wakeup.md),
//! and the data layout of every layer with the path of one task from `spawn` to completion in
//! [docs/design.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/design.md);
//! timers, the service thread and scaling in
//! [docs/time-and-scaling.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/time-and-scaling.md);
//! the blocking pool in
//! [docs/blocking.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/blocking.md).
// The README's examples are compiled and run as doctests too.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![warn(missing_docs, missing_debug_implementations)]

mod block_on;
mod blocking;
mod builder;
mod context;
mod debug;
mod error;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_harness;
pub mod net;
pub mod runtime;
mod scheduler;
mod service;
mod sync;
mod table;
pub mod task;
pub mod time;
#[cfg(worker_runtime_tsan)]
mod tsan;
mod yield_now;

pub use builder::{
    Builder, DEFAULT_MAX_BLOCKING_THREADS, DEFAULT_MAX_TASKS, DEFAULT_THREAD_KEEP_ALIVE,
    DEFAULT_TICK_DURATION, DEFAULT_WORKER_KEEP_ALIVE, INITIAL_TASKS, MAX_BLOCKING_THREADS_LIMIT,
    MAX_TASKS_LIMIT, MAX_WORKER_THREADS, MIN_THREAD_STACK_SIZE, THREAD_KEEP_ALIVE_RANGE,
    TICK_DURATION_RANGE, WORKER_KEEP_ALIVE_RANGE,
};
#[doc(hidden)]
pub use debug::DebugProbe;
pub use error::{BuildError, SpawnError, TryCurrentError};
pub use runtime::{EnterGuard, Handle, Runtime, ShutdownOutcome};
pub use service::pool::WorkerCountError;
pub use task::{spawn, spawn_blocking, try_spawn, try_spawn_blocking};
pub use task::{JoinError, JoinHandle};
pub use yield_now::{yield_now, YieldNow};

/// Runs `async fn main` on a runtime, as `#[tokio::main]`: the function becomes a plain `fn` that
/// builds a runtime with [`Builder::new_multi_thread`] and blocks on the body (the return type is
/// kept, so `-> Result<(), E>` works).
///
/// ```
/// #[worker_runtime::main(worker_threads = 2)]
/// async fn main() -> Result<(), worker_runtime::JoinError> {
///     let h = worker_runtime::spawn(async { 6 * 7 });
///     assert_eq!(h.await?, 42);
///     Ok(())
/// }
/// ```
///
/// Arguments, as tokio's:
/// * `worker_threads = N` (an integer literal, at least 1; default one per CPU);
/// * `flavor = "multi_thread"`, or `flavor = "current_thread"`, which here means one worker
///   thread: the body runs on the calling thread and spawned tasks on that one worker (for
///   `!Send` tasks on the calling thread use a [`task::LocalSet`]);
/// * `crate = "path"`: where this crate is, if the dependency is renamed (default
///   `::worker_runtime`).
///
/// Anything else is a compile error naming the argument and listing the allowed ones, and so is
/// the attribute on a function that is not `async` or that takes arguments:
///
/// ```compile_fail
/// #[worker_runtime::main(start_paused = true)] // unknown argument `start_paused`
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[worker_runtime::main] // the `async` keyword is missing
/// fn main() {}
/// ```
#[cfg(feature = "macros")]
pub use worker_runtime_macros::main;

/// Runs an `async fn` test on a runtime of its own, as `#[tokio::test]`: the function gets
/// `#[test]` and a body that builds a runtime and blocks on the original one. The runtime has one
/// worker thread unless `worker_threads = N` says otherwise (tokio's test runtime is single
/// threaded too); the arguments are those of [`main`].
///
/// ```
/// #[worker_runtime::test(worker_threads = 2)]
/// async fn spawned_tasks_finish() {
///     let handles: Vec<_> = (0..4u32).map(|i| worker_runtime::spawn(async move { i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     assert_eq!(sum, 6);
/// }
/// ```
///
/// ```compile_fail
/// #[worker_runtime::test] // a test function cannot accept arguments
/// async fn takes_an_argument(n: u32) {}
/// ```
#[cfg(feature = "macros")]
pub use worker_runtime_macros::test;
