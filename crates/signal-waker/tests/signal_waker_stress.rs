//! Stress tests (`docs/testing.md` §4): owners that really park in `acquire()` while producers race
//! them. A lost wakeup leaves an owner asleep with work pending; the main thread's handshake then
//! fails the test with a message instead of hanging.
//!
//! Sized by `VERIFY_THOROUGH` (bigger when set) and tiny under Miri.
#![cfg(not(loom))]

mod common;

use common::{join, sized, wait_until, XorShift};
use signal_waker::{
    partition_summary_bit, partition_summary_group, SignalWaker, QUEUE_GROUP_MASK,
    STATUS_BIT_PARTITION, STATUS_BIT_YIELD,
};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

fn counters(n: usize) -> Arc<Vec<AtomicU64>> {
    Arc::new((0..n).map(|_| AtomicU64::new(0)).collect())
}

/// Takes every item of the group behind summary bit `bit` of partition `range`, then clears the
/// bit if the group is still empty. Returns the number of items taken.
fn drain_summary_group(
    w: &SignalWaker,
    leaves: &[AtomicU64],
    range: Range<usize>,
    bit: u32,
) -> u64 {
    let len = range.len();
    let group = partition_summary_group(bit, len);
    let taken = group
        .clone()
        .map(|local| leaves[range.start + local].swap(0, SeqCst))
        .sum();
    w.clear_partition_leaf(bit, || {
        group
            .clone()
            .all(|local| leaves[range.start + local].load(SeqCst) == 0)
    });
    taken
}

/// Every kind of source at once on one waker: 3 queue groups, the yield queue, and a partition
/// of 130 leaves (3 leaves per summary bit). Producers publish and mark; the owner drains with
/// the clear-then-recheck calls, syncs the summary before parking and parks in `acquire()`.
/// Checks: every item is taken exactly once, the owner always wakes, and after the drain no
/// stale status or summary bit is left.
#[test]
fn stress_signal_waker_summary_race() {
    const GROUPS: usize = 3;
    const LEAVES: usize = 130;
    let per_producer = sized(20_000, 200_000, 40) as u64;
    let producers = 3u64;
    let total = producers * per_producer;
    let w = Arc::new(SignalWaker::new());
    let queues = counters(GROUPS);
    let yields = counters(1);
    let leaves = counters(LEAVES);
    let processed = Arc::new(AtomicU64::new(0));

    let owner = {
        let (w, queues, yields, leaves, processed) = (
            Arc::clone(&w),
            Arc::clone(&queues),
            Arc::clone(&yields),
            Arc::clone(&leaves),
            Arc::clone(&processed),
        );
        std::thread::spawn(move || {
            let mut parks = 0u64;
            loop {
                if processed.load(SeqCst) == total {
                    return parks;
                }
                let status = w.status();
                let mut taken = 0;
                let mut groups = status & QUEUE_GROUP_MASK;
                while groups != 0 {
                    let g = groups.trailing_zeros();
                    groups &= groups - 1;
                    taken += queues[g as usize].swap(0, SeqCst);
                    w.try_unmark_if_empty(g, || queues[g as usize].load(SeqCst) == 0);
                }
                if status & STATUS_BIT_YIELD != 0 {
                    taken += yields[0].swap(0, SeqCst);
                    w.try_unmark_yield(|| yields[0].load(SeqCst) == 0);
                }
                if status & STATUS_BIT_PARTITION != 0 {
                    let mut summary = w.partition_summary();
                    while summary != 0 {
                        let bit = summary.trailing_zeros();
                        summary &= summary - 1;
                        taken += drain_summary_group(&w, &leaves, 0..LEAVES, bit);
                    }
                }
                processed.fetch_add(taken, SeqCst);
                if processed.load(SeqCst) == total {
                    return parks;
                }
                // Before parking: re-derive the summary, and park only if nothing is visible.
                let partition = w.sync_partition_summary(0, LEAVES, leaves.as_slice());
                if !partition && w.status() == 0 {
                    parks += 1;
                    w.acquire();
                } else {
                    w.try_acquire();
                }
            }
        })
    };
    let producer_threads: Vec<_> = (0..producers)
        .map(|p| {
            let (w, queues, yields, leaves) = (
                Arc::clone(&w),
                Arc::clone(&queues),
                Arc::clone(&yields),
                Arc::clone(&leaves),
            );
            std::thread::spawn(move || {
                let mut rng = XorShift::new(p + 7);
                for _ in 0..per_producer {
                    match rng.below(8) {
                        0..=2 => {
                            let g = rng.below(GROUPS as u64) as usize;
                            queues[g].fetch_add(1, SeqCst);
                            w.mark_active(g as u32);
                        }
                        3 => {
                            yields[0].fetch_add(1, SeqCst);
                            w.mark_yield();
                        }
                        _ => {
                            let leaf = rng.below(LEAVES as u64) as usize;
                            // Only the 0→1 of a leaf notifies, as the summary tree does.
                            if leaves[leaf].fetch_add(1, SeqCst) == 0 {
                                w.mark_partition_leaf_active(partition_summary_bit(leaf, LEAVES));
                            }
                        }
                    }
                    // Now and then let the owner run dry and park.
                    if rng.below(64) == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for t in producer_threads {
        t.join().expect("producer panicked");
    }
    wait_until(
        "owner processed every item (a lost wakeup parks it forever)",
        || processed.load(SeqCst) == total,
    );
    let parks = join("owner finished", owner);
    assert_eq!(processed.load(SeqCst), total, "items taken twice");
    // Quiescent and empty: one more drain pass leaves no stale bit behind.
    for g in 0..GROUPS as u32 {
        w.try_unmark_if_empty(g, || true);
    }
    w.try_unmark_yield(|| true);
    assert!(!w.sync_partition_summary(0, LEAVES, leaves.as_slice()));
    assert_eq!(
        w.partition_summary(),
        0,
        "stale summary bits after the drain"
    );
    assert_eq!(w.status(), 0, "stale status bits after the drain");
    assert_eq!(w.sleepers(), 0);
    assert!(w.drain_permits() <= signal_waker::MAX_PERMITS);
    // Not an assertion on timing: just shows in the log whether the owner really parked.
    eprintln!("stress_signal_waker_summary_race: {total} items, owner parked {parks} times");
}

/// Two owners split 150 leaves at a point a rebalancer keeps moving (including splits that give
/// one owner a zero-length partition). Producers fill leaves and notify the owner by the split
/// they read, re-notifying if the split moved meanwhile; the rebalancer moves the split and then
/// wakes both owners, which re-sync with their new range before parking. Checks: every item is
/// taken exactly once, both owners always wake, and the final syncs are exact.
#[test]
fn stress_signal_waker_partition_sync_race() {
    const LEAVES: usize = 150;
    const SPLITS: [usize; 5] = [0, 40, 75, 110, 150];
    let per_producer = sized(15_000, 150_000, 30) as u64;
    let producers = 2u64;
    let total = producers * per_producer;
    let wakers = Arc::new([SignalWaker::new(), SignalWaker::new()]);
    let leaves = counters(LEAVES);
    let split = Arc::new(AtomicU64::new(2));
    let processed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));

    fn range(owner: usize, split: u64) -> Range<usize> {
        let s = SPLITS[split as usize];
        if owner == 0 {
            0..s
        } else {
            s..LEAVES
        }
    }
    fn notify(wakers: &[SignalWaker; 2], leaf: usize, split: u64) {
        let owner = usize::from(leaf >= SPLITS[split as usize]);
        let r = range(owner, split);
        wakers[owner].mark_partition_leaf_active(partition_summary_bit(leaf - r.start, r.len()));
    }

    let owners: Vec<_> = (0..2)
        .map(|k| {
            let (wakers, leaves, split, processed, done) = (
                Arc::clone(&wakers),
                Arc::clone(&leaves),
                Arc::clone(&split),
                Arc::clone(&processed),
                Arc::clone(&done),
            );
            std::thread::spawn(move || {
                let w = &wakers[k];
                while !done.load(SeqCst) {
                    let r = range(k, split.load(SeqCst));
                    let summary = w.partition_summary();
                    let mut bits = summary;
                    let mut taken = 0;
                    while bits != 0 {
                        let bit = bits.trailing_zeros();
                        bits &= bits - 1;
                        taken += drain_summary_group(w, &leaves, r.clone(), bit);
                    }
                    processed.fetch_add(taken, SeqCst);
                    if summary == 0 {
                        // Park only after a sync with the current range finds nothing.
                        let r = range(k, split.load(SeqCst));
                        if !w.sync_partition_summary(r.start, r.end, leaves.as_slice()) {
                            w.acquire();
                        }
                    }
                }
            })
        })
        .collect();
    let rebalancer = {
        let (wakers, split, done) = (Arc::clone(&wakers), Arc::clone(&split), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut rng = XorShift::new(3);
            while !done.load(SeqCst) {
                split.store(rng.below(SPLITS.len() as u64), SeqCst);
                // The rebalance message: both owners must look at their new range.
                wakers[0].release_permit();
                wakers[1].release_permit();
                common::spin(rng.below(2_000));
                std::thread::yield_now();
            }
        })
    };
    let producer_threads: Vec<_> = (0..producers)
        .map(|p| {
            let (wakers, leaves, split) =
                (Arc::clone(&wakers), Arc::clone(&leaves), Arc::clone(&split));
            std::thread::spawn(move || {
                let mut rng = XorShift::new(p + 40);
                for _ in 0..per_producer {
                    let leaf = rng.below(LEAVES as u64) as usize;
                    let mut seen = split.load(SeqCst);
                    if leaves[leaf].fetch_add(1, SeqCst) == 0 {
                        notify(&wakers, leaf, seen);
                        // The split may have moved between our read and our push: notify the
                        // owner by every newer split until it holds still.
                        loop {
                            let now = split.load(SeqCst);
                            if now == seen {
                                break;
                            }
                            notify(&wakers, leaf, now);
                            seen = now;
                        }
                    }
                    if rng.below(128) == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for t in producer_threads {
        t.join().expect("producer panicked");
    }
    wait_until(
        "owners processed every item (a lost wakeup parks one forever)",
        || processed.load(SeqCst) == total,
    );
    done.store(true, SeqCst);
    rebalancer.join().expect("rebalancer panicked");
    for w in wakers.iter() {
        w.release_permit(); // let a parked owner see `done`
    }
    for t in owners {
        join("owners finished", t);
    }
    assert_eq!(processed.load(SeqCst), total, "items taken twice");
    let s = split.load(SeqCst);
    for (k, w) in wakers.iter().enumerate() {
        let r = range(k, s);
        assert!(!w.sync_partition_summary(r.start, r.end, leaves.as_slice()));
        assert_eq!((w.partition_summary(), w.status()), (0, 0), "owner {k}");
        assert_eq!(w.sleepers(), 0, "owner {k}");
    }
}
