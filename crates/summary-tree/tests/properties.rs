//! Property tests: partition hint accuracy (after `sync_partition_summary` every summary equals
//! the groups of non-empty leaves, checked against an independent model of the scheduled slots
//! and the tree's leaf words) and fairness (reservation goes to the hinted leaf or the next leaf
//! with room; claims reach every scheduled task within one sweep).

use proptest::prelude::*;
use signal_waker::STATUS_BIT_PARTITION;
use std::collections::BTreeSet;
use summary_tree::{SlotId, SummaryTree, SummaryTreeConfig, SIGNAL_WORDS_PER_LEAF, SLOTS_PER_LEAF};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(if cfg!(miri) { 2 } else { 128 })
}

/// Reserves (through `reserve_task_in_leaf`) every slot of `leaf` up to `slot`, returns `slot`.
fn reserve_at(tree: &SummaryTree, slot: SlotId) -> SlotId {
    while !tree.is_reserved(slot) {
        tree.reserve_task_in_leaf(slot.leaf()).unwrap();
    }
    slot
}

/// A small scheduled-slot position: (leaf selector, signal word selector, bit).
fn positions() -> impl Strategy<Value = Vec<(usize, usize, u32)>> {
    prop::collection::vec(
        (0usize..1000, 0usize..3, 0u32..64),
        0..if cfg!(miri) { 6 } else { 24 },
    )
}

/// Upper bounds of the leaf counts drawn (Miri interprets every per-slot loop: keep it small).
const MAX_LEAVES_HINTS: usize = if cfg!(miri) { 5 } else { 150 };
const MAX_LEAVES_FAIRNESS: usize = if cfg!(miri) { 3 } else { 9 };

proptest! {
    #![proptest_config(config())]

    #[test]
    fn property_partition_hint_accuracy(
        leaves in 1usize..MAX_LEAVES_HINTS,
        workers in 1usize..=9,
        scheduled in positions(),
        noise in prop::collection::vec((0usize..9, 0u32..64, any::<bool>()), 0..12),
    ) {
        let max_workers = 9;
        let tree = SummaryTree::new(
            SummaryTreeConfig::new(max_workers)
                .max_tasks(leaves * SLOTS_PER_LEAF)
                .active_workers(workers),
        )
        .unwrap();
        // The model: which leaves hold a scheduled slot.
        let mut model = BTreeSet::new();
        for &(l, s, b) in &scheduled {
            let slot = SlotId::new(l % leaves, s % SIGNAL_WORDS_PER_LEAF, b);
            tree.schedule(reserve_at(&tree, slot));
            model.insert(slot.leaf());
        }
        // Corrupt the hints: false positives and lost bits, as stale notifications would leave.
        for &(w, bit, set) in &noise {
            if set {
                tree.waker(w).mark_partition_leaf_active(bit);
            } else {
                tree.waker(w).clear_partition_leaf(bit, || true);
            }
        }
        let asg = tree.assignment();
        for w in 0..max_workers {
            let range = asg.range(w);
            let active = tree.sync_partition_summary(w);
            let mut expected = 0u64;
            for leaf in range.clone() {
                // Differential: the tree's leaf words agree with the model...
                prop_assert_eq!(tree.leaf_word(leaf) != 0, model.contains(&leaf), "leaf {}", leaf);
                if model.contains(&leaf) {
                    // ...and the summary bit of a non-empty leaf is that of its group.
                    let group = range.len().div_ceil(64).max(1);
                    expected |= 1 << ((leaf - range.start) / group);
                }
            }
            let waker = tree.waker(w);
            prop_assert_eq!(waker.partition_summary(), expected, "worker {} range {:?}", w, range);
            prop_assert_eq!(active, expected != 0);
            prop_assert_eq!(waker.status() & STATUS_BIT_PARTITION != 0, expected != 0);
        }
        tree.check_quiescent_invariants().unwrap();
    }

    #[test]
    fn property_summary_tree_reserve_fairness(
        leaves in 1usize..MAX_LEAVES_FAIRNESS,
        fill in prop::collection::vec(any::<bool>(), 9),
        hint in 0usize..20,
        busy in positions(),
        workers in 1usize..=4,
    ) {
        // Reservation: the hinted leaf if it has room, else the first leaf with room after it,
        // cyclically. Leaves marked in `fill` are filled up first.
        let tree = SummaryTree::new(
            SummaryTreeConfig::new(workers).max_tasks(leaves * SLOTS_PER_LEAF),
        )
        .unwrap();
        for leaf in (0..leaves).filter(|&l| fill[l]) {
            while tree.reserve_task_in_leaf(leaf).is_some() {}
        }
        let start = hint % leaves;
        let expected = (0..leaves).map(|k| (start + k) % leaves).find(|&l| !fill[l]);
        match tree.reserve_task(hint) {
            Ok(slot) => prop_assert_eq!(Some(slot.leaf()), expected),
            Err(_) => prop_assert_eq!(expected, None),
        }

        // Claims: every task of a partition reschedules itself after each run (all are always
        // busy). Within one sweep (as many claims as tasks) each must run exactly once: no leaf,
        // word or slot is starved by the others.
        let tree = SummaryTree::new(
            SummaryTreeConfig::new(workers).max_tasks(leaves * SLOTS_PER_LEAF),
        )
        .unwrap();
        let mut tasks = BTreeSet::new();
        for &(l, s, b) in &busy {
            let slot = SlotId::new(l % leaves, s % SIGNAL_WORDS_PER_LEAF, b);
            tasks.insert(reserve_at(&tree, slot));
        }
        for &slot in &tasks {
            tree.schedule(slot);
        }
        for w in 0..workers {
            let mine: BTreeSet<SlotId> = tasks
                .iter()
                .copied()
                .filter(|s| tree.partition_range(w).contains(&s.leaf()))
                .collect();
            for _sweep in 0..2 {
                let mut ran = BTreeSet::new();
                for _ in 0..mine.len() {
                    let slot = tree.claim_in_partition(w).unwrap();
                    prop_assert!(ran.insert(slot), "{:?} ran twice in one sweep", slot);
                    tree.schedule(slot);
                }
                prop_assert_eq!(&ran, &mine);
            }
        }
        tree.check_quiescent_invariants().unwrap();
    }
}
