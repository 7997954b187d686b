//! Growth of the covered leaves (`SummaryTreeConfig::initial_tasks`): reservations double the
//! leaves the partitions cover when every covered slot is taken, up to `max_tasks`; ownership
//! moves as in a rebalance and no scheduled task loses its owner's summary bit.
//!
//! The two tests that fill whole leaves (4096 slots each) to force growths do not run under Miri,
//! where interpreting those tens of thousands of reservations takes minutes; the growth step
//! itself runs under Miri in `a_growth_moves_ownership_and_keeps_every_scheduled_task_visible`,
//! and its concurrency is modelled by `loom_rebalance::notify_against_growth`.

#![cfg_attr(miri, allow(unused_imports))]

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use summary_tree::{CapacityError, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

fn growing(max_leaves: usize, initial_leaves: usize, workers: usize) -> SummaryTree {
    SummaryTree::new(
        SummaryTreeConfig::new(workers)
            .max_tasks(max_leaves * SLOTS_PER_LEAF)
            .initial_tasks(initial_leaves * SLOTS_PER_LEAF),
    )
    .unwrap()
}

#[test]
#[cfg(not(miri))]
fn reservations_grow_the_covered_leaves_up_to_max_tasks() {
    let tree = growing(4, 1, 2);
    assert_eq!((tree.active_leaves(), tree.leaf_count()), (1, 4));
    let mut seen = HashSet::new();
    let mut covered = vec![tree.active_leaves()];
    for _ in 0..4 * SLOTS_PER_LEAF {
        let slot = tree.reserve_task(0).expect("below max_tasks");
        assert!(
            slot.leaf() < tree.active_leaves(),
            "{slot:?} outside the covered leaves"
        );
        assert!(seen.insert(slot), "{slot:?} handed out twice");
        if covered.last() != Some(&tree.active_leaves()) {
            covered.push(tree.active_leaves());
        }
    }
    assert_eq!(covered, [1, 2, 4], "doubling, then the directory's end");
    assert_eq!(
        tree.reserve_task(0),
        Err(CapacityError::AtCapacity {
            max_tasks: 4 * SLOTS_PER_LEAF
        })
    );
    assert_eq!(
        tree.assignment().epoch(),
        2,
        "one published assignment per growth"
    );
    tree.check_quiescent_invariants().unwrap();
}

#[test]
fn a_growth_moves_ownership_and_keeps_every_scheduled_task_visible() {
    // 2 covered leaves over 3 workers: leaf 0 -> worker 0, leaf 1 -> worker 1, worker 2 empty.
    // After the growth to 4: worker 0 owns 0..2, worker 1 owns 2..3, worker 2 owns 3..4.
    let tree = growing(4, 2, 3);
    let slot = tree.reserve_task_in_leaf(1).unwrap();
    assert!(tree.schedule(slot));
    assert_eq!(tree.waker(1).partition_summary(), 0b1);
    assert!(tree.grow());
    assert_eq!(tree.partition_range(0), 0..2);
    assert_eq!(tree.partition_range(1), 2..3);
    tree.check_quiescent_invariants().unwrap();
    assert_eq!(
        tree.waker(0).partition_summary(),
        0b10,
        "re-synced onto the new owner"
    );
    assert_eq!(tree.claim_in_partition(0), Some(slot));
    assert!(!tree.grow(), "every leaf is covered");
}

#[test]
fn reserving_in_a_leaf_not_covered_yet_panics_with_the_range() {
    let tree = growing(4, 1, 1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tree.reserve_task_in_leaf(2)
    }))
    .unwrap_err();
    let msg = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("allowed 0..1"), "{msg}");
}

#[test]
fn initial_tasks_is_validated_against_max_tasks() {
    let err = SummaryTreeConfig::new(1)
        .max_tasks(100)
        .initial_tasks(101)
        .validate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "initial_tasks = 101 is out of range: allowed 1..=100"
    );
}

#[test]
#[cfg(not(miri))]
fn concurrent_reservations_across_growths_hand_out_each_slot_once() {
    const THREADS: usize = 4;
    let tree = Arc::new(growing(8, 1, 2));
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (tree, start) = (Arc::clone(&tree), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let mut mine = Vec::new();
                while let Ok(slot) = tree.reserve_task(t) {
                    mine.push(slot);
                }
                mine
            })
        })
        .collect();
    let mut all = HashSet::new();
    for h in handles {
        for slot in h.join().unwrap() {
            assert!(all.insert(slot), "{slot:?} handed out twice");
        }
    }
    assert_eq!(all.len(), 8 * SLOTS_PER_LEAF, "every slot, once");
    assert_eq!(tree.active_leaves(), 8);
    tree.check_quiescent_invariants().unwrap();
}
