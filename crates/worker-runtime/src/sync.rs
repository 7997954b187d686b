//! The one place that names std or loom synchronisation types.
//!
//! Under `--cfg loom` the task state machine (and everything else that imports from here) runs on
//! loom's model checker; the logic files never mention loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize};

pub(crate) use std::sync::atomic::Ordering;

/// `std`'s `AtomicU64` also under loom, for process-wide counters that no model is about (task-id
/// blocks): loom atomics cannot live in a `static`.
pub(crate) use std::sync::atomic::AtomicU64 as UnmodelledAtomicU64;

#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// `std`'s `Mutex` and `Condvar` also under loom, for the blocking pool: its threads are real OS
/// threads that wait with timeouts (keep-alive, shutdown deadlines), which no loom model runs.
pub(crate) use std::sync::{
    Condvar as UnmodelledCondvar, Mutex as UnmodelledMutex, MutexGuard as UnmodelledMutexGuard,
};

/// Locks an [`UnmodelledMutex`], ignoring poison (as [`lock`]: no user code runs under it).
#[inline]
pub(crate) fn lock_unmodelled<T>(mutex: &UnmodelledMutex<T>) -> UnmodelledMutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Locks `mutex`, ignoring poison: every critical section of this crate leaves its data
/// consistent before it can unwind (no user code runs under these locks).
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Locks `mutex` if nobody holds it (poison ignored, as in [`lock`]).
#[inline]
pub(crate) fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// The planted-bug switch of the loom negative controls (see `signal_waker::negative_control`).
pub(crate) use signal_waker::negative_control;

/// `AtomicU64::new(value)`; under loom also a `SeqCst` store of `value`. Loom 0.7 records an
/// atomic's initial value as a non-`SeqCst` store and lets a `SeqCst` load return it even after
/// another thread's `SeqCst` RMW (tokio-rs/loom#180), a store-buffer outcome C++ forbids; the idle
/// protocol's models would then report lost wakeups no real execution has. Same fix as the
/// `sync` modules of `signal-waker` and `summary-tree`.
#[inline]
pub(crate) fn new_atomic_u64(value: u64) -> AtomicU64 {
    let atomic = AtomicU64::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

/// `AtomicU8::new(value)`; under loom also a `SeqCst` store of `value` (see [`new_atomic_u64`]).
#[inline]
pub(crate) fn new_atomic_u8(value: u8) -> AtomicU8 {
    let atomic = AtomicU8::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

/// `AtomicUsize::new(value)`; under loom also a `SeqCst` store of `value` (see [`new_atomic_u64`]).
#[inline]
pub(crate) fn new_atomic_usize(value: usize) -> AtomicUsize {
    let atomic = AtomicUsize::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

#[cfg(not(loom))]
pub(crate) use self::std_cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(loom))]
mod std_cell {
    /// `std::cell::UnsafeCell` with loom's closure API, so call sites are the same in both worlds.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// `thread_local!`: loom's under `--cfg loom` (loom runs every model thread on one OS thread, so
/// `std`'s would be shared by all of them), `std`'s otherwise. Loom's macro takes no `const { .. }`
/// initialiser, so the loom arm unwraps it.
#[cfg(loom)]
macro_rules! loom_thread_local {
    ($($vis:vis static $name:ident: $t:ty = const { $init:expr };)*) => {
        loom::thread_local! { $($vis static $name: $t = $init;)* }
    };
}
#[cfg(loom)]
pub(crate) use loom_thread_local as thread_local;
#[cfg(not(loom))]
pub(crate) use std::thread_local;
