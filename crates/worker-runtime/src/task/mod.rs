//! Tasks: [`spawn`], [`try_spawn`], [`spawn_blocking`], [`try_spawn_blocking`], [`yield_now`],
//! [`JoinHandle`], [`AbortHandle`], [`JoinSet`], [`LocalSet`] and [`spawn_local`] (for `!Send`
//! futures), [`Id`], [`task_local!`](crate::task_local) and [`JoinError`], as in `tokio::task`.

// Inside: one allocation per spawn (header + scheduler + future/output), a state word with a
// reference count, counted wakers. The *run permission* is the central idea. Whoever set
// `SCHEDULED` (spawn, a wake, an abort) holds it, as a `Notified`, together with one reference. It
// is handed to the scheduler, which keeps it in a queue or in the summary tree until a worker calls
// `Notified::run`. A wake while the task runs only sets `SCHEDULED`; `run` then returns
// `RunOutcome::Rescheduled` and the worker queues the task again. Dropping a `Notified` without
// running it cancels the task (its future is dropped there), so nothing held in a queue at
// shutdown is leaked or lost.

mod error;
mod id;
mod join;
mod join_set;
mod local_set;
#[cfg(all(test, not(loom)))]
mod miri_preempt_tests;
mod raw;
mod spawn;
mod state;
mod task_local;
mod waker;

pub use crate::blocking::{spawn_blocking, try_spawn_blocking};
pub use crate::error::SpawnError;
pub use crate::yield_now::{yield_now, YieldNow};
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub use local_set::{spawn_local, LocalSet, RunUntil};
pub(crate) use raw::{drop_contained, wake_contained, Header, RunOutcome};
pub use spawn::{spawn, try_spawn};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

use state::{CLOSED, REF_ONE};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// Where tasks go when they become runnable, and what happens when one finishes.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queue `task` (it holds the run permission) so that some worker runs it.
    fn schedule(&self, task: Notified);

    /// The task's future has just been dropped (it completed or was cancelled): release its slot.
    /// Called exactly once per task, before `COMPLETE` is published. Returns `true` if the
    /// scheduler hands back the slot table's reference for the task to drop.
    fn release(&self, task: &Header) -> bool;
}

/// A task together with its run permission (the `SCHEDULED` bit) and one reference.
pub(crate) struct Notified {
    raw: NonNull<Header>,
}

// SAFETY: a task is `Send` (its future and output are `Send`), and the run permission is a unique
// token: only its holder runs the task. A `LocalSet`'s task is not `Send`, but its scheduler keeps
// its live permissions on the owning thread: one moves to another thread only inside the set's
// shared queue, which only the owning thread pops, and a foreign thread drops none but void ones
// (see `raw::allocate_local`).
unsafe impl Send for Notified {}

impl Notified {
    /// # Safety
    /// The caller transfers the run permission of a live task (and its reference).
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        Notified { raw }
    }

    /// Gives up the wrapper without giving up the permission: the caller now holds it as a raw
    /// pointer (in a queue or behind a summary-tree bit).
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).raw
    }

    /// The task's summary-tree slot.
    pub(crate) fn slot(&self) -> usize {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }.slot
    }

    /// Polls the task once (or drops its future if it was cancelled).
    pub(crate) fn run(self) -> (RunOutcome, Option<Notified>) {
        let raw = self.into_raw();
        // SAFETY: we hold the run permission.
        let outcome = unsafe { (raw.as_ref().vtable.run)(raw) };
        let again = match outcome {
            // SAFETY: `Rescheduled` means `run` kept the permission and its reference for us.
            RunOutcome::Rescheduled => Some(unsafe { Notified::from_raw(raw) }),
            _ => None,
        };
        (outcome, again)
    }

    /// Cancels the task and drops its future here (used when the runtime can no longer run it).
    pub(crate) fn cancel(self) {
        drop(self);
    }

    /// Gives up a run permission after shutdown began without running any user code: only the
    /// permission's reference is dropped. The task is left `SCHEDULED` for shutdown's sweep, which
    /// takes it over and drops its future (see [`shutdown_take_over`]). For wakes, which often run
    /// under the waker's own locks, where dropping a future (which may take those locks) could
    /// deadlock.
    pub(crate) fn forget_after_shutdown(self) {
        let raw = self.into_raw();
        // SAFETY: the permission's reference is ours; SCHEDULED stays set, so no other waker
        // takes a permission for this task again, and the sweep's take-over ignores SCHEDULED.
        unsafe { raw::drop_refs(raw, 1) };
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: we hold a reference.
        let header = unsafe { self.raw.as_ref() };
        // Release: the CLOSED mark comes with everything before it; `run` acquires the state.
        let edge = crate::sync::Ordering::Release; // pairs with the Acquire load in `run`
        header.state.fetch_or(CLOSED, edge);
        // SAFETY: we hold the run permission; `run` consumes it (CLOSED makes it drop the future
        // and finish), and `self` is not used again.
        let _ = unsafe { (header.vtable.run)(self.raw) };
    }
}

/// Allocates a task for `future` in `slot`, returning its run permission and its handle. The slot
/// table's reference is included in the count; the caller stores `table_ref` in its table and
/// drops it through [`drop_table_ref`] when the scheduler's `release` does not hand it back.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    slot: usize,
) -> (Notified, JoinHandle<F::Output>, NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = raw::allocate(future, scheduler, slot);
    // SAFETY: a fresh task holds SCHEDULED + HANDLE and three references: one each for the
    // permission, the handle and the table.
    unsafe { (Notified::from_raw(raw), JoinHandle::from_raw(raw), raw) }
}

/// [`new_task`] for a future that need not be `Send`, with no summary-tree slot: a `LocalSet`'s
/// task.
///
/// # Safety
/// As [`raw::allocate_local`]: the future is polled and dropped only on the calling thread.
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
) -> (Notified, JoinHandle<F::Output>, NonNull<Header>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    // SAFETY: forwarded from the caller.
    let raw = unsafe { raw::allocate_local(future, scheduler, usize::MAX) };
    // SAFETY: as in `new_task`: SCHEDULED + HANDLE and three references.
    unsafe { (Notified::from_raw(raw), JoinHandle::from_raw(raw), raw) }
}

/// Drops the slot table's reference to a task that the table no longer holds.
///
/// # Safety
/// The caller owns the table's reference (it took the pointer out of the table).
pub(crate) unsafe fn drop_table_ref(raw: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    unsafe { raw::drop_refs(raw, 1) }
}

/// Shutdown's take-over of a task found in the slot table: unless it is running or finished, the
/// caller becomes its runner (sets `RUNNING` and `CLOSED`, even if a run permission for it is
/// queued or in flight: that permission is void from now on, see `run`) and gets a
/// [`TakenOver`] whose [`finish`](TakenOver::finish) drops the future as cancelled. A running task
/// is only marked `CLOSED`: its runner finishes it after the poll. Runs no user code.
///
/// # Safety
/// The caller holds a reference for the duration of the call (the table's).
pub(crate) unsafe fn shutdown_take_over(raw: NonNull<Header>) -> Option<TakenOver> {
    // SAFETY: the caller holds a reference.
    let header = unsafe { raw.as_ref() };
    // Acquire: pairs with the AcqRel transitions of wake/run/finish.
    let mut s = header.state.load(crate::sync::Ordering::Acquire);
    loop {
        if s & state::COMPLETE != 0 || s & (state::RUNNING | CLOSED) == state::RUNNING | CLOSED {
            return None;
        }
        let take = s & state::RUNNING == 0;
        let next = if take {
            (s | CLOSED | state::RUNNING) + REF_ONE
        } else {
            s | CLOSED
        };
        // AcqRel: acquire the previous poll's writes to the stage (we may drop the future next)
        // and release CLOSED to the runner, which loads the state with Acquire after its poll.
        match header.state.compare_exchange_weak(
            s,
            next,
            crate::sync::Ordering::AcqRel, // edge: see the comment above
            crate::sync::Ordering::Acquire, // edge: see the comment above
        ) {
            Ok(_) => return take.then_some(TakenOver { raw }),
            Err(actual) => s = actual,
        }
    }
}

/// A task that shutdown's sweep took over (it holds `RUNNING` and one reference).
pub(crate) struct TakenOver {
    raw: NonNull<Header>,
}

impl TakenOver {
    /// Drops the future and finishes the task as cancelled (its handle resolves).
    pub(crate) fn finish(self) {
        // SAFETY: we hold RUNNING and the reference that `finish` drops.
        unsafe { (self.raw.as_ref().vtable.finish_cancelled)(self.raw) }
    }
}
