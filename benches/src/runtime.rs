//! The small trait every benchmarked runtime implements, plus the type-erased
//! [`Contender`] the harnesses hold in a list.
//!
//! Workloads in [`crate::workloads`] are written once, generically over
//! [`BenchRuntime`], so the runtimes under test run exactly the same code.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::io_probes::{self, IoRun};
use crate::probes::{self, IdleTimers, TimerRun, WakeProbe};
use crate::workloads::Workload;
use std::net::SocketAddr;

/// One async runtime under test, as seen by the workloads.
///
/// An instance owns a running multi-threaded runtime (worker threads started
/// by [`with_workers`](Self::with_workers)); dropping it shuts the runtime
/// down and joins its threads. The associated functions without `self`
/// (`spawn_local`, `spawn_detached`, `yield_now`, `sleep`) may only be called
/// from inside a task running on an instance of this runtime.
pub trait BenchRuntime: Send + Sync + Sized + 'static {
    /// Short name shown in tables and criterion ids.
    const NAME: &'static str;

    /// `true` only for the project's own runtime; the race table computes the
    /// ratio `ours / best peer` from it.
    const IS_OURS: bool = false;

    /// Handle to a spawned task; resolves to the task's output.
    ///
    /// Adapters unwrap runtime-specific `Result`s here, so a panicking task
    /// panics the awaiting task (or the plain thread).
    type JoinHandle<T: Send + 'static>: Future<Output = T> + Send + 'static;

    /// Starts a fresh runtime with `workers` worker threads.
    fn with_workers(workers: usize) -> Self;

    /// Spawns from any thread, in particular the plain (non-worker) thread:
    /// a "remote" spawn.
    fn spawn<F>(&self, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns from inside a task running on this runtime: a "local" spawn.
    fn spawn_local<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns from inside a task running on this runtime and drops the handle
    /// (the task keeps running).
    fn spawn_detached<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// The runtime's native cooperative yield.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// The runtime's native timer: a future that completes once `d` has
    /// passed since this call (never earlier). Dropping it cancels the timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// A listening TCP socket of this runtime (the IO rows).
    type Listener: Send + 'static;
    /// A connected TCP stream of this runtime, `TCP_NODELAY` set.
    type Stream: Send + Unpin + 'static;

    /// Binds a listener on 127.0.0.1, port chosen by the system.
    fn bind_loopback() -> impl Future<Output = (Self::Listener, SocketAddr)> + Send;

    /// The next connection on `listener`.
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::Stream> + Send + '_;

    /// Connects to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::Stream> + Send;

    /// Reads some bytes (0 at the end of the stream); panics on an error.
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = usize> + Send + 'a;

    /// Writes all of `buf`; panics on an error.
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = ()> + Send + 'a;

    /// Runs [`io_probes::http`] once, if this runtime can serve hyper (`None` otherwise).
    fn http(&self, _conns: usize, _requests: usize) -> Option<IoRun> {
        None
    }
}

/// Adapts a join handle whose output is `Result<T, E>` (tokio-shaped) into
/// one that yields `T`, panicking with the error if the task failed.
#[derive(Debug)]
pub struct UnwrapJoin<H>(pub H);

impl<H, T, E> Future for UnwrapJoin<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx).map(|res| match res {
            Ok(value) => value,
            Err(err) => panic!("benchmark task failed: {err:?}"),
        })
    }
}

/// A runtime instance behind a trait object, so a harness can keep the
/// runtimes of one race in a `Vec` and run any [`Workload`] on each.
pub trait Contender {
    /// The runtime's [`BenchRuntime::NAME`].
    fn name(&self) -> &'static str;

    /// The runtime's [`BenchRuntime::IS_OURS`].
    fn is_ours(&self) -> bool;

    /// Runs `workload` once at its full size and returns the time the
    /// workload's definition says to measure. Panics if the workload's
    /// correctness check fails.
    fn run(&self, workload: Workload) -> Duration;

    /// Runs [`probes::timers`] once: `tasks` tasks each sleeping `delay`.
    fn timers(&self, tasks: usize, delay: Duration) -> TimerRun;

    /// Runs [`probes::idle_cpu`] once: the process CPU time used over
    /// `window` while this runtime idles (with or without a far timer).
    fn idle_cpu(&self, settle: Duration, window: Duration, timers: IdleTimers) -> Duration;

    /// Starts a [`WakeProbe`]: a task parked on this runtime, woken from the
    /// calling (plain) thread one sample at a time.
    fn wake_probe(&self) -> WakeProbe;

    /// Runs [`io_probes::echo`] once.
    fn echo(&self, conns: usize, rounds: usize, len: usize) -> IoRun;

    /// Runs [`io_probes::http`] once, if this runtime has a hyper adapter.
    fn http(&self, conns: usize, requests: usize) -> Option<IoRun>;
}

impl<R: BenchRuntime> Contender for R {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn is_ours(&self) -> bool {
        R::IS_OURS
    }

    fn run(&self, workload: Workload) -> Duration {
        workload.run(self)
    }

    fn timers(&self, tasks: usize, delay: Duration) -> TimerRun {
        probes::timers(self, tasks, delay)
    }

    fn idle_cpu(&self, settle: Duration, window: Duration, timers: IdleTimers) -> Duration {
        probes::idle_cpu(self, settle, window, timers)
    }

    fn wake_probe(&self) -> WakeProbe {
        WakeProbe::start(self)
    }

    fn echo(&self, conns: usize, rounds: usize, len: usize) -> IoRun {
        io_probes::echo(self, conns, rounds, len)
    }

    fn http(&self, conns: usize, requests: usize) -> Option<IoRun> {
        BenchRuntime::http(self, conns, requests)
    }
}
