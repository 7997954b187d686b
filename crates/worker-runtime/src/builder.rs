//! [`Builder`]: validated runtime configuration.

use crate::error::BuildError;
use crate::runtime::{ExitGuard, ExitLatch, Runtime};
use crate::scheduler::shared::Shared;
use crate::scheduler::worker::Worker;
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
/// Default `max_tasks`: 2^21 live tasks.
pub const DEFAULT_MAX_TASKS: usize = 1 << 21;
/// Default timer resolution ([`Builder::tick_duration`]): 64 µs, used as 2^16 ns (65.5 µs).
///
/// Finer than tokio's 1 ms: a 1 ms sleep then ends on average about 0.5 ms earlier (the deadline
/// is rounded up to a tick), and the cost is only more, smaller batches of timer firing (the
/// wheels skip empty slots through bitmaps; an idle runtime still never wakes up). The wheel spans
/// 2^30 ticks (about 19.5 hours) at this tick; later deadlines wait in an overflow list.
pub const DEFAULT_TICK_DURATION: Duration = Duration::from_micros(64);
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
    thread_name: String,
    thread_stack_size: Option<usize>,
    max_tasks: usize,
    tick: Duration,
}

impl Builder {
    /// Defaults: one worker per CPU, threads named `worker-runtime-N`, the platform's default
    /// stack size, `max_tasks` = 2^21.
    pub fn new() -> Self {
        Builder {
            worker_threads: None,
            thread_name: "worker-runtime".to_owned(),
            thread_stack_size: None,
            max_tasks: DEFAULT_MAX_TASKS,
            tick: DEFAULT_TICK_DURATION,
        }
    }

    /// Number of worker threads, `1..=64`.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Name prefix of the worker threads (a `-N` index is appended).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// Stack size of each worker thread in bytes, at least 16 KiB.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Most tasks alive at once, `1..=2^30`; beyond it `try_spawn` returns
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

    /// The tick in ns, a power of two.
    fn tick_ns(&self) -> u64 {
        (self.tick.as_nanos() as u64).next_power_of_two()
    }

    fn validate(&self) -> Result<usize, BuildError> {
        let workers = match self.worker_threads {
            Some(n) => n,
            None => thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_WORKER_THREADS),
        };
        if !(1..=MAX_WORKER_THREADS).contains(&workers) {
            return Err(BuildError::new(
                "worker_threads",
                workers,
                format!("1..={MAX_WORKER_THREADS}"),
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
        Ok(workers)
    }

    /// Starts the workers.
    pub fn build(&mut self) -> Result<Runtime, BuildError> {
        let workers = self.validate()?;
        let tree = SummaryTree::new(SummaryTreeConfig::new(workers).max_tasks(self.max_tasks))
            .map_err(|e| BuildError::new("max_tasks", self.max_tasks, e.to_string()))?;
        let table = SlotTable::new(self.max_tasks);
        let queues: Vec<_> = (0..workers)
            .map(|_| crate::scheduler::queue::LocalQueue::new_fifo())
            .collect();
        let stealers = queues.iter().map(|q| q.stealer()).collect();
        let shared = Arc::new(Shared::new(
            tree,
            table,
            stealers,
            self.max_tasks,
            self.tick_ns(),
        ));
        let exits = Arc::new(ExitLatch::default());
        let mut rt = Runtime {
            shared: Arc::clone(&shared),
            threads: Vec::with_capacity(workers),
            exits: Arc::clone(&exits),
        };
        for (i, queue) in queues.into_iter().enumerate() {
            let mut t = thread::Builder::new().name(format!("{}-{i}", self.thread_name));
            if let Some(size) = self.thread_stack_size {
                t = t.stack_size(size);
            }
            let worker = Worker::new(i, Arc::clone(&shared), queue);
            let exits = Arc::clone(&exits);
            let spawned = t.spawn(move || {
                let _exit = ExitGuard(exits);
                worker.run();
            });
            match spawned {
                Ok(handle) => rt.threads.push(handle),
                Err(e) => {
                    // `rt` drops here and shuts down the workers already started.
                    return Err(BuildError::new(
                        "worker_threads",
                        workers,
                        format!(
                            "as many as the system can start (spawning thread {i} failed: {e})"
                        ),
                    ));
                }
            }
        }
        let service = WorkerService::new(Arc::clone(&shared));
        let spawned = thread::Builder::new()
            .name(format!("{}-service", self.thread_name))
            .spawn(move || {
                let _exit = ExitGuard(exits);
                service.run();
            });
        match spawned {
            Ok(handle) => rt.threads.push(handle),
            Err(e) => {
                return Err(BuildError::new(
                    "worker_threads",
                    workers,
                    format!("as many as the system can start, plus the service thread (starting it failed: {e})"),
                ))
            }
        }
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
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("max_tasks", &self.max_tasks)
            .field("tick_duration", &self.tick)
            .finish()
    }
}
