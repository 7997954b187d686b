//! Debug accessors for the integration tests: every worker's signal state (status word, permits,
//! sleepers, partition summary), the parked set and the live-task count. Hidden from the docs and
//! not part of the API's stability promise.

use crate::runtime::Runtime;
use crate::scheduler::shared::Shared;
use std::fmt;
use std::sync::Arc;

/// Worker `i`'s `SignalWaker` as `(status, permits, sleepers, partition_summary)`.
fn signal_state(shared: &Shared) -> Vec<(u64, u64, usize, u64)> {
    (0..shared.slots)
        .map(|w| {
            let waker = shared.tree.waker(w);
            (
                waker.status(),
                waker.permits(),
                waker.sleepers(),
                waker.partition_summary(),
            )
        })
        .collect()
}

impl Runtime {
    /// One entry per worker: `(status, permits, sleepers, partition_summary)` of its
    /// `SignalWaker`, each read with one `SeqCst` load (a snapshot per field, not an atomic
    /// snapshot of all four). For tests.
    #[doc(hidden)]
    pub fn debug_signal_state(&self) -> Vec<(u64, u64, usize, u64)> {
        signal_state(&self.shared)
    }

    /// A probe that keeps reading this runtime's signal state after `shutdown_timeout` has
    /// consumed the `Runtime`. For tests.
    #[doc(hidden)]
    pub fn debug_probe(&self) -> DebugProbe {
        DebugProbe {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// Reads a runtime's internal signal state, also after it shut down. For tests.
#[doc(hidden)]
pub struct DebugProbe {
    shared: Arc<Shared>,
}

impl DebugProbe {
    /// As [`Runtime::debug_signal_state`].
    pub fn signal_state(&self) -> Vec<(u64, u64, usize, u64)> {
        signal_state(&self.shared)
    }

    /// Bitmask of the workers announced as parked (bit `i` = worker `i`).
    pub fn parked_mask(&self) -> u64 {
        self.shared.idle.parked_mask()
    }

    /// Task slots in use: tasks spawned and not yet finished (a snapshot scan of the tree).
    pub fn live_tasks(&self) -> usize {
        self.shared.tree.reserved_count()
    }

    /// Task bits set in the summary tree (tasks queued there, not in a LIFO slot or yield queue).
    pub fn scheduled_in_tree(&self) -> usize {
        self.shared.tree.scheduled_count()
    }

    /// `(filed, queued)`: timers filed in the workers' wheels and timer messages waiting in their
    /// inboxes (a snapshot, shard by shard).
    pub fn timers(&self) -> (usize, usize) {
        self.shared.timers.counts()
    }

    /// Runtime threads (workers and the service) started and not yet exited.
    pub fn live_threads(&self) -> usize {
        self.shared.pool.live_threads()
    }

    /// Worker slots with a running worker thread (not retiring, not vacant).
    pub fn running_workers(&self) -> usize {
        (0..self.shared.slots)
            .filter(|&w| self.shared.pool.state(w) == crate::service::pool::RUNNING)
            .count()
    }

    /// Workers that own partitions (the published assignment).
    pub fn active_workers(&self) -> usize {
        self.shared.active_workers()
    }

    /// Whether the runtime refuses new spawns.
    pub fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown()
    }
}

impl fmt::Debug for DebugProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugProbe")
            .field("signal_state", &self.signal_state())
            .field("parked_mask", &format_args!("{:#b}", self.parked_mask()))
            .finish_non_exhaustive()
    }
}
