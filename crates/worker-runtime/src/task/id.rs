//! [`Id`]: a task's identity, [`id`] / [`try_id`] inside a task, as tokio's `task::Id`.
//!
//! Ids are unique in the process for its whole life: each thread takes blocks of 2^20 ids from one
//! global counter (one atomic RMW per block) and hands them out itself, so a spawn costs a
//! thread-local increment, not a contended RMW. The worker that polls a task sets its id as the
//! thread's current one for the duration of the poll.

use crate::sync::{thread_local, UnmodelledAtomicU64};
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::Ordering;

/// Ids per block a thread takes from the global counter.
const BLOCK: u64 = 1 << 20;

/// The next free block (starts at 1: 0 means "no task").
static NEXT_BLOCK: UnmodelledAtomicU64 = UnmodelledAtomicU64::new(1);

thread_local! {
    // This thread's next id and the end of its block.
    static BLOCK_RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    // The id of the task this thread is polling, 0 if none.
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// A task's identity: unique among all tasks of the process, for its whole life. `Copy`, ordered,
/// hashable; printed as a number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id.
    pub(crate) fn next() -> u64 {
        BLOCK_RANGE.with(|r| {
            let (mut next, mut end) = r.get();
            if next == end {
                // Relaxed: only uniqueness matters, which the RMW gives; nothing is published.
                let block = NEXT_BLOCK.fetch_add(1, Ordering::Relaxed);
                next = block * BLOCK;
                end = next + BLOCK;
            }
            r.set((next + 1, end));
            next
        })
    }

    pub(crate) fn from_raw(raw: u64) -> Id {
        Id(NonZeroU64::new(raw).expect("task ids start at 2^20"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// The id of the task this code runs in.
///
/// # Panics
/// Outside a task (on a plain thread, or in `block_on`'s own future); use [`try_id`] to get
/// `None` instead.
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!("task::id() called outside a task: use task::try_id() to get None there"),
    }
}

/// The id of the task this code runs in, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    let raw = CURRENT.with(Cell::get);
    (raw != 0).then(|| Id::from_raw(raw))
}

/// Makes `raw` the current task id of this thread until the guard drops.
pub(crate) fn enter(raw: u64) -> CurrentGuard {
    CurrentGuard(CURRENT.with(|c| c.replace(raw)))
}

/// Restores the previous current task id (see [`enter`]).
pub(crate) struct CurrentGuard(u64);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}
