//! [`Builder`]: validated runtime configuration.

use crate::blocking::pool::{BlockingConfig, BlockingPool};
use crate::error::BuildError;
use crate::runtime::Runtime;
use crate::scheduler::shared::Shared;
use crate::service::pool::{Bounds, Pool, ThreadConfig};
use crate::service::WorkerService;
use crate::table::SlotTable;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use summary_tree::{SummaryTree, SummaryTreeConfig};

/// Most worker threads a runtime supports (the idle set is one 64-bit word).
pub const MAX_WORKER_THREADS: usize = 64;
/// Smallest worker stack accepted (Linux's `PTHREAD_STACK_MIN`).
pub const MIN_THREAD_STACK_SIZE: usize = 16 * 1024;
/// Largest `max_tasks` accepted.
pub const MAX_TASKS_LIMIT: usize = 1 << 30;
/// Default `max_tasks`: the structural limit, [`MAX_TASKS_LIMIT`] (2^30 live tasks). It costs
/// nothing until it is used: the runtime's task directories are reserved zeroed (address space,
/// not memory), and the summary tree's partitions cover [`INITIAL_TASKS`] slots at first and
/// double the slots they cover whenever every covered slot is taken, so the workers' scans stay
/// the size of the tasks that are there.
pub const DEFAULT_MAX_TASKS: usize = MAX_TASKS_LIMIT;
/// Task slots the summary tree's partitions cover when a runtime starts (2^21); they double on
/// demand up to `max_tasks`.
pub const INITIAL_TASKS: usize = 1 << 21;
/// Default timer resolution ([`Builder::tick_duration`]): 64 µs, used as 2^16 ns (65.5 µs).
///
/// Finer than tokio's 1 ms: a 1 ms sleep then ends on average about 0.5 ms earlier (the deadline
/// is rounded up to a tick), and the cost is only more, smaller batches of timer firing (the
/// wheels skip empty slots through bitmaps; an idle runtime still never wakes up). The wheel spans
/// 2^30 ticks (about 19.5 hours) at this tick; later deadlines wait in an overflow list.
pub const DEFAULT_TICK_DURATION: Duration = Duration::from_micros(64);
/// Default [`Builder::worker_keep_alive`]: 5 s.
pub const DEFAULT_WORKER_KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Allowed range of [`Builder::worker_keep_alive`].
pub const WORKER_KEEP_ALIVE_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(3600);
/// Default [`Builder::max_blocking_threads`]: 512, as in tokio.
pub const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;
/// Largest [`Builder::max_blocking_threads`] accepted.
pub const MAX_BLOCKING_THREADS_LIMIT: usize = 32768;
/// Default [`Builder::thread_keep_alive`]: 10 s, as in tokio.
pub const DEFAULT_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(10);
/// Allowed range of [`Builder::thread_keep_alive`].
pub const THREAD_KEEP_ALIVE_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(24 * 3600);
/// Allowed range of [`Builder::tick_duration`].
pub const TICK_DURATION_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_micros(1)..=Duration::from_secs(1);

/// Configures and builds a [`Runtime`]. Every setting is checked in [`build`](Self::build); a bad
/// value is a [`BuildError`] naming the field and its allowed range.
///
/// ```
/// use worker_runtime::Runtime;
/// let err = Runtime::builder().worker_threads(0).build().unwrap_err();
/// assert_eq!(err.field(), "worker_threads");
/// ```
#[derive(Clone)]
pub struct Builder {
    worker_threads: Option<usize>,
    min_workers: Option<usize>,
    max_workers: Option<usize>,
    keep_alive: Duration,
    thread_name: String,
    thread_stack_size: Option<usize>,
    max_tasks: usize,
    tick: Duration,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    blocking_start_limit: Option<usize>,
}

impl Builder {
    /// Defaults: one worker per CPU, threads named `worker-runtime-N`, the platform's default
    /// stack size, `max_tasks` = 2^30 (grown into on demand), at most 512 blocking threads, each kept 10 s when idle.
    pub fn new() -> Self {
        Builder {
            worker_threads: None,
            min_workers: None,
            max_workers: None,
            keep_alive: DEFAULT_WORKER_KEEP_ALIVE,
            thread_name: "worker-runtime".to_owned(),
            thread_stack_size: None,
            // Under Miri the default stays at the covered size: interpreting the allocation of
            // the 2^30-task directories for every runtime a test builds would triple the Miri
            // run; growth itself is exercised under Miri by summary-tree's tests.
            max_tasks: if cfg!(miri) {
                INITIAL_TASKS
            } else {
                DEFAULT_MAX_TASKS
            },
            tick: DEFAULT_TICK_DURATION,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            thread_keep_alive: DEFAULT_THREAD_KEEP_ALIVE,
            blocking_start_limit: None,
        }
    }

    /// The same as [`Builder::new`], under tokio's name (this runtime is always multi-threaded).
    pub fn new_multi_thread() -> Self {
        Self::new()
    }

    /// Number of worker threads to start with, `1..=64` (default: one per CPU).
    ///
    /// Alone (as in tokio) it fixes the count: no automatic scaling, though
    /// [`Handle::set_worker_count`](crate::Handle::set_worker_count) may still move it within
    /// `1..=max_workers`. With [`min_workers`](Self::min_workers) or
    /// [`max_workers`](Self::max_workers) set it is the starting count (default: the minimum), and
    /// the runtime scales automatically within the range.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Fewest workers when scaling automatically, `1..=max_workers` (default 1). Setting it (or
    /// [`max_workers`](Self::max_workers)) turns on automatic scaling: the service thread adds a
    /// worker when work waits while every worker is busy, and retires one that has been idle for
    /// [`worker_keep_alive`](Self::worker_keep_alive), never leaving the range.
    pub fn min_workers(&mut self, n: usize) -> &mut Self {
        self.min_workers = Some(n);
        self
    }

    /// Most workers, `1..=64` (default: the larger of the starting count and the number of CPUs).
    /// Every per-worker structure is allocated for this many. Setting it (or
    /// [`min_workers`](Self::min_workers)) turns on automatic scaling.
    pub fn max_workers(&mut self, n: usize) -> &mut Self {
        self.max_workers = Some(n);
        self
    }

    /// With automatic scaling: how long a worker must have been idle before one is retired,
    /// `1 ms..=1 h` (default 5 s).
    pub fn worker_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.keep_alive = d;
        self
    }

    /// Name prefix of the worker threads (a `-N` index is appended); blocking-pool threads are
    /// named `<name>-blocking-N`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Stack size of each worker and blocking-pool thread in bytes, at least 16 KiB.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Accepted for tokio compatibility; does nothing. Timers and IO are always available: the
    /// timer wheels cost nothing until a timer is set, and the IO driver (an epoll instance) is
    /// created by the first socket, so a runtime that never opens one never polls.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility; does nothing (see [`enable_all`](Self::enable_all)).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted for tokio compatibility; does nothing (see [`enable_all`](Self::enable_all)).
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Most tasks alive at once, `1..=2^30` (default: 2^30, the structural limit, grown into on
    /// demand, see [`DEFAULT_MAX_TASKS`]); beyond it `try_spawn` returns
    /// [`SpawnError::AtCapacity`](crate::SpawnError::AtCapacity).
    pub fn max_tasks(&mut self, n: usize) -> &mut Self {
        self.max_tasks = n;
        self
    }

    /// Timer resolution, `1 µs..=1 s` (default 64 µs). The timer wheels count in ticks of the
    /// next power of two of nanoseconds at or above it (1 ms is 2^20 ns ≈ 1.05 ms). A timer never
    /// fires before its deadline, and on an idle runtime fires within about one tick after it.
    pub fn tick_duration(&mut self, tick: Duration) -> &mut Self {
        self.tick = tick;
        self
    }

    /// Most threads of the blocking pool ([`spawn_blocking`](crate::spawn_blocking)),
    /// `1..=32768` (default 512, as in tokio). They are separate from the workers and counted
    /// apart ([`Handle::num_blocking_threads`](crate::Handle::num_blocking_threads)); a closure
    /// spawned while all of them are busy waits in a queue for the next free one.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long a blocking-pool thread waits for another closure before it exits,
    /// `1 ms..=1 day` (default 10 s, as in tokio); an idle pool shrinks to zero threads.
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.thread_keep_alive = d;
        self
    }

    /// Testing only: every blocking-pool thread start after the first `n` fails as if the system
    /// had refused it (to exercise `try_spawn_blocking`'s error path).
    #[doc(hidden)]
    pub fn fail_blocking_thread_starts_after(&mut self, n: usize) -> &mut Self {
        self.blocking_start_limit = Some(n);
        self
    }

    /// The tick in ns, a power of two.
    fn tick_ns(&self) -> u64 {
        (self.tick.as_nanos() as u64).next_power_of_two()
    }

    /// Checks every setting; returns the starting worker count and the bounds.
    fn validate(&self) -> Result<(usize, Bounds), BuildError> {
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        let range = format!("1..={MAX_WORKER_THREADS}");
        let check = |field, n: usize| {
            if (1..=MAX_WORKER_THREADS).contains(&n) {
                Ok(n)
            } else {
                Err(BuildError::new(field, n, range.clone()))
            }
        };
        if let Some(n) = self.worker_threads {
            check("worker_threads", n)?;
        }
        if let Some(n) = self.min_workers {
            check("min_workers", n)?;
        }
        if let Some(n) = self.max_workers {
            check("max_workers", n)?;
        }
        let automatic = self.min_workers.is_some() || self.max_workers.is_some();
        let min = self.min_workers.unwrap_or(1);
        let start = match (self.worker_threads, automatic) {
            (Some(n), _) => n,
            (None, true) => min,
            (None, false) => cpus.min(MAX_WORKER_THREADS),
        };
        let max = self
            .max_workers
            .unwrap_or_else(|| start.max(min).max(cpus).min(MAX_WORKER_THREADS));
        if min > max {
            return Err(BuildError::new(
                "min_workers",
                min,
                format!("1..={max} (at most max_workers)"),
            ));
        }
        if automatic && !(min..=max).contains(&start) {
            return Err(BuildError::new(
                "worker_threads",
                start,
                format!("{min}..={max} (between min_workers and max_workers)"),
            ));
        }
        if start > max {
            return Err(BuildError::new(
                "worker_threads",
                start,
                format!("1..={max} (at most max_workers)"),
            ));
        }
        if self.thread_name.is_empty() {
            return Err(BuildError::new(
                "thread_name",
                "\"\"",
                "a non-empty name (threads are named <name>-<index>)",
            ));
        }
        if self.thread_name.contains('\0') {
            return Err(BuildError::new(
                "thread_name",
                format!("{:?}", self.thread_name),
                "a name without NUL bytes",
            ));
        }
        if !WORKER_KEEP_ALIVE_RANGE.contains(&self.keep_alive) {
            return Err(BuildError::new(
                "worker_keep_alive",
                format!("{:?}", self.keep_alive),
                format!(
                    "{:?}..={:?}",
                    WORKER_KEEP_ALIVE_RANGE.start(),
                    WORKER_KEEP_ALIVE_RANGE.end()
                ),
            ));
        }
        if let Some(size) = self.thread_stack_size {
            if size < MIN_THREAD_STACK_SIZE {
                return Err(BuildError::new(
                    "thread_stack_size",
                    size,
                    format!("at least {MIN_THREAD_STACK_SIZE} bytes"),
                ));
            }
        }
        if !(1..=MAX_TASKS_LIMIT).contains(&self.max_tasks) {
            return Err(BuildError::new(
                "max_tasks",
                self.max_tasks,
                format!("1..={MAX_TASKS_LIMIT}"),
            ));
        }
        if !TICK_DURATION_RANGE.contains(&self.tick) {
            return Err(BuildError::new(
                "tick_duration",
                format!("{:?}", self.tick),
                format!(
                    "{:?}..={:?}",
                    TICK_DURATION_RANGE.start(),
                    TICK_DURATION_RANGE.end()
                ),
            ));
        }
        if !(1..=MAX_BLOCKING_THREADS_LIMIT).contains(&self.max_blocking_threads) {
            return Err(BuildError::new(
                "max_blocking_threads",
                self.max_blocking_threads,
                format!("1..={MAX_BLOCKING_THREADS_LIMIT}"),
            ));
        }
        if !THREAD_KEEP_ALIVE_RANGE.contains(&self.thread_keep_alive) {
            return Err(BuildError::new(
                "thread_keep_alive",
                format!("{:?}", self.thread_keep_alive),
                format!(
                    "{:?}..={:?}",
                    THREAD_KEEP_ALIVE_RANGE.start(),
                    THREAD_KEEP_ALIVE_RANGE.end()
                ),
            ));
        }
        let bounds = Bounds {
            min,
            max,
            automatic,
            keep_alive: self.keep_alive,
        };
        Ok((start, bounds))
    }

    /// Starts the workers and the service thread.
    pub fn build(&mut self) -> Result<Runtime, BuildError> {
        let (start, bounds) = self.validate()?;
        let slots = bounds.max;
        let tree = SummaryTree::new(
            SummaryTreeConfig::new(slots)
                .max_tasks(self.max_tasks)
                .initial_tasks(INITIAL_TASKS.min(self.max_tasks))
                .active_workers(start),
        )
        .map_err(|e| BuildError::new("max_tasks", self.max_tasks, e.to_string()))?;
        let table = SlotTable::new(self.max_tasks);
        let queues: Vec<_> = (0..slots)
            .map(|_| crate::scheduler::queue::LocalQueue::new_fifo())
            .collect();
        let stealers = queues.iter().map(|q| q.stealer()).collect();
        let config = ThreadConfig {
            name: self.thread_name.clone(),
            stack_size: self.thread_stack_size,
        };
        let pool = Pool::new(queues, config, bounds);
        let blocking = BlockingPool::new(BlockingConfig {
            thread_name: self.thread_name.clone(),
            stack_size: self.thread_stack_size,
            max_threads: self.max_blocking_threads,
            keep_alive: self.thread_keep_alive,
            start_limit: self.blocking_start_limit,
        });
        let shared = Arc::new(Shared::new(
            tree,
            table,
            stealers,
            self.max_tasks,
            self.tick_ns(),
            pool,
            blocking,
        ));
        // From here on, an early return drops `rt`, which shuts down what was started.
        let rt = Runtime {
            shared: Arc::clone(&shared),
        };
        // A thread that cannot start with the asked-for stack size is the stack size's fault.
        let thread_error = |e: &dyn std::fmt::Display| match self.thread_stack_size {
            Some(size) => BuildError::new(
                "thread_stack_size",
                size,
                format!("a stack the system can allocate for every thread ({e})"),
            ),
            None => BuildError::new(
                "worker_threads",
                start,
                format!("as many as the system can start ({e})"),
            ),
        };
        shared
            .pool
            .scale_to(&shared, start)
            .map_err(|e| thread_error(&e))?;
        let service = WorkerService::new(Arc::clone(&shared));
        shared
            .pool
            .start_service(move || service.run())
            .map_err(|e| thread_error(&format!("starting the service thread failed: {e}")))?;
        Ok(rt)
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("min_workers", &self.min_workers)
            .field("max_workers", &self.max_workers)
            .field("worker_keep_alive", &self.keep_alive)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("max_tasks", &self.max_tasks)
            .field("tick_duration", &self.tick)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .finish()
    }
}
