//! Golden tables for the partition function family: sizes written out literally (generated once by
//! dealing leaves round-robin, an independent method, and checked by hand for 64 leaves / 6
//! workers = 11, 11, 11, 11, 10, 10), never recomputed with `base = L / W, extra = L % W`.

use summary_tree::{
    compute_partition_owner, global_to_local_leaf_idx, partition_end_for_worker,
    partition_start_for_worker, Partitioning, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF,
};

/// (leaf count, workers, leaves of each worker in worker order).
const SIZES: &[(usize, usize, &[usize])] = &[
    // 1 leaves
    (1, 1, &[1]),
    (1, 2, &[1, 0]),
    (1, 3, &[1, 0, 0]),
    (1, 4, &[1, 0, 0, 0]),
    (1, 5, &[1, 0, 0, 0, 0]),
    (1, 6, &[1, 0, 0, 0, 0, 0]),
    (1, 7, &[1, 0, 0, 0, 0, 0, 0]),
    (1, 8, &[1, 0, 0, 0, 0, 0, 0, 0]),
    (1, 9, &[1, 0, 0, 0, 0, 0, 0, 0, 0]),
    // 3 leaves
    (3, 1, &[3]),
    (3, 2, &[2, 1]),
    (3, 3, &[1, 1, 1]),
    (3, 4, &[1, 1, 1, 0]),
    (3, 5, &[1, 1, 1, 0, 0]),
    (3, 6, &[1, 1, 1, 0, 0, 0]),
    (3, 7, &[1, 1, 1, 0, 0, 0, 0]),
    (3, 8, &[1, 1, 1, 0, 0, 0, 0, 0]),
    (3, 9, &[1, 1, 1, 0, 0, 0, 0, 0, 0]),
    // 8 leaves
    (8, 1, &[8]),
    (8, 2, &[4, 4]),
    (8, 3, &[3, 3, 2]),
    (8, 4, &[2, 2, 2, 2]),
    (8, 5, &[2, 2, 2, 1, 1]),
    (8, 6, &[2, 2, 1, 1, 1, 1]),
    (8, 7, &[2, 1, 1, 1, 1, 1, 1]),
    (8, 8, &[1, 1, 1, 1, 1, 1, 1, 1]),
    (8, 9, &[1, 1, 1, 1, 1, 1, 1, 1, 0]),
    // 10 leaves
    (10, 1, &[10]),
    (10, 2, &[5, 5]),
    (10, 3, &[4, 3, 3]),
    (10, 4, &[3, 3, 2, 2]),
    (10, 5, &[2, 2, 2, 2, 2]),
    (10, 6, &[2, 2, 2, 2, 1, 1]),
    (10, 7, &[2, 2, 2, 1, 1, 1, 1]),
    (10, 8, &[2, 2, 1, 1, 1, 1, 1, 1]),
    (10, 9, &[2, 1, 1, 1, 1, 1, 1, 1, 1]),
    // 64 leaves
    (64, 1, &[64]),
    (64, 2, &[32, 32]),
    (64, 3, &[22, 21, 21]),
    (64, 4, &[16, 16, 16, 16]),
    (64, 5, &[13, 13, 13, 13, 12]),
    (64, 6, &[11, 11, 11, 11, 10, 10]),
    (64, 7, &[10, 9, 9, 9, 9, 9, 9]),
    (64, 8, &[8, 8, 8, 8, 8, 8, 8, 8]),
    (64, 9, &[8, 7, 7, 7, 7, 7, 7, 7, 7]),
    // 100 leaves
    (100, 1, &[100]),
    (100, 2, &[50, 50]),
    (100, 3, &[34, 33, 33]),
    (100, 4, &[25, 25, 25, 25]),
    (100, 5, &[20, 20, 20, 20, 20]),
    (100, 6, &[17, 17, 17, 17, 16, 16]),
    (100, 7, &[15, 15, 14, 14, 14, 14, 14]),
    (100, 8, &[13, 13, 13, 13, 12, 12, 12, 12]),
    (100, 9, &[12, 11, 11, 11, 11, 11, 11, 11, 11]),
    // 257 leaves
    (257, 1, &[257]),
    (257, 2, &[129, 128]),
    (257, 3, &[86, 86, 85]),
    (257, 4, &[65, 64, 64, 64]),
    (257, 5, &[52, 52, 51, 51, 51]),
    (257, 6, &[43, 43, 43, 43, 43, 42]),
    (257, 7, &[37, 37, 37, 37, 37, 36, 36]),
    (257, 8, &[33, 32, 32, 32, 32, 32, 32, 32]),
    (257, 9, &[29, 29, 29, 29, 29, 28, 28, 28, 28]),
];

#[test]
fn partition_sizes_match_golden_table() {
    for &(leaves, workers, sizes) in SIZES {
        assert_eq!(sizes.len(), workers);
        let mut expected_start = 0;
        for (w, &size) in sizes.iter().enumerate() {
            let start = partition_start_for_worker(w, workers, leaves);
            let end = partition_end_for_worker(w, workers, leaves);
            assert_eq!(
                (start, end),
                (expected_start, expected_start + size),
                "{leaves} leaves / {workers} workers, worker {w}"
            );
            let p = Partitioning::new(leaves, workers);
            assert_eq!(p.range(w), start..end);
            assert_eq!(p.partition_start_for_worker(w), start);
            assert_eq!(p.partition_end_for_worker(w), end);
            expected_start += size;
        }
        assert_eq!(
            expected_start, leaves,
            "{leaves} leaves / {workers} workers cover all"
        );
    }
}

#[test]
fn owner_and_local_index_match_golden_table() {
    for &(leaves, workers, sizes) in SIZES {
        // Expand the literal sizes into one (owner, local) pair per leaf.
        let mut expected = Vec::new();
        for (w, &size) in sizes.iter().enumerate() {
            expected.extend((0..size).map(|local| (w, local)));
        }
        assert_eq!(expected.len(), leaves);
        for (leaf, &(owner, local)) in expected.iter().enumerate() {
            assert_eq!(
                compute_partition_owner(leaf, workers, leaves),
                owner,
                "owner of leaf {leaf}, {leaves} leaves / {workers} workers"
            );
            assert_eq!(
                global_to_local_leaf_idx(leaf, workers, leaves),
                local,
                "local index of leaf {leaf}, {leaves} leaves / {workers} workers"
            );
            let p = Partitioning::new(leaves, workers);
            assert_eq!(p.compute_partition_owner(leaf), owner);
            assert_eq!(p.global_to_local_leaf_idx(leaf), local);
        }
    }
}

#[test]
fn literal_owner_rows() {
    // 10 leaves over 4 workers: 3, 3, 2, 2.
    let owners: Vec<usize> = (0..10).map(|l| compute_partition_owner(l, 4, 10)).collect();
    assert_eq!(owners, [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]);
    let locals: Vec<usize> = (0..10)
        .map(|l| global_to_local_leaf_idx(l, 4, 10))
        .collect();
    assert_eq!(locals, [0, 1, 2, 0, 1, 2, 0, 1, 0, 1]);
    // 64 leaves over 6 workers: 11, 11, 11, 11, 10, 10.
    let starts: Vec<usize> = (0..6)
        .map(|w| partition_start_for_worker(w, 6, 64))
        .collect();
    let ends: Vec<usize> = (0..6).map(|w| partition_end_for_worker(w, 6, 64)).collect();
    assert_eq!(starts, [0, 11, 22, 33, 44, 54]);
    assert_eq!(ends, [11, 22, 33, 44, 54, 64]);
    assert_eq!(compute_partition_owner(43, 6, 64), 3);
    assert_eq!(compute_partition_owner(44, 6, 64), 4);
    assert_eq!(compute_partition_owner(63, 6, 64), 5);
}

#[test]
fn workers_past_the_last_get_empty_ranges_in_bounds() {
    for &(leaves, workers, _) in SIZES {
        for w in workers..workers + 3 {
            assert_eq!(partition_start_for_worker(w, workers, leaves), leaves);
            assert_eq!(partition_end_for_worker(w, workers, leaves), leaves);
        }
    }
    assert_eq!(Partitioning::new(3, 9).range(usize::MAX), 3..3);
}

#[test]
#[should_panic(expected = "workers = 0 is out of range")]
fn zero_workers_is_rejected() {
    partition_start_for_worker(0, 0, 10);
}

#[test]
#[should_panic(expected = "leaf 10 out of range: allowed 0..10")]
fn owner_of_leaf_past_the_end_is_rejected() {
    compute_partition_owner(10, 3, 10);
}

#[test]
fn tree_uses_the_same_family_for_every_worker_count() {
    // 10 leaves, every worker count 1..=12: the tree's ranges are the golden ones, and a
    // notification lands on the owner whose range holds the leaf.
    let tree = SummaryTree::new(SummaryTreeConfig::new(12).max_tasks(10 * SLOTS_PER_LEAF)).unwrap();
    let slots: Vec<_> = (0..10)
        .map(|l| tree.reserve_task_in_leaf(l).unwrap())
        .collect();
    // Under Miri (which checks the unsafe code, not the arithmetic) a sample of the counts.
    let counts: Vec<usize> = if cfg!(miri) {
        vec![1, 3, 10, 12]
    } else {
        (1..=12).collect()
    };
    for workers in counts {
        tree.set_active_workers(workers).unwrap();
        let sizes: Vec<usize> = match SIZES.iter().find(|&&(l, w, _)| l == 10 && w == workers) {
            Some(&(_, _, s)) => s.to_vec(),
            // 10 workers and more: one leaf each for workers 0..10, the rest none.
            None => (0..workers).map(|w| usize::from(w < 10)).collect(),
        };
        let mut start = 0;
        for (w, &size) in sizes.iter().enumerate() {
            assert_eq!(tree.partition_range(w), start..start + size);
            start += size;
        }
        for w in workers..12 {
            assert!(tree.partition_range(w).is_empty());
        }
        for (leaf, &slot) in slots.iter().enumerate() {
            assert!(tree.schedule(slot));
            let owner = compute_partition_owner(leaf, workers, 10);
            assert_ne!(tree.waker(owner).partition_summary(), 0, "leaf {leaf}");
            assert_eq!(tree.claim_in_partition(owner), Some(slot));
        }
        tree.check_quiescent_invariants().unwrap();
    }
}
