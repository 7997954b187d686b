//! Claiming scheduled tasks: in the worker's own partition, guided by its `partition_summary`,
//! and from other partitions (stealing), guided by their owners' summaries; both degrade to a
//! scan of leaf words when the hints are stale.
//!
//! A claim clears one task bit with `fetch_and`, which reports whether this caller won it. A claim
//! that empties its signal word calls [`SummaryTree::mark_signal_inactive`]; a leaf bit found over
//! an empty signal word and a summary bit found over empty leaves are stale hints, cleared with
//! clear-then-recheck.
//!
//! **Order.** A search starts just after the searcher's previous claim (a per-worker
//! [`SearchHint`](crate::sync::SearchHint)) and visits slots in cyclic index order over the
//! partition: the rest of the start leaf, the following leaves, the leaves before it, and the
//! start of the start leaf. A task that stays scheduled is therefore reached within one sweep of
//! the partition, however busy the other slots are: no leaf, signal word or slot starves.

use crate::bitscan::window_mask;
use crate::slot::{SlotId, SLOTS_PER_LEAF};
use crate::sync::Ordering;
use crate::tree::SummaryTree;
use signal_waker::partition_group_size;
use std::ops::Range;

/// Where a search begins: leaf `leaf` at in-leaf position `pos`.
#[derive(Clone, Copy)]
struct Start {
    leaf: usize,
    pos: usize,
}

impl Start {
    /// The position after the last claim (`hint`, a slot index), if it lies in `range`;
    /// otherwise the start of `range`.
    fn from_hint(hint: usize, range: &Range<usize>) -> Start {
        let leaf = hint / SLOTS_PER_LEAF;
        if range.contains(&leaf) {
            Start {
                leaf,
                pos: hint % SLOTS_PER_LEAF,
            }
        } else {
            Start {
                leaf: range.start,
                pos: 0,
            }
        }
    }
}

impl SummaryTree {
    /// Claims a scheduled task in worker `worker`'s current partition: first in the leaf groups
    /// its `partition_summary` marks (clearing marks found stale), then, if that finds nothing,
    /// in the partition's other leaves by their leaf words. Returns the claimed slot, whose task
    /// bit this call cleared; `None` if the partition had nothing to claim or `worker` is not
    /// active.
    ///
    /// # Panics
    /// If `worker >= max_workers()`.
    pub fn claim_in_partition(&self, worker: usize) -> Option<SlotId> {
        let hints = self.hints_of(worker);
        let asg = self.assignment();
        let range = asg.range(worker);
        if range.is_empty() {
            return None;
        }
        // Relaxed: a search-start hint only, see `sync::SearchHint`.
        let start = Start::from_hint(hints.claim.load(Ordering::Relaxed), &range);
        let slot = self.claim_from_owner(worker, asg.raw(), &range, start)?;
        hints.claim.store(slot.index() + 1, Ordering::Relaxed);
        Some(slot)
    }

    /// Steals a scheduled task from a partition other than `thief`'s: visits the active workers
    /// from `first_victim` on (wrapping; pass e.g. a random or rotating index), honouring each
    /// owner's `partition_summary` first, then degrades to a scan of the leaf words of all leaves
    /// outside the thief's partition. A thief that is not active itself may steal from everyone.
    ///
    /// # Panics
    /// If `thief >= max_workers()`.
    pub fn steal(&self, thief: usize, first_victim: usize) -> Option<SlotId> {
        let asg = self.assignment();
        let p = asg.partitioning();
        let workers = p.workers();
        let hints = self.hints_of(thief);
        // Relaxed: a search-start hint only, see `sync::SearchHint`.
        let hint = hints.steal.load(Ordering::Relaxed);
        let victims = (0..workers)
            .map(|k| (first_victim % workers + k) % workers)
            .filter(|&v| v != thief);
        let mut found = None;
        for victim in victims.clone() {
            let range = p.range(victim);
            if range.is_empty() {
                continue;
            }
            let summary = self.wakers[victim].partition_summary();
            if summary == 0 {
                continue;
            }
            let start = Start::from_hint(hint, &range);
            found = self.claim_pass(victim, asg.raw(), &range, start, summary);
            if found.is_some() {
                break;
            }
        }
        if found.is_none() {
            // Degraded: the victims' summaries may be stale (a notification in flight, a
            // rebalance); look at every leaf they did not mark.
            for victim in victims {
                let range = p.range(victim);
                if range.is_empty() {
                    continue;
                }
                let unmarked = !self.wakers[victim].partition_summary();
                let start = Start::from_hint(hint, &range);
                found = self.search(&range, start, unmarked);
                if found.is_some() {
                    break;
                }
            }
        }
        let slot = found?;
        hints.steal.store(slot.index() + 1, Ordering::Relaxed);
        Some(slot)
    }

    /// Claims one scheduled task in `leaf`, lowest index first. A building block for runtimes
    /// with their own search order; `None` if the leaf has none (or is not allocated).
    ///
    /// # Panics
    /// If `leaf >= leaf_count()`.
    pub fn claim_in_leaf(&self, leaf: usize) -> Option<SlotId> {
        assert!(
            leaf < self.leaf_count,
            "leaf {leaf} out of range: allowed 0..{}",
            self.leaf_count
        );
        self.claim_in_leaf_window(leaf, 0, SLOTS_PER_LEAF)
    }

    /// The owner's search: summary-guided, then the unmarked leaves by their leaf words.
    fn claim_from_owner(
        &self,
        owner: usize,
        asg_raw: u64,
        range: &Range<usize>,
        start: Start,
    ) -> Option<SlotId> {
        let summary = self.wakers[owner].partition_summary();
        if summary != 0 {
            if let Some(slot) = self.claim_pass(owner, asg_raw, range, start, summary) {
                return Some(slot);
            }
        }
        self.search(range, start, !summary)
    }

    /// Searches the groups marked in `groups` of `owner`'s partition; if none yields a task,
    /// clears each of those summary bits whose group is (re-checked) empty.
    fn claim_pass(
        &self,
        owner: usize,
        asg_raw: u64,
        range: &Range<usize>,
        start: Start,
        groups: u64,
    ) -> Option<SlotId> {
        if let Some(slot) = self.search(range, start, groups) {
            return Some(slot);
        }
        // Every marked group was empty when we looked: the marks are stale. Clear them
        // (clear-then-recheck, refused if the assignment changed since `asg_raw`).
        let mut stale = groups;
        while stale != 0 {
            let bit = stale.trailing_zeros();
            stale &= stale - 1;
            self.clear_summary_bit(owner, asg_raw, range.start, range.len(), bit);
        }
        None
    }

    /// Visits, in cyclic slot order from `start`, the leaves of `range` whose summary group (see
    /// `signal_waker::partition_summary_bit`) is in `groups`, and claims the first task found.
    fn search(&self, range: &Range<usize>, start: Start, groups: u64) -> Option<SlotId> {
        let len = range.len();
        let gsz = partition_group_size(len);
        // Up to 64 leaves (the common case) a group is one leaf: skip the divisions.
        let group_of = |local: usize| if gsz == 1 { local } else { local / gsz };
        let group_count = if gsz == 1 { len } else { len.div_ceil(gsz) };
        let groups = groups & window_mask(0, group_count);
        if groups == 0 {
            return None;
        }
        let local0 = start.leaf - range.start;
        let in_groups = |local: usize| groups & (1 << group_of(local)) != 0;
        if in_groups(local0) {
            if let Some(slot) = self.claim_in_leaf_window(start.leaf, start.pos, SLOTS_PER_LEAF) {
                return Some(slot);
            }
        }
        let mut i = 1;
        while i < len {
            let mut local = local0 + i;
            if local >= len {
                local -= len;
            }
            let g = group_of(local);
            if groups & (1 << g) == 0 {
                // Jump to the first leaf of the next marked group, cyclically.
                let above = groups & window_mask(g + 1, 64);
                let target = if above != 0 {
                    above.trailing_zeros() as usize * gsz
                } else {
                    len + groups.trailing_zeros() as usize * gsz
                };
                i += target - local;
                continue;
            }
            if let Some(slot) = self.claim_in_leaf_window(range.start + local, 0, SLOTS_PER_LEAF) {
                return Some(slot);
            }
            i += 1;
        }
        if in_groups(local0) && start.pos > 0 {
            return self.claim_in_leaf_window(start.leaf, 0, start.pos);
        }
        None
    }

    /// Claims the first scheduled task of `leaf` at an in-leaf position in `lo..hi`. Clears the
    /// leaf bit of a signal word found empty (a stale bit) with clear-then-recheck.
    pub(crate) fn claim_in_leaf_window(&self, leaf: usize, lo: usize, hi: usize) -> Option<SlotId> {
        if lo >= hi {
            return None;
        }
        let l = self.leaf(leaf)?;
        let (s_lo, s_hi) = (lo / 64, (hi - 1) / 64 + 1);
        let mut words = l.word.load(Ordering::SeqCst) & window_mask(s_lo, s_hi);
        while words != 0 {
            let s = words.trailing_zeros() as usize;
            words &= words - 1;
            let base = s * 64;
            let bits = window_mask(lo.saturating_sub(base).min(64), (hi - base).min(64));
            let signal = &l.signals[s];
            let mut current = signal.load(Ordering::SeqCst);
            loop {
                let candidates = current & bits;
                if candidates == 0 {
                    break;
                }
                let bit = candidates.trailing_zeros();
                let mask = 1u64 << bit;
                let prev = signal.fetch_and(!mask, Ordering::SeqCst);
                if prev & mask != 0 {
                    if prev == mask {
                        // We emptied the word: clear its leaf bit (clear-then-recheck).
                        self.mark_signal_inactive(leaf, s);
                    }
                    return Some(SlotId::from_index(
                        leaf * SLOTS_PER_LEAF + base + bit as usize,
                    ));
                }
                // Another claimer won this bit; `prev` is the word as it is now.
                current = prev;
            }
            if current == 0 {
                // The leaf bit said non-empty, the word is empty: a stale bit.
                self.mark_signal_inactive(leaf, s);
            }
        }
        None
    }
}
