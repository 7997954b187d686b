//! The one place that names std or loom atomics.
//!
//! Everything else in the crate imports from here, so `--cfg loom` swaps the whole crate onto loom's
//! model checker without any `cfg` in the algorithm code. The futex is part of this shim: in normal
//! builds [`Futex`] is an `AtomicU32` plus the OS futex (see `futex.rs`); under loom it is an
//! `AtomicU32` plus a loom `Mutex` + `Condvar`, so that a lost wake shows up in a model as a deadlock
//! ("all threads blocked") instead of passing silently.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64};

pub(crate) use std::sync::atomic::Ordering;

/// The planted-bug switch of the loom negative controls (see `negative_control.rs`).
pub(crate) use crate::negative_control::negative_control;

/// A new `AtomicU64` holding `value`; see [`new_atomic_u32`].
#[inline]
pub(crate) fn new_atomic_u64(value: u64) -> AtomicU64 {
    let atomic = AtomicU64::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

/// A new `AtomicU32` holding `value`. Under loom the initial value is stored once more with
/// `SeqCst`: loom 0.7 does not count an atomic's initial value as a `SeqCst` store, so a `SeqCst`
/// load may still return it after another thread's `SeqCst` read-modify-write (the store-buffer
/// outcome `SeqCst` forbids; tokio-rs/loom#180), and the eventcount's models then report lost
/// wakeups that no real execution has. Without loom this is plain `new`.
#[inline]
pub(crate) fn new_atomic_u32(value: u32) -> AtomicU32 {
    let atomic = AtomicU32::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

#[cfg(loom)]
pub(crate) use self::loom_futex::Futex;
#[cfg(not(loom))]
pub(crate) use crate::futex::Futex;

#[cfg(loom)]
mod loom_futex {
    use super::{new_atomic_u32, AtomicU32, Ordering};
    use loom::sync::{Condvar, Mutex};
    use std::time::Duration;

    /// Loom model of a futex word: `wait` blocks on a condvar while the word still holds `expected`;
    /// `wake_*` notifies under the same mutex, so no wake can fall between the check and the block.
    #[derive(Debug)]
    pub(crate) struct Futex {
        word: AtomicU32,
        lock: Mutex<()>,
        cond: Condvar,
    }

    impl Futex {
        pub(crate) fn new(value: u32) -> Self {
            Futex {
                word: new_atomic_u32(value),
                lock: Mutex::new(()),
                cond: Condvar::new(),
            }
        }

        pub(crate) fn load(&self, order: Ordering) -> u32 {
            self.word.load(order)
        }

        pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.word.fetch_add(value, order)
        }

        /// Blocks while the word equals `expected`. A timed wait returns at once: in a model a
        /// timeout may fire at any moment, and the caller must cope with that (it re-checks and
        /// reports a timeout), so modelling it as "immediately" explores the worst case.
        pub(crate) fn wait(&self, expected: u32, timeout: Option<Duration>) {
            if timeout.is_some() {
                return;
            }
            let mut guard = self.lock.lock().unwrap();
            while self.word.load(Ordering::SeqCst) == expected {
                guard = self.cond.wait(guard).unwrap();
            }
        }

        pub(crate) fn wake_one(&self) {
            let _guard = self.lock.lock().unwrap();
            self.cond.notify_one();
        }

        pub(crate) fn wake_all(&self) {
            let _guard = self.lock.lock().unwrap();
            self.cond.notify_all();
        }
    }
}
