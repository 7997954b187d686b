//! The partition summary: the leaf-grouping helpers, `mark_partition_leaf_active`,
//! `clear_partition_leaf` and `sync_partition_summary` (`docs/testing.md` §2 "partition sync
//! scenarios": zero length, expansion, shrink, grouping beyond 64 leaves, range changes while a
//! sync is in flight).
#![cfg(not(loom))]

mod common;

use common::{sized, XorShift};
use signal_waker::{
    partition_group_size, partition_summary_bit, partition_summary_group, SignalWaker,
    STATUS_BIT_PARTITION,
};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

fn leaves(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// The summary `sync_partition_summary(start, end)` must produce: one bit per non-empty group.
fn expected_summary(words: &[AtomicU64], start: usize, end: usize) -> u64 {
    let len = end - start;
    (0..len)
        .filter(|&local| words[start + local].load(SeqCst) != 0)
        .fold(0, |acc, local| acc | 1 << partition_summary_bit(local, len))
}

/// Checks the resting invariant after a sync: the summary is exactly the non-empty groups,
/// PARTITION is set iff the summary is non-zero, and the return value says the same.
fn assert_synced(w: &SignalWaker, words: &[AtomicU64], start: usize, end: usize, returned: bool) {
    let expected = expected_summary(words, start, end);
    assert_eq!(
        w.partition_summary(),
        expected,
        "summary of [{start}, {end}) is not exact"
    );
    assert_eq!(
        w.status() & STATUS_BIT_PARTITION != 0,
        expected != 0,
        "PARTITION must be set iff the summary is non-zero (summary {expected:#x})"
    );
    assert_eq!(
        returned,
        expected != 0,
        "sync must return whether the summary is non-zero"
    );
}

#[test]
fn group_size_golden_table() {
    for (len, group) in [
        (0, 1),
        (1, 1),
        (63, 1),
        (64, 1),
        (65, 2),
        (128, 2),
        (129, 3),
        (256, 4),
        (4096, 64),
        (4097, 65),
    ] {
        assert_eq!(partition_group_size(len), group, "len {len}");
    }
}

#[test]
fn summary_bit_golden_table() {
    for (local, len, bit) in [
        (0, 1, 0),
        (5, 10, 5),
        (63, 64, 63),
        (63, 65, 31),
        (64, 65, 32),
        (0, 256, 0),
        (5, 256, 1),
        (255, 256, 63),
        (4096, 4097, 63),
    ] {
        assert_eq!(
            partition_summary_bit(local, len),
            bit,
            "leaf {local} of {len}"
        );
    }
}

#[test]
fn summary_groups_tile_the_partition_and_agree_with_summary_bit() {
    let lens: Vec<usize> = if cfg!(miri) {
        vec![1, 2, 63, 64, 65, 127, 128, 129, 200, 256, 257, 4097]
    } else {
        (1..=300).chain([511, 512, 513, 4095, 4096, 4097]).collect()
    };
    for len in lens {
        let mut next = 0;
        for bit in 0..64 {
            let group = partition_summary_group(bit, len);
            assert!(
                group.start <= group.end && group.end <= len,
                "len {len} bit {bit}"
            );
            if group.is_empty() {
                assert_eq!(group.start, len, "only groups past the end are empty");
                continue;
            }
            assert_eq!(group.start, next, "len {len}: groups are contiguous");
            for local in group.clone() {
                assert_eq!(
                    partition_summary_bit(local, len),
                    bit,
                    "len {len} leaf {local}"
                );
            }
            next = group.end;
        }
        assert_eq!(next, len, "len {len}: the 64 groups cover every leaf");
    }
}

#[test]
fn mark_partition_leaf_active_sets_partition_once_per_zero_to_one() {
    let w = SignalWaker::new();
    assert!(w.mark_partition_leaf_active(3));
    assert_eq!(w.partition_summary(), 1 << 3);
    assert_eq!((w.status(), w.permits()), (STATUS_BIT_PARTITION, 1));
    assert!(
        !w.mark_partition_leaf_active(3),
        "already set: no transition"
    );
    assert!(
        w.mark_partition_leaf_active(63),
        "another bit is its own 0→1"
    );
    assert_eq!(w.partition_summary(), (1 << 3) | (1 << 63));
    assert_eq!(w.permits(), 1, "PARTITION was already set: one permit only");
}

#[test]
#[should_panic(expected = "partition summary bit 64 out of range 0..64")]
fn mark_partition_leaf_active_rejects_bit_64() {
    SignalWaker::new().mark_partition_leaf_active(64);
}

#[test]
#[should_panic(expected = "partition summary bit 70 out of range 0..64")]
fn clear_partition_leaf_rejects_bit_70() {
    SignalWaker::new().clear_partition_leaf(70, || true);
}

#[test]
fn clear_partition_leaf_only_when_the_group_is_empty() {
    let w = SignalWaker::new();
    w.mark_partition_leaf_active(1);
    w.mark_partition_leaf_active(2);
    assert!(!w.clear_partition_leaf(1, || false), "group non-empty");
    assert_eq!(w.partition_summary(), 0b110);
    assert!(w.clear_partition_leaf(1, || true));
    assert_eq!(w.partition_summary(), 0b100);
    assert_eq!(w.status(), STATUS_BIT_PARTITION, "summary still non-zero");
    assert!(!w.clear_partition_leaf(1, || true), "already clear");
    assert!(w.clear_partition_leaf(2, || true));
    assert_eq!(w.partition_summary(), 0);
    assert_eq!(w.status(), 0, "last summary bit gone: PARTITION cleared");
}

#[test]
fn clear_partition_leaf_rearms_when_the_group_refills_during_the_clear() {
    let w = SignalWaker::new();
    w.mark_partition_leaf_active(4);
    assert!(w.try_acquire());
    let calls = Cell::new(0);
    let cleared = w.clear_partition_leaf(4, || {
        calls.set(calls.get() + 1);
        calls.get() == 1
    });
    assert!(!cleared);
    assert_eq!(calls.get(), 2);
    assert_eq!(w.partition_summary(), 1 << 4, "bit re-armed");
    assert_eq!(w.status(), STATUS_BIT_PARTITION, "PARTITION kept");
}

#[test]
fn sync_zero_length_partition_clears_everything_and_returns_false() {
    let words = leaves(8);
    let w = SignalWaker::new();
    assert!(!w.sync_partition_summary(0, 0, words.as_slice()), "fresh");
    assert!(
        !w.sync_partition_summary(5, 5, words.as_slice()),
        "elsewhere"
    );
    // A waker that had a summary and then lost its whole partition.
    words[2].store(1, SeqCst);
    assert!(w.sync_partition_summary(0, 8, words.as_slice()));
    assert!(!w.sync_partition_summary(3, 3, words.as_slice()));
    assert_eq!(w.partition_summary(), 0);
    assert_eq!(w.status(), 0);
    assert!(!w.sync_partition_summary(3, 3, words.as_slice()), "again");
}

#[test]
fn sync_of_an_empty_partition_returns_false_every_time() {
    let words = leaves(16);
    let w = SignalWaker::new();
    for _ in 0..3 {
        let r = w.sync_partition_summary(0, 16, words.as_slice());
        assert_synced(&w, &words, 0, 16, r);
    }
    assert_eq!(w.permits(), 0);
}

#[test]
fn sync_sets_bits_of_non_empty_leaves_with_one_permit() {
    let words = leaves(16);
    words[0].store(1, SeqCst);
    words[9].store(7, SeqCst);
    let w = SignalWaker::new();
    let r = w.sync_partition_summary(0, 16, words.as_slice());
    assert_synced(&w, &words, 0, 16, r);
    assert_eq!(w.partition_summary(), (1 << 0) | (1 << 9));
    assert_eq!(w.permits(), 1, "one PARTITION 0→1, one permit");
    let r = w.sync_partition_summary(0, 16, words.as_slice());
    assert_synced(&w, &words, 0, 16, r);
    assert_eq!(w.permits(), 1, "an unchanged sync releases nothing");
}

#[test]
fn sync_uses_local_indices_of_an_offset_partition() {
    let words = leaves(200);
    words[105].store(1, SeqCst);
    words[99].store(1, SeqCst); // outside [100, 110): not this worker's
    let w = SignalWaker::new();
    let r = w.sync_partition_summary(100, 110, words.as_slice());
    assert_synced(&w, &words, 100, 110, r);
    assert_eq!(w.partition_summary(), 1 << 5);
}

#[test]
fn sync_clears_a_stale_bit_of_an_empty_leaf() {
    let words = leaves(8);
    let w = SignalWaker::new();
    w.mark_partition_leaf_active(6); // leaf 6 never got work: the bit is stale
    words[1].store(1, SeqCst);
    let r = w.sync_partition_summary(0, 8, words.as_slice());
    assert_synced(&w, &words, 0, 8, r);
    assert_eq!(w.partition_summary(), 1 << 1);
    words[1].store(0, SeqCst);
    let r = w.sync_partition_summary(0, 8, words.as_slice());
    assert_synced(&w, &words, 0, 8, r);
    assert_eq!(w.status(), 0);
}

#[test]
fn sync_after_expansion_sees_new_leaves() {
    let words = leaves(64);
    words[2].store(1, SeqCst);
    words[40].store(1, SeqCst);
    let w = SignalWaker::new();
    let r = w.sync_partition_summary(0, 8, words.as_slice());
    assert_synced(&w, &words, 0, 8, r);
    assert_eq!(w.partition_summary(), 1 << 2);
    let r = w.sync_partition_summary(0, 64, words.as_slice());
    assert_synced(&w, &words, 0, 64, r);
    assert_eq!(w.partition_summary(), (1 << 2) | (1 << 40));
    // Growing past 64 leaves regroups: 130 leaves, 3 per bit.
    let words = leaves(130);
    words[2].store(1, SeqCst);
    words[129].store(1, SeqCst);
    let r = w.sync_partition_summary(0, 130, words.as_slice());
    assert_synced(&w, &words, 0, 130, r);
    assert_eq!(w.partition_summary(), (1 << 0) | (1 << 43));
}

#[test]
fn sync_after_shrink_clears_bits_beyond_the_partition() {
    let words = leaves(64);
    words[6].store(1, SeqCst);
    words[60].store(1, SeqCst);
    let w = SignalWaker::new();
    let r = w.sync_partition_summary(0, 64, words.as_slice());
    assert_synced(&w, &words, 0, 64, r);
    let r = w.sync_partition_summary(0, 8, words.as_slice());
    assert_synced(&w, &words, 0, 8, r);
    assert_eq!(
        w.partition_summary(),
        1 << 6,
        "bit 60 is past the partition"
    );
    let r = w.sync_partition_summary(0, 4, words.as_slice());
    assert_synced(&w, &words, 0, 4, r);
    assert_eq!((w.partition_summary(), w.status()), (0, 0));
}

#[test]
fn sync_groups_leaves_for_partitions_longer_than_64() {
    let lens: &[usize] = if cfg!(miri) {
        &[65, 256]
    } else {
        &[65, 100, 128, 256, 1000, 4096]
    };
    for &len in lens {
        let words = leaves(len);
        let mut rng = XorShift::new(len as u64);
        for _ in 0..5 {
            words[rng.below(len as u64) as usize].store(1, SeqCst);
        }
        let w = SignalWaker::new();
        let r = w.sync_partition_summary(0, len, words.as_slice());
        assert_synced(&w, &words, 0, len, r);
        // Each set bit's group really holds a non-empty leaf.
        let summary = w.partition_summary();
        for bit in (0..64).filter(|b| summary & (1 << b) != 0) {
            assert!(partition_summary_group(bit, len).any(|l| words[l].load(SeqCst) != 0));
        }
    }
    // 256 leaves: 4 per bit; leaves 0 and 3 share bit 0, leaf 4 is bit 1, 255 is bit 63.
    let words = leaves(256);
    for l in [0, 3, 4, 255] {
        words[l].store(1, SeqCst);
    }
    let w = SignalWaker::new();
    assert!(w.sync_partition_summary(0, 256, words.as_slice()));
    assert_eq!(w.partition_summary(), 0b11 | (1 << 63));
}

#[test]
fn sync_accepts_a_closure_for_segmented_leaves() {
    let segments = [leaves(4), leaves(4)];
    segments[1][2].store(1, SeqCst);
    let w = SignalWaker::new();
    let read = |leaf: usize| segments[leaf / 4][leaf % 4].load(SeqCst);
    assert!(w.sync_partition_summary(0, 8, &read));
    assert_eq!(w.partition_summary(), 1 << 6);
    segments[1][2].store(0, SeqCst);
    assert!(!w.sync_partition_summary(0, 8, &read));
    assert_eq!(w.partition_summary(), 0);
}

#[test]
fn sync_rearms_a_group_that_refills_during_the_sync() {
    // The closure plays a producer that fills leaf 3 right after the sync first read it (the
    // read of leaf 3 in the first pass), then marks its summary bit, as the tree would.
    let words = leaves(8);
    let w = SignalWaker::new();
    w.mark_partition_leaf_active(3); // stale from an earlier round
    assert!(w.try_acquire());
    let reads = Cell::new(0);
    let read = |leaf: usize| {
        let v = words[leaf].load(SeqCst);
        if leaf == 3 {
            reads.set(reads.get() + 1);
            if reads.get() == 1 {
                words[3].store(1, SeqCst);
                // The producer sees bit 3 still set: the one-load fast path, no RMW.
                assert!(!w.mark_partition_leaf_active(3));
            }
        }
        v
    };
    assert!(w.sync_partition_summary(0, 8, &read));
    assert_eq!(w.partition_summary(), 1 << 3, "the re-check re-armed bit 3");
    assert_ne!(w.status() & STATUS_BIT_PARTITION, 0);
}

#[test]
#[should_panic(expected = "partition start 5 > end 4")]
fn sync_rejects_start_after_end() {
    let words = leaves(8);
    SignalWaker::new().sync_partition_summary(5, 4, words.as_slice());
}

/// "Worker register/unregister while sync in flight": one thread keeps syncing with whatever
/// range the runtime currently assigns (expanding and shrinking, some longer than 64 leaves),
/// another changes that range, producers fill leaves and mark bits computed from the range they
/// read. Stale bits are allowed while this runs; after everybody stops, one sync with the final
/// range must give the exact summary, the right PARTITION bit and the right return value.
#[test]
fn concurrent_partition_sync_while_range_changes() {
    let rounds = sized(40, 400, 2);
    let ops = sized(2_000, 20_000, 30) as u64;
    const RANGES: [(usize, usize); 6] = [(0, 0), (0, 8), (4, 70), (0, 130), (10, 20), (0, 64)];
    for round in 0..rounds {
        let words = Arc::new(leaves(130));
        let w = Arc::new(SignalWaker::new());
        let range = Arc::new(AtomicU64::new(1));
        let stop = Arc::new(AtomicBool::new(false));
        let syncer = {
            let (w, words, range, stop) = (
                Arc::clone(&w),
                Arc::clone(&words),
                Arc::clone(&range),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut syncs = 0u64;
                while !stop.load(SeqCst) || syncs == 0 {
                    let (s, e) = RANGES[range.load(SeqCst) as usize];
                    w.sync_partition_summary(s, e, words.as_slice());
                    syncs += 1;
                }
            })
        };
        let rebalancer = {
            let range = Arc::clone(&range);
            std::thread::spawn(move || {
                let mut rng = XorShift::new(round as u64 + 100);
                for _ in 0..ops / 8 {
                    range.store(rng.below(RANGES.len() as u64), SeqCst);
                    common::spin(rng.below(64));
                }
            })
        };
        let producer = {
            let (w, words, range) = (Arc::clone(&w), Arc::clone(&words), Arc::clone(&range));
            std::thread::spawn(move || {
                let mut rng = XorShift::new(round as u64 + 1);
                for _ in 0..ops {
                    let (s, e) = RANGES[range.load(SeqCst) as usize];
                    if s == e {
                        continue;
                    }
                    let leaf = s + rng.below((e - s) as u64) as usize;
                    if rng.below(3) == 0 {
                        words[leaf].store(0, SeqCst); // a consumer emptied it
                    } else if words[leaf].fetch_add(1, SeqCst) == 0 {
                        w.mark_partition_leaf_active(partition_summary_bit(leaf - s, e - s));
                    }
                }
            })
        };
        producer.join().expect("producer panicked");
        rebalancer.join().expect("rebalancer panicked");
        stop.store(true, SeqCst);
        syncer.join().expect("syncer panicked");
        let (s, e) = RANGES[range.load(SeqCst) as usize];
        let r = w.sync_partition_summary(s, e, words.as_slice());
        assert_synced(&w, &words, s, e, r);
    }
}
