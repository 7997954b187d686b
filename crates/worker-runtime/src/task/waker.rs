//! The `Waker` of a task: a counted reference whose `wake` hands the run permission to the
//! scheduler exactly once per idle→scheduled transition.

use super::raw::{add_ref, drop_refs, Header};
use super::state::{CLOSED, COMPLETE, REF_ONE, RUNNING, SCHEDULED};
use crate::sync::negative_control;
use crate::sync::Ordering;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable};

pub(crate) static VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

fn header(data: *const ()) -> NonNull<Header> {
    // SAFETY: wakers are only ever built from a non-null task pointer.
    unsafe { NonNull::new_unchecked(data.cast_mut().cast::<Header>()) }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference (or borrows the run permission's).
    unsafe { add_ref(header(data)) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_by_val(data: *const ()) {
    // SAFETY: this waker holds a reference, consumed below.
    unsafe {
        wake_by_ref(data);
        drop_refs(header(data), 1);
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: this waker holds a reference.
    unsafe { drop_refs(header(data), 1) };
}

unsafe fn wake_by_ref(data: *const ()) {
    let ptr = header(data);
    // SAFETY: the waker holds a reference, so the task is live.
    if unsafe { schedule_if_idle(ptr) } {
        // SAFETY: we just took the run permission and its reference.
        unsafe { (ptr.as_ref().vtable.schedule)(ptr) };
    }
}

/// The wake transition. Returns `true` if the caller took the run permission (idle → scheduled,
/// with one more reference) and must hand it to the scheduler.
///
/// Every path ends in a read-modify-write, even when the task is already scheduled: the worker's
/// next poll then synchronises with this wake (its CAS reads from ours), so it sees whatever the
/// waker published before calling `wake`.
///
/// # Safety
/// The caller holds a reference.
pub(crate) unsafe fn schedule_if_idle(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller holds a reference.
    let header = unsafe { ptr.as_ref() };
    // Acquire: pairs with the Release of the state CASes below and in `run`/`finish`.
    let mut s = header.state.load(Ordering::Acquire);
    loop {
        if s & (COMPLETE | CLOSED) != 0 {
            return false;
        }
        let (next, take) = if s & SCHEDULED != 0 {
            // Planted bug (fails `tests/loom_wake_publish.rs`): no RMW, so the next poll need not
            // see what this waker published.
            if negative_control("wake_plain_load") {
                return false;
            }
            (s, false)
        } else if s & RUNNING != 0 {
            (s | SCHEDULED, false)
        } else {
            (s | SCHEDULED, true)
        };
        let next = if take { next + REF_ONE } else { next };
        // AcqRel: Release publishes what the waker wrote before waking to the poll that consumes
        // SCHEDULED (its CAS in `run` acquires); Acquire keeps the loop's view current.
        match header
            .state
            .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) // edge: see the comment above
        {
            Ok(_) => return take,
            Err(actual) => s = actual,
        }
    }
}
