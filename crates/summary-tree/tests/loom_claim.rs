#![cfg(loom)]
//! Loom models of claiming: the task bit's `fetch_and` tells exactly one of two racing claimers
//! (an owner and a thief) that it won, and the claims leave the chain consistent.

use loom::sync::Arc;
use loom::thread;
use summary_tree::{SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

/// One task, two claimers: worker 0 claims in its partition, worker 1 steals.
#[test]
fn two_claimers_one_task() {
    loom::model(|| {
        let tree = Arc::new(
            SummaryTree::new(SummaryTreeConfig::new(2).max_tasks(2 * SLOTS_PER_LEAF)).unwrap(),
        );
        let slot = tree.reserve_task_in_leaf(0).unwrap();
        tree.schedule(slot);
        let thief = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.steal(1, 0))
        };
        let owner = tree.claim_in_partition(0);
        let stolen = thief.join().unwrap();
        match (owner, stolen) {
            (Some(s), None) | (None, Some(s)) => assert_eq!(s, slot),
            other => panic!("exactly one claimer must win, got {other:?}"),
        }
        assert!(!tree.is_scheduled(slot));
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(
            tree.waker(0).partition_summary(),
            0,
            "emptied leaf cleared upward"
        );
    });
}

/// Two tasks in one signal word, two claimers in the same partition: each gets a different task
/// (a loser of one bit moves on to the other).
#[test]
fn two_claimers_two_tasks() {
    loom::model(|| {
        let tree = Arc::new(SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(2)).unwrap());
        let a = tree.reserve_task(0).unwrap();
        let b = tree.reserve_task(0).unwrap();
        tree.schedule(a);
        tree.schedule(b);
        let other = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_leaf(0))
        };
        let mine = tree.claim_in_leaf(0);
        let theirs = other.join().unwrap();
        let mut got = [mine.unwrap(), theirs.unwrap()];
        got.sort();
        assert_eq!(got, [a, b]);
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(tree.leaf_word(0), 0);
    });
}
