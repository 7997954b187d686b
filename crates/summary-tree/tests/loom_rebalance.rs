#![cfg(loom)]
//! Loom models of notifications against a rebalance: a notification that read the old
//! assignment is re-synced onto the new owner, and a clear computed under the old epoch never
//! removes a bit that means another group in the new one.

use loom::sync::Arc;
use loom::thread;
use summary_tree::{SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

fn tree(leaves: usize, max_workers: usize, active: usize) -> Arc<SummaryTree> {
    Arc::new(
        SummaryTree::new(
            SummaryTreeConfig::new(max_workers)
                .max_tasks(leaves * SLOTS_PER_LEAF)
                .active_workers(active),
        )
        .unwrap(),
    )
}

/// Leaf 1 belongs to worker 0 (one worker), then to worker 1 (two workers). A producer makes it
/// non-empty while the worker count changes: worker 1 must end up with the leaf's summary bit.
#[test]
fn notify_against_rebalance() {
    loom::model(|| {
        let tree = tree(2, 2, 1);
        let slot = tree.reserve_task_in_leaf(1).unwrap();
        let producer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || assert!(tree.schedule(slot)))
        };
        tree.set_active_workers(2).unwrap();
        producer.join().unwrap();
        assert_eq!(tree.partition_range(1), 1..2);
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(tree.waker(1).partition_summary(), 0b1);
    });
}

/// Three leaves over three workers, then over two. Worker 1 owned leaf 1 (its bit 0) and then
/// owns leaf 2 (also its bit 0). A consumer empties leaf 1 while the count changes: its clear of
/// "worker 1, bit 0" must not remove the bit that now stands for the non-empty leaf 2.
#[test]
fn stale_clear_against_rebalance() {
    loom::model(|| {
        let tree = tree(3, 3, 3);
        let x = tree.reserve_task_in_leaf(1).unwrap();
        let y = tree.reserve_task_in_leaf(2).unwrap();
        tree.schedule(x);
        tree.schedule(y);
        let consumer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_leaf(1))
        };
        tree.set_active_workers(2).unwrap();
        assert_eq!(consumer.join().unwrap(), Some(x));
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(tree.waker(1).partition_summary() & 0b1, 0b1, "leaf 2's bit");
    });
}

/// Three threads: a consumer empties the last word of leaf 1 (clearing upward under whatever epoch
/// it reads), a producer schedules into the same word, and the worker count goes from 2 to 1 (leaf
/// 1 moves from worker 1 to worker 0). The producer's task must end up visible to its current
/// owner.
#[test]
fn claim_and_schedule_against_rebalance() {
    loom::model(|| {
        let tree = tree(2, 2, 2);
        let a = tree.reserve_task_in_leaf(1).unwrap();
        let b = tree.reserve_task_in_leaf(1).unwrap();
        tree.schedule(a);
        let consumer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.claim_in_leaf(1))
        };
        let producer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || assert!(tree.schedule(b)))
        };
        tree.set_active_workers(1).unwrap();
        assert_eq!(consumer.join().unwrap(), Some(a));
        producer.join().unwrap();
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(
            tree.waker(0).partition_summary() & 0b10,
            0b10,
            "leaf 1 = worker 0's bit 1"
        );
    });
}

/// A growth of the covered leaves is a change of assignment like a rebalance: 2 covered leaves over
/// 3 workers (leaf 1 belongs to worker 1), grown to 4 (leaf 1 now belongs to worker 0) while a
/// producer makes leaf 1 non-empty. Worker 0 must end up with the leaf's summary bit.
#[test]
fn notify_against_growth() {
    loom::model(|| {
        let tree = Arc::new(
            SummaryTree::new(
                SummaryTreeConfig::new(3)
                    .max_tasks(4 * SLOTS_PER_LEAF)
                    .initial_tasks(2 * SLOTS_PER_LEAF),
            )
            .unwrap(),
        );
        let slot = tree.reserve_task_in_leaf(1).unwrap();
        let producer = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || assert!(tree.schedule(slot)))
        };
        assert!(tree.grow());
        producer.join().unwrap();
        assert_eq!(tree.partition_range(0), 0..2);
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        assert_eq!(tree.waker(0).partition_summary() & 0b10, 0b10);
    });
}
