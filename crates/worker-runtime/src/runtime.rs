//! The runtime: [`Runtime`], [`Builder`], [`Handle`], [`EnterGuard`] and their errors, as in
//! `tokio::runtime`.

pub use crate::builder::Builder;
use crate::context;
use crate::error::SpawnError;
pub use crate::error::{BuildError, TryCurrentError};
use crate::scheduler::shared::Shared;
pub use crate::service::pool::WorkerCountError;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A multi-threaded, work-stealing runtime.
///
/// ```
/// let rt = worker_runtime::Runtime::builder().worker_threads(2).build().unwrap();
/// let answer = rt.block_on(async {
///     let h = worker_runtime::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    pub(crate) shared: Arc<Shared>,
}

impl Runtime {
    /// A builder with the defaults (one worker per CPU).
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A runtime with one worker per CPU and default settings.
    pub fn new() -> Result<Runtime, BuildError> {
        Builder::new().build()
    }

    /// Spawns `future` on the runtime; callable from any thread. After shutdown the returned
    /// handle resolves at once to a cancelled [`JoinError`](crate::JoinError).
    ///
    /// # Panics
    /// If `max_tasks` tasks are alive (use [`Handle::try_spawn`] to get an error instead).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, future)
    }

    /// Runs `f` on the runtime's blocking pool; see [`Handle::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        spawn_blocking_on(&self.shared, f)
    }

    /// Runs `future` to completion on the calling thread, which parks between polls; tasks it
    /// spawns with [`spawn`](crate::spawn) run on the workers.
    ///
    /// # Panics
    /// If called from a worker thread of any runtime: that would block a worker (and with it
    /// possibly the tasks `future` waits for). Use `.await` there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_in(&self.shared, future)
    }

    /// Makes this runtime the current one on this thread until the guard drops: `spawn`,
    /// `Handle::current` and the time functions then work here, as inside `block_on`.
    ///
    /// ```
    /// let rt = worker_runtime::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// let h = worker_runtime::spawn(async { 1 });
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard::new(&self.shared)
    }

    /// A cloneable handle that can spawn onto this runtime from anywhere.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Shuts down, waiting at most `timeout` for the workers and the service thread to stop.
    /// Whatever the timeout: new spawns are refused, every task that is not running is cancelled
    /// (its future dropped, its handle resolved cancelled, its pending timers with it) and
    /// sleepers are woken. Returns as soon as every thread has left (threads joined), or at the
    /// timeout: a worker still stuck in a poll then is left detached to finish that poll on its
    /// own, after which it drops that task as cancelled and exits. Blocking closures
    /// ([`spawn_blocking`](crate::spawn_blocking)) that have not started are cancelled; running
    /// ones are waited for within the same timeout, and one still running then is left on its
    /// detached thread to finish (its handle then gives its value). The returned
    /// [`ShutdownOutcome`] says which of the two happened.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ShutdownOutcome {
        self.shutdown(Instant::now().checked_add(timeout))
    }

    /// Shuts down without waiting for any thread: `shutdown_timeout(Duration::ZERO)`, as in tokio.
    pub fn shutdown_background(self) -> ShutdownOutcome {
        self.shutdown_timeout(Duration::ZERO)
    }

    /// Workers running now; see [`Handle::worker_count`].
    pub fn worker_count(&self) -> usize {
        self.shared.active_workers()
    }

    /// Moves the worker count to `n`; see [`Handle::set_worker_count`].
    pub fn set_worker_count(&self, n: usize) -> Result<(), WorkerCountError> {
        self.shared.pool.scale_to(&self.shared, n)
    }

    /// Shuts down and waits (without a deadline when `deadline` is `None`) for the workers and
    /// the blocking pool's threads.
    ///
    /// Called on one of this runtime's own workers (a task dropped the last `Runtime`), it waits
    /// for no thread: that worker could never exit while it waits. The tasks are cancelled as
    /// above; the calling task finishes its poll, and every worker exits on its own. Called on
    /// one of its blocking-pool threads, it waits for every thread but that one.
    fn shutdown(&mut self, deadline: Option<Instant>) -> ShutdownOutcome {
        let shared = &self.shared;
        if !shared.begin_shutdown() {
            return ShutdownOutcome {
                left_running: 0,
                blocking_left_running: 0,
                blocking_complete: true,
            };
        }
        // Queued blocking closures are cancelled at once, whatever the wait below.
        shared.blocking.begin_shutdown(shared);
        if context::current_worker_of(shared).is_some() {
            shared.sweep_after_shutdown(false);
            shared.pool.wait_all(None, false);
            let (blocking_left_running, blocking_complete) =
                shared.blocking.wait_shutdown(None, false);
            return ShutdownOutcome {
                left_running: shared.pool.live_threads(),
                blocking_left_running,
                blocking_complete,
            };
        }
        let all_exited = shared.pool.wait_all(deadline, true);
        shared.sweep_after_shutdown(all_exited);
        let (blocking_left_running, blocking_complete) =
            shared.blocking.wait_shutdown(deadline, true);
        ShutdownOutcome {
            left_running: if all_exited {
                0
            } else {
                shared.pool.live_threads()
            },
            blocking_left_running,
            blocking_complete,
        }
    }
}

impl Drop for Runtime {
    /// Shuts down and waits for every worker to leave and for every running
    /// [`spawn_blocking`](crate::spawn_blocking) closure to return, as tokio does (see
    /// [`shutdown_timeout`](Runtime::shutdown_timeout) for a bounded wait). Dropped inside one of
    /// its own tasks, it waits for nothing instead (it cannot wait for the worker it runs on);
    /// dropped inside one of its blocking closures, it waits for everything but that closure.
    fn drop(&mut self) {
        let _ = self.shutdown(None);
    }
}

/// `block_on` on `shared` from this thread; panics (at the caller's line) on a worker thread.
#[track_caller]
fn block_on_in<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    if context::is_worker_thread() {
        panic!(
            "block_on called from a worker thread: blocking a worker can deadlock the runtime; \
             `.await` the future instead, or spawn it"
        );
    }
    let _guard = context::enter(shared, None);
    crate::block_on::block_on(future)
}

/// The guard of [`Runtime::enter`] / [`Handle::enter`]: while it lives, its runtime is the current
/// one on this thread; dropping it restores the previous one. Not `Send`: it belongs to the thread
/// that entered.
pub struct EnterGuard<'a> {
    _context: context::EnterGuard,
    _runtime: std::marker::PhantomData<&'a Shared>,
}

impl<'a> EnterGuard<'a> {
    fn new(shared: &'a Arc<Shared>) -> Self {
        EnterGuard {
            _context: context::enter(shared, None),
            _runtime: std::marker::PhantomData,
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// What [`Runtime::shutdown_timeout`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownOutcome {
    left_running: usize,
    blocking_left_running: usize,
    blocking_complete: bool,
}

impl ShutdownOutcome {
    /// Whether every runtime thread (workers, the service thread and the blocking pool's threads)
    /// had exited (and was joined) when the call returned.
    pub fn is_complete(&self) -> bool {
        self.left_running == 0 && self.blocking_complete
    }

    /// [`spawn_blocking`](crate::spawn_blocking) closures still running when the call returned
    /// (including the caller's own, when called inside one). Each goes on to its end on its
    /// detached thread; its `JoinHandle` then resolves with its value (shutdown does not cancel a
    /// closure that started). Closures that had not started were cancelled and are not counted.
    pub fn blocking_tasks_left_running(&self) -> usize {
        self.blocking_left_running
    }

    /// Threads still running, detached: each is inside a poll that has not returned; it drops
    /// that task as cancelled when the poll returns, then exits.
    pub fn threads_left_running(&self) -> usize {
        self.left_running
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.shared.active_workers())
            .finish_non_exhaustive()
    }
}

/// A handle to a runtime: `Clone + Send + Sync`, spawns from any thread, outlives the runtime
/// harmlessly (spawning after shutdown gives a cancelled handle or `SpawnError::Shutdown`).
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// The handle of the runtime this thread is inside (a task, `block_on`, or after
    /// [`enter`](Self::enter)).
    ///
    /// # Panics
    /// Outside a runtime; use [`try_current`](Self::try_current) to get an error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Self::try_current() {
            Ok(h) => h,
            Err(e) => panic!("Handle::current(): {e}"),
        }
    }

    /// The handle of the runtime this thread is inside, or a [`TryCurrentError`].
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current()
            .map(|shared| Handle { shared })
            .ok_or_else(TryCurrentError::new)
    }

    /// Makes this handle's runtime the current one on this thread until the guard drops; see
    /// [`Runtime::enter`].
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard::new(&self.shared)
    }

    /// Runs `future` to completion on this thread; see [`Runtime::block_on`].
    ///
    /// # Panics
    /// On a worker thread of any runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_in(&self.shared, future)
    }

    /// Spawns `future` on the runtime; see [`Runtime::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, future)
    }

    /// Workers running now (those that own a share of the task slots).
    pub fn worker_count(&self) -> usize {
        self.shared.active_workers()
    }

    /// Moves the worker count to `n` at run time: starts workers, or asks the highest-numbered
    /// ones to retire (each hands its queued tasks to the others at its next idle moment and
    /// exits). Every change rebalances the task slots over the workers.
    ///
    /// `n` must be in `min_workers..=max_workers` when the runtime scales automatically (which
    /// then continues from `n`), otherwise in `1..=max_workers`.
    ///
    /// ```
    /// let rt = worker_runtime::Runtime::builder().worker_threads(2).max_workers(4).build().unwrap();
    /// let handle = rt.handle();
    /// handle.set_worker_count(3).unwrap();
    /// assert_eq!(handle.worker_count(), 3);
    /// assert_eq!(
    ///     handle.set_worker_count(9).unwrap_err().to_string(),
    ///     "worker count 9 is out of range: allowed 1..=4"
    /// );
    /// ```
    pub fn set_worker_count(&self, n: usize) -> Result<(), WorkerCountError> {
        self.shared.pool.scale_to(&self.shared, n)
    }

    /// Spawns `future`, or says why not: [`SpawnError::Shutdown`] or [`SpawnError::AtCapacity`].
    pub fn try_spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future).map_err(|(e, _)| e)
    }

    /// Runs `f` on a thread of the runtime's blocking pool, separate from the workers; callable
    /// from any thread. See [`spawn_blocking`](crate::spawn_blocking) for the pool's behaviour.
    /// After shutdown the returned handle resolves at once to a cancelled
    /// [`JoinError`](crate::JoinError).
    ///
    /// ```
    /// let rt = worker_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| std::thread::current().name().map(str::to_owned));
    /// let name = rt.block_on(h).unwrap().unwrap();
    /// assert!(name.starts_with("worker-runtime-blocking-"));
    /// ```
    ///
    /// # Panics
    /// If the system refuses to start a thread and the pool has none that could run `f` (use
    /// [`try_spawn_blocking`](Self::try_spawn_blocking) to get an error instead).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        spawn_blocking_on(&self.shared, f)
    }

    /// Runs `f` on the blocking pool, or says why not: [`SpawnError::Shutdown`], or
    /// [`SpawnError::ThreadStart`] when no thread could be started and none exists to run it
    /// later. On an error `f` has been dropped without running.
    pub fn try_spawn_blocking<F, R>(&self, f: F) -> Result<JoinHandle<R>, SpawnError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::blocking::spawn(&self.shared, f).map_err(|(e, _)| e)
    }

    /// Threads of the blocking pool alive now (running a closure or idle), counted apart from the
    /// workers; tokio's metrics call it `num_blocking_threads`. It grows by one when a closure is
    /// spawned while no thread is idle (up to `max_blocking_threads`) and shrinks as threads stay
    /// idle for `thread_keep_alive`, down to zero.
    pub fn num_blocking_threads(&self) -> usize {
        self.shared.blocking.num_threads()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Spawns on `shared`; after shutdown a handle that resolves cancelled. Panics (at the caller's
/// line) only past `max_tasks`.
#[track_caller]
pub(crate) fn spawn_on<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match shared.spawn(future) {
        Ok(handle) => handle,
        Err((SpawnError::Shutdown, future)) => shared.cancelled_handle(future),
        Err((e, _)) => panic!("{e}; use try_spawn to get this as an error"),
    }
}

/// `spawn_blocking` on `shared`; after shutdown a handle that resolves cancelled. Panics (at the
/// caller's line) only when no thread could run `f`.
#[track_caller]
fn spawn_blocking_on<F, R>(shared: &Arc<Shared>, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match crate::blocking::spawn_or_cancelled(shared, f) {
        Ok(handle) => handle,
        Err(e) => panic!("{e}; use try_spawn_blocking to get this as an error"),
    }
}
