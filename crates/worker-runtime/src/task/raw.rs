//! The task allocation and the code that runs on it: one heap block per task holding the header,
//! the scheduler handle and the future-or-output stage, plus a vtable that erases the future type.

use super::error::JoinError;
use super::state::{
    refs, AWAITER, CLOSED, COMPLETE, HANDLE, MAX_REFS, REF_ONE, RUNNING, SCHEDULED,
};
use super::{Notified, Schedule};
use crate::sync::negative_control;
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, Waker};

/// What [`Notified::run`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunOutcome {
    /// The task finished (output, panic or cancellation stored).
    Done,
    /// The task is waiting for a wake.
    Pending,
    /// The task was woken while it ran: the caller holds the run permission again and must queue it.
    Rescheduled,
}

/// Type-erased operations on a task allocation.
pub(crate) struct Vtable {
    pub(crate) run: unsafe fn(NonNull<Header>) -> RunOutcome,
    /// Finishes a task as cancelled; the caller set `RUNNING` itself (shutdown's take-over).
    pub(crate) finish_cancelled: unsafe fn(NonNull<Header>),
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Moves the stored result into `*mut Option<Result<T, JoinError>>`.
    pub(crate) read_output: unsafe fn(NonNull<Header>, *mut ()),
    pub(crate) drop_output: unsafe fn(NonNull<Header>),
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
}

/// The id of the task behind `ptr`.
fn header_id(ptr: NonNull<Header>) -> u64 {
    // SAFETY: callers hold a reference to the task (they run or finish it).
    unsafe { ptr.as_ref() }.id
}

/// The first field of every task allocation; a `NonNull<Header>` is the task's identity.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: AtomicUsize,
    pub(crate) vtable: &'static Vtable,
    /// The task's slot in the runtime's summary tree (`usize::MAX`: none).
    pub(crate) slot: usize,
    /// The task's `task::Id` (process-unique, never 0).
    pub(crate) id: u64,
    /// The `JoinHandle`'s waker; written by the handle only while `AWAITER` is clear, taken by the
    /// completing worker only if `AWAITER` was set when it set `COMPLETE`.
    pub(crate) awaiter: UnsafeCell<Option<Waker>>,
}

pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
}

struct Ops<F, S>(std::marker::PhantomData<(F, S)>);

// No `Send` bounds here: they are on the constructors. `allocate` requires a `Send` future and
// output; `allocate_local` has the caller promise that the future is only polled and dropped on
// one thread.
impl<F, S> Ops<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    const VTABLE: Vtable = Vtable {
        run: Self::run,
        finish_cancelled: Self::finish_cancelled,
        schedule: Self::schedule,
        read_output: Self::read_output,
        drop_output: Self::drop_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `ptr` is a live task allocation of this `F`/`S`.
    unsafe fn cell<'a>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
        // SAFETY: the caller guarantees `ptr` came from `allocate::<F, S>` and is still live; the
        // header is the first field of the `repr(C)` cell.
        unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
    }

    unsafe fn schedule(ptr: NonNull<Header>) {
        // SAFETY: called through the vtable of a live task of this type.
        let cell = unsafe { Self::cell(ptr) };
        // SAFETY: the caller holds the run permission (it set SCHEDULED and took a reference).
        let task = unsafe { Notified::from_raw(ptr) };
        cell.scheduler.schedule(task);
    }

    unsafe fn run(ptr: NonNull<Header>) -> RunOutcome {
        // SAFETY: called through the vtable with the run permission, so the task is live.
        let cell = unsafe { Self::cell(ptr) };
        let header = &cell.header;
        // Acquire: pairs with the Release half of the CAS that set SCHEDULED (a wake or spawn), so
        // the poll sees whatever the waker published before waking.
        let mut s = header.state.load(Ordering::Acquire);
        loop {
            debug_assert!(s & SCHEDULED != 0);
            // `NEGATIVE_CONTROL=void_permission_check` removes this check: the holder of
            // a void permission then polls a task that the sweep is finishing, and the loom model
            // `shutdown_take_over_races_a_runner_and_a_wake` (tests/loom_task.rs) must fail.
            if !negative_control("void_permission_check") && s & (RUNNING | COMPLETE) != 0 {
                // Shutdown's sweep took the task over while this permission was queued or in
                // flight (see `task::shutdown_take_over`): it finishes the task; the permission is
                // void and only its reference is left to drop.
                // SAFETY: the permission's reference is ours.
                unsafe { drop_refs(ptr, 1) };
                return RunOutcome::Done;
            }
            let next = (s & !SCHEDULED) | RUNNING;
            // AcqRel: acquire the previous poll's writes to the stage and any waker's publication;
            // release nothing new yet (the stage is only touched while RUNNING is ours).
            match header
                .state
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) // edge: see the comment above
            {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        if s & CLOSED != 0 {
            // SAFETY: we hold RUNNING, so the stage is ours.
            unsafe { Self::finish(ptr, Err(JoinError::cancelled(header_id(ptr)))) };
            return RunOutcome::Done;
        }

        let waker = ManuallyDrop::new(
            // SAFETY: the vtable's functions uphold RawWaker's contract for this task pointer; the
            // ManuallyDrop means this borrowed waker never releases a reference it did not take.
            unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &super::waker::VTABLE)) },
        );
        let mut cx = Context::from_waker(&waker);
        // `task::id()` inside the poll (restored after it, also on unwind).
        let _current = super::id::enter(cell.header.id);
        let polled = catch_unwind(AssertUnwindSafe(|| {
            // If the poll panics, the guard drops the future *while the panic unwinds*, as tokio
            // does: its `Drop` sees `std::thread::panicking()`, and a `std::sync::MutexGuard` it
            // holds poisons its mutex, as std promises for a panicking holder.
            let guard = DropStageOnUnwind(&cell.stage);
            let poll = cell.stage.with_mut(|stage| {
                // SAFETY: RUNNING is ours, so nobody else touches the stage.
                match unsafe { &mut *stage } {
                    Stage::Running(fut) => {
                        // SAFETY: the future lives in the heap allocation and is never moved
                        // until it is dropped in place, so it is pinned.
                        let fut = unsafe { Pin::new_unchecked(fut) };
                        fut.poll(&mut cx)
                    }
                    _ => unreachable!("a task was polled after its future was dropped"),
                }
            });
            std::mem::forget(guard);
            poll
        }));
        match polled {
            Ok(Poll::Ready(out)) => {
                // SAFETY: RUNNING is ours.
                unsafe { Self::finish(ptr, Ok(out)) };
                RunOutcome::Done
            }
            Err(payload) => {
                // SAFETY: RUNNING is ours.
                unsafe { Self::finish(ptr, Err(JoinError::panic(header_id(ptr), payload))) };
                RunOutcome::Done
            }
            Ok(Poll::Pending) => {
                // Acquire: see a CLOSED or SCHEDULED set during the poll with what came before it.
                let mut s = header.state.load(Ordering::Acquire);
                loop {
                    if s & CLOSED != 0 {
                        // SAFETY: RUNNING is still ours.
                        unsafe { Self::finish(ptr, Err(JoinError::cancelled(header_id(ptr)))) };
                        return RunOutcome::Done;
                    }
                    let (next, outcome) = if s & SCHEDULED != 0 {
                        // Woken during the poll: keep SCHEDULED and our reference; caller re-queues.
                        (s & !RUNNING, RunOutcome::Rescheduled)
                    } else {
                        ((s & !RUNNING) - REF_ONE, RunOutcome::Pending)
                    };
                    // AcqRel: release the poll's writes to the stage to the next poller; acquire a
                    // concurrent waker's publication if it raced with this transition.
                    match header.state.compare_exchange_weak(
                        s,
                        next,
                        Ordering::AcqRel,  // edge: see the comment above
                        Ordering::Acquire, // edge: see the comment above
                    ) {
                        Ok(_) => {
                            if outcome == RunOutcome::Pending && refs(s) == 1 {
                                // SAFETY: that was the last reference.
                                unsafe { Self::dealloc(ptr) };
                            }
                            return outcome;
                        }
                        Err(actual) => s = actual,
                    }
                }
            }
        }
    }

    /// # Safety
    /// The caller set `RUNNING` (shutdown's take-over) and owns the reference `finish` drops.
    unsafe fn finish_cancelled(ptr: NonNull<Header>) {
        // SAFETY: forwarded from the caller.
        unsafe { Self::finish(ptr, Err(JoinError::cancelled(header_id(ptr)))) };
    }

    /// Drops the future, stores `result`, releases the slot, publishes `COMPLETE`, wakes the
    /// awaiter and drops the run permission's reference (and the table's, if the release handed it
    /// back).
    ///
    /// # Safety
    /// The caller holds `RUNNING`.
    ///
    /// Every piece of user code it runs is contained: the future's `Drop` (a panic there turns the
    /// result into `Err(JoinError::Panic)`, as in tokio, whatever the poll returned), the output's
    /// and panic payloads' `Drop`s, and the awaiter's `wake`.
    unsafe fn finish(ptr: NonNull<Header>, result: Result<F::Output, JoinError>) {
        // SAFETY: the caller holds RUNNING, so the task is live.
        let cell = unsafe { Self::cell(ptr) };
        let header = &cell.header;
        // Drop the future in place first (unless a panicking poll already did): the slot may be
        // reused only after that.
        let dropped = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: RUNNING is ours, so the stage is ours.
            cell.stage
                .with_mut(|stage| unsafe { *stage = Stage::Consumed })
        }));
        let result = match dropped {
            Ok(()) => result,
            Err(payload) => {
                // The future's `Drop` panicked: that panic is the task's result, and the output
                // (or error) it replaces is dropped here, contained.
                drop_contained(result);
                Err(JoinError::panic(header_id(ptr), payload))
            }
        };
        // SAFETY: as above.
        cell.stage
            .with_mut(|stage| unsafe { *stage = Stage::Finished(result) });
        let table_ref = cell.scheduler.release(header);

        // AcqRel: Release publishes the stored result to the JoinHandle (which loads COMPLETE with
        // Acquire); Acquire sees the awaiter waker the handle wrote before setting AWAITER.
        let state = &header.state;
        // The orderings of the fetch_update: see the comment above (pairs with the handle's loads).
        let prev = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
            Some((s & !RUNNING) | COMPLETE)
        });
        let prev = prev.unwrap_or_else(|s| s);
        if prev & HANDLE == 0 {
            // Nobody will read the output: drop it now, here (contained, payloads included).
            // SAFETY: no handle exists and COMPLETE is set, so nobody else touches the stage.
            let stage = cell
                .stage
                .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
            drop_contained(stage);
        }
        if prev & AWAITER != 0 {
            // SAFETY: AWAITER was set when we set COMPLETE, so the handle no longer writes the cell
            // (its CASes fail on COMPLETE) and the waker in it is ours to take.
            let waker = header.awaiter.with_mut(|w| unsafe { (*w).take() });
            if let Some(w) = waker {
                wake_contained(w);
            }
        }
        let n = if table_ref { 2 } else { 1 };
        // SAFETY: we own the run permission's reference, and the table's if `table_ref`.
        unsafe { drop_refs(ptr, n) };
    }

    unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: called by the JoinHandle after it saw COMPLETE; the stage is the handle's now.
        let cell = unsafe { Self::cell(ptr) };
        let out = cell.stage.with_mut(|stage| {
            // SAFETY: as above: exclusive access to the stage.
            match std::mem::replace(unsafe { &mut *stage }, Stage::Consumed) {
                Stage::Finished(r) => r,
                _ => panic!("JoinHandle polled after it returned its output"),
            }
        });
        // SAFETY: the handle passes a `*mut Option<Result<F::Output, JoinError>>`.
        unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(out) };
    }

    unsafe fn drop_output(ptr: NonNull<Header>) {
        // SAFETY: called by the JoinHandle after it saw COMPLETE; the stage is the handle's.
        let cell = unsafe { Self::cell(ptr) };
        // SAFETY: as above.
        let stage = cell
            .stage
            .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
        drop_contained(stage);
    }

    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the last reference is gone; the allocation came from `Box<Cell<F, S>>`.
        drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
    }
}

/// Drops the future of a task whose poll panicked, during the unwind (see `run`). Forgotten when
/// the poll returns normally.
struct DropStageOnUnwind<'a, F: Future>(&'a UnsafeCell<Stage<F>>);

impl<F: Future> Drop for DropStageOnUnwind<'_, F> {
    fn drop(&mut self) {
        // SAFETY: the guard lives only inside `run`'s poll, while RUNNING is ours, and the poll's
        // borrow of the stage ended when it unwound out of `with_mut`.
        self.0.with_mut(|stage| unsafe { *stage = Stage::Consumed });
    }
}

/// Wakes `waker` (user code) on a runtime thread: a panic in it is caught and its payload dropped
/// with [`drop_contained`], so it never ends the thread.
pub(crate) fn wake_contained(waker: Waker) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
        drop_contained(payload);
    }
}

/// Drops `value` on a runtime thread without letting a panic in its `Drop` escape. A panic payload
/// whose own `Drop` panics is dropped the same way once more; a third payload is leaked (a payload
/// that panics on every drop could otherwise keep this thread busy forever).
pub(crate) fn drop_contained<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}

/// Allocates a task in the state "scheduled, with a handle, 3 references (run permission, handle,
/// slot table)".
pub(crate) fn allocate<F, S>(future: F, scheduler: S, slot: usize) -> NonNull<Header>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`, so any thread may poll or drop them.
    unsafe { allocate_local(future, scheduler, slot) }
}

/// [`allocate`] for a future that need not be `Send` (a `LocalSet`'s task).
///
/// # Safety
/// The future is polled and dropped only on the thread that calls this: the scheduler runs every
/// live run permission of the task on that thread and drops none elsewhere (a permission it
/// cannot run there is given up with [`Notified::forget_after_shutdown`], after the owning thread
/// has taken the task over). The output is read by the `JoinHandle`, which is `Send` only if the
/// output is.
pub(crate) unsafe fn allocate_local<F, S>(future: F, scheduler: S, slot: usize) -> NonNull<Header>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header {
            state: AtomicUsize::new(SCHEDULED | HANDLE | (3 * REF_ONE)),
            vtable: &Ops::<F, S>::VTABLE,
            slot,
            id: super::id::Id::next(),
            awaiter: UnsafeCell::new(None),
        },
        scheduler,
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // SAFETY: Box::into_raw never returns null.
    unsafe { NonNull::new_unchecked(Box::into_raw(cell)) }.cast()
}

/// Adds one reference.
///
/// # Safety
/// The caller holds a reference, so the task is live.
pub(crate) unsafe fn add_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference.
    let header = unsafe { ptr.as_ref() };
    // Relaxed: a new reference is made from an existing one, which already keeps the task alive
    // (the same argument as `Arc::clone`).
    let prev = header.state.fetch_add(REF_ONE, Ordering::Relaxed);
    if refs(prev) > MAX_REFS {
        std::process::abort();
    }
}

/// Drops `n` references, freeing the task when none remain.
///
/// # Safety
/// The caller owns `n` references.
pub(crate) unsafe fn drop_refs(ptr: NonNull<Header>, n: usize) {
    // SAFETY: the caller owns references, so the task is live.
    let header = unsafe { ptr.as_ref() };
    // AcqRel: Release orders our uses of the task before the free; Acquire makes the thread that
    // drops the last reference see everyone else's uses (the `Arc::drop` edge).
    let prev = header.state.fetch_sub(n * REF_ONE, Ordering::AcqRel);
    debug_assert!(refs(prev) >= n, "task reference count underflow");
    if refs(prev) == n {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(ptr) };
    }
}
