//! The signalling chain from a task bit to its owner's waker:
//! task bit (signal word) → leaf bit → owner's `partition_summary` bit → `STATUS_BIT_PARTITION`
//! → permit (the last two hops are `signal-waker`'s).
//!
//! Every set is an RMW that reports the 0→1 transition, which alone triggers the next hop. Every
//! clear is clear-then-recheck: clear the bit, re-load the source below it, and re-mark if a
//! producer raced in (such a producer saw the bit still set and did not notify). The two sides are
//! the store-buffer pattern, so every access is `SeqCst`. The leaf-level step has no "already set"
//! fast path at all: the producer always RMWs the leaf word, so its RMW and the consumer's clear
//! are ordered by the leaf word's modification order alone, which loom models exactly.
//!
//! A notification reads the published assignment **after** its leaf RMW (a `SeqCst` load), so it
//! reaches either the owner of the current epoch or an owner that a rebalance will re-sync after
//! publishing (see `rebalance.rs`).

use crate::sync::negative_control;
use crate::sync::Ordering;
use crate::tree::SummaryTree;
use crate::SlotId;
use signal_waker::{partition_summary_bit, partition_summary_group};

impl SummaryTree {
    /// Schedules `slot`: sets its task bit (a `SeqCst` `fetch_or`) and, if that took its signal
    /// word from 0 to non-zero, calls [`mark_signal_active`](Self::mark_signal_active). Returns
    /// whether the bit was newly set (`false`: it was already scheduled).
    ///
    /// # Panics
    /// If `slot`'s leaf was never allocated (the slot was never reserved). In debug builds also if
    /// `slot` is not reserved.
    #[inline]
    pub fn schedule(&self, slot: SlotId) -> bool {
        let leaf = self.leaf_of_slot(slot);
        let s = slot.signal();
        let mask = 1u64 << slot.bit();
        debug_assert!(
            leaf.reservations[s].load(Ordering::SeqCst) & mask != 0,
            "schedule({slot:?}): slot is not reserved"
        );
        let prev = leaf.signals[s].fetch_or(mask, Ordering::SeqCst);
        if prev == 0 {
            self.mark_signal_active(slot.leaf(), s);
        }
        prev & mask == 0
    }

    /// Marks signal word `signal` of `leaf` non-empty in the leaf word. If the leaf word went from
    /// 0 to non-zero, notifies the leaf's owner
    /// ([`notify_partition_owner_active`](Self::notify_partition_owner_active)) and returns
    /// `true`.
    ///
    /// # Panics
    /// If `leaf` is out of range or not allocated, or `signal` is out of range.
    pub fn mark_signal_active(&self, leaf: usize, signal: usize) -> bool {
        let l = self.leaf_of_slot(SlotId::new(leaf, signal, 0));
        let mask = 1u64 << signal;
        // Always the RMW, no "already set" load: see the module docs.
        let prev = l.word.fetch_or(mask, Ordering::SeqCst);
        if prev == 0 {
            self.notify_partition_owner_active(leaf);
            true
        } else {
            false
        }
    }

    /// Clears signal word `signal`'s bit in `leaf`'s leaf word, but only if the signal word is
    /// empty: checks it, clears the bit, re-loads the signal word and re-marks it
    /// ([`mark_signal_active`](Self::mark_signal_active)) if a producer set a task bit meanwhile.
    /// When the leaf word became 0, clears the owner's summary bit for the leaf's group
    /// ([`notify_partition_owner_inactive`](Self::notify_partition_owner_inactive)).
    /// Returns `true` if this call cleared the bit and it stays clear.
    ///
    /// # Panics
    /// If `leaf` is out of range or not allocated, or `signal` is out of range.
    pub fn mark_signal_inactive(&self, leaf: usize, signal: usize) -> bool {
        let l = self.leaf_of_slot(SlotId::new(leaf, signal, 0));
        let word = &l.signals[signal];
        if word.load(Ordering::SeqCst) != 0 {
            return false;
        }
        let mask = 1u64 << signal;
        let prev = l.word.fetch_and(!mask, Ordering::SeqCst);
        if prev & mask == 0 {
            // Already clear: whoever cleared it re-checks after its own clear.
            return false;
        }
        // The re-check. `NEGATIVE_CONTROL=signal_inactive_recheck` skips it, which must
        // make the stranded-task loom model (tests/loom_stranded_task.rs) fail.
        if !negative_control("signal_inactive_recheck") && word.load(Ordering::SeqCst) != 0 {
            // A producer set a task bit between our check and our clear, saw the leaf bit still
            // set and so did not notify: re-mark on its behalf.
            self.mark_signal_active(leaf, signal);
            return false;
        }
        if prev == mask {
            self.notify_partition_owner_inactive(leaf);
        }
        true
    }

    /// Tells `leaf`'s owner under the current assignment that the leaf became non-empty: sets the
    /// owner's summary bit for the leaf's group
    /// ([`SignalWaker::mark_partition_leaf_active`](signal_waker::SignalWaker::mark_partition_leaf_active)),
    /// which sets `STATUS_BIT_PARTITION` and releases a permit on its 0→1. Returns the owner.
    ///
    /// # Panics
    /// If `leaf >= leaf_count()`.
    pub fn notify_partition_owner_active(&self, leaf: usize) -> usize {
        // SeqCst, after the leaf RMW: pairs with the publication in `set_active_workers` (an
        // old assignment read here means the new owners' re-sync comes after our leaf RMW).
        let asg = self.assignment();
        let p = asg.partitioning();
        let owner = p.compute_partition_owner(leaf);
        let range = p.range(owner);
        let bit = partition_summary_bit(leaf - range.start, range.len());
        self.wakers[owner].mark_partition_leaf_active(bit);
        owner
    }

    /// Tells `leaf`'s owner under the current assignment that the leaf became empty: clears the
    /// owner's summary bit for the leaf's group if every leaf of the group is empty, with
    /// clear-then-recheck
    /// ([`SignalWaker::clear_partition_leaf`](signal_waker::SignalWaker::clear_partition_leaf)).
    /// The emptiness check also fails if the assignment changed since it was read, so a bit
    /// numbered for an old epoch never clears a bit that means another group now. Returns whether
    /// the bit was cleared and stays clear.
    ///
    /// # Panics
    /// If `leaf >= leaf_count()`.
    pub fn notify_partition_owner_inactive(&self, leaf: usize) -> bool {
        let asg = self.assignment();
        let p = asg.partitioning();
        let owner = p.compute_partition_owner(leaf);
        let range = p.range(owner);
        let bit = partition_summary_bit(leaf - range.start, range.len());
        self.clear_summary_bit(owner, asg.raw(), range.start, range.len(), bit)
    }

    /// Clears summary bit `bit` of `owner` (numbered for a partition `start..start + len` of the
    /// assignment `asg_raw`) if its group is empty and the assignment is still `asg_raw`.
    pub(crate) fn clear_summary_bit(
        &self,
        owner: usize,
        asg_raw: u64,
        start: usize,
        len: usize,
        bit: u32,
    ) -> bool {
        let group = partition_summary_group(bit, len);
        self.wakers[owner].clear_partition_leaf(bit, || {
            self.assignment_raw() == asg_raw
                && group
                    .clone()
                    .all(|local| self.leaf_word(start + local) == 0)
        })
    }
}
