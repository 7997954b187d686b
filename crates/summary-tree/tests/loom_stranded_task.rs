#![cfg(loom)]
//! Loom models of the producer/consumer edge: a producer schedules a task while a consumer claims
//! the last task of the same word (or leaf, or summary group) and clears upward. After both
//! finish, a scheduled task bit must imply its leaf bit, which implies its owner's summary bit,
//! which implies STATUS_BIT_PARTITION (`check_quiescent_invariants`).
//!
//! This is the negative-control target: with `NEGATIVE_CONTROL=signal_inactive_recheck` in the
//! environment, `mark_signal_inactive` skips its re-check
//! and `stranded_task_same_signal_word` must fail.

use loom::sync::Arc;
use loom::thread;
use signal_waker::STATUS_BIT_PARTITION;
use summary_tree::{SlotId, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

fn tree(max_tasks: usize) -> Arc<SummaryTree> {
    Arc::new(SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(max_tasks)).unwrap())
}

/// The chain for `slot`, plus the tree-wide invariants.
fn assert_not_stranded(tree: &SummaryTree, slot: SlotId) {
    if let Err(e) = tree.check_quiescent_invariants() {
        panic!("{e}");
    }
    if tree.is_scheduled(slot) {
        let waker = tree.waker(0);
        assert!(
            waker.status() & STATUS_BIT_PARTITION != 0 || waker.permits() > 0,
            "scheduled {slot:?} but worker 0 has neither STATUS_BIT_PARTITION nor a permit"
        );
    }
}

/// The review's TOCTOU: the consumer empties the signal word and, between its emptiness check and
/// its leaf-bit clear, the producer sets a task bit in the same word and sees the leaf bit set.
#[test]
fn stranded_task_same_signal_word() {
    loom::model(|| {
        let tree = tree(2);
        let a = tree.reserve_task(0).unwrap();
        let b = tree.reserve_task(0).unwrap();
        assert_eq!((a.signal(), b.signal()), (0, 0));
        tree.schedule(a);
        let consumer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_partition(0))
        };
        tree.schedule(b);
        let claimed = consumer.join().unwrap();
        assert_eq!(
            claimed,
            Some(a),
            "a is the lowest scheduled slot from the start"
        );
        assert!(tree.is_scheduled(b));
        assert_not_stranded(&tree, b);
    });
}

/// The same race one level up: the consumer empties leaf 0 and clears the summary (and the
/// status bit) while the producer makes leaf 1 non-empty in the same partition.
#[test]
fn stranded_task_other_leaf_same_partition() {
    loom::model(|| {
        let tree = tree(2 * SLOTS_PER_LEAF);
        let a = tree.reserve_task_in_leaf(0).unwrap();
        let b = tree.reserve_task_in_leaf(1).unwrap();
        tree.schedule(a);
        let consumer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_leaf(0))
        };
        tree.schedule(b);
        assert_eq!(consumer.join().unwrap(), Some(a));
        assert_not_stranded(&tree, b);
    });
}

/// One summary bit standing for two leaves (a 65-leaf partition): the consumer empties leaf 0 and
/// tries to clear the group's bit while the producer makes leaf 1 of the same group non-empty and
/// finds the bit still set (the one-load fast path).
#[test]
fn stranded_task_grouped_summary_bit() {
    loom::model(|| {
        let tree = tree(65 * SLOTS_PER_LEAF);
        let a = tree.reserve_task_in_leaf(0).unwrap();
        let b = tree.reserve_task_in_leaf(1).unwrap();
        tree.schedule(a);
        assert_eq!(
            tree.waker(0).partition_summary(),
            0b1,
            "leaves 0 and 1 share bit 0"
        );
        let consumer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_leaf(0))
        };
        tree.schedule(b);
        assert_eq!(consumer.join().unwrap(), Some(a));
        assert_not_stranded(&tree, b);
    });
}
