//! The published assignment (which workers own partitions) and rebalancing.
//!
//! Ownership is a pure function of `(leaves, workers)` ([`Partitioning`]), where `leaves` is the
//! number of leaves the partitions cover (all of the directory, or fewer while the tree grows,
//! see [`SummaryTreeConfig::initial_tasks`](crate::SummaryTreeConfig::initial_tasks)), so the
//! whole assignment is one word: `epoch << 38 | leaves << 13 | workers`. A growth is a change of
//! assignment like a rebalance (the next epoch, then a re-sync of every worker), and covered
//! leaves only ever grow, so a slot reserved under one assignment is covered by every later one.
//! Publishing it is one `SeqCst` RMW and reading it one `SeqCst` load; there is no table to
//! reclaim, so no epoch-based reclamation (crossbeam-epoch) is needed, and loom models the
//! publication exactly. Every value of the word gives every leaf exactly one owner.
//!
//! **No notification is lost across a change.** A notifier RMWs its leaf word, then loads the
//! assignment. If it read the old assignment, that load precedes the publication in the single
//! `SeqCst` order, so the re-sync of every worker that [`SummaryTree::set_active_workers`] does
//! after publishing reads the notifier's leaf word and sets the new owner's bit. If it read the
//! new one, it notified the new owner itself. A bit set in an old owner's summary under old
//! numbering is a harmless false positive (the owner finds that group empty and clears it). A
//! *clear* computed under an old epoch is refused: the emptiness check of
//! [`clear_partition_leaf`](signal_waker::SignalWaker::clear_partition_leaf) also re-reads the
//! assignment, and its re-check runs after the clear, so either it sees the new epoch (and
//! re-marks) or the clear precedes the publication and the re-sync repairs it.
//! [`SummaryTree::sync_partition_summary`] repeats itself until the assignment it used is still
//! current when it finishes, for the same reason.

use crate::error::ConfigError;
use crate::partition::Partitioning;
use crate::sync::{negative_control, Ordering};
use crate::tree::SummaryTree;
use std::ops::Range;

/// Workers: up to `MAX_WORKERS_LIMIT` = 2^12, so 13 bits.
const WORKER_BITS: u32 = 13;
const WORKER_MASK: u64 = (1 << WORKER_BITS) - 1;
/// Covered leaves: up to `MAX_TASKS_LIMIT / SLOTS_PER_LEAF` = 2^19 (2^24 with loom's smaller
/// leaves), so 25 bits. The epoch has the remaining 26 (it wraps after 2^26 changes; only a
/// clear stalled across all of them could be mistaken for current).
const LEAF_BITS: u32 = 25;
const LEAF_MASK: u64 = (1 << LEAF_BITS) - 1;
const EPOCH_SHIFT: u32 = WORKER_BITS + LEAF_BITS;
const _: () = assert!(
    (crate::config::MAX_TASKS_LIMIT / crate::slot::SLOTS_PER_LEAF) as u64 <= LEAF_MASK
        && crate::config::MAX_WORKERS_LIMIT as u64 <= WORKER_MASK
);

/// Packs `(epoch, leaves, workers)` into the assignment word (the epoch wraps at 2^26).
#[inline]
pub(crate) fn pack_assignment(epoch: u64, leaves: usize, workers: usize) -> u64 {
    debug_assert!(workers as u64 <= WORKER_MASK && leaves as u64 <= LEAF_MASK);
    (epoch << EPOCH_SHIFT) | ((leaves as u64) << WORKER_BITS) | workers as u64
}

/// One published assignment: the active worker count, the leaves the partitions cover, and its
/// epoch (bumped by every [`SummaryTree::set_active_workers`] and every growth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    raw: u64,
}

impl Assignment {
    /// The epoch: 0 at construction, +1 per rebalance or growth (modulo 2^26).
    #[inline]
    pub fn epoch(&self) -> u64 {
        self.raw >> EPOCH_SHIFT
    }

    /// Leaves the partitions cover: `0..leaves()`.
    #[inline]
    pub fn leaves(&self) -> usize {
        ((self.raw >> WORKER_BITS) & LEAF_MASK) as usize
    }

    /// Active workers: workers `0..workers()` own partitions.
    #[inline]
    pub fn workers(&self) -> usize {
        (self.raw & WORKER_MASK) as usize
    }

    /// The partitioning of this assignment.
    #[inline]
    pub fn partitioning(&self) -> Partitioning {
        Partitioning::new(self.leaves(), self.workers())
    }

    /// Worker `worker`'s leaves in this assignment (empty for an inactive worker).
    #[inline]
    pub fn range(&self, worker: usize) -> Range<usize> {
        self.partitioning().range(worker)
    }

    #[inline]
    pub(crate) fn raw(&self) -> u64 {
        self.raw
    }
}

impl SummaryTree {
    /// The current assignment (one `SeqCst` load).
    #[inline]
    pub fn assignment(&self) -> Assignment {
        Assignment {
            raw: self.assignment_raw(),
        }
    }

    #[inline]
    pub(crate) fn assignment_raw(&self) -> u64 {
        self.assignment.load(Ordering::SeqCst)
    }

    /// Worker `worker`'s current partition (empty when it is not active).
    pub fn partition_range(&self, worker: usize) -> Range<usize> {
        self.assignment().range(worker)
    }

    /// Rebalances: publishes `workers` active workers with the next epoch, then re-syncs every
    /// worker's partition summary against the new ranges (inactive workers' summaries are
    /// cleared). Returns the new assignment.
    ///
    /// ```
    /// use summary_tree::{SummaryTree, SummaryTreeConfig};
    ///
    /// let tree = SummaryTree::new(SummaryTreeConfig::new(4).max_tasks(8 * 4096).active_workers(1)).unwrap();
    /// let slot = tree.reserve_task(7).unwrap(); // a slot in leaf 7, owned by worker 0 for now
    /// tree.schedule(slot);
    /// let asg = tree.set_active_workers(4).unwrap(); // leaves 6..8 now belong to worker 3
    /// assert_eq!((asg.epoch(), asg.workers()), (1, 4));
    /// assert_eq!(tree.waker(3).partition_summary(), 0b10); // re-synced: local leaf 1
    /// assert!(tree.set_active_workers(5).is_err());
    /// ```
    pub fn set_active_workers(&self, workers: usize) -> Result<Assignment, ConfigError> {
        ConfigError::check("workers", workers, 1..=self.wakers.len())?;
        self.publish(|asg| Some((asg.leaves(), workers)));
        Ok(self.assignment())
    }

    /// Doubles the leaves the partitions cover (up to [`leaf_count`](Self::leaf_count)), as a
    /// reservation does when every covered slot is reserved: publishes the next epoch with the
    /// new leaf count, then re-syncs every worker's partition summary, as
    /// [`set_active_workers`](Self::set_active_workers) does. Returns `false` if the tree covers
    /// every leaf already.
    pub fn grow(&self) -> bool {
        self.grow_from(self.active_leaves())
    }

    /// [`grow`](Self::grow) by a caller that found the `seen` covered leaves full: a growth by
    /// another thread since then counts as this one (returns `true` without doubling again).
    pub(crate) fn grow_from(&self, seen: usize) -> bool {
        let mut grew = false;
        let published = self.publish(|asg| {
            if asg.leaves() != seen {
                grew = asg.leaves() > seen;
                return None;
            }
            if seen >= self.leaf_count {
                return None;
            }
            grew = true;
            Some(((seen * 2).min(self.leaf_count), asg.workers()))
        });
        grew || published
    }

    /// Publishes the next assignment, `(leaves, workers) = next(current)` with the next epoch
    /// (one `SeqCst` CAS, retried on a race), then re-syncs every worker's partition summary
    /// against the new ranges. `next` returning `None` publishes nothing (returns `false`).
    fn publish(&self, mut next: impl FnMut(Assignment) -> Option<(usize, usize)>) -> bool {
        let mut current = self.assignment_raw();
        loop {
            let asg = Assignment { raw: current };
            let Some((leaves, workers)) = next(asg) else {
                return false;
            };
            let raw = pack_assignment(asg.epoch() + 1, leaves, workers);
            match self
                .assignment
                .compare_exchange(current, raw, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        // `NEGATIVE_CONTROL=publish_skips_resync` (loom runs only) skips the re-sync after a
        // change: a leaf that changed owner keeps its bit in the old owner's summary only
        // (`loom_rebalance::notify_against_growth` must then fail).
        if !negative_control("publish_skips_resync") {
            for worker in 0..self.wakers.len() {
                self.sync_partition_summary(worker);
            }
        }
        true
    }

    /// Re-derives worker `worker`'s partition summary from the leaf words of its current range
    /// ([`SignalWaker::sync_partition_summary`](signal_waker::SignalWaker::sync_partition_summary)),
    /// as the worker must before it parks and after every rebalance; repeats if the assignment
    /// changed meanwhile. Returns whether the partition may hold work (the summary is non-zero).
    ///
    /// # Panics
    /// If `worker >= max_workers()`.
    pub fn sync_partition_summary(&self, worker: usize) -> bool {
        let waker = self.waker(worker);
        loop {
            let asg = self.assignment();
            let range = asg.range(worker);
            let leaf_words = |leaf: usize| self.leaf_word(leaf);
            let active = waker.sync_partition_summary(range.start, range.end, &leaf_words);
            if self.assignment_raw() == asg.raw {
                return active;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

    /// A clear computed under an old epoch must not remove a bit that now means another group:
    /// 3 leaves over 3 workers, then over 2. Worker 1 owned leaf 1 (its bit 0) and now owns leaf 2
    /// (also its bit 0). Emptying leaf 1 under the old numbering must leave the bit for leaf 2.
    #[test]
    fn stale_epoch_clear_is_refused() {
        let tree =
            SummaryTree::new(SummaryTreeConfig::new(3).max_tasks(3 * SLOTS_PER_LEAF)).unwrap();
        let in_leaf2 = tree.reserve_task_in_leaf(2).unwrap();
        tree.reserve_task_in_leaf(1).unwrap();
        let old = tree.assignment();
        assert_eq!(old.range(1), 1..2);
        tree.schedule(in_leaf2);
        tree.set_active_workers(2).unwrap();
        assert_eq!(tree.partition_range(1), 2..3);
        assert_eq!(tree.waker(1).partition_summary(), 0b1);
        // The late clear of a notifier that read the old assignment: leaf 1 is empty.
        let cleared = tree.clear_summary_bit(1, old.raw(), 1, 1, 0);
        assert!(!cleared);
        assert_eq!(
            tree.waker(1).partition_summary(),
            0b1,
            "leaf 2's bit survives"
        );
        tree.check_quiescent_invariants().unwrap();
        // Under the current epoch the same clear is refused because leaf 2 is not empty, and
        // accepted once it is.
        let now = tree.assignment();
        assert!(!tree.clear_summary_bit(1, now.raw(), 2, 1, 0));
        assert_eq!(tree.claim_in_leaf(2), Some(in_leaf2));
        assert_eq!(tree.waker(1).partition_summary(), 0);
    }
}
