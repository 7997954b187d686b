//! Tasks: one allocation per spawn (header + scheduler + future/output), a state word with a
//! reference count, counted wakers, and the [`JoinHandle`].
//!
//! The *run permission* is the central idea. Whoever set `SCHEDULED` (spawn, a wake, an abort)
//! holds it, as a [`Notified`], together with one reference. It is handed to the scheduler, which
//! keeps it in a queue or in the summary tree until a worker calls [`Notified::run`]. A wake while
//! the task runs only sets `SCHEDULED`; `run` then returns [`RunOutcome::Rescheduled`] and the
//! worker queues the task again. Dropping a `Notified` without running it cancels the task (its
//! future is dropped there), so nothing held in a queue at shutdown is leaked or lost.

mod error;
mod join;
#[cfg(all(test, not(loom)))]
mod miri_preempt_tests;
mod raw;
mod state;
mod waker;

pub use error::JoinError;
pub use join::JoinHandle;
pub(crate) use raw::{Header, RunOutcome};

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
// token: only its holder runs the task.
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
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: we hold a reference.
        let header = unsafe { self.raw.as_ref() };
        // Release: the CLOSED mark comes with everything before it; `run` acquires the state.
        header
            .state
            .fetch_or(CLOSED, crate::sync::Ordering::Release); // edge: see the comment above
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

/// Drops the slot table's reference to a task that the table no longer holds.
///
/// # Safety
/// The caller owns the table's reference (it took the pointer out of the table).
pub(crate) unsafe fn drop_table_ref(raw: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    unsafe { raw::drop_refs(raw, 1) }
}

/// Cancels a task found in the slot table at shutdown: marks it `CLOSED`, and if it is idle (no run
/// permission outstanding) takes the permission and drops its future here.
///
/// # Safety
/// The caller holds a reference (the table's).
pub(crate) unsafe fn shutdown_cancel(raw: NonNull<Header>) {
    // SAFETY: the caller holds a reference.
    let header = unsafe { raw.as_ref() };
    // Acquire: pairs with the AcqRel transitions of wake/run/finish.
    let mut s = header.state.load(crate::sync::Ordering::Acquire);
    loop {
        if s & (state::COMPLETE | CLOSED) != 0 {
            // Finished, or already cancelled with a permission holder that will finish it.
            return;
        }
        let idle = s & (state::SCHEDULED | state::RUNNING) == 0;
        let next = if idle {
            (s | CLOSED | state::SCHEDULED) + REF_ONE
        } else {
            s | CLOSED
        };
        // AcqRel: as in `JoinHandle::abort`.
        match header.state.compare_exchange_weak(
            s,
            next,
            crate::sync::Ordering::AcqRel, // edge: see the comment above
            crate::sync::Ordering::Acquire, // edge: see the comment above
        ) {
            Ok(_) => {
                if idle {
                    // SAFETY: we took the run permission and its reference.
                    let _ = unsafe { Notified::from_raw(raw) }.run();
                }
                return;
            }
            Err(actual) => s = actual,
        }
    }
}
