//! Helpers shared by the summary-tree integration tests.

use summary_tree::{SlotId, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

/// A tree of `leaves` full leaves and `workers` workers, all active.
pub fn tree(leaves: usize, workers: usize) -> SummaryTree {
    SummaryTree::new(SummaryTreeConfig::new(workers).max_tasks(leaves * SLOTS_PER_LEAF)).unwrap()
}

/// Reserves the slots of leaf `leaf` up to and including `(signal, bit)` and returns that slot.
pub fn reserve_at(tree: &SummaryTree, leaf: usize, signal: usize, bit: u32) -> SlotId {
    let want = SlotId::new(leaf, signal, bit);
    while !tree.is_reserved(want) {
        tree.reserve_task_in_leaf(leaf).unwrap();
    }
    want
}
