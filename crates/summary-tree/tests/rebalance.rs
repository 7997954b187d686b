//! Rebalance: a new assignment is published with an epoch, every owner is re-synced, and a
//! notification in flight across the change lands on the current owner or is re-synced, never
//! lost.

use signal_waker::STATUS_BIT_PARTITION;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use summary_tree::{
    compute_partition_owner, SlotId, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF,
};

fn tree(leaves: usize, max_workers: usize, active: usize) -> SummaryTree {
    SummaryTree::new(
        SummaryTreeConfig::new(max_workers)
            .max_tasks(leaves * SLOTS_PER_LEAF)
            .active_workers(active),
    )
    .unwrap()
}

#[test]
fn rebalance_publishes_an_epoch_and_resyncs_every_owner() {
    let tree = tree(6, 3, 1);
    let slots: Vec<SlotId> = [0, 2, 5]
        .iter()
        .map(|&leaf| tree.reserve_task_in_leaf(leaf).unwrap())
        .collect();
    for &slot in &slots {
        tree.schedule(slot);
    }
    assert_eq!(tree.waker(0).partition_summary(), 0b100101);

    let asg = tree.set_active_workers(3).unwrap(); // 2 leaves each
    assert_eq!((asg.epoch(), asg.workers()), (1, 3));
    assert_eq!(tree.waker(0).partition_summary(), 0b01, "leaf 0 only");
    assert_eq!(tree.waker(1).partition_summary(), 0b01, "leaf 2 = local 0");
    assert_eq!(tree.waker(2).partition_summary(), 0b10, "leaf 5 = local 1");
    for w in 1..3 {
        let waker = tree.waker(w);
        assert_eq!(waker.status() & STATUS_BIT_PARTITION, STATUS_BIT_PARTITION);
        assert!(
            waker.try_acquire(),
            "the re-sync released a permit for worker {w}"
        );
    }
    tree.check_quiescent_invariants().unwrap();

    let asg = tree.set_active_workers(1).unwrap();
    assert_eq!((asg.epoch(), asg.workers()), (2, 1));
    assert_eq!(tree.waker(0).partition_summary(), 0b100101);
    for w in 1..3 {
        assert_eq!(
            tree.waker(w).partition_summary(),
            0,
            "inactive worker {w} cleared"
        );
        assert_eq!(tree.waker(w).status() & STATUS_BIT_PARTITION, 0);
    }
    tree.check_quiescent_invariants().unwrap();
}

/// A producer schedules and a consumer claims (emptying words, so clears run under whatever epoch
/// they read) while a third thread keeps changing the worker count. After every round the tree
/// must satisfy the chain under the current assignment: each non-empty leaf's current owner has
/// the leaf's summary bit and STATUS_BIT_PARTITION.
#[test]
fn concurrent_rebalance_while_notifications_in_flight_never_loses_one() {
    let leaves = 7;
    let (rounds, per_round) = if cfg!(miri) { (2, 16) } else { (60, 400) };
    let tree = tree(leaves, 4, 2);
    let slots: Vec<SlotId> = (0..per_round)
        .map(|i| tree.reserve_task(i % leaves).unwrap())
        .collect();
    for round in 0..rounds {
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                for (i, &slot) in slots.iter().enumerate() {
                    tree.schedule(slot);
                    if i % 3 == 0 {
                        // A second wake, claimed in between or not.
                        tree.schedule(slot);
                    }
                }
            });
            s.spawn(|| {
                let mut w = round;
                while !stop.load(Ordering::SeqCst) {
                    w += 1;
                    if let Some(slot) = tree.claim_in_partition(w % 4) {
                        assert!(slots.contains(&slot), "claimed {slot:?}, never scheduled");
                    }
                }
            });
            s.spawn(|| {
                for k in 0..if cfg!(miri) { 3 } else { 40 } {
                    tree.set_active_workers(1 + (round + k) % 4).unwrap();
                }
                stop.store(true, Ordering::SeqCst);
            });
        });
        tree.check_quiescent_invariants()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        // Everything still scheduled is found by its owner through the owner's claim.
        let asg = tree.assignment();
        while tree.scheduled_count() > 0 {
            let leaf = (0..leaves).find(|&l| tree.leaf_word(l) != 0).unwrap();
            let owner = compute_partition_owner(leaf, asg.workers(), leaves);
            assert!(
                tree.claim_in_partition(owner).is_some(),
                "owner {owner} of leaf {leaf}"
            );
        }
    }
}

#[test]
fn sync_partition_summary_uses_the_current_range() {
    let tree = tree(4, 2, 2);
    let slot = tree.reserve_task_in_leaf(3).unwrap();
    tree.schedule(slot);
    assert_eq!(tree.waker(1).partition_summary(), 0b10);
    // Simulate a lost bit, then re-sync: it comes back.
    assert!(tree.waker(1).clear_partition_leaf(1, || true));
    assert!(tree.sync_partition_summary(1));
    assert_eq!(tree.waker(1).partition_summary(), 0b10);
    // Worker 0's range holds nothing.
    assert!(!tree.sync_partition_summary(0));
    assert_eq!(tree.waker(0).partition_summary(), 0);
}
