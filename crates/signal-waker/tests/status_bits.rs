//! The status word, bit by bit, on one thread: `mark_active`, `mark_active_mask`, `try_unmark`,
//! `try_unmark_if_empty`, the YIELD and PARTITION bits, and the panics on bits out of range. Every
//! one of the 62 queue groups is exercised (`docs/testing.md` §2, "exhaustive bit lifecycle").
#![cfg(not(loom))]

use signal_waker::{
    SignalWaker, MAX_PERMITS, QUEUE_GROUPS, QUEUE_GROUP_MASK, STATUS_BIT_PARTITION,
    STATUS_BIT_YIELD,
};
use std::cell::Cell;

const ALL_BITS: u64 = QUEUE_GROUP_MASK | STATUS_BIT_PARTITION | STATUS_BIT_YIELD;

/// A waker with every one of the 64 status bits set and its permits drained.
fn waker_with_all_bits() -> SignalWaker {
    let w = SignalWaker::new();
    assert_eq!(w.mark_active_mask(QUEUE_GROUP_MASK), QUEUE_GROUPS);
    assert!(w.mark_yield());
    assert!(w.mark_tasks());
    assert_eq!(w.status(), ALL_BITS);
    assert_eq!(w.drain_permits(), MAX_PERMITS);
    w
}

#[test]
fn constants_describe_the_layout() {
    assert_eq!(QUEUE_GROUPS, 62);
    assert_eq!(QUEUE_GROUP_MASK, (1u64 << 62) - 1);
    assert_eq!(STATUS_BIT_PARTITION, 1 << 62);
    assert_eq!(STATUS_BIT_YIELD, 1 << 63);
    assert_eq!(ALL_BITS, u64::MAX);
    assert_eq!(MAX_PERMITS, 64);
}

#[test]
fn new_waker_is_empty() {
    let w = SignalWaker::new();
    assert_eq!(w.status(), 0);
    assert!(!w.has_work());
    assert_eq!(w.partition_summary(), 0);
    assert_eq!(w.permits(), 0);
    assert_eq!(w.sleepers(), 0);
    assert!(!w.try_acquire());
    let d = SignalWaker::default();
    assert_eq!((d.status(), d.permits()), (0, 0));
}

#[test]
fn mark_active_every_group_releases_one_permit_on_zero_to_one_only() {
    for g in 0..QUEUE_GROUPS {
        let w = SignalWaker::new();
        assert!(w.mark_active(g), "group {g}: first mark must report 0→1");
        assert_eq!(w.status(), 1 << g, "group {g}: only its bit is set");
        assert_eq!(w.permits(), 1, "group {g}: one permit per 0→1");
        assert!(w.has_work());
        for _ in 0..3 {
            assert!(!w.mark_active(g), "group {g}: a set bit is not a 0→1");
        }
        assert_eq!(
            w.permits(),
            1,
            "group {g}: no permit for an already-set bit"
        );
        assert_eq!(w.status() & (STATUS_BIT_PARTITION | STATUS_BIT_YIELD), 0);
        assert_eq!(w.partition_summary(), 0, "group {g}: summary untouched");
    }
}

#[test]
fn mark_active_all_groups_on_one_waker_accumulates_permits() {
    let w = SignalWaker::new();
    for g in 0..QUEUE_GROUPS {
        assert!(w.mark_active(g));
        let expected = (1u64 << (g + 1)) - 1;
        assert_eq!(w.status(), expected, "after marking groups 0..={g}");
        assert_eq!(w.permits(), u64::from(g) + 1);
    }
    assert_eq!(w.status(), QUEUE_GROUP_MASK);
    // Bits 62 and 63 are not queue groups: marking every group leaves them clear.
    assert_eq!(w.status() & !QUEUE_GROUP_MASK, 0);
    assert!(w.mark_yield());
    assert!(w.mark_tasks());
    assert_eq!(w.status(), ALL_BITS);
    assert_eq!(w.permits(), MAX_PERMITS, "64 transitions, 64 permits");
}

#[test]
fn mark_active_mask_counts_only_newly_set_bits_for_every_group() {
    for g in 0..QUEUE_GROUPS {
        let other = (g + 1) % QUEUE_GROUPS;
        let w = SignalWaker::new();
        assert!(w.mark_active(g));
        let mask = (1u64 << g) | (1u64 << other);
        assert_eq!(
            w.mark_active_mask(mask),
            1,
            "group {g}: only {other} is new"
        );
        assert_eq!(w.permits(), 2);
        assert_eq!(w.status(), mask);
        assert_eq!(w.mark_active_mask(mask), 0, "group {g}: both already set");
        assert_eq!(w.permits(), 2);
    }
}

#[test]
fn mark_active_mask_of_all_groups_and_of_nothing() {
    let w = SignalWaker::new();
    assert_eq!(w.mark_active_mask(0), 0);
    assert_eq!(
        (w.status(), w.permits()),
        (0, 0),
        "an empty mask changes nothing"
    );
    assert_eq!(w.mark_active_mask(QUEUE_GROUP_MASK), QUEUE_GROUPS);
    assert_eq!(w.status(), QUEUE_GROUP_MASK);
    assert_eq!(w.permits(), u64::from(QUEUE_GROUPS));
    assert_eq!(w.mark_active_mask(QUEUE_GROUP_MASK), 0);
    assert_eq!(w.permits(), u64::from(QUEUE_GROUPS));
}

#[test]
#[should_panic(expected = "mark_active_mask takes queue-group bits 0..62 only")]
fn mark_active_mask_rejects_the_partition_bit() {
    SignalWaker::new().mark_active_mask(STATUS_BIT_PARTITION | 1);
}

#[test]
#[should_panic(expected = "mark_active_mask takes queue-group bits 0..62 only")]
fn mark_active_mask_rejects_the_yield_bit() {
    SignalWaker::new().mark_active_mask(STATUS_BIT_YIELD);
}

#[test]
#[should_panic(expected = "queue group 62 out of range: allowed 0..62")]
fn mark_active_rejects_group_62() {
    SignalWaker::new().mark_active(62);
}

#[test]
#[should_panic(expected = "queue group 63 out of range: allowed 0..62")]
fn mark_active_rejects_group_63() {
    SignalWaker::new().mark_active(63);
}

#[test]
#[should_panic(expected = "queue group 4294967295 out of range")]
fn mark_active_rejects_u32_max() {
    SignalWaker::new().mark_active(u32::MAX);
}

#[test]
#[should_panic(expected = "queue group 62 out of range: allowed 0..62")]
fn try_unmark_rejects_group_62() {
    SignalWaker::new().try_unmark(62);
}

#[test]
#[should_panic(expected = "queue group 64 out of range: allowed 0..62")]
fn try_unmark_if_empty_rejects_group_64() {
    SignalWaker::new().try_unmark_if_empty(64, || true);
}

#[test]
fn out_of_range_panics_leave_the_waker_unchanged() {
    let w = SignalWaker::new();
    assert!(w.mark_active(5));
    let bad_groups: &[u32] = if cfg!(miri) {
        &[62, u32::MAX]
    } else {
        &[62, 63, 64, u32::MAX]
    };
    for &bad in bad_groups {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.mark_active(bad)));
        assert!(r.is_err(), "mark_active({bad}) must panic");
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.try_unmark(bad)));
        assert!(r.is_err(), "try_unmark({bad}) must panic");
    }
    assert_eq!((w.status(), w.permits()), (1 << 5, 1));
}

#[test]
fn try_unmark_every_group_clears_exactly_that_group() {
    let w = waker_with_all_bits();
    let mut expected = ALL_BITS;
    for g in 0..QUEUE_GROUPS {
        assert!(w.try_unmark(g), "group {g} was set");
        expected &= !(1u64 << g);
        assert_eq!(w.status(), expected, "try_unmark({g}) touched another bit");
        assert!(!w.try_unmark(g), "group {g}: second clear reports not-set");
        assert_eq!(w.status(), expected);
    }
    assert_eq!(
        w.status(),
        STATUS_BIT_PARTITION | STATUS_BIT_YIELD,
        "bits 62/63 untouched"
    );
    assert_eq!(w.permits(), 0, "clearing never releases a permit");
}

#[test]
fn try_unmark_if_empty_every_group_clears_only_when_empty() {
    for g in 0..QUEUE_GROUPS {
        let w = SignalWaker::new();
        assert!(w.mark_active(g));
        assert!(w.try_acquire());
        assert!(
            !w.try_unmark_if_empty(g, || false),
            "group {g}: non-empty source keeps the bit"
        );
        assert_eq!(w.status(), 1 << g);
        assert!(
            w.try_unmark_if_empty(g, || true),
            "group {g}: empty source clears"
        );
        assert_eq!(w.status(), 0);
        assert!(
            !w.try_unmark_if_empty(g, || true),
            "group {g}: already clear reports false"
        );
        assert_eq!((w.status(), w.permits()), (0, 0));
    }
}

#[test]
fn try_unmark_if_empty_rearms_with_one_permit_when_work_raced_in() {
    for g in 0..QUEUE_GROUPS {
        let w = SignalWaker::new();
        assert!(w.mark_active(g));
        assert!(w.try_acquire());
        // Empty at the first check, non-empty at the re-check after the clear: a producer
        // published in between and saw the bit still set, so it released no permit.
        let calls = Cell::new(0);
        let cleared = w.try_unmark_if_empty(g, || {
            calls.set(calls.get() + 1);
            calls.get() == 1
        });
        assert!(!cleared, "group {g}: re-armed, so not cleared");
        assert_eq!(
            calls.get(),
            2,
            "group {g}: checked before and after the clear"
        );
        assert_eq!(w.status(), 1 << g, "group {g}: bit re-armed");
        assert_eq!(
            w.permits(),
            1,
            "group {g}: the re-arm is a 0→1 with its permit"
        );
    }
}

#[test]
fn try_unmark_if_empty_on_clear_bit_does_not_recheck_or_rearm() {
    let w = SignalWaker::new();
    let calls = Cell::new(0);
    assert!(!w.try_unmark_if_empty(7, || {
        calls.set(calls.get() + 1);
        true
    }));
    assert_eq!(calls.get(), 1);
    assert_eq!((w.status(), w.permits()), (0, 0));
}

#[test]
fn yield_bit_lifecycle_is_idempotent_and_touches_no_group() {
    let w = SignalWaker::new();
    assert!(w.mark_yield());
    assert!(!w.mark_yield());
    assert_eq!((w.status(), w.permits()), (STATUS_BIT_YIELD, 1));
    assert!(
        !w.try_unmark_yield(|| false),
        "non-empty yield queue keeps the bit"
    );
    assert_eq!(w.status(), STATUS_BIT_YIELD);
    assert!(w.try_unmark_yield(|| true));
    assert_eq!(w.status(), 0);
    assert!(!w.try_unmark_yield(|| true), "already clear");
    // With every other bit set, the yield bit's clear leaves them alone.
    let w = waker_with_all_bits();
    assert!(w.try_unmark_yield(|| true));
    assert_eq!(w.status(), ALL_BITS & !STATUS_BIT_YIELD);
    assert!(w.mark_yield());
    assert_eq!((w.status(), w.permits()), (ALL_BITS, 1));
}

#[test]
fn partition_bit_clears_only_while_the_summary_is_zero() {
    let w = SignalWaker::new();
    assert!(w.mark_tasks());
    assert!(!w.mark_tasks());
    assert_eq!((w.status(), w.permits()), (STATUS_BIT_PARTITION, 1));
    assert!(w.try_unmark_tasks(), "summary is zero: clears");
    assert_eq!(w.status(), 0);
    assert!(w.mark_partition_leaf_active(9));
    assert_eq!(w.status(), STATUS_BIT_PARTITION);
    assert!(!w.try_unmark_tasks(), "summary non-zero: PARTITION stays");
    assert_eq!(w.status(), STATUS_BIT_PARTITION);
    assert_eq!(w.permits(), 2);
}

#[test]
fn debug_output_names_every_field() {
    let w = SignalWaker::new();
    w.mark_active(0);
    let text = format!("{w:?}");
    for field in [
        "status: 0x0000000000000001",
        "partition_summary: 0x0000000000000000",
        "permits: 1",
        "sleepers: 0",
    ] {
        assert!(text.contains(field), "{text:?} lacks {field:?}");
    }
}
