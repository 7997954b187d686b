//! Claiming: hints first, degrading to leaf-word scans when hints are stale; round-robin order;
//! stealing from other partitions only; partitions of more than 64 leaves.

use signal_waker::STATUS_BIT_PARTITION;
use summary_tree::{SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

mod common;
use common::{reserve_at, tree};

#[test]
fn claim_finds_work_behind_a_missing_summary_bit() {
    let tree = tree(8, 1);
    let slot = reserve_at(&tree, 5, 0, 3);
    tree.schedule(slot);
    // Simulate a stale (missing) hint: force the summary bit off although leaf 5 has work.
    assert!(tree.waker(0).clear_partition_leaf(5, || true));
    assert_eq!(tree.waker(0).partition_summary(), 0);
    assert_eq!(
        tree.claim_in_partition(0),
        Some(slot),
        "degraded scan of leaf words"
    );
    assert_eq!(tree.leaf_word(5), 0);
}

#[test]
fn claim_clears_a_stale_summary_bit() {
    let tree = tree(8, 1);
    let waker = tree.waker(0);
    assert!(waker.mark_partition_leaf_active(6)); // leaf 6 is empty: a false positive
    assert_eq!(waker.status() & STATUS_BIT_PARTITION, STATUS_BIT_PARTITION);
    assert_eq!(tree.claim_in_partition(0), None);
    assert_eq!(waker.partition_summary(), 0, "stale bit cleared");
    assert_eq!(
        waker.status() & STATUS_BIT_PARTITION,
        0,
        "and the status bit with it"
    );
}

#[test]
fn claim_clears_a_stale_leaf_bit() {
    let tree = tree(2, 1);
    reserve_at(&tree, 1, 0, 0);
    assert!(tree.mark_signal_active(1, 4)); // word 4 is empty
    assert_eq!(tree.claim_in_partition(0), None);
    assert_eq!(tree.leaf_word(1), 0);
    assert_eq!(tree.waker(0).partition_summary(), 0);
}

#[test]
fn claims_go_round_robin_so_a_busy_task_cannot_starve_others() {
    let tree = tree(3, 1);
    let busy = reserve_at(&tree, 0, 0, 0);
    let quiet = [reserve_at(&tree, 0, 1, 5), reserve_at(&tree, 2, 0, 0)];
    tree.schedule(busy);
    for &q in &quiet {
        tree.schedule(q);
    }
    // `busy` reschedules itself after every run; the others must still get their turn.
    let mut order = Vec::new();
    for _ in 0..4 {
        let slot = tree.claim_in_partition(0).unwrap();
        order.push(slot);
        if slot == busy {
            tree.schedule(busy);
        }
    }
    assert_eq!(order, [busy, quiet[0], quiet[1], busy]);
}

#[test]
fn steal_takes_from_other_partitions_only() {
    let tree = tree(4, 2); // worker 0: leaves 0..2, worker 1: leaves 2..4
    let theirs = reserve_at(&tree, 3, 0, 0);
    let mine = reserve_at(&tree, 0, 0, 0);
    tree.schedule(theirs);
    tree.schedule(mine);
    assert_eq!(
        tree.steal(1, 0),
        Some(mine),
        "worker 1 steals worker 0's task"
    );
    assert_eq!(
        tree.steal(1, 0),
        None,
        "its own partition is not a steal target"
    );
    assert_eq!(tree.steal(0, 1), Some(theirs));
    assert_eq!(tree.scheduled_count(), 0);
}

#[test]
fn steal_finds_work_behind_a_missing_summary_bit() {
    let tree = tree(4, 2);
    let theirs = reserve_at(&tree, 2, 1, 1);
    tree.schedule(theirs);
    assert!(tree.waker(1).clear_partition_leaf(0, || true));
    assert_eq!(tree.steal(0, 0), Some(theirs));
}

#[test]
fn inactive_worker_claims_nothing_but_may_steal() {
    let tree = SummaryTree::new(
        SummaryTreeConfig::new(3)
            .max_tasks(3 * SLOTS_PER_LEAF)
            .active_workers(1),
    )
    .unwrap();
    let slot = reserve_at(&tree, 2, 0, 0);
    tree.schedule(slot);
    assert_eq!(tree.claim_in_partition(2), None);
    assert_eq!(tree.steal(2, 0), Some(slot));
}

#[test]
fn partition_of_more_than_64_leaves_uses_grouped_summary_bits() {
    let leaves = if cfg!(miri) { 130 } else { 200 };
    let tree = tree(leaves, 1);
    let group = leaves.div_ceil(64); // leaves per summary bit: 3 (130) or 4 (200)
    let last = reserve_at(&tree, leaves - 1, 0, 0);
    let a = reserve_at(&tree, 2 * group, 0, 0);
    let b = reserve_at(&tree, 2 * group + 1, 0, 0);
    tree.schedule(last);
    assert_eq!(
        tree.waker(0).partition_summary(),
        1 << ((leaves - 1) / group)
    );
    tree.schedule(a);
    tree.schedule(b);
    let expected = (1u64 << ((leaves - 1) / group)) | (1 << 2);
    assert_eq!(tree.waker(0).partition_summary(), expected);
    tree.check_quiescent_invariants().unwrap();
    let mut claimed = vec![tree.claim_in_partition(0).unwrap()];
    // One of a/b left: the group's bit stays, since the group is not empty.
    assert_eq!(tree.waker(0).partition_summary() & (1 << 2), 1 << 2);
    claimed.push(tree.claim_in_partition(0).unwrap());
    claimed.push(tree.claim_in_partition(0).unwrap());
    claimed.sort();
    assert_eq!(claimed, [a, b, last]);
    assert_eq!(tree.waker(0).partition_summary(), 0);
    assert!(!tree.sync_partition_summary(0));
}

#[test]
fn claim_in_leaf_takes_lowest_first_and_reports_none_on_unallocated() {
    let tree = tree(3, 1);
    let x = reserve_at(&tree, 1, 2, 9);
    let y = reserve_at(&tree, 1, 0, 4);
    tree.schedule(x);
    tree.schedule(y);
    assert_eq!(tree.claim_in_leaf(1), Some(y));
    assert_eq!(tree.claim_in_leaf(1), Some(x));
    assert_eq!(tree.claim_in_leaf(1), None);
    assert_eq!(tree.claim_in_leaf(2), None, "never allocated");
}

#[test]
#[should_panic(expected = "worker 3 out of range: allowed 0..3")]
fn claim_for_a_worker_past_max_workers_panics_with_the_range() {
    let tree = tree(2, 3);
    tree.claim_in_partition(3);
}
