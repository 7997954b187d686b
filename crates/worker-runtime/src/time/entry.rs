//! [`TimerEntry`]: the part of a [`Sleep`](crate::time::Sleep) that the timer wheel holding it and
//! the thread firing it share with the sleeping future.
//!
//! An entry is allocated on a `Sleep`'s first poll (a sleep dropped before it registers nothing)
//! and reused by every [`reset`](crate::time::Sleep::reset). Its state word is
//! `generation << 1 | FIRED`: each (re)registration and the `Sleep`'s drop move the generation
//! on, and a wheel filing remembers the generation it was made for, so a fire, a message or a
//! filing left over from an older registration can never complete a newer one.
//!
//! Firing and polling meet through the waker mutex: the firer sets `FIRED` and then takes the
//! waker under the mutex; the poller stores its waker under the mutex and then reads the state.
//! Whichever takes the mutex second sees the other's write (the mutex orders them), so either the
//! firer finds the waker or the poller finds `FIRED`: a fire is never lost.

use crate::sync::{lock, negative_control, new_atomic_u64, AtomicU64, Mutex, Ordering};
use std::task::Waker;

const FIRED: u64 = 1;

/// `id` value of an entry with no live filing.
pub(crate) const NOT_FILED: u64 = u64::MAX;

/// Shared between a `Sleep`, the wheel it is filed in and the thread that fires it.
pub(crate) struct TimerEntry {
    /// `generation << 1 | FIRED`.
    state: AtomicU64,
    waker: Mutex<Option<Waker>>,
    /// The `TimerId` (as `u64`) of the current filing in its owner's wheel, or [`NOT_FILED`].
    /// Read and written only under the owner's wheel lock.
    id: AtomicU64,
}

impl TimerEntry {
    /// A new entry for generation 0 that will wake `waker` when it fires.
    pub(crate) fn new(waker: Waker) -> Self {
        TimerEntry {
            state: new_atomic_u64(0),
            waker: Mutex::new(Some(waker)),
            id: new_atomic_u64(NOT_FILED),
        }
    }

    /// Whether the registration of generation `generation` has fired.
    #[inline]
    pub(crate) fn is_fired(&self, generation: u64) -> bool {
        self.state.load(Ordering::SeqCst) == (generation << 1 | FIRED)
    }

    /// The current generation.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.state.load(Ordering::SeqCst) >> 1
    }

    /// Starts generation `generation` (not fired); older filings become stale.
    #[inline]
    pub(crate) fn rearm(&self, generation: u64) {
        // A swap rather than a store: the same `xchg` on x86-64, and loom 0.7 lets another
        // thread's later CAS read past a plain store here (`reset_by_message_races_fire` in
        // `tests/loom_timers.rs` failed with a store, without any planted bug).
        self.state.swap(generation << 1, Ordering::SeqCst);
    }

    /// Stores the waker to wake on fire, unless it would wake the same task as the stored one.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        match &mut *slot {
            Some(w) if w.will_wake(waker) => {}
            // The old waker is dropped here, on the polling thread (a task's waker: our code).
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Drops the stored waker (the `Sleep` is gone; the wheel may still hold the entry a while).
    pub(crate) fn clear_waker(&self) {
        let old = lock(&self.waker).take();
        drop(old);
    }

    /// Fires the registration of generation `generation` if it is still the current one: sets
    /// `FIRED` and wakes the stored waker. A panic in the waker (user code) is contained.
    /// Returns whether it fired.
    pub(crate) fn fire(&self, generation: u64) -> bool {
        let mut armed = generation << 1;
        if negative_control("fire_ignores_generation") {
            // Planted bug (`tests/loom_timers.rs` must fail): fire whatever generation is current.
            armed = self.state.load(Ordering::SeqCst) & !FIRED;
        }
        if self
            .state
            .compare_exchange(armed, armed | FIRED, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return false;
        }
        let waker = lock(&self.waker).take();
        if let Some(waker) = waker {
            // A foreign waker (a future polled by another executor inside a task) may panic.
            crate::task::wake_contained(waker);
        }
        true
    }

    /// The current filing's id; call only under the owner's wheel lock.
    #[inline]
    pub(crate) fn filed_id(&self) -> u64 {
        // Relaxed: only ever accessed under the owner's wheel lock, whose acquire/release orders
        // every access.
        self.id.load(Ordering::Relaxed)
    }

    /// Records the current filing's id; call only under the owner's wheel lock.
    #[inline]
    pub(crate) fn set_filed_id(&self, id: u64) {
        // Relaxed: see `filed_id`.
        self.id.store(id, Ordering::Relaxed);
    }
}
