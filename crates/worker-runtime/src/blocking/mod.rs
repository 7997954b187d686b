//! The blocking pool: [`spawn_blocking`] and [`try_spawn_blocking`], as `tokio::task`'s.
//!
//! A closure given to `spawn_blocking` runs on a thread of its own, separate from the workers, so
//! a blocking call (file IO, a synchronous library, a long computation) never holds up the tasks.
//! It is a task of the same machinery as a spawned future (one allocation, the same state word,
//! the same [`JoinHandle`]): the closure is wrapped in a future that calls it once, and its
//! scheduler ([`BlockingSchedule`]) queues it for the pool instead of a worker. It takes no slot in
//! the summary tree (`NO_SLOT`) and is not in the slot table, so the workers never see it and
//! shutdown's sweep does not touch it; the pool cancels the queued ones itself (see
//! `pool::BlockingPool::begin_shutdown`).
//!
//! Abort and panics behave as in tokio: an abort before the closure starts cancels it (the pool
//! thread that takes it drops it unrun and the handle resolves cancelled); an abort after it
//! started has no effect (the closure cannot be interrupted, and its output is kept); a panic in
//! the closure is caught by the task's poll and reaches the handle as `JoinError::Panic`.

pub(crate) mod pool;

use crate::context;
use crate::error::SpawnError;
use crate::scheduler::shared::{Shared, NO_SLOT};
use crate::task::{self, Header, JoinHandle, Notified, Schedule};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Runs `f` on a thread of the current runtime's blocking pool, as `tokio::task::spawn_blocking`.
///
/// The pool starts a thread when no idle one is waiting and fewer than
/// [`max_blocking_threads`](crate::Builder::max_blocking_threads) run; otherwise the closure waits
/// in a queue for the next free thread. Awaiting the handle gives `f`'s value, or
/// `JoinError::Panic` if it panicked. [`JoinHandle::abort`] cancels it only if it has not started.
///
/// ```
/// let rt = worker_runtime::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     worker_runtime::task::spawn_blocking(|| (1..=10u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 55);
/// ```
///
/// # Panics
/// Outside a runtime (call it from a task, from `Runtime::block_on` or after `Runtime::enter`, or
/// use [`Handle::spawn_blocking`](crate::Handle::spawn_blocking)), and when the system refuses to
/// start a thread while the pool has none to run `f` (use [`try_spawn_blocking`] to get that as
/// an error). After shutdown began the handle resolves cancelled at once, as with `spawn`.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    // The panics are out here, in the `#[track_caller]` body, so they point at the caller's line.
    let spawned =
        context::with_current(|shared| shared.map(|shared| spawn_or_cancelled(shared, f)));
    match spawned {
        Some(Ok(handle)) => handle,
        Some(Err(e)) => panic!("{e}; use try_spawn_blocking to get this as an error"),
        None => panic!(
            "worker_runtime::spawn_blocking called outside a runtime: call it from a task, from \
             Runtime::block_on or after Runtime::enter, or use Handle::spawn_blocking"
        ),
    }
}

/// Runs `f` on the current runtime's blocking pool, or says why not:
/// [`SpawnError::NoRuntime`], [`SpawnError::Shutdown`], or [`SpawnError::ThreadStart`] when the
/// system refused to start a thread and the pool has none that could run `f` later (then `f` is
/// dropped, not run). If a thread cannot start but the pool has others, `f` waits in the queue
/// for one of them instead.
pub fn try_spawn_blocking<F, R>(f: F) -> Result<JoinHandle<R>, SpawnError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    context::with_current(|shared| match shared {
        Some(shared) => spawn(shared, f).map_err(|(e, _)| e),
        None => Err(SpawnError::NoRuntime),
    })
}

/// `spawn_blocking` on `shared`: after shutdown a handle that resolves cancelled; any other
/// refusal (no thread could start) as an error.
pub(crate) fn spawn_or_cancelled<F, R>(
    shared: &Arc<Shared>,
    f: F,
) -> Result<JoinHandle<R>, SpawnError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match spawn(shared, f) {
        Ok(handle) => Ok(handle),
        Err((SpawnError::Shutdown, handle)) => Ok(handle),
        Err((e, _)) => Err(e),
    }
}

/// Allocates the blocking task for `f` and hands it to the pool. On a refusal the task has already
/// been cancelled (`f` dropped unrun, contained) and the returned handle resolves cancelled.
pub(crate) fn spawn<F, R>(
    shared: &Arc<Shared>,
    f: F,
) -> Result<JoinHandle<R>, (SpawnError, JoinHandle<R>)>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let scheduler = BlockingSchedule(Arc::clone(shared));
    let (notified, handle, raw) = task::new_task(BlockingTask(Some(f)), scheduler, NO_SLOT);
    // SAFETY: a blocking task is never stored in the slot table: we own its table reference, and
    // `BlockingSchedule::release` never hands one back.
    unsafe { task::drop_table_ref(raw) };
    match shared.blocking.submit(shared, notified) {
        Ok(()) => Ok(handle),
        Err((e, notified)) => {
            cancel_in_context(shared, notified);
            Err((e, handle))
        }
    }
}

/// Cancels a blocking task that will never run, inside the runtime's context (its closure's `Drop`
/// sees the same runtime as on a pool thread; a `spawn` there is refused after shutdown).
pub(crate) fn cancel_in_context(shared: &Arc<Shared>, task: Notified) {
    let _context = context::enter(shared, None);
    task.cancel();
}

/// The future of a blocking task: calls its closure once, on the first poll.
struct BlockingTask<F>(Option<F>);

// The closure is never pinned: it is moved out and called.
impl<F> Unpin for BlockingTask<F> {}

impl<F, R> Future for BlockingTask<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .get_mut()
            .0
            .take()
            .expect("a blocking task was polled again after it ran");
        Poll::Ready(f())
    }
}

/// The scheduler of a blocking task: the runtime's blocking pool.
pub(crate) struct BlockingSchedule(Arc<Shared>);

impl Schedule for BlockingSchedule {
    /// A blocking task holds its run permission from its spawn until a pool thread runs it, and is
    /// never woken (its future never returns `Pending`), so neither a wake nor an abort normally
    /// gives a permission back here (an abort of a queued task only marks it cancelled). Should one
    /// arrive, it goes back to the pool like a new spawn; if the pool refuses it, the task is
    /// cancelled here.
    fn schedule(&self, task: Notified) {
        if let Err((_, task)) = self.0.blocking.submit(&self.0, task) {
            cancel_in_context(&self.0, task);
        }
    }

    /// A blocking task has no slot and no table entry: nothing to release, no reference back.
    fn release(&self, task: &Header) -> bool {
        debug_assert_eq!(task.slot, NO_SLOT);
        false
    }
}
