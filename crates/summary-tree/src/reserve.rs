//! Slot reservation: one bit per slot in the leaves' reservation words, found through two levels
//! of "may have a free slot" hints so that a reservation costs O(1) word operations even when
//! most leaves are full.
//!
//! * `leaf.free` bit *s*: reservation word *s* may have a free slot.
//! * `tree.leaf_free` bit *l*: leaf *l* may have a free slot (set from the start for every leaf,
//!   allocated or not).
//!
//! Both hints may hold false positives (a searcher that finds the word or leaf full clears the
//! bit) but never a false negative once operations finish: every clear is clear-then-recheck
//! (`clear_free_bit`, `clear_leaf_free_bit`), and every release sets the bits after freeing its
//! slot (`mark_free`). The two sides form the store-buffer pattern (release: RMW the reservation
//! word, then load the hint; searcher: RMW the hint, then load the reservation word), so all four
//! accesses are `SeqCst`. Even so, a reservation that finds no hinted slot scans every allocated
//! leaf before it reports [`CapacityError::AtCapacity`], so the error is exact with respect to
//! every release that completed before the call.

use crate::bitscan::window_mask;
use crate::error::CapacityError;
use crate::leaf::Leaf;
use crate::slot::{SlotId, SIGNAL_WORDS_PER_LEAF, SLOTS_PER_LEAF};
use crate::sync::Ordering;
use crate::tree::SummaryTree;

impl SummaryTree {
    /// Reserves a free slot, trying leaf `hint_leaf` first (e.g. the first leaf of the calling
    /// worker's partition, so its spawns land where it claims), then the next leaves with free
    /// slots in cyclic order. A leaf is allocated the first time a slot in it is reserved.
    /// `hint_leaf` is taken modulo [`active_leaves`](Self::active_leaves). When every covered
    /// slot is reserved, the covered leaves double ([`grow`](Self::grow)) and the search goes on.
    ///
    /// Never hands one slot to two callers. Fails only when all `max_tasks` slots are reserved.
    ///
    /// ```
    /// use summary_tree::{CapacityError, SummaryTree, SummaryTreeConfig};
    ///
    /// let tree = SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(2)).unwrap();
    /// let a = tree.reserve_task(0).unwrap();
    /// let b = tree.reserve_task(0).unwrap();
    /// assert_ne!(a, b);
    /// assert_eq!(tree.reserve_task(0), Err(CapacityError::AtCapacity { max_tasks: 2 }));
    /// tree.release_task(a);
    /// assert_eq!(tree.reserve_task(0), Ok(a));
    /// ```
    pub fn reserve_task(&self, hint_leaf: usize) -> Result<SlotId, CapacityError> {
        loop {
            // Only the leaves the partitions cover: a task anywhere else would have no owner.
            let n = self.active_leaves();
            let start = if hint_leaf < n {
                hint_leaf
            } else {
                hint_leaf % n
            };
            if let Some(slot) = self.reserve_hinted_leaf(start) {
                return Ok(slot);
            }
            // Leaves whose free hint is set, cyclically after `start`: one load per 64 leaves.
            if let Some(slot) = self
                .reserve_in_hinted_range(start + 1, n)
                .or_else(|| self.reserve_in_hinted_range(0, start))
            {
                return Ok(slot);
            }
            if let Some(slot) = self.reserve_exhaustive(start, n) {
                return Ok(slot);
            }
            // Every covered slot is reserved: cover more leaves (or report the limit).
            if !self.grow_from(n) {
                return Err(CapacityError::AtCapacity {
                    max_tasks: self.max_tasks,
                });
            }
        }
    }

    /// Reserves a free slot in leaf `leaf` (allocating the leaf on first use), or returns `None`
    /// when the leaf is full. Lowest free slot first. Never hands one slot to two callers.
    ///
    /// # Panics
    /// If `leaf >= active_leaves()` (a leaf no partition covers yet; see
    /// [`SummaryTreeConfig::initial_tasks`](crate::SummaryTreeConfig::initial_tasks)).
    pub fn reserve_task_in_leaf(&self, leaf: usize) -> Option<SlotId> {
        let active = self.active_leaves();
        assert!(
            leaf < active,
            "leaf {leaf} out of range: allowed 0..{active} (the leaves the partitions cover)"
        );
        let l = self.leaf_or_alloc(leaf);
        loop {
            let free = l.free.load(Ordering::SeqCst);
            if free == 0 {
                self.clear_leaf_free_bit(leaf, l);
                // A release may have set a free bit between our load and the directory clear;
                // `clear_leaf_free_bit` re-armed the directory for it, so look once more.
                if l.free.load(Ordering::SeqCst) == 0 {
                    return None;
                }
                continue;
            }
            let s = free.trailing_zeros() as usize;
            if let Some(slot) = self.reserve_in_word(leaf, l, s) {
                return Some(slot);
            }
        }
    }

    /// Releases `slot` so that it can be reserved again. Call it only once the slot's task is
    /// finished and will never be scheduled again (its task bit is clear).
    ///
    /// # Panics
    /// If `slot` is not reserved (a double release) or lies past `max_tasks`.
    pub fn release_task(&self, slot: SlotId) {
        assert!(
            slot.index() < self.max_tasks,
            "release_task({slot:?}): slot index out of range: allowed 0..{}",
            self.max_tasks
        );
        let l = self.leaf_of_slot(slot);
        let s = slot.signal();
        let mask = 1u64 << slot.bit();
        debug_assert!(
            l.signals[s].load(Ordering::SeqCst) & mask == 0,
            "release_task({slot:?}): the slot's task bit is still set"
        );
        let prev = l.reservations[s].fetch_and(!mask, Ordering::SeqCst);
        assert!(
            prev & mask != 0,
            "release_task({slot:?}): slot was not reserved (double release?)"
        );
        self.mark_free(slot.leaf(), l, s);
    }

    /// Tries the leaves `lo..hi` whose directory free hint is set, in order.
    fn reserve_in_hinted_range(&self, lo: usize, hi: usize) -> Option<SlotId> {
        if lo >= hi {
            return None;
        }
        let mut w = lo / 64;
        while w * 64 < hi {
            let base = w * 64;
            let window = window_mask(lo.saturating_sub(base).min(64), (hi - base).min(64));
            let mut bits = self.leaf_free[w].load(Ordering::SeqCst) & window;
            while bits != 0 {
                let leaf = base + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if let Some(slot) = self.reserve_task_in_leaf(leaf) {
                    return Some(slot);
                }
            }
            w += 1;
        }
        None
    }

    /// Tries leaf `leaf` if its directory free hint is set; `None` if the hint is clear or the
    /// leaf turned out to be full (then the hint is cleared, with recheck).
    #[inline]
    fn reserve_hinted_leaf(&self, leaf: usize) -> Option<SlotId> {
        let (w, bit) = (leaf / 64, 1u64 << (leaf % 64));
        if self.leaf_free[w].load(Ordering::SeqCst) & bit == 0 {
            return None;
        }
        self.reserve_task_in_leaf(leaf)
    }

    /// Claims the lowest free bit of reservation word `s` of leaf `l`; clears the word's free
    /// hint (clear-then-recheck) when the word is, or becomes, full.
    #[inline]
    fn reserve_in_word(&self, leaf: usize, l: &Leaf, s: usize) -> Option<SlotId> {
        let word = &l.reservations[s];
        let mut current = word.load(Ordering::SeqCst);
        loop {
            if current == u64::MAX {
                self.clear_free_bit(leaf, l, s);
                return None;
            }
            let bit = (!current).trailing_zeros();
            let mask = 1u64 << bit;
            let prev = word.fetch_or(mask, Ordering::SeqCst);
            if prev & mask == 0 {
                if prev | mask == u64::MAX {
                    // We took the last free slot of the word: drop its hint now, saving the
                    // next reserver a wasted look.
                    self.clear_free_bit(leaf, l, s);
                }
                return Some(SlotId::from_index(
                    leaf * SLOTS_PER_LEAF + s * 64 + bit as usize,
                ));
            }
            current = prev | mask;
        }
    }

    /// Clears leaf `l`'s free hint for word `s`, then re-checks the word: a release that freed a
    /// slot in between saw the hint still set and did not set it, so re-arm on its behalf. Clears
    /// the directory hint too when the leaf's last free hint went.
    fn clear_free_bit(&self, leaf: usize, l: &Leaf, s: usize) {
        let mask = 1u64 << s;
        let prev = l.free.fetch_and(!mask, Ordering::SeqCst);
        if l.reservations[s].load(Ordering::SeqCst) != u64::MAX {
            self.mark_free(leaf, l, s);
            return;
        }
        if prev == mask {
            self.clear_leaf_free_bit(leaf, l);
        }
    }

    /// Clears leaf `leaf`'s directory free hint if it is set, then re-checks the leaf's free
    /// word and re-arms the hint if a release raced in.
    fn clear_leaf_free_bit(&self, leaf: usize, l: &Leaf) {
        let (w, bit) = (leaf / 64, 1u64 << (leaf % 64));
        if self.leaf_free[w].load(Ordering::SeqCst) & bit == 0 {
            return;
        }
        self.leaf_free[w].fetch_and(!bit, Ordering::SeqCst);
        if l.free.load(Ordering::SeqCst) != 0 {
            self.leaf_free[w].fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// After a slot of word `s` of leaf `leaf` became free: make sure both hints say so. Each is
    /// one load when already set (the common case).
    #[inline]
    fn mark_free(&self, leaf: usize, l: &Leaf, s: usize) {
        let mask = 1u64 << s;
        if l.free.load(Ordering::SeqCst) & mask == 0 {
            l.free.fetch_or(mask, Ordering::SeqCst);
        }
        let (w, bit) = (leaf / 64, 1u64 << (leaf % 64));
        if self.leaf_free[w].load(Ordering::SeqCst) & bit == 0 {
            self.leaf_free[w].fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// The slow path before growing or reporting `AtCapacity`: look at every reservation word of
    /// every covered leaf `0..n` (allocating a leaf not allocated yet), repairing hints on the way.
    #[cold]
    fn reserve_exhaustive(&self, start: usize, n: usize) -> Option<SlotId> {
        for k in 0..n {
            let leaf = (start + k) % n;
            let Some(l) = self.leaf(leaf) else {
                if let Some(slot) = self.reserve_task_in_leaf(leaf) {
                    return Some(slot);
                }
                continue;
            };
            for s in 0..SIGNAL_WORDS_PER_LEAF {
                if l.reservations[s].load(Ordering::SeqCst) != u64::MAX {
                    if let Some(slot) = self.reserve_in_word(leaf, l, s) {
                        self.mark_free(leaf, l, s);
                        return Some(slot);
                    }
                }
            }
        }
        None
    }
}
