//! The [`SummaryTree`] struct: the leaf directory, the free-leaf bitmap, the published
//! assignment, the wakers, and read-only accessors. The operations live beside the state they
//! touch: `reserve.rs`, `signal.rs`, `claim.rs`, `rebalance.rs`.

use crate::config::SummaryTreeConfig;
use crate::error::ConfigError;
use crate::leaf::{unusable_mask, Leaf};
use crate::rebalance::pack_assignment;
use crate::slot::{SlotId, SIGNAL_WORDS_PER_LEAF, SLOTS_PER_LEAF};
#[cfg(loom)]
use crate::sync::atomic_ptr;
use crate::sync::{atomic_u64, AtomicPtr, AtomicU64, Ordering, SearchHint};
use crossbeam_utils::CachePadded;
use signal_waker::SignalWaker;
use std::fmt;
use std::ptr;

/// Per-worker search starts (see [`SearchHint`]): the slot index after the last claim in the
/// worker's own partition, and after its last steal.
#[derive(Debug, Default)]
pub(crate) struct WorkerHints {
    pub(crate) claim: SearchHint,
    pub(crate) steal: SearchHint,
}

/// The shared bitmap hierarchy of runnable tasks, its slot reservations, and which worker owns
/// which part of it.
///
/// * **Task bits**: one bit per slot in signal words (64 slots each); set = scheduled.
///   [`schedule`](Self::schedule) sets one; [`claim_in_partition`](Self::claim_in_partition) and
///   [`steal`](Self::steal) clear one with an RMW that says who won.
/// * **Leaf words**: bit *s* of leaf *l* = signal word *s* of *l* is non-empty (64 signal words,
///   4096 slots per leaf). A leaf's 0→1 sets its owner's `partition_summary` bit in the owner's
///   [`SignalWaker`]; every clear is clear-then-recheck.
/// * **Reservations**: a second bitmap, bit set = slot in use, with per-leaf and directory-level
///   "may have a free slot" hints so that reservation stays O(1) when most leaves are full.
/// * **Growth**: a fixed directory of `ceil(max_tasks / 4096)` leaf pointers; a leaf is allocated
///   the first time a slot in it is reserved, installed with one CAS, and freed only when the tree
///   drops. Past `max_tasks` reservation fails with
///   [`CapacityError::AtCapacity`](crate::CapacityError::AtCapacity).
/// * **Partitions**: leaves are split over the active workers by [`Partitioning`](crate::Partitioning);
///   the worker count is published with an epoch in one atomic word
///   ([`assignment`](Self::assignment), [`set_active_workers`](Self::set_active_workers)).
///
/// ```
/// use summary_tree::{SummaryTree, SummaryTreeConfig};
///
/// let tree = SummaryTree::new(SummaryTreeConfig::new(2).max_tasks(10_000)).unwrap();
/// let slot = tree.reserve_task(0).unwrap();
/// assert!(tree.schedule(slot)); // newly scheduled: leaf 0→1 notified worker 0
/// assert_ne!(tree.waker(0).partition_summary(), 0);
/// assert_eq!(tree.claim_in_partition(0), Some(slot));
/// assert!(!tree.is_scheduled(slot));
/// tree.release_task(slot);
/// ```
pub struct SummaryTree {
    /// Leaf pointers, null until first use; never changed once set, freed in `Drop`.
    pub(crate) directory: Box<[AtomicPtr<Leaf>]>,
    /// Bit `l % 64` of word `l / 64`: leaf `l` may have a free slot (or is not allocated yet).
    pub(crate) leaf_free: Box<[AtomicU64]>,
    /// Published `(epoch, active leaves, active workers)`, see `rebalance.rs`.
    pub(crate) assignment: CachePadded<AtomicU64>,
    pub(crate) wakers: Box<[SignalWaker]>,
    pub(crate) hints: Box<[CachePadded<WorkerHints>]>,
    pub(crate) leaf_count: usize,
    pub(crate) max_tasks: usize,
}

/// A directory of `n` null leaf pointers. Outside loom it is allocated zeroed (a null
/// `AtomicPtr` is all zero bytes), so the pages of a large directory are not touched, and cost no
/// memory, until a leaf in them is installed.
fn null_directory(n: usize) -> Box<[AtomicPtr<Leaf>]> {
    #[cfg(not(loom))]
    {
        use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
        let layout = Layout::array::<AtomicPtr<Leaf>>(n).expect("directory size overflows");
        if layout.size() == 0 {
            return Box::new([]);
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let p = unsafe { alloc_zeroed(layout) }.cast::<AtomicPtr<Leaf>>();
        if p.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: `p` is a fresh allocation of `n` elements with the global allocator and the
        // layout `Box<[T]>` uses; `AtomicPtr<Leaf>` has the size and bit validity of `*mut Leaf`,
        // for which all zero bytes are the null pointer, so the slice holds `n` valid nulls.
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)) }
    }
    #[cfg(loom)]
    {
        (0..n).map(|_| atomic_ptr(ptr::null_mut())).collect()
    }
}

// The tree owns its leaves through raw pointers installed once and freed in `Drop`; `Leaf` is made
// of atomics only, so sharing `&SummaryTree` across threads is sound (the auto traits already say
// so: `AtomicPtr<Leaf>` is `Send + Sync`).

impl SummaryTree {
    /// Builds a tree: the directory for `max_tasks` slots (no leaf allocated yet),
    /// `max_workers` wakers, and the assignment `(epoch 0, active_workers)`.
    pub fn new(config: SummaryTreeConfig) -> Result<SummaryTree, ConfigError> {
        config.validate()?;
        let leaf_count = config.max_tasks.div_ceil(SLOTS_PER_LEAF);
        let free_words = leaf_count.div_ceil(64);
        let initial_leaves = config.initial_tasks.map_or(leaf_count, |n| {
            n.div_ceil(SLOTS_PER_LEAF).clamp(1, leaf_count)
        });
        Ok(SummaryTree {
            directory: null_directory(leaf_count),
            leaf_free: (0..free_words)
                .map(|w| {
                    let in_word = (leaf_count - w * 64).min(64);
                    atomic_u64(crate::bitscan::window_mask(0, in_word))
                })
                .collect(),
            assignment: CachePadded::new(atomic_u64(pack_assignment(
                0,
                initial_leaves,
                config.active_workers,
            ))),
            wakers: (0..config.max_workers)
                .map(|_| SignalWaker::new())
                .collect(),
            hints: (0..config.max_workers)
                .map(|_| CachePadded::new(WorkerHints::default()))
                .collect(),
            leaf_count,
            max_tasks: config.max_tasks,
        })
    }

    /// Leaves the partitions cover now (see [`SummaryTreeConfig::initial_tasks`]): the current
    /// assignment's. Only grows.
    pub fn active_leaves(&self) -> usize {
        self.assignment().leaves()
    }

    /// Leaves in the directory: `ceil(max_tasks / SLOTS_PER_LEAF)`. Partitions split this range,
    /// whether or not a leaf is allocated yet.
    #[inline]
    pub fn leaf_count(&self) -> usize {
        self.leaf_count
    }

    /// The configured capacity.
    #[inline]
    pub fn max_tasks(&self) -> usize {
        self.max_tasks
    }

    /// Number of wakers, i.e. the largest worker count [`set_active_workers`](Self::set_active_workers) accepts.
    #[inline]
    pub fn max_workers(&self) -> usize {
        self.wakers.len()
    }

    /// Worker `worker`'s waker: its status word, partition summary, permits and parking spot.
    /// The runtime parks its workers on these.
    ///
    /// # Panics
    /// If `worker >= max_workers`.
    #[inline]
    pub fn waker(&self, worker: usize) -> &SignalWaker {
        match self.wakers.get(worker) {
            Some(w) => w,
            None => panic!(
                "worker {worker} out of range: allowed 0..{}",
                self.wakers.len()
            ),
        }
    }

    /// Worker `worker`'s search hints.
    ///
    /// # Panics
    /// If `worker >= max_workers`.
    #[inline]
    pub(crate) fn hints_of(&self, worker: usize) -> &WorkerHints {
        match self.hints.get(worker) {
            Some(h) => h,
            None => panic!(
                "worker {worker} out of range: allowed 0..{}",
                self.hints.len()
            ),
        }
    }

    /// Leaf `leaf` if it is allocated.
    #[inline]
    pub(crate) fn leaf(&self, leaf: usize) -> Option<&Leaf> {
        let p = self.directory[leaf].load(Ordering::SeqCst);
        // SAFETY: non-null entries come from `Box::into_raw` in `leaf_or_alloc`, published by a
        // SeqCst CAS this load reads from, and are never changed or freed before `Drop` (`&mut
        // self`); the borrow is tied to `&self`.
        unsafe { p.as_ref() }
    }

    /// Leaf `leaf`, which must be allocated because the caller holds a reserved slot in it.
    #[inline]
    pub(crate) fn leaf_of_slot(&self, slot: SlotId) -> &Leaf {
        let leaf = slot.leaf();
        assert!(
            leaf < self.leaf_count,
            "{slot:?} out of range: the tree has {} leaves",
            self.leaf_count
        );
        match self.leaf(leaf) {
            Some(l) => l,
            None => panic!("{slot:?} was never reserved (its leaf is not allocated)"),
        }
    }

    /// Leaf `leaf`, allocating and installing it if this is its first use.
    pub(crate) fn leaf_or_alloc(&self, leaf: usize) -> &Leaf {
        if let Some(l) = self.leaf(leaf) {
            return l;
        }
        let usable = (self.max_tasks - leaf * SLOTS_PER_LEAF).min(SLOTS_PER_LEAF);
        let fresh = Box::into_raw(Box::new(Leaf::new(usable)));
        match self.directory[leaf].compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
            // SAFETY: we just installed `fresh` (from `Box::into_raw`, so valid and aligned); it
            // stays installed and unfreed until `Drop`, which needs `&mut self`.
            Ok(_) => unsafe { &*fresh },
            Err(existing) => {
                // SAFETY: `fresh` came from `Box::into_raw` above and lost the race, so no other
                // thread ever saw it: we still own it exclusively.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: `existing` is the non-null pointer another thread installed (see
                // `leaf`); our SeqCst CAS read it, so its construction happens before this access.
                unsafe { &*existing }
            }
        }
    }

    /// Slots usable in leaf `leaf` (all but possibly the last leaf have `SLOTS_PER_LEAF`).
    #[inline]
    pub(crate) fn usable_slots(&self, leaf: usize) -> usize {
        (self.max_tasks - leaf * SLOTS_PER_LEAF).min(SLOTS_PER_LEAF)
    }

    /// The leaf word of `leaf` (bit *s* = signal word *s* may be non-empty); 0 for a leaf not
    /// allocated yet. A `SeqCst` load, as [`signal_waker::LeafWords`] requires.
    ///
    /// # Panics
    /// If `leaf >= leaf_count()`.
    #[inline]
    pub fn leaf_word(&self, leaf: usize) -> u64 {
        assert!(
            leaf < self.leaf_count,
            "leaf {leaf} out of range: allowed 0..{}",
            self.leaf_count
        );
        self.leaf(leaf).map_or(0, |l| l.word.load(Ordering::SeqCst))
    }

    /// Signal word `signal` of `leaf` (its scheduled task bits); 0 for a leaf not allocated yet.
    ///
    /// # Panics
    /// If `leaf` or `signal` is out of range.
    pub fn signal_word(&self, leaf: usize, signal: usize) -> u64 {
        assert!(
            signal < SIGNAL_WORDS_PER_LEAF,
            "signal word {signal} out of range: allowed 0..{SIGNAL_WORDS_PER_LEAF}"
        );
        assert!(
            leaf < self.leaf_count,
            "leaf {leaf} out of range: allowed 0..{}",
            self.leaf_count
        );
        self.leaf(leaf)
            .map_or(0, |l| l.signals[signal].load(Ordering::SeqCst))
    }

    /// Whether `slot`'s task bit is set.
    pub fn is_scheduled(&self, slot: SlotId) -> bool {
        self.signal_word(slot.leaf(), slot.signal()) & (1 << slot.bit()) != 0
    }

    /// Whether `slot` is reserved.
    pub fn is_reserved(&self, slot: SlotId) -> bool {
        if slot.index() >= self.max_tasks {
            return false;
        }
        self.leaf(slot.leaf()).is_some_and(|l| {
            l.reservations[slot.signal()].load(Ordering::SeqCst) & (1 << slot.bit()) != 0
        })
    }

    /// Leaves allocated so far (only covered leaves are ever allocated).
    pub fn allocated_leaves(&self) -> usize {
        (0..self.active_leaves())
            .filter(|&l| self.leaf(l).is_some())
            .count()
    }

    /// Slots reserved right now: a scan of every allocated leaf's reservation words (a snapshot for
    /// tests and metrics, O(allocated leaves); the hot paths keep no global counter).
    pub fn reserved_count(&self) -> usize {
        (0..self.active_leaves())
            .filter_map(|l| self.leaf(l).map(|leaf| (l, leaf)))
            .map(|(l, leaf)| {
                let usable = self.usable_slots(l);
                (0..SIGNAL_WORDS_PER_LEAF)
                    .map(|s| {
                        let word = leaf.reservations[s].load(Ordering::SeqCst);
                        (word & !unusable_mask(s, usable)).count_ones() as usize
                    })
                    .sum::<usize>()
            })
            .sum()
    }

    /// Scheduled task bits right now (a snapshot scan, like [`reserved_count`](Self::reserved_count)).
    pub fn scheduled_count(&self) -> usize {
        (0..self.active_leaves())
            .filter_map(|l| self.leaf(l))
            .map(|leaf| {
                leaf.signals
                    .iter()
                    .map(|w| w.load(Ordering::SeqCst).count_ones() as usize)
                    .sum::<usize>()
            })
            .sum()
    }
}

impl Drop for SummaryTree {
    fn drop(&mut self) {
        // Only covered leaves are ever allocated (a reservation picks a leaf below the covered
        // count it read, and that count only grows).
        let covered = self.active_leaves();
        for entry in self.directory[..covered].iter() {
            // Relaxed: `&mut self` means no other thread can access the tree any more.
            let p = entry.load(Ordering::Relaxed);
            if !p.is_null() {
                // SAFETY: non-null entries come from `Box::into_raw` in `leaf_or_alloc`, were
                // installed exactly once, and no borrow of them outlives `&self`; we have
                // `&mut self`, so this is the only and last use.
                drop(unsafe { Box::from_raw(p) });
            }
        }
    }
}

impl fmt::Debug for SummaryTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let asg = self.assignment();
        f.debug_struct("SummaryTree")
            .field("max_tasks", &self.max_tasks)
            .field("leaf_count", &self.leaf_count)
            .field("allocated_leaves", &self.allocated_leaves())
            .field("max_workers", &self.wakers.len())
            .field("epoch", &asg.epoch())
            .field("active_workers", &asg.workers())
            .finish()
    }
}
