//! The status word: setting bits with one permit per 0→1 transition, and clearing them only when
//! their source is truly empty (clear, re-check, re-arm).
//!
//! Ordering: every read-modify-write and every fast-path load of `status` is `SeqCst`. The fast
//! path ("bit already set: return after one load") is a store-buffer pattern against the owner's
//! clear-then-recheck: the producer writes its source then loads `status`; the owner clears
//! `status` then reads the source. Only a single total order over all four accesses forbids both
//! reads from seeing stale values, so the producer's write to its source must be a `SeqCst`
//! read-modify-write (or be followed by a `SeqCst` fence) too. On x86-64 a `SeqCst` load is a
//! plain `mov` and every locked RMW is already a full fence, so this costs nothing there.

use crate::sync::Ordering;
use crate::waker::{SignalWaker, QUEUE_GROUPS, STATUS_BIT_PARTITION, STATUS_BIT_YIELD};

#[inline]
fn queue_group_mask(bit: u32) -> u64 {
    assert!(
        bit < QUEUE_GROUPS,
        "queue group {bit} out of range: allowed 0..{QUEUE_GROUPS}"
    );
    1 << bit
}

impl SignalWaker {
    /// Sets queue-group `bit` (0–61). On its 0→1 transition releases one permit and returns `true`;
    /// if the bit is already set this is a single load (the hot path) and returns `false`.
    ///
    /// The producer must have published the work behind `bit` with a `SeqCst` read-modify-write
    /// (or a `SeqCst` fence) before calling this; see the module docs.
    ///
    /// # Panics
    /// If `bit >= 62`.
    #[inline]
    pub fn mark_active(&self, bit: u32) -> bool {
        self.mark_bits(queue_group_mask(bit)) != 0
    }

    /// Sets every queue-group bit in `mask` (bits 62 and 63 must be clear); releases one permit
    /// per bit that went 0→1 and returns how many did.
    ///
    /// # Panics
    /// If `mask` has bit 62 or 63 set.
    #[inline]
    pub fn mark_active_mask(&self, mask: u64) -> u32 {
        assert!(
            mask & (STATUS_BIT_PARTITION | STATUS_BIT_YIELD) == 0,
            "mark_active_mask takes queue-group bits 0..62 only, got {mask:#x}"
        );
        self.mark_bits(mask).count_ones()
    }

    /// Clears queue-group `bit` unconditionally; for an owner that knows the group's source is
    /// empty and that no producer can race in (otherwise use
    /// [`try_unmark_if_empty`](Self::try_unmark_if_empty)). Returns whether the bit was set.
    ///
    /// # Panics
    /// If `bit >= 62`.
    #[inline]
    pub fn try_unmark(&self, bit: u32) -> bool {
        let mask = queue_group_mask(bit);
        self.status.fetch_and(!mask, Ordering::SeqCst) & mask != 0
    }

    /// Clears queue-group `bit` only if `is_empty()` says its source is empty, then re-checks
    /// `is_empty()` and re-arms the bit (with its permit) if work raced in. Returns `true` if the
    /// bit was cleared and stays clear. `is_empty` must read the source with `SeqCst` loads.
    ///
    /// # Panics
    /// If `bit >= 62`.
    #[inline]
    pub fn try_unmark_if_empty(&self, bit: u32, is_empty: impl Fn() -> bool) -> bool {
        self.unmark_bits_if_empty(queue_group_mask(bit), is_empty)
    }

    /// Sets [`STATUS_BIT_YIELD`]; on 0→1 releases one permit and returns `true`.
    #[inline]
    pub fn mark_yield(&self) -> bool {
        self.mark_bits(STATUS_BIT_YIELD) != 0
    }

    /// Clears [`STATUS_BIT_YIELD`] if `is_empty()` says the yield queue is empty, re-checking and
    /// re-arming as [`try_unmark_if_empty`](Self::try_unmark_if_empty) does.
    #[inline]
    pub fn try_unmark_yield(&self, is_empty: impl Fn() -> bool) -> bool {
        self.unmark_bits_if_empty(STATUS_BIT_YIELD, is_empty)
    }

    /// Sets [`STATUS_BIT_PARTITION`]; on 0→1 releases one permit and returns `true`.
    #[inline]
    pub fn mark_tasks(&self) -> bool {
        self.mark_bits(STATUS_BIT_PARTITION) != 0
    }

    /// Clears [`STATUS_BIT_PARTITION`] if the partition summary is zero, then re-checks the
    /// summary and re-arms the bit if a leaf became active meanwhile. Returns `true` if the bit
    /// was cleared and stays clear.
    #[inline]
    pub fn try_unmark_tasks(&self) -> bool {
        self.unmark_bits_if_empty(STATUS_BIT_PARTITION, || self.partition_summary() == 0)
    }

    /// Sets `mask` in the status word, releasing one permit per newly set bit. Returns the newly
    /// set bits. Already-set bits cost one load and no read-modify-write.
    #[inline]
    pub(crate) fn mark_bits(&self, mask: u64) -> u64 {
        if self.status.load(Ordering::SeqCst) & mask == mask {
            return 0;
        }
        let prev = self.status.fetch_or(mask, Ordering::SeqCst);
        let newly = mask & !prev;
        if newly != 0 {
            self.release_permits(u64::from(newly.count_ones()));
        }
        newly
    }

    /// Clear-then-recheck: see [`try_unmark_if_empty`](Self::try_unmark_if_empty).
    #[inline]
    fn unmark_bits_if_empty(&self, mask: u64, is_empty: impl Fn() -> bool) -> bool {
        if !is_empty() {
            return false;
        }
        let prev = self.status.fetch_and(!mask, Ordering::SeqCst);
        if prev & mask == 0 {
            // Already clear: a producer that raced in after our check sets it again itself.
            return false;
        }
        if is_empty() {
            return true;
        }
        // A producer published between our check and our clear and saw the bit still set, so it
        // released no permit: re-arm on its behalf.
        self.mark_bits(mask);
        false
    }
}
