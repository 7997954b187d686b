#![cfg(loom)]
//! Loom models of reservation: two reservers on the last free bit, a release racing a
//! reservation on a full tree (the free hints' clear-then-recheck), and two reservers racing to
//! allocate the same leaf (the directory CAS).

use loom::sync::Arc;
use loom::thread;
use summary_tree::{CapacityError, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

fn tree(max_tasks: usize) -> Arc<SummaryTree> {
    Arc::new(SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(max_tasks)).unwrap())
}

#[test]
fn two_reservers_on_the_last_free_bit() {
    loom::model(|| {
        let tree = tree(2);
        let first = tree.reserve_task(0).unwrap();
        let other = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.reserve_task(0))
        };
        let mine = tree.reserve_task(0);
        let theirs = other.join().unwrap();
        let full = Err(CapacityError::AtCapacity { max_tasks: 2 });
        match (mine, theirs) {
            (Ok(x), e) | (e, Ok(x)) if e == full => {
                assert_ne!(x, first);
                assert_eq!(x.index(), 1 - first.index());
            }
            other => panic!("exactly one reserver must win the last slot, got {other:?}"),
        }
        assert_eq!(tree.reserved_count(), 2);
        tree.check_quiescent_invariants().unwrap();
    });
}

#[test]
fn release_races_reserve_on_a_full_tree() {
    loom::model(|| {
        let tree = tree(2);
        let x = tree.reserve_task(0).unwrap();
        let _y = tree.reserve_task(0).unwrap();
        let releaser = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.release_task(x))
        };
        let got = tree.reserve_task(0);
        releaser.join().unwrap();
        // Either the reservation saw the release, or it ran before it and the freed slot must
        // still be findable through the hints (checked first, without the exhaustive fallback).
        if let Err(e) = tree.check_quiescent_invariants() {
            panic!("{e}");
        }
        match got {
            Ok(slot) => assert_eq!(slot, x),
            Err(_) => assert_eq!(tree.reserve_task(0), Ok(x)),
        }
    });
}

#[test]
fn two_reservers_allocate_the_same_leaf() {
    loom::model(|| {
        let tree = tree(2 * SLOTS_PER_LEAF);
        let other = {
            let tree = Arc::clone(&tree);
            thread::spawn(move || tree.reserve_task_in_leaf(1).unwrap())
        };
        let mine = tree.reserve_task_in_leaf(1).unwrap();
        let theirs = other.join().unwrap();
        assert_ne!(mine, theirs);
        assert_eq!((mine.leaf(), theirs.leaf()), (1, 1));
        assert_eq!(tree.allocated_leaves(), 1);
        assert_eq!(tree.reserved_count(), 2);
    });
}
