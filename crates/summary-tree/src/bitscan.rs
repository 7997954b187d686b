//! Bit-window helpers for searching words of the tree in position order.

/// The bits `b` of a `u64` with `lo <= b < hi` (`lo <= hi <= 64`).
#[inline]
pub(crate) fn window_mask(lo: usize, hi: usize) -> u64 {
    debug_assert!(lo <= hi && hi <= 64, "bad window {lo}..{hi}");
    let below_hi = if hi >= 64 { u64::MAX } else { (1u64 << hi) - 1 };
    let below_lo = if lo >= 64 { u64::MAX } else { (1u64 << lo) - 1 };
    below_hi & !below_lo
}

#[cfg(test)]
mod tests {
    use super::window_mask;

    #[test]
    fn window_mask_edges() {
        assert_eq!(window_mask(0, 64), u64::MAX);
        assert_eq!(window_mask(0, 0), 0);
        assert_eq!(window_mask(64, 64), 0);
        assert_eq!(window_mask(3, 5), 0b11000);
        assert_eq!(window_mask(63, 64), 1 << 63);
        assert_eq!(window_mask(0, 1), 1);
    }
}
