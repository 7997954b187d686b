//! The thread-local "where am I" of the runtime: the runtime a thread belongs to (workers and
//! threads inside `block_on`) and, on worker threads, the worker index.
//!
//! The pointer is raw for speed (the wake path reads it on every wake); it is valid while the
//! [`EnterGuard`] that set it lives, and the guard's owner holds an `Arc<Shared>` for that long.

use crate::scheduler::shared::Shared;
use crate::sync::thread_local;
use crate::task::Notified;
use std::cell::Cell;
use std::ptr;
use std::sync::Arc;

/// Worker index meaning "not a worker thread".
const NOT_A_WORKER: usize = usize::MAX;

/// A worker's FIFO run queue (yields and tasks displaced from its LIFO slot).
pub(crate) type LocalQueue = crate::scheduler::queue::LocalQueue<Notified>;

thread_local! {
    static SHARED: Cell<*const Shared> = const { Cell::new(ptr::null()) };
    static WORKER: Cell<usize> = const { Cell::new(NOT_A_WORKER) };
    static LOCAL: Cell<*const LocalQueue> = const { Cell::new(ptr::null()) };
}

/// Restores the previous context when dropped.
pub(crate) struct EnterGuard {
    prev_shared: *const Shared,
    prev_worker: usize,
    prev_local: *const LocalQueue,
}

/// Makes `shared` the current runtime of this thread until the guard drops; on a worker thread
/// also its index and its local queue. The caller keeps `shared` and the queue alive (and the
/// queue in place) for at least that long.
pub(crate) fn enter(shared: &Arc<Shared>, worker: Option<(usize, &LocalQueue)>) -> EnterGuard {
    let (w, q) = match worker {
        Some((w, q)) => (w, q as *const LocalQueue),
        None => (NOT_A_WORKER, ptr::null()),
    };
    EnterGuard {
        prev_shared: SHARED.with(|c| c.replace(Arc::as_ptr(shared))),
        prev_worker: WORKER.with(|c| c.replace(w)),
        prev_local: LOCAL.with(|c| c.replace(q)),
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        SHARED.with(|c| c.set(self.prev_shared));
        WORKER.with(|c| c.set(self.prev_worker));
        LOCAL.with(|c| c.set(self.prev_local));
    }
}

/// Pushes `task` onto this worker thread's local queue; gives it back if this thread has none.
#[inline]
pub(crate) fn push_local_queue(task: Notified) -> Result<(), Notified> {
    let q = LOCAL.with(Cell::get);
    if q.is_null() {
        return Err(task);
    }
    // SAFETY: set by `enter` from a queue that stays alive and in place while the guard lives,
    // and only this thread (its owner) ever pushes to it.
    unsafe { &*q }.push(task);
    Ok(())
}

/// The worker index of this thread if it is a worker of `shared`.
#[inline]
pub(crate) fn current_worker_of(shared: &Shared) -> Option<usize> {
    let w = WORKER.with(Cell::get);
    if w != NOT_A_WORKER && ptr::eq(SHARED.with(Cell::get), shared) {
        Some(w)
    } else {
        None
    }
}

/// Whether this thread is a worker thread of any runtime.
pub(crate) fn is_worker_thread() -> bool {
    WORKER.with(Cell::get) != NOT_A_WORKER
}

/// The runtime this thread is inside, if any.
pub(crate) fn current() -> Option<Arc<Shared>> {
    let p = SHARED.with(Cell::get);
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer was set by `enter` from a live `Arc<Shared>` whose owner outlives
    // the guard; we add a strong count before making a second `Arc` from it.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// Runs `f` with the current runtime borrowed (no reference-count traffic).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Arc<Shared>>) -> R) -> R {
    let p = SHARED.with(Cell::get);
    if p.is_null() {
        return f(None);
    }
    // SAFETY: as in `current`: the pointer comes from a live `Arc` kept alive by the guard's
    // owner; ManuallyDrop keeps this borrowed `Arc` from touching the count.
    let shared = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p) });
    f(Some(&shared))
}
