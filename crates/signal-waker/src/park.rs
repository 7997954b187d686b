//! Permits, sleepers and parking: an eventcount over the futex word `epoch`.
//!
//! Sleeper: read `epoch`; `sleepers += 1`; try to take a permit; if none, futex-wait on `epoch`
//! while it still holds the value read; `sleepers -= 1`; try again.
//! Releaser: add the permit (an RMW); read `sleepers`; if non-zero, bump `epoch` and wake one.
//!
//! The permit RMW → `sleepers` load on one side and the `sleepers` RMW → permit load on the other
//! form the store-buffer pattern; all four are `SeqCst`, so in the single total order either the
//! releaser sees the sleeper (and bumps the epoch after the sleeper read it, so the futex wait
//! returns at once or is woken), or the sleeper's re-check sees the permit. The epoch read happens
//! before the sleeper's announcement, which the releaser observed, so the releaser's bump is
//! necessarily a later value than the one the sleeper waits on.
//!
//! An external sleeper ([`SignalWaker::park_external`]) follows the same protocol with its own
//! unit in `sleepers` ([`EXTERNAL_SLEEPER`]) and its own wait (an IO driver's poll) in place of
//! the futex: the releaser that sees an external unit calls the waker's external-unpark hook
//! (which makes that poll return) instead of bumping the epoch. The same store-buffer argument
//! applies: the sleeper's `sleepers` RMW precedes its permit re-check, the releaser's permit RMW
//! precedes its `sleepers` load, all `SeqCst`.

use crate::sync::negative_control;
use crate::sync::Ordering;
use crate::waker::{SignalWaker, EXTERNAL_SLEEPER, FUTEX_SLEEPERS, MAX_PERMITS};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl SignalWaker {
    /// Takes one permit if any is available, without blocking.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut cur = self.permits.load(Ordering::SeqCst);
        while cur != 0 {
            match self.permits.compare_exchange_weak(
                cur,
                cur - 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
        false
    }

    /// Blocks until a permit is available and takes it. Needs no timeout to be correct.
    pub fn acquire(&self) {
        let taken = self.park(None);
        debug_assert!(taken);
    }

    /// Blocks until a permit is available (and takes it: returns `true`) or `timeout` has passed
    /// (returns `false`). `Duration::ZERO` announces, re-checks once and returns.
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        self.park(Some(deadline))
    }

    /// Releases one permit without setting a status bit and wakes a sleeper if there is one: for
    /// a runtime that must get its worker's attention for a reason outside the status word
    /// (shutdown, a rebalance). Saturates at [`MAX_PERMITS`].
    pub fn release_permit(&self) {
        self.release_permits(1);
    }

    /// Takes every available permit (shutdown leaves the waker with none). Returns how many.
    pub fn drain_permits(&self) -> u64 {
        self.permits.swap(0, Ordering::SeqCst)
    }

    /// Wakes every thread parked on this waker without releasing a permit; they re-check and, with
    /// no permit, go back to sleep. Used by shutdown after it has released what it needs.
    pub fn wake_all(&self) {
        let sleepers = self.sleepers.load(Ordering::SeqCst);
        if sleepers & FUTEX_SLEEPERS != 0 {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.epoch.wake_all();
        }
        if sleepers >= EXTERNAL_SLEEPER {
            self.unpark_external();
        }
    }

    /// Sets how a sleeper inside [`park_external`](Self::park_external) is woken: `unpark` must
    /// make the wait given to `park_external` return soon (for an IO driver: write its wake-up
    /// event). Called at most once per waker, before any thread parks externally; returns `false`
    /// (and keeps the first hook) if one was set already.
    pub fn set_external_unpark(&self, unpark: Arc<dyn Fn() + Send + Sync>) -> bool {
        self.external_unpark.set(unpark).is_ok()
    }

    /// Like [`acquire_timeout`](Self::acquire_timeout), but the thread waits in `wait` (for
    /// instance an IO driver's poll with the timeout the caller chose) instead of on the futex. A
    /// release while the thread is announced calls the hook set by
    /// [`set_external_unpark`](Self::set_external_unpark), which must make `wait` return. `wait`
    /// runs at most once, and not at all if a permit is already there. Returns `true` if a
    /// permit was taken (before or after the wait), `false` if `wait` returned without one (its
    /// own timeout or its own event: the caller looks at what it was waiting for).
    ///
    /// `wait` should not unwind: a panic in it leaves the thread counted as a sleeper, so later
    /// releases call the hook for nobody (harmless, but wasted).
    ///
    /// # Panics
    /// If no external-unpark hook has been set: a sleeper nobody can wake would be a lost wakeup.
    pub fn park_external(&self, wait: impl FnOnce()) -> bool {
        assert!(
            self.external_unpark.get().is_some(),
            "park_external: set_external_unpark was never called on this waker"
        );
        if self.try_acquire() {
            return true;
        }
        self.sleepers.fetch_add(EXTERNAL_SLEEPER, Ordering::SeqCst);
        // `NEGATIVE_CONTROL=external_recheck` (loom runs only) drops this re-check: a permit
        // released after the first try but before the announcement is never seen, and the wait
        // is never cut short (`loom_external_park` must then deadlock).
        if !negative_control("external_recheck") && self.try_acquire() {
            self.sleepers.fetch_sub(EXTERNAL_SLEEPER, Ordering::SeqCst);
            return true;
        }
        wait();
        // Exactly one decrement per increment (no drop guard: under loom a guard would run during
        // a deadlock's unwind and abort the model instead of failing it).
        self.sleepers.fetch_sub(EXTERNAL_SLEEPER, Ordering::SeqCst);
        self.try_acquire()
    }

    fn unpark_external(&self) {
        // `NEGATIVE_CONTROL=external_unpark` (loom runs only): the releaser forgets the external
        // sleeper, which then waits until its own timeout (forever in an untimed model).
        if negative_control("external_unpark") {
            return;
        }
        if let Some(unpark) = self.external_unpark.get() {
            unpark();
        }
    }

    /// Adds `n` permits (saturating at [`MAX_PERMITS`]) and wakes one sleeper per call if any
    /// sleeps. The syscall happens only when a sleeper is registered.
    pub(crate) fn release_permits(&self, n: u64) {
        let mut cur = self.permits.load(Ordering::SeqCst);
        while cur < MAX_PERMITS {
            let next = (cur + n).min(MAX_PERMITS);
            match self
                .permits
                .compare_exchange_weak(cur, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let sleepers = self.sleepers.load(Ordering::SeqCst);
        if sleepers & FUTEX_SLEEPERS != 0 {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.epoch.wake_one();
        }
        if sleepers >= EXTERNAL_SLEEPER {
            self.unpark_external();
        }
    }

    /// The sleeper side of the eventcount. `deadline`: `None` = no timeout, `Some(None)` = a
    /// timeout too large to represent (treated as none), `Some(Some(t))` = give up at `t`.
    fn park(&self, deadline: Option<Option<Instant>>) -> bool {
        if self.try_acquire() {
            return true;
        }
        loop {
            let epoch = self.epoch.load(Ordering::SeqCst);
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            // `NEGATIVE_CONTROL=sleeper_recheck` (loom runs only) drops this re-check:
            // the lost-wakeup bug that `tests/loom_negative_control.rs` must catch.
            if !negative_control("sleeper_recheck") && self.try_acquire() {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return true;
            }
            let timeout = match deadline {
                Some(Some(t)) => Some(t.saturating_duration_since(Instant::now())),
                _ => None,
            };
            if timeout != Some(Duration::ZERO) {
                self.epoch.wait(epoch, timeout);
            }
            // Exactly one decrement per increment, whatever woke us (a wake, a changed epoch, a
            // timeout or a spurious return).
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
            if self.try_acquire() {
                return true;
            }
            if let Some(Some(t)) = deadline {
                // Under loom a timed wait returns at once and stands for "the timeout fired"
                // (see `sync.rs`); looping until the real clock reaches `t` would spin the model.
                if cfg!(loom) || Instant::now() >= t {
                    return false;
                }
            }
        }
    }
}
