//! The tree's invariants, checked on a quiescent tree (no operation in flight): the signalling
//! chain and the reservation hints. Tests, loom models and debugging call
//! [`SummaryTree::check_quiescent_invariants`].

use crate::error::InvariantViolation;
use crate::leaf::unusable_mask;
use crate::slot::SIGNAL_WORDS_PER_LEAF;
use crate::sync::Ordering;
use crate::tree::SummaryTree;
use signal_waker::{partition_summary_bit, STATUS_BIT_PARTITION};

impl SummaryTree {
    /// Checks, for a tree with **no operation in flight**, that:
    ///
    /// 1. every scheduled task bit is a reserved slot;
    /// 2. a non-empty signal word has its leaf bit set;
    /// 3. a non-empty leaf word has its summary bit set in the waker of the leaf's owner under the
    ///    current assignment;
    /// 4. a non-zero partition summary has `STATUS_BIT_PARTITION` set in the same waker;
    /// 5. a reservation word with a free usable slot has its leaf free hint set, and a leaf with a
    ///    free hint has its directory free hint set (allocated leaves);
    /// 6. no leaf past the covered leaves ([`active_leaves`](Self::active_leaves)) is allocated.
    ///
    /// False positives (a set bit over empty words) are allowed everywhere. Whether a set
    /// `STATUS_BIT_PARTITION` is backed by a permit or an awake owner is `signal-waker`'s
    /// invariant; check [`permits`](signal_waker::SignalWaker::permits) where nothing consumes
    /// them.
    pub fn check_quiescent_invariants(&self) -> Result<(), InvariantViolation> {
        let asg = self.assignment();
        let p = asg.partitioning();
        for leaf in 0..self.leaf_count {
            let Some(l) = self.leaf(leaf) else {
                continue;
            };
            if leaf >= asg.leaves() {
                return Err(violation(format!(
                    "leaf {leaf} is allocated but the partitions cover only 0..{}",
                    asg.leaves()
                )));
            }
            let usable = self.usable_slots(leaf);
            let leaf_word = l.word.load(Ordering::SeqCst);
            let free = l.free.load(Ordering::SeqCst);
            for s in 0..SIGNAL_WORDS_PER_LEAF {
                let signal = l.signals[s].load(Ordering::SeqCst);
                let reserved = l.reservations[s].load(Ordering::SeqCst);
                if signal & !reserved != 0 {
                    return Err(violation(format!(
                        "leaf {leaf} signal word {s}: task bits {:#x} are not reserved",
                        signal & !reserved
                    )));
                }
                if signal != 0 && leaf_word & (1 << s) == 0 {
                    return Err(violation(format!(
                        "leaf {leaf} signal word {s} = {signal:#x} but leaf word {leaf_word:#x} lacks bit {s} (stranded task)"
                    )));
                }
                let usable_free = !reserved & !unusable_mask(s, usable);
                if usable_free != 0 && free & (1 << s) == 0 {
                    return Err(violation(format!(
                        "leaf {leaf} reservation word {s} has free slots {usable_free:#x} but its free hint is clear"
                    )));
                }
            }
            let dir = self.leaf_free[leaf / 64].load(Ordering::SeqCst);
            if free != 0 && dir & (1 << (leaf % 64)) == 0 {
                return Err(violation(format!(
                    "leaf {leaf} has free hints {free:#x} but its directory free hint is clear"
                )));
            }
            if leaf_word != 0 {
                let owner = p.compute_partition_owner(leaf);
                let range = p.range(owner);
                let bit = partition_summary_bit(leaf - range.start, range.len());
                let waker = &self.wakers[owner];
                let summary = waker.partition_summary();
                if summary & (1 << bit) == 0 {
                    return Err(violation(format!(
                        "leaf {leaf} word {leaf_word:#x} but owner {owner} (epoch {}) summary {summary:#x} lacks bit {bit}",
                        asg.epoch()
                    )));
                }
            }
        }
        for (worker, waker) in self.wakers.iter().enumerate() {
            if waker.partition_summary() != 0 && waker.status() & STATUS_BIT_PARTITION == 0 {
                return Err(violation(format!(
                    "worker {worker} summary {:#x} but STATUS_BIT_PARTITION is clear (status {:#x})",
                    waker.partition_summary(),
                    waker.status()
                )));
            }
        }
        Ok(())
    }
}

fn violation(message: String) -> InvariantViolation {
    InvariantViolation(message)
}
