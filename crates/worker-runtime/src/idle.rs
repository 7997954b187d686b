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

use crate::sync::{AtomicU64, AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;

/// Parked workers (a bit each, so at most 64 workers) and the searching count.
pub(crate) struct Idle {
    parked: CachePadded<AtomicU64>,
    searching: CachePadded<AtomicUsize>,
}

impl Idle {
    pub(crate) fn new() -> Self {
        Idle {
            parked: CachePadded::new(AtomicU64::new(0)),
            searching: CachePadded::new(AtomicUsize::new(0)),
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
            let w = parked.trailing_zeros() as usize;
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

    /// Bitmask of parked workers (tests and metrics).
    pub(crate) fn parked_mask(&self) -> u64 {
        self.parked.load(Ordering::SeqCst)
    }
}
