//! Which workers are parked, and how many are searching: the wake throttle.
//!
//! A producer that made new work visible calls [`Idle::worker_to_notify`]: if a worker is already
//! searching it does nothing (that searcher, or its re-check before parking, will find the work);
//! otherwise it claims the single searching slot and picks one parked worker to wake. So at most
//! one idle worker is woken per burst of work, and no syscall is made when nobody is parked. A
//! searcher that finds work and was the last one searching passes the baton on
//! ([`Idle::end_search`] returns `true`), so work still spreads to every idle worker.
//!
//! Lost-wakeup argument: a worker announces itself in `parked` (SeqCst RMW) and only then makes
//! its final check for work; a producer publishes its work (SeqCst RMWs in the tree or a queue)
//! and only then reads `searching` and `parked` (SeqCst loads). In the single total order either
//! the producer sees the parked bit (and wakes it), or the worker's final check sees the work.
//! If the producer saw a searcher instead, that searcher decrements `searching` before its own
//! announce-and-check, which then sees the work by the same argument.

use crate::sync::negative_control;
use crate::sync::{new_atomic_u64, new_atomic_usize, AtomicU64, AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;
use signal_waker::SignalWaker;
use std::time::Duration;

/// Parked workers (a bit each, so at most 64 workers) and the searching count.
pub(crate) struct Idle {
    parked: CachePadded<AtomicU64>,
    searching: CachePadded<AtomicUsize>,
    /// Parked workers that wait in the IO driver: a notifier picks them last, so the driver keeps
    /// being polled while a futex sleeper can take the work. Only a preference: any choice is
    /// correct, so this is read with `Relaxed`.
    in_driver: AtomicU64,
}

impl Idle {
    pub(crate) fn new() -> Self {
        Idle {
            parked: CachePadded::new(new_atomic_u64(0)),
            searching: CachePadded::new(new_atomic_usize(0)),
            in_driver: new_atomic_u64(0),
        }
    }

    /// Called by a producer after publishing work: the worker to wake, if any. The chosen
    /// worker's parked bit is cleared and it is counted as searching on its behalf.
    #[inline]
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if self.searching.load(Ordering::SeqCst) != 0 || self.parked.load(Ordering::SeqCst) == 0 {
            return None;
        }
        self.notify_slow()
    }

    #[cold]
    fn notify_slow(&self) -> Option<usize> {
        if self
            .searching
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return None;
        }
        loop {
            let parked = self.parked.load(Ordering::SeqCst);
            if parked == 0 {
                self.searching.fetch_sub(1, Ordering::SeqCst);
                return None;
            }
            // Relaxed: a preference only (see `in_driver`).
            let futex_parked = parked & !self.in_driver.load(Ordering::Relaxed);
            let w = if futex_parked != 0 {
                futex_parked.trailing_zeros()
            } else {
                parked.trailing_zeros()
            } as usize;
            let bit = 1u64 << w;
            if self.parked.fetch_and(!bit, Ordering::SeqCst) & bit != 0 {
                return Some(w);
            }
        }
    }

    /// Worker `w` is about to make its final check before parking.
    pub(crate) fn announce_parked(&self, w: usize) {
        self.parked.fetch_or(1 << w, Ordering::SeqCst);
    }

    /// Worker `w` stops being parked. Returns `true` if a notifier had already cleared its bit,
    /// i.e. it was woken as the searcher and is counted in `searching`.
    pub(crate) fn unpark(&self, w: usize) -> bool {
        let bit = 1u64 << w;
        self.parked.fetch_and(!bit, Ordering::SeqCst) & bit == 0
    }

    /// A searcher stops searching (found work, or is going to park). Returns `true` if it was the
    /// last searcher, in which case a worker that found work should notify another.
    pub(crate) fn end_search(&self) -> bool {
        self.searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Worker `w` waits in the IO driver (`true`) or no longer does.
    pub(crate) fn set_in_driver(&self, w: usize, waiting: bool) {
        // Relaxed: a preference only (see `in_driver`).
        if waiting {
            self.in_driver.fetch_or(1 << w, Ordering::Relaxed);
        } else {
            self.in_driver.fetch_and(!(1 << w), Ordering::Relaxed);
        }
    }

    /// Parked workers that do not wait in the IO driver.
    pub(crate) fn futex_parked_mask(&self) -> u64 {
        // Relaxed: a preference only (see `in_driver`).
        self.parked_mask() & !self.in_driver.load(Ordering::Relaxed)
    }

    /// Bitmask of parked workers (tests and metrics).
    pub(crate) fn parked_mask(&self) -> u64 {
        self.parked.load(Ordering::SeqCst)
    }

    /// Workers counted as searching.
    pub(crate) fn searching(&self) -> usize {
        self.searching.load(Ordering::SeqCst)
    }
}

/// Worker `w` has found nothing to do: the sleeper's half of the protocol in the module docs.
///
/// 1. A searcher stops searching first, so that a producer which saw it searching (and therefore
///    notified nobody) is covered by the check in step 4.
/// 2. Permits left over from busy times are dropped: they would only make the park return at
///    once, and the work they announced was published before this point, so step 4 sees it.
///    This comes *before* step 3 so that the permit of a notifier that picks this worker after
///    its announcement is never drained: the worker then returns at once as the searcher instead
///    of sleeping while counted in `searching` (which would stop every other wake).
/// 3. Announce: set the parked bit (a `SeqCst` RMW).
/// 4. The final check, `work_visible()`: every source this worker would take from.
/// 5. If it found nothing, sleep (`sleep(waker, timeout)`: on `waker`'s futex, or in the IO
///    driver as an external sleeper of `waker`) until a permit arrives, or until `timeout` has
///    passed (the worker's next timer deadline). [`futex_sleep`] is the futex sleep.
/// 6. Leave the parked set. Returns `true` if a notifier had picked this worker, which now counts
///    as searching and must call [`Idle::end_search`] when it finds work or parks again.
///
/// `Worker::park` calls this with the runtime's pieces; the loom models call it with a loom-built
/// tree, so they check this very code.
pub(crate) fn park_protocol(
    idle: &Idle,
    waker: &SignalWaker,
    w: usize,
    searching: bool,
    timeout: Option<Duration>,
    work_visible: impl FnOnce() -> bool,
    sleep: impl FnOnce(&SignalWaker, Option<Duration>),
) -> bool {
    if searching {
        idle.end_search();
    }
    waker.drain_permits();
    idle.announce_parked(w);
    // `NEGATIVE_CONTROL=park_final_check` plants a lost wakeup here: without the final
    // check, work published before the announcement (whose producer saw no parked worker and
    // woke nobody, and whose permit was drained above) is never seen. `loom_remote_spawn` must
    // then deadlock.
    if negative_control("park_final_check") || !work_visible() {
        sleep(waker, timeout);
    }
    idle.unpark(w)
}

/// Step 5 of [`park_protocol`] in the IO driver: `wait` is the driver's poll (with the worker's
/// timeout). The worker is announced on `waker` as an external sleeper for the wait, so a release
/// calls the waker's external-unpark hook (the driver's `mio::Waker`) and the poll returns.
pub(crate) fn driver_sleep(idle: &Idle, w: usize, waker: &SignalWaker, wait: impl FnOnce()) {
    idle.set_in_driver(w, true);
    // `NEGATIVE_CONTROL=driver_sleep_unannounced` plants a lost wakeup: the worker waits in the
    // driver without announcing itself, so a release makes no wake-up (`loom_io_park` must then
    // deadlock).
    if negative_control("driver_sleep_unannounced") {
        wait();
    } else {
        waker.park_external(wait);
    }
    idle.set_in_driver(w, false);
}

/// Step 5 of [`park_protocol`] on the futex: until a permit arrives or `timeout` has passed.
pub(crate) fn futex_sleep(waker: &SignalWaker, timeout: Option<Duration>) {
    match timeout {
        None => waker.acquire(),
        Some(t) => {
            // A timeout without a permit is fine: the caller fires its timers and searches.
            let _ = waker.acquire_timeout(t);
        }
    }
}

/// The producer's half: after publishing work, wake one parked worker (through `waker_of(w)`'s
/// permit) unless somebody is already searching. Returns whether it woke one.
#[inline]
pub(crate) fn notify_one<'a>(idle: &Idle, waker_of: impl FnOnce(usize) -> &'a SignalWaker) -> bool {
    match idle.worker_to_notify() {
        Some(w) => {
            waker_of(w).release_permit();
            true
        }
        None => false,
    }
}
