//! Reservation: exhaustion under concurrency, growth to a million slots, the capacity error, the
//! hints staying exact, and config validation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use summary_tree::{
    CapacityError, SlotId, SummaryTree, SummaryTreeConfig, DEFAULT_MAX_TASKS, SLOTS_PER_LEAF,
};

fn tree(max_tasks: usize, workers: usize) -> SummaryTree {
    SummaryTree::new(SummaryTreeConfig::new(workers).max_tasks(max_tasks)).unwrap()
}

/// Marks `slot` as owned in `owned`; panics if somebody already owns it.
fn take(owned: &[AtomicBool], slot: SlotId) {
    assert!(
        !owned[slot.index()].swap(true, Ordering::SeqCst),
        "{slot:?} handed out twice"
    );
}

#[test]
fn concurrent_reserve_task_in_leaf_exhausts_every_bit() {
    // One leaf; under Miri a partial leaf so that the run stays short (it also covers the
    // unusable tail of the last leaf).
    let slots = if cfg!(miri) { 150 } else { SLOTS_PER_LEAF };
    let threads = if cfg!(miri) { 2 } else { 4 };
    let tree = tree(slots, 1);
    let owned: Vec<AtomicBool> = (0..SLOTS_PER_LEAF)
        .map(|_| AtomicBool::new(false))
        .collect();
    let barrier = Barrier::new(threads);
    let counts: Vec<usize> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let mut n = 0;
                    while let Some(slot) = tree.reserve_task_in_leaf(0) {
                        take(&owned, slot);
                        assert_eq!(slot.leaf(), 0);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts.iter().sum::<usize>(), slots);
    let taken = owned.iter().filter(|o| o.load(Ordering::SeqCst)).count();
    assert_eq!(taken, slots);
    assert!(owned[..slots].iter().all(|o| o.load(Ordering::SeqCst)));
    assert_eq!(tree.reserved_count(), slots);
    assert_eq!(tree.reserve_task_in_leaf(0), None);
    assert_eq!(
        tree.reserve_task(0),
        Err(CapacityError::AtCapacity { max_tasks: slots })
    );
    tree.check_quiescent_invariants().unwrap();
}

#[test]
fn concurrent_reserve_release_churn_never_two_owners() {
    let (threads, rounds) = if cfg!(miri) { (2, 40) } else { (4, 20_000) };
    // Tight: two slots per thread, so reservers constantly meet full leaves and hint clears.
    let max_tasks = threads * 2;
    let tree = tree(max_tasks, 1);
    let owned: Vec<AtomicBool> = (0..max_tasks).map(|_| AtomicBool::new(false)).collect();
    thread::scope(|s| {
        for t in 0..threads {
            let (tree, owned) = (&tree, &owned);
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..rounds {
                    match tree.reserve_task(t + i) {
                        Ok(slot) => {
                            take(owned, slot);
                            held.push(slot);
                        }
                        Err(CapacityError::AtCapacity { max_tasks: m }) => {
                            assert_eq!(m, max_tasks);
                            // Only possible while the others hold the rest: we hold < 2.
                            assert!(held.len() < 2, "thread {t} holds {held:?} yet capacity");
                        }
                    }
                    if held.len() == 2 || (i % 3 == 0 && !held.is_empty()) {
                        let slot = held.remove(0);
                        owned[slot.index()].store(false, Ordering::SeqCst);
                        tree.release_task(slot);
                    }
                }
                for slot in held {
                    owned[slot.index()].store(false, Ordering::SeqCst);
                    tree.release_task(slot);
                }
            });
        }
    });
    assert_eq!(tree.reserved_count(), 0);
    tree.check_quiescent_invariants().unwrap();
    // Every slot can be reserved again: no free slot was lost from the hints.
    for _ in 0..max_tasks {
        tree.reserve_task(0).unwrap();
    }
    assert!(tree.reserve_task(0).is_err());
}

#[test]
fn growth_million_tasks_reserved_and_released_without_duplicates() {
    const { assert!(DEFAULT_MAX_TASKS >= 1 << 20) };
    // Under Miri: a small tree (every per-slot loop below is interpreted).
    let (n, max_tasks) = if cfg!(miri) {
        (500, 2 * SLOTS_PER_LEAF)
    } else {
        (1_000_000, DEFAULT_MAX_TASKS)
    };
    let tree = tree(max_tasks, 4);
    assert_eq!(tree.allocated_leaves(), 0, "leaves are allocated on demand");
    let mut seen = vec![false; max_tasks];
    let mut slots = Vec::with_capacity(n);
    for _ in 0..n {
        // The worst case for a naive search: every spawn hints leaf 0, which fills first.
        let slot = tree.reserve_task(0).unwrap();
        assert!(!seen[slot.index()], "{slot:?} handed out twice");
        seen[slot.index()] = true;
        slots.push(slot);
    }
    assert_eq!(tree.reserved_count(), n);
    assert_eq!(tree.allocated_leaves(), n.div_ceil(SLOTS_PER_LEAF));
    for &slot in &slots {
        tree.release_task(slot);
    }
    assert_eq!(tree.reserved_count(), 0);
    tree.check_quiescent_invariants().unwrap();
    // And again: released slots come back, still no duplicate.
    seen.iter_mut().for_each(|s| *s = false);
    for _ in 0..n {
        let slot = tree.reserve_task(0).unwrap();
        assert!(
            !seen[slot.index()],
            "{slot:?} handed out twice after release"
        );
        seen[slot.index()] = true;
    }
    assert_eq!(tree.reserved_count(), n);
}

#[test]
fn concurrent_growth_from_spread_hints_without_duplicates() {
    let (threads, per_thread, max_tasks) = if cfg!(miri) {
        (2, 150, 2 * SLOTS_PER_LEAF)
    } else {
        (4, 250_000, DEFAULT_MAX_TASKS)
    };
    let tree = tree(max_tasks, threads);
    let owned: Vec<AtomicBool> = (0..max_tasks).map(|_| AtomicBool::new(false)).collect();
    thread::scope(|s| {
        for t in 0..threads {
            let (tree, owned) = (&tree, &owned);
            s.spawn(move || {
                let hint = tree.partition_range(t).start;
                for _ in 0..per_thread {
                    take(owned, tree.reserve_task(hint).unwrap());
                }
            });
        }
    });
    assert_eq!(tree.reserved_count(), threads * per_thread);
    tree.check_quiescent_invariants().unwrap();
}

#[test]
fn capacity_is_exact_and_reports_the_limit() {
    // Not a multiple of the leaf size: the last leaf is partial.
    let max_tasks = if cfg!(miri) {
        100
    } else {
        2 * SLOTS_PER_LEAF + 1000
    };
    let tree = tree(max_tasks, 2);
    let slots: Vec<SlotId> = (0..max_tasks)
        .map(|i| tree.reserve_task(i % tree.leaf_count()).unwrap())
        .collect();
    assert!(slots.iter().all(|s| s.index() < max_tasks));
    let err = tree.reserve_task(0).unwrap_err();
    assert_eq!(err, CapacityError::AtCapacity { max_tasks });
    assert_eq!(
        err.to_string(),
        format!("task capacity reached: all {max_tasks} slots are reserved (raise max_tasks)")
    );
    // Free one slot deep inside: whatever the hint, that is the slot we get back.
    let victim = slots[max_tasks / 2];
    tree.release_task(victim);
    assert_eq!(tree.reserve_task(tree.leaf_count() - 1), Ok(victim));
    assert!(tree.reserve_task(0).is_err());
}

#[test]
fn reserve_prefers_the_hinted_leaf_then_the_next_with_room() {
    // Leaves 0 and 1 full-size, leaf 2 the partial last leaf (10 slots, cheap to fill).
    let tree = tree(2 * SLOTS_PER_LEAF + 10, 1);
    assert_eq!(tree.leaf_count(), 3);
    assert_eq!(tree.reserve_task(1).unwrap().leaf(), 1);
    assert_eq!(tree.reserve_task(2).unwrap().leaf(), 2);
    assert_eq!(
        tree.reserve_task(5).unwrap().leaf(),
        2,
        "hint taken modulo leaf_count"
    );
    while tree.reserve_task_in_leaf(2).is_some() {}
    assert_eq!(
        tree.reserve_task(2).unwrap().leaf(),
        0,
        "full: the next leaf with room, wrapping"
    );
    assert!(tree.is_reserved(SlotId::new(1, 0, 0)));
    assert!(!tree.is_reserved(SlotId::new(1, 0, 1)));
    assert!(
        !tree.is_reserved(SlotId::from_index(2 * SLOTS_PER_LEAF + 10)),
        "past max_tasks"
    );
}

#[test]
#[should_panic(expected = "was not reserved (double release?)")]
fn double_release_panics() {
    let tree = tree(100, 1);
    let slot = tree.reserve_task(0).unwrap();
    tree.release_task(slot);
    tree.release_task(slot);
}

#[test]
#[should_panic(expected = "slot index out of range: allowed 0..100")]
fn releasing_a_slot_past_capacity_panics() {
    let tree = tree(100, 1);
    tree.reserve_task(0).unwrap();
    tree.release_task(SlotId::from_index(100));
}

#[test]
fn config_errors_name_the_field_and_range() {
    let err = SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_tasks = 0 is out of range: allowed 1..=2147483648"
    );
    let err = SummaryTree::new(SummaryTreeConfig::new(0)).unwrap_err();
    assert_eq!(err.field, "max_workers");
    assert_eq!(
        err.to_string(),
        "max_workers = 0 is out of range: allowed 1..=4096"
    );
    let err = SummaryTree::new(SummaryTreeConfig::new(2).active_workers(3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "active_workers = 3 is out of range: allowed 1..=2"
    );
    let tree = tree(100, 2);
    let err = tree.set_active_workers(0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "workers = 0 is out of range: allowed 1..=2"
    );
    assert_eq!(
        tree.assignment().epoch(),
        0,
        "a refused rebalance publishes nothing"
    );
}
