//! Partition ownership: which worker owns which contiguous range of leaves.
//!
//! This is the **one** function family every caller uses (the tree's notifications, claims,
//! steals and syncs, and the runtime's rebalance messages); nothing else in the workspace may
//! compute a partition with a formula of its own.
//!
//! Rule, for `L` leaves and `W` workers: `base = L / W`, `extra = L % W`; workers `0..extra` own
//! `base + 1` leaves each, the others `base`, in worker order. When `W > L` the workers `L..W` get
//! empty ranges `[L, L)`. Any worker index at or past `W` also gets `[L, L)`, so asking about an
//! inactive worker is never out of bounds. Every leaf has exactly one owner.

use std::ops::Range;

#[inline]
fn check(workers: usize) {
    assert!(
        workers >= 1,
        "workers = 0 is out of range: allowed 1..={}",
        usize::MAX
    );
}

/// First leaf of worker `worker`'s partition (`leaf_count` when the range is empty and the worker
/// is at or past the first leafless worker).
///
/// ```
/// use summary_tree::{partition_end_for_worker, partition_start_for_worker};
/// // 64 leaves over 6 workers: 11, 11, 11, 11, 10, 10.
/// assert_eq!(partition_start_for_worker(4, 6, 64), 44);
/// assert_eq!(partition_end_for_worker(4, 6, 64), 54);
/// ```
///
/// # Panics
/// If `workers == 0`.
#[inline]
pub fn partition_start_for_worker(worker: usize, workers: usize, leaf_count: usize) -> usize {
    check(workers);
    let base = leaf_count / workers;
    let extra = leaf_count % workers;
    worker.min(workers) * base + worker.min(extra)
}

/// One past the last leaf of worker `worker`'s partition.
///
/// # Panics
/// If `workers == 0`.
#[inline]
pub fn partition_end_for_worker(worker: usize, workers: usize, leaf_count: usize) -> usize {
    partition_start_for_worker(worker.saturating_add(1), workers, leaf_count)
}

/// The worker (in `0..workers`) that owns `leaf`.
///
/// # Panics
/// If `workers == 0` or `leaf >= leaf_count`.
#[inline]
pub fn compute_partition_owner(leaf: usize, workers: usize, leaf_count: usize) -> usize {
    check(workers);
    assert!(
        leaf < leaf_count,
        "leaf {leaf} out of range: allowed 0..{leaf_count}"
    );
    let base = leaf_count / workers;
    let extra = leaf_count % workers;
    let big = extra * (base + 1);
    if leaf < big {
        leaf / (base + 1)
    } else {
        // leaf >= big implies base > 0: when base == 0, big == leaf_count > leaf.
        extra + (leaf - big) / base
    }
}

/// `leaf`'s index within its owner's partition.
///
/// # Panics
/// If `workers == 0` or `leaf >= leaf_count`.
#[inline]
pub fn global_to_local_leaf_idx(leaf: usize, workers: usize, leaf_count: usize) -> usize {
    let owner = compute_partition_owner(leaf, workers, leaf_count);
    leaf - partition_start_for_worker(owner, workers, leaf_count)
}

/// `leaf_count` leaves split over `workers` workers: the same functions as the free ones, bound
/// to one pair of values.
///
/// ```
/// use summary_tree::Partitioning;
///
/// let p = Partitioning::new(10, 4); // 3, 3, 2, 2
/// assert_eq!(p.range(1), 3..6);
/// assert_eq!(p.compute_partition_owner(7), 2);
/// assert_eq!(p.global_to_local_leaf_idx(7), 1);
/// assert_eq!(p.range(9), 10..10); // past the last worker: empty
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partitioning {
    leaf_count: usize,
    workers: usize,
}

impl Partitioning {
    /// Leaves `0..leaf_count` over workers `0..workers`.
    ///
    /// # Panics
    /// If `workers == 0`.
    #[inline]
    pub fn new(leaf_count: usize, workers: usize) -> Partitioning {
        check(workers);
        Partitioning {
            leaf_count,
            workers,
        }
    }

    /// Total leaves.
    #[inline]
    pub fn leaf_count(&self) -> usize {
        self.leaf_count
    }

    /// Active workers.
    #[inline]
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// See [`compute_partition_owner`].
    #[inline]
    pub fn compute_partition_owner(&self, leaf: usize) -> usize {
        compute_partition_owner(leaf, self.workers, self.leaf_count)
    }

    /// See [`partition_start_for_worker`].
    #[inline]
    pub fn partition_start_for_worker(&self, worker: usize) -> usize {
        partition_start_for_worker(worker, self.workers, self.leaf_count)
    }

    /// See [`partition_end_for_worker`].
    #[inline]
    pub fn partition_end_for_worker(&self, worker: usize) -> usize {
        partition_end_for_worker(worker, self.workers, self.leaf_count)
    }

    /// See [`global_to_local_leaf_idx`].
    #[inline]
    pub fn global_to_local_leaf_idx(&self, leaf: usize) -> usize {
        global_to_local_leaf_idx(leaf, self.workers, self.leaf_count)
    }

    /// `start..end` of worker `worker`'s partition (empty for a worker with no leaves): the same
    /// values as [`partition_start_for_worker`] and [`partition_end_for_worker`], with one division.
    #[inline]
    pub fn range(&self, worker: usize) -> Range<usize> {
        let base = self.leaf_count / self.workers;
        let extra = self.leaf_count % self.workers;
        let at = |w: usize| w.min(self.workers) * base + w.min(extra);
        at(worker)..at(worker.saturating_add(1))
    }
}
