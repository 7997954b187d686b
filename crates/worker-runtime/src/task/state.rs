//! The task state word: flag bits and a reference count in one `AtomicUsize`.
//!
//! | bit | name | meaning |
//! |---|---|---|
//! | 0 | `SCHEDULED` | somebody holds the task's run permission (a run queue, the tree, a worker about to poll) |
//! | 1 | `RUNNING` | a worker is polling it now; a wake meanwhile sets `SCHEDULED` and the worker re-queues it after the poll |
//! | 2 | `COMPLETE` | the future has been dropped and the output (or error) stored; terminal |
//! | 3 | `CLOSED` | cancelled (abort or shutdown): the next holder of the run permission drops the future instead of polling |
//! | 4 | `HANDLE` | a `JoinHandle` still wants the output |
//! | 5 | `AWAITER` | the `JoinHandle`'s waker is stored in the header |
//! | 6.. | refs | one per `Waker`, the `JoinHandle`, the run permission and the slot table |
//!
//! The task is freed when the count reaches zero. The slot table's reference is dropped only when
//! the future has been dropped, so a task can never be freed while it may still be polled.

/// The run permission is held (queued or about to be polled).
pub(crate) const SCHEDULED: usize = 1 << 0;
/// A worker is polling the future.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future is gone and the result is stored (or already taken).
pub(crate) const COMPLETE: usize = 1 << 2;
/// Cancelled: never poll again.
pub(crate) const CLOSED: usize = 1 << 3;
/// A `JoinHandle` exists.
pub(crate) const HANDLE: usize = 1 << 4;
/// The `JoinHandle`'s waker is registered in the header.
pub(crate) const AWAITER: usize = 1 << 5;
/// One reference.
pub(crate) const REF_ONE: usize = 1 << 6;

/// The number of references in a state snapshot.
#[inline]
pub(crate) fn refs(state: usize) -> usize {
    state >> 6
}

/// Past this many references the count is about to overflow: abort like `Arc` does.
pub(crate) const MAX_REFS: usize = (isize::MAX as usize) >> 7;
