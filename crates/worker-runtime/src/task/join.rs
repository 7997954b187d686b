//! [`JoinHandle`]: awaits a task's output, aborts it, or detaches it on drop.

use super::error::JoinError;
use super::raw::{add_ref, drop_refs, Header};
use super::state::{AWAITER, CLOSED, COMPLETE, HANDLE, REF_ONE, RUNNING, SCHEDULED};
use crate::sync::Ordering;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// An owned permission to await a spawned task's output.
///
/// `JoinHandle<T>` is a future of `Result<T, JoinError>`: `Ok` with the task's output, or a
/// [`JoinError`] if the task panicked or was cancelled. Dropping the handle detaches the task: it
/// keeps running and its output is dropped when it finishes.
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output `T` across threads (it reads it once, on the thread
// that polls it), so `T: Send` is what is needed; the task itself is `Send` by construction.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: the `&self` methods (`abort`, `is_finished`) only touch the atomic state word.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`, and the caller gives this handle the task's
    /// handle reference (the `HANDLE` bit and one reference).
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference, so the task is live.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task. If it has not finished, its future is dropped on a worker at its next
    /// turn (or at once if it is idle) and awaiting this handle gives a cancelled [`JoinError`].
    /// A task that already finished keeps its output. Calling it again does nothing.
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// The task's id.
    pub fn id(&self) -> super::Id {
        super::Id::from_raw(self.header().id)
    }

    /// A handle that can abort this task (and ask whether it finished) without owning its output;
    /// `Clone + Send + Sync`, as tokio's.
    pub fn abort_handle(&self) -> AbortHandle {
        // SAFETY: the JoinHandle holds a reference, so the task is live; the AbortHandle gets its
        // own reference.
        unsafe { add_ref(self.raw) };
        AbortHandle { raw: self.raw }
    }

    /// Whether the task has finished (completed, panicked or been cancelled). Never blocks.
    pub fn is_finished(&self) -> bool {
        // Acquire: pairs with the Release in `finish`, so a `true` here means a following poll
        // returns `Ready`.
        self.header().state.load(Ordering::Acquire) & COMPLETE != 0
    }

    fn take_output(&mut self) -> Result<T, JoinError> {
        let mut out: Option<Result<T, JoinError>> = None;
        // SAFETY: COMPLETE is set and this handle is the only reader of the output; `out` has the
        // type the vtable writes.
        unsafe {
            (self.header().vtable.read_output)(self.raw, (&mut out as *mut Option<_>).cast())
        };
        out.expect("task output missing")
    }

    /// Sets `AWAITER` after writing `waker` into the (then ours) awaiter cell. Returns `false` if
    /// the task completed meanwhile, in which case the cell has been emptied again.
    fn register(&self, waker: &Waker, mut s: usize) -> bool {
        let header = self.header();
        debug_assert!(s & AWAITER == 0);
        // SAFETY: AWAITER is clear, so only this handle touches the cell.
        header
            .awaiter
            .with_mut(|w| unsafe { *w = Some(waker.clone()) });
        loop {
            if s & COMPLETE != 0 {
                // SAFETY: AWAITER stayed clear, so the cell is still ours.
                drop(header.awaiter.with_mut(|w| unsafe { (*w).take() }));
                return false;
            }
            // AcqRel: Release publishes the waker written above to `finish`, which acquires
            // the state when it sets COMPLETE.
            match header.state.compare_exchange_weak(
                s,
                s | AWAITER,
                Ordering::AcqRel,  // edge: see the comment above this CAS
                Ordering::Acquire, // edge: see the comment above this CAS
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }
}

/// Cancels the task behind `raw` (see [`JoinHandle::abort`]): shared by `JoinHandle` and
/// `AbortHandle`.
fn abort_task(raw: NonNull<Header>) {
    // SAFETY: the caller (a JoinHandle or an AbortHandle) holds a reference.
    let header = unsafe { raw.as_ref() };
    // Acquire: pairs with the AcqRel transitions of wake/run/finish.
    let mut s = header.state.load(Ordering::Acquire);
    loop {
        if s & (COMPLETE | CLOSED) != 0 {
            return;
        }
        let idle = s & (SCHEDULED | RUNNING) == 0;
        let next = if idle {
            // Take the run permission so a worker (or the scheduler, if shut down) drops it.
            s | CLOSED | SCHEDULED
        } else {
            s | CLOSED
        };
        let next = if idle { next + REF_ONE } else { next };
        // AcqRel: Release makes CLOSED visible with everything before it to the holder of the
        // run permission, which loads the state with Acquire after its poll.
        match header
            .state
            .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) // edge: see the comment above this CAS
        {
            Ok(_) => {
                if idle {
                    // SAFETY: we took the run permission and its reference above.
                    unsafe { (header.vtable.schedule)(raw) };
                }
                return;
            }
            Err(actual) => s = actual,
        }
    }
}

/// Aborts a task without owning its output; made by [`JoinHandle::abort_handle`].
pub struct AbortHandle {
    raw: NonNull<Header>,
}

// SAFETY: an AbortHandle holds one reference and only touches the atomic state word (and, for an
// idle task, hands its run permission to the scheduler, which is `Send + Sync`); it never reads the
// future or the output.
unsafe impl Send for AbortHandle {}
// SAFETY: as for `Send`: every method takes `&self` and only does atomic operations.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`]: its `JoinHandle` resolves to a cancelled
    /// [`JoinError`] unless the task had already finished.
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// The task's id.
    pub fn id(&self) -> super::Id {
        // SAFETY: this handle holds a reference, so the task is live.
        super::Id::from_raw(unsafe { self.raw.as_ref() }.id)
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        // SAFETY: this handle holds a reference, so the task is live.
        let header = unsafe { self.raw.as_ref() };
        // Acquire: pairs with the Release in `finish`.
        header.state.load(Ordering::Acquire) & COMPLETE != 0
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference; the clone gets its own.
        unsafe { add_ref(self.raw) };
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: this handle's reference, given up once.
        unsafe { drop_refs(self.raw, 1) };
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.header();
        // Acquire: pairs with the Release in `finish` that published the output.
        let mut s = header.state.load(Ordering::Acquire);
        if s & COMPLETE != 0 {
            return Poll::Ready(self.take_output());
        }
        if s & AWAITER != 0 {
            // Take the cell back before looking at the stored waker: `finish` may be taking it.
            loop {
                if s & COMPLETE != 0 {
                    return Poll::Ready(self.take_output());
                }
                // AcqRel: Acquire the state (and the output, if it completes); Release nothing
                // new. Pairs with `finish`'s fetch_update.
                match header.state.compare_exchange_weak(
                    s,
                    s & !AWAITER,
                    Ordering::AcqRel,  // edge: see the comment above this CAS
                    Ordering::Acquire, // edge: see the comment above this CAS
                ) {
                    Ok(_) => {
                        s &= !AWAITER;
                        break;
                    }
                    Err(actual) => s = actual,
                }
            }
            // SAFETY: we just cleared AWAITER, so the cell is ours.
            let same = header.awaiter.with_mut(|w| unsafe {
                let w = &mut *w;
                match w {
                    Some(old) if old.will_wake(cx.waker()) => true,
                    _ => {
                        *w = None;
                        false
                    }
                }
            });
            if same {
                // Re-publish the same waker without cloning it again.
                loop {
                    if s & COMPLETE != 0 {
                        // SAFETY: AWAITER is clear, so the cell is ours.
                        drop(header.awaiter.with_mut(|w| unsafe { (*w).take() }));
                        return Poll::Ready(self.take_output());
                    }
                    // AcqRel: as in `register`.
                    match header.state.compare_exchange_weak(
                        s,
                        s | AWAITER,
                        Ordering::AcqRel,  // edge: see the comment above this CAS
                        Ordering::Acquire, // edge: see the comment above this CAS
                    ) {
                        Ok(_) => return Poll::Pending,
                        Err(actual) => s = actual,
                    }
                }
            }
        }
        if self.register(cx.waker(), s) {
            Poll::Pending
        } else {
            Poll::Ready(self.take_output())
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        // Acquire: pairs with `finish`'s Release.
        let mut s = header.state.load(Ordering::Acquire);
        loop {
            if s & COMPLETE != 0 {
                // `finish` saw HANDLE and left the output for us: drop it here.
                // SAFETY: COMPLETE is set and we are the handle: the stage is ours.
                unsafe { (header.vtable.drop_output)(self.raw) };
                break;
            }
            // AcqRel: Release our last uses of the cell; Acquire the current state.
            match header.state.compare_exchange_weak(
                s,
                s & !(HANDLE | AWAITER),
                Ordering::AcqRel,  // edge: see the comment above this CAS
                Ordering::Acquire, // edge: see the comment above this CAS
            ) {
                Ok(_) => {
                    if s & AWAITER != 0 {
                        // SAFETY: we cleared AWAITER before COMPLETE was set, so `finish` will not
                        // touch the cell; it is ours.
                        drop(header.awaiter.with_mut(|w| unsafe { (*w).take() }));
                    }
                    break;
                }
                Err(actual) => s = actual,
            }
        }
        // SAFETY: the handle's reference.
        unsafe { drop_refs(self.raw, 1) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
