//! `summary-tree`: the shared bitmap hierarchy of runnable tasks of a work-stealing executor,
//! its task-slot reservations, and which worker owns which part of it.
//!
//! ```text
//! task bit (signal word, 64 slots) ──0→1──▶ leaf bit (leaf word, 64 signal words = 4096 slots)
//!   ──0→1──▶ owner's partition_summary bit ──0→1──▶ STATUS_BIT_PARTITION ──0→1──▶ permit
//! ```
//!
//! * [`SummaryTree::schedule`] sets a task bit; each 0→1 climbs one level and finally wakes the
//!   owning worker through its [`SignalWaker`](signal_waker::SignalWaker) (the tree owns one per
//!   worker: [`SummaryTree::waker`]).
//! * [`SummaryTree::claim_in_partition`] and [`SummaryTree::steal`] clear a task bit with an RMW
//!   that says who won; emptied words are cleared upward with clear-then-recheck, so a task bit
//!   set concurrently is never stranded below a clear leaf or summary bit.
//! * [`SummaryTree::reserve_task`] / [`SummaryTree::release_task`] hand out slots, never one to
//!   two owners. Leaves are allocated on demand up to `max_tasks` (default 2^20), after which
//!   reservation fails with [`CapacityError::AtCapacity`]. With
//!   [`SummaryTreeConfig::initial_tasks`] the partitions cover fewer leaves at first and
//!   [`SummaryTree::grow`] doubles them when a reservation finds them full.
//! * Leaves are split over the active workers by one function family ([`Partitioning`],
//!   [`compute_partition_owner`], ...); [`SummaryTree::set_active_workers`] publishes a new
//!   worker count with an epoch and re-syncs every worker's summary.
//!
//! ```
//! use summary_tree::{SummaryTree, SummaryTreeConfig};
//!
//! let tree = SummaryTree::new(SummaryTreeConfig::new(2).max_tasks(4 * 4096)).unwrap();
//! let slot = tree.reserve_task(3).unwrap(); // leaf 3: worker 1's partition (leaves 2..4)
//! tree.schedule(slot);
//! assert_eq!(tree.waker(1).partition_summary(), 0b10); // local leaf 1 of worker 1
//! assert_eq!(tree.claim_in_partition(0), None); // worker 0's partition is empty...
//! assert_eq!(tree.steal(0, 1), Some(slot)); // ...but it may steal
//! assert!(tree.waker(1).try_acquire()); // the 0→1 released one permit for worker 1
//! assert!(!tree.sync_partition_summary(1)); // nothing left: summary and status cleared
//! tree.release_task(slot);
//! ```
//!
//! The data layout, the invariants and the no-lost-wakeup argument for this layer are written out
//! in [docs/summary-tree.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/summary-tree.md) in the repository. Under `--cfg loom` every atomic is loom's
//! (module `sync`), and each leaf shrinks to 2 signal words (128 slots).

#![warn(missing_docs, missing_debug_implementations)]

mod bitscan;
mod claim;
mod config;
mod error;
mod invariants;
mod leaf;
mod partition;
mod rebalance;
mod reserve;
mod signal;
mod slot;
mod sync;
mod tree;

pub use config::{SummaryTreeConfig, DEFAULT_MAX_TASKS, MAX_TASKS_LIMIT, MAX_WORKERS_LIMIT};
pub use error::{CapacityError, ConfigError, InvariantViolation};
pub use partition::{
    compute_partition_owner, global_to_local_leaf_idx, partition_end_for_worker,
    partition_start_for_worker, Partitioning,
};
pub use rebalance::Assignment;
pub use slot::{SlotId, SIGNAL_WORDS_PER_LEAF, SLOTS_PER_LEAF, SLOTS_PER_SIGNAL_WORD};
pub use tree::SummaryTree;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
