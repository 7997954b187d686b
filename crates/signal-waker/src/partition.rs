//! The partition summary: which leaf groups of the owner's partition of the summary tree may hold
//! runnable tasks.
//!
//! Invariant: whenever the owner is about to park, `partition_summary` is a **superset** of the
//! partition's non-empty leaf groups, and a non-zero summary implies [`STATUS_BIT_PARTITION`]
//! (set by the 0→1 of any summary bit). Every clear is clear-then-recheck, and the owner re-derives
//! the summary from the leaf words ([`SignalWaker::sync_partition_summary`]) before it parks.
//!
//! A partition may hold more than 64 leaves: then one summary bit stands for a contiguous group of
//! `ceil(len / 64)` leaves ([`partition_summary_bit`], [`partition_summary_group`]). Both the
//! summary tree and this crate use these two functions, never a formula of their own.
//!
//! [`STATUS_BIT_PARTITION`]: crate::STATUS_BIT_PARTITION

use crate::sync::{AtomicU64, Ordering};
use crate::waker::SignalWaker;
use std::ops::Range;

/// Leaves per summary bit for a partition of `len` leaves: 1 up to 64 leaves, then `ceil(len/64)`.
#[inline]
pub fn partition_group_size(len: usize) -> usize {
    len.div_ceil(64).max(1)
}

/// The summary bit (0–63) that stands for local leaf `local` of a partition of `len` leaves.
///
/// # Panics
/// In debug builds, if `local >= len`.
#[inline]
pub fn partition_summary_bit(local: usize, len: usize) -> u32 {
    debug_assert!(
        local < len,
        "local leaf {local} outside a partition of {len}"
    );
    (local / partition_group_size(len)) as u32
}

/// The local leaves that summary bit `bit` stands for in a partition of `len` leaves (empty when
/// the bit is beyond the partition).
#[inline]
pub fn partition_summary_group(bit: u32, len: usize) -> Range<usize> {
    let group = partition_group_size(len);
    let start = (bit as usize * group).min(len);
    start..(start + group).min(len)
}

/// Read access to the summary tree's leaf words, as [`SignalWaker::sync_partition_summary`] needs
/// it. Implemented for slices of atomics and for closures `Fn(usize) -> u64`, so a tree that stores
/// its leaves in segments can hand over a closure.
pub trait LeafWords {
    /// The current word of global leaf `leaf` (0 = empty). Must be a `SeqCst` load.
    fn leaf_word(&self, leaf: usize) -> u64;
}

impl LeafWords for [AtomicU64] {
    #[inline]
    fn leaf_word(&self, leaf: usize) -> u64 {
        self[leaf].load(Ordering::SeqCst)
    }
}

impl<F: Fn(usize) -> u64> LeafWords for F {
    #[inline]
    fn leaf_word(&self, leaf: usize) -> u64 {
        self(leaf)
    }
}

impl SignalWaker {
    /// Marks summary bit `bit` (see [`partition_summary_bit`]) after a leaf of that group went
    /// from empty to non-empty. Returns `true` if this call set the bit. If the bit is already set
    /// this is one load. On setting it, makes sure [`STATUS_BIT_PARTITION`](crate::STATUS_BIT_PARTITION)
    /// is set (releasing a permit on its 0→1), whatever the rest of the summary held: a stale
    /// non-zero summary never suppresses the owner's permit.
    ///
    /// # Panics
    /// If `bit >= 64`.
    #[inline]
    pub fn mark_partition_leaf_active(&self, bit: u32) -> bool {
        assert!(bit < 64, "partition summary bit {bit} out of range 0..64");
        let mask = 1u64 << bit;
        if self.partition_summary.load(Ordering::SeqCst) & mask != 0 {
            return false;
        }
        let prev = self.partition_summary.fetch_or(mask, Ordering::SeqCst);
        if prev & mask != 0 {
            return false;
        }
        self.mark_tasks();
        true
    }

    /// Clears summary bit `bit` if `group_is_empty()` says every leaf of its group is empty; then
    /// re-checks and re-marks it if a producer raced in, and clears
    /// [`STATUS_BIT_PARTITION`](crate::STATUS_BIT_PARTITION) when the summary became zero
    /// (itself clear-then-recheck). `group_is_empty` must read the leaf words with `SeqCst` loads.
    /// Returns `true` if the bit was cleared and stays clear.
    ///
    /// # Panics
    /// If `bit >= 64`.
    pub fn clear_partition_leaf(&self, bit: u32, group_is_empty: impl Fn() -> bool) -> bool {
        assert!(bit < 64, "partition summary bit {bit} out of range 0..64");
        let mask = 1u64 << bit;
        if !group_is_empty() {
            return false;
        }
        let prev = self.partition_summary.fetch_and(!mask, Ordering::SeqCst);
        if prev & mask == 0 {
            return false;
        }
        if !group_is_empty() {
            // A producer set a leaf of this group and saw our bit still set: re-arm for it.
            self.mark_partition_leaf_active(bit);
            return false;
        }
        if prev == mask {
            self.try_unmark_tasks();
        }
        true
    }

    /// Re-derives the summary from the leaf words of the owner's partition `[start, end)` (global
    /// leaf indices), as the owner must before it parks and after every rebalance. Bits of
    /// non-empty groups are set; bits of empty groups, and bits beyond the partition (after a
    /// shrink), are cleared with clear-then-recheck. Finally sets or clears
    /// [`STATUS_BIT_PARTITION`](crate::STATUS_BIT_PARTITION) to match. Returns whether the summary
    /// is non-zero, i.e. whether the partition may hold work.
    ///
    /// A zero-length partition (`start == end`) clears everything and returns `false`.
    ///
    /// # Panics
    /// If `start > end`.
    pub fn sync_partition_summary<L: LeafWords + ?Sized>(
        &self,
        start: usize,
        end: usize,
        leaf_words: &L,
    ) -> bool {
        assert!(start <= end, "partition start {start} > end {end}");
        let len = end - start;
        let group_nonempty = |bit: u32| {
            partition_summary_group(bit, len).any(|local| leaf_words.leaf_word(start + local) != 0)
        };
        let mut active = 0u64;
        for local in 0..len {
            if leaf_words.leaf_word(start + local) != 0 {
                active |= 1 << partition_summary_bit(local, len);
            }
        }
        if active != 0 {
            let prev = self.partition_summary.fetch_or(active, Ordering::SeqCst);
            if prev & active != active {
                self.mark_tasks();
            }
        }
        // Clear every bit we did not see active (including bits past a shrunk partition), then
        // re-check each cleared group: a producer may have set a leaf and seen its bit still set.
        let prev = self.partition_summary.fetch_and(active, Ordering::SeqCst);
        let mut cleared = prev & !active;
        while cleared != 0 {
            let bit = cleared.trailing_zeros();
            cleared &= cleared - 1;
            if group_nonempty(bit) {
                self.mark_partition_leaf_active(bit);
            }
        }
        if self.partition_summary() != 0 {
            // Covers a summary that was non-zero before and stays so: PARTITION must be set.
            self.mark_tasks();
            true
        } else {
            // `try_unmark_tasks` also returns `false` when PARTITION was already clear, which says
            // nothing about work: decide by the summary itself, re-read after the clear-then-recheck
            // (a leaf that raced in has set its bit again by then).
            self.try_unmark_tasks();
            self.partition_summary() != 0
        }
    }
}
