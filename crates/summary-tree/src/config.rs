//! [`SummaryTreeConfig`]: capacity and worker counts, validated with errors that name the field
//! and its allowed range.

use crate::error::ConfigError;

/// Default capacity: 2^20 live tasks.
pub const DEFAULT_MAX_TASKS: usize = 1 << 20;

/// Largest `max_tasks` accepted: 2^31 (slot indices are `u32`; the leaf directory is allocated up
/// front at 8 bytes per 4096 slots, 4 MiB of address space at this limit, zeroed and so untouched
/// until leaves are installed).
pub const MAX_TASKS_LIMIT: usize = 1 << 31;

/// Largest `max_workers` accepted (the published assignment packs the worker count in 13 bits,
/// and each worker costs one [`SignalWaker`](signal_waker::SignalWaker)).
pub const MAX_WORKERS_LIMIT: usize = 4096;

/// Configuration of a [`SummaryTree`](crate::SummaryTree).
///
/// ```
/// use summary_tree::SummaryTreeConfig;
///
/// let config = SummaryTreeConfig::new(8).max_tasks(100_000).active_workers(2);
/// assert!(config.validate().is_ok());
/// let err = SummaryTreeConfig::new(8).active_workers(9).validate().unwrap_err();
/// assert_eq!(err.to_string(), "active_workers = 9 is out of range: allowed 1..=8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryTreeConfig {
    /// Most task slots reserved at once (`1..=MAX_TASKS_LIMIT`, default [`DEFAULT_MAX_TASKS`]).
    /// Leaves are allocated lazily, so a large limit costs only the directory until used.
    pub max_tasks: usize,
    /// Number of wakers the tree creates, one per possible worker (`1..=MAX_WORKERS_LIMIT`).
    pub max_workers: usize,
    /// Workers that own partitions at first (`1..=max_workers`); change it later with
    /// [`SummaryTree::set_active_workers`](crate::SummaryTree::set_active_workers).
    pub active_workers: usize,
    /// Slots the partitions cover at first (`1..=max_tasks`, rounded up to whole leaves; `None`:
    /// all of `max_tasks`). When every covered slot is reserved, a reservation doubles the
    /// covered leaves (up to `max_tasks`) with one published assignment and a re-sync, as a
    /// rebalance does, so a large `max_tasks` costs nothing in the partitions' scans until the
    /// tasks are there.
    pub initial_tasks: Option<usize>,
}

impl SummaryTreeConfig {
    /// `max_workers` wakers, all of them active, [`DEFAULT_MAX_TASKS`] slots.
    pub fn new(max_workers: usize) -> SummaryTreeConfig {
        SummaryTreeConfig {
            max_tasks: DEFAULT_MAX_TASKS,
            max_workers,
            active_workers: max_workers,
            initial_tasks: None,
        }
    }

    /// Sets [`initial_tasks`](Self::initial_tasks).
    pub fn initial_tasks(mut self, initial_tasks: usize) -> SummaryTreeConfig {
        self.initial_tasks = Some(initial_tasks);
        self
    }

    /// Sets [`max_tasks`](Self::max_tasks).
    pub fn max_tasks(mut self, max_tasks: usize) -> SummaryTreeConfig {
        self.max_tasks = max_tasks;
        self
    }

    /// Sets [`active_workers`](Self::active_workers).
    pub fn active_workers(mut self, active_workers: usize) -> SummaryTreeConfig {
        self.active_workers = active_workers;
        self
    }

    /// Checks every field against its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check("max_tasks", self.max_tasks, 1..=MAX_TASKS_LIMIT)?;
        ConfigError::check("max_workers", self.max_workers, 1..=MAX_WORKERS_LIMIT)?;
        ConfigError::check("active_workers", self.active_workers, 1..=self.max_workers)?;
        if let Some(initial) = self.initial_tasks {
            ConfigError::check("initial_tasks", initial, 1..=self.max_tasks)?;
        }
        Ok(())
    }
}

impl Default for SummaryTreeConfig {
    /// One worker, [`DEFAULT_MAX_TASKS`] slots.
    fn default() -> Self {
        SummaryTreeConfig::new(1)
    }
}
