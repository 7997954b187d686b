//! The worker pool: which worker slots have a thread, starting and retiring workers, and waiting
//! for every thread to leave at shutdown.
//!
//! A runtime has `max_workers` slots (every per-worker structure is allocated for each: status
//! word, LIFO slot, yield queue, timer wheel); workers `0..active` own partitions of the summary
//! tree, where `active` is the tree's published assignment. Each slot has a state:
//!
//! ```text
//!            start                 retire requested               worker commits
//!   VACANT ─────────▶ RUNNING ───────────────────────▶ RETIRE_REQUESTED ─────────▶ RETIRING
//!     ▲                  ▲     grown back before commit        │                      │
//!     │                  └─────────────────────────────────────┘                      │
//!     └───────────────── thread handed off its work and put its queue back ───────────┘
//! ```
//!
//! Shrinking publishes the smaller assignment first (the summary tree re-syncs every worker's
//! partition summary, so the new owners see every task already in the tree), then asks each
//! worker beyond it to retire. A worker notices at its next idle moment (or every few dozen polls),
//! commits with a CAS, hands its LIFO task and yield queue to the summary tree (whose new owners
//! are notified), leaves the searching count and the parked set, clears its status word and
//! permits, and exits; its timers stay in its wheel, which the service thread serves while the
//! slot is vacant. Growing starts threads for vacant slots (or cancels a retirement that has not
//! been committed yet), then publishes the larger assignment.

use crate::scheduler::queue::LocalQueue;
use crate::scheduler::shared::Shared;
use crate::scheduler::worker::Worker;
use crate::sync::{lock, new_atomic_u64, new_atomic_u8, AtomicU64, AtomicU8, Mutex, Ordering};
use crate::task::Notified;
use crossbeam_utils::CachePadded;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::{Arc, Condvar};
use std::thread;
use std::time::{Duration, Instant};

/// No thread runs in this slot.
pub(crate) const VACANT: u8 = 0;
/// A worker thread runs in this slot.
pub(crate) const RUNNING: u8 = 1;
/// The worker should retire at its next idle moment.
pub(crate) const RETIRE_REQUESTED: u8 = 2;
/// The worker has committed to retiring and is handing off its work.
pub(crate) const RETIRING: u8 = 3;

/// Counts the runtime's live threads (workers and the service), so shutdown can wait for all of
/// them with a timeout, and threads that have exited can be joined without blocking.
#[derive(Default)]
pub(crate) struct ExitLatch {
    live: std::sync::Mutex<usize>,
    cond: Condvar,
}

impl ExitLatch {
    fn started(&self) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn arrive(&self) {
        let mut n = self.live.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        self.cond.notify_all();
    }

    /// Threads started and not yet exited.
    pub(crate) fn live(&self) -> usize {
        *self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until no thread is live or `deadline` passed; returns whether none is live.
    fn wait_none_live(&self, deadline: Option<Instant>) -> bool {
        let mut n = self.live.lock().unwrap_or_else(|e| e.into_inner());
        while *n > 0 {
            match deadline {
                None => n = self.cond.wait(n).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    n = self
                        .cond
                        .wait_timeout(n, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        true
    }
}

/// Reports its thread's exit to the [`ExitLatch`] when dropped: at the end of the thread's body,
/// and also when it unwinds, so no shutdown ever waits for a thread that is gone.
struct ExitGuard(Arc<ExitLatch>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.arrive();
    }
}

/// Names and stack sizes of the runtime's threads.
#[derive(Clone, Debug)]
pub(crate) struct ThreadConfig {
    pub(crate) name: String,
    pub(crate) stack_size: Option<usize>,
}

impl ThreadConfig {
    fn builder(&self, suffix: &str) -> thread::Builder {
        let mut b = thread::Builder::new().name(format!("{}-{suffix}", self.name));
        if let Some(size) = self.stack_size {
            b = b.stack_size(size);
        }
        b
    }
}

/// The allowed worker counts and whether the service scales automatically within them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) automatic: bool,
    /// How long a worker must have been parked before the service retires one (automatic only).
    pub(crate) keep_alive: Duration,
}

/// Why [`Handle::set_worker_count`](crate::Handle::set_worker_count) refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCountError {
    /// The count is outside the allowed range (`min_workers..=max_workers`, or
    /// `1..=max_workers` when the runtime does not scale automatically).
    OutOfRange {
        /// The count asked for.
        requested: usize,
        /// The allowed range.
        allowed: RangeInclusive<usize>,
    },
    /// The runtime is shutting down.
    Shutdown,
    /// The system refused to start a worker thread.
    ThreadStart(String),
}

impl fmt::Display for WorkerCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerCountError::OutOfRange { requested, allowed } => write!(
                f,
                "worker count {requested} is out of range: allowed {}..={}",
                allowed.start(),
                allowed.end()
            ),
            WorkerCountError::Shutdown => f.write_str("the runtime is shutting down"),
            WorkerCountError::ThreadStart(e) => write!(f, "could not start a worker thread: {e}"),
        }
    }
}

impl std::error::Error for WorkerCountError {}

/// Thread handles of the slots and the service.
struct Handles {
    workers: Vec<Option<thread::JoinHandle<()>>>,
    service: Option<thread::JoinHandle<()>>,
}

/// The worker pool of one runtime (see the module docs).
pub(crate) struct Pool {
    states: Box<[CachePadded<AtomicU8>]>,
    /// Per slot: when its worker parked (ns on the timer clock, plus one), 0 while it is awake.
    parked_since: Box<[CachePadded<AtomicU64>]>,
    /// Each slot's yield queue (the owner side of its stealer in `Shared`), held here while the
    /// slot is vacant and by the slot's thread while it runs.
    queues: Box<[Mutex<Option<LocalQueue<Notified>>>]>,
    handles: Mutex<Handles>,
    exits: Arc<ExitLatch>,
    config: ThreadConfig,
    pub(crate) bounds: Bounds,
}

impl Pool {
    pub(crate) fn new(
        queues: Vec<LocalQueue<Notified>>,
        config: ThreadConfig,
        bounds: Bounds,
    ) -> Self {
        Self::with_slots(
            queues.into_iter().map(Some).collect(),
            VACANT,
            config,
            bounds,
        )
    }

    /// A pool whose `slots` workers are driven by someone else (the loom harness runs the
    /// workers' steps on model threads): every slot counts as running, no thread is ever started.
    #[cfg(loom)]
    pub(crate) fn driven_externally(slots: usize) -> Self {
        let config = ThreadConfig {
            name: "loom".to_owned(),
            stack_size: None,
        };
        let bounds = Bounds {
            min: 1,
            max: slots,
            automatic: false,
            keep_alive: Duration::from_secs(1),
        };
        Self::with_slots((0..slots).map(|_| None).collect(), RUNNING, config, bounds)
    }

    /// One slot per entry of `queues` (its yield queue, if the pool holds it), all in `state`.
    fn with_slots(
        queues: Vec<Option<LocalQueue<Notified>>>,
        state: u8,
        config: ThreadConfig,
        bounds: Bounds,
    ) -> Self {
        let slots = queues.len();
        Pool {
            states: (0..slots)
                .map(|_| CachePadded::new(new_atomic_u8(state)))
                .collect(),
            parked_since: (0..slots)
                .map(|_| CachePadded::new(new_atomic_u64(0)))
                .collect(),
            queues: queues.into_iter().map(Mutex::new).collect(),
            handles: Mutex::new(Handles {
                workers: (0..slots).map(|_| None).collect(),
                service: None,
            }),
            exits: Arc::new(ExitLatch::default()),
            config,
            bounds,
        }
    }

    /// Asks slot `w`'s worker to retire, as `scale_to` does after publishing a smaller
    /// assignment (the loom harness drives this step itself).
    #[cfg(loom)]
    pub(crate) fn request_retire(&self, w: usize) -> bool {
        self.states[w]
            .compare_exchange(
                RUNNING,
                RETIRE_REQUESTED,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Slot `w`'s state.
    #[inline]
    pub(crate) fn state(&self, w: usize) -> u8 {
        self.states[w].load(Ordering::SeqCst)
    }

    /// Worker `w` commits to retiring if asked to: `RETIRE_REQUESTED → RETIRING`. `false` if it
    /// was not asked (or was grown back first).
    pub(crate) fn commit_retire(&self, w: usize) -> bool {
        self.states[w]
            .compare_exchange(
                RETIRE_REQUESTED,
                RETIRING,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Worker `w` parks at `now_ns` (`Some`) or is awake again (`None`); read by the service's
    /// scale-down decision.
    #[inline]
    pub(crate) fn set_parked(&self, w: usize, now_ns: Option<u64>) {
        // Relaxed: a hint for the service's scaling decision; nothing is published through it.
        self.parked_since[w].store(now_ns.map_or(0, |t| t + 1), Ordering::Relaxed);
    }

    /// Since when worker `w` has been parked (ns on the timer clock), if it is.
    pub(crate) fn parked_since(&self, w: usize) -> Option<u64> {
        // Relaxed: see `set_parked`.
        match self.parked_since[w].load(Ordering::Relaxed) {
            0 => None,
            t => Some(t - 1),
        }
    }

    /// Threads started and not yet exited (workers and the service).
    pub(crate) fn live_threads(&self) -> usize {
        self.exits.live()
    }

    /// The allowed range for [`scale_to`](Self::scale_to).
    pub(crate) fn allowed(&self) -> RangeInclusive<usize> {
        if self.bounds.automatic {
            self.bounds.min..=self.bounds.max
        } else {
            1..=self.bounds.max
        }
    }

    /// Starts the service thread.
    pub(crate) fn start_service(
        &self,
        body: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let mut handles = lock(&self.handles);
        self.exits.started();
        let exits = Arc::clone(&self.exits);
        match self.config.builder("service").spawn(move || {
            let _exit = ExitGuard(exits);
            body();
        }) {
            Ok(h) => {
                handles.service = Some(h);
                Ok(())
            }
            Err(e) => {
                self.exits.arrive();
                Err(e)
            }
        }
    }

    /// Moves the worker count to `n` (see the module docs). Called by `Builder::build`,
    /// `Handle::set_worker_count` and the service.
    pub(crate) fn scale_to(&self, shared: &Arc<Shared>, n: usize) -> Result<(), WorkerCountError> {
        let allowed = self.allowed();
        if !allowed.contains(&n) {
            return Err(WorkerCountError::OutOfRange {
                requested: n,
                allowed,
            });
        }
        let mut handles = lock(&self.handles);
        if shared.is_shutdown() {
            return Err(WorkerCountError::Shutdown);
        }
        let current = shared.active_workers();
        let running = (0..self.states.len())
            .filter(|&w| self.state(w) == RUNNING)
            .count();
        if n > current || running < n {
            for w in 0..n {
                self.ensure_running(shared, &mut handles, w)?;
            }
            if n != current {
                shared
                    .tree
                    .set_active_workers(n)
                    .expect("n within max_workers");
            }
        } else if n < current {
            shared
                .tree
                .set_active_workers(n)
                .expect("n within max_workers");
            for w in n..current {
                if self.states[w]
                    .compare_exchange(
                        RUNNING,
                        RETIRE_REQUESTED,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                    .is_ok()
                {
                    shared.tree.waker(w).release_permit();
                }
            }
        }
        Ok(())
    }

    /// Makes slot `w` run a worker: cancels a pending retirement, or waits out a committed one
    /// (a handoff of a few queue operations, no user code) and starts a new thread.
    fn ensure_running(
        &self,
        shared: &Arc<Shared>,
        handles: &mut Handles,
        w: usize,
    ) -> Result<(), WorkerCountError> {
        loop {
            match self.state(w) {
                RUNNING => return Ok(()),
                RETIRE_REQUESTED => {
                    if self.states[w]
                        .compare_exchange(
                            RETIRE_REQUESTED,
                            RUNNING,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .is_ok()
                    {
                        return Ok(());
                    }
                }
                RETIRING => thread::yield_now(),
                _ => break,
            }
        }
        if let Some(old) = handles.workers[w].take() {
            // VACANT: the old thread has put its queue back and is at its last instructions.
            let _ = old.join();
        }
        let Some(queue) = lock(&self.queues[w]).take() else {
            // Its thread died with the queue (it cannot, short of an abort): leave the slot.
            return Err(WorkerCountError::ThreadStart(format!(
                "worker slot {w} lost its queue"
            )));
        };
        self.states[w].store(RUNNING, Ordering::SeqCst);
        self.exits.started();
        let exits = Arc::clone(&self.exits);
        let worker = Worker::new(w, Arc::clone(shared), queue);
        let spawned = self.config.builder(&w.to_string()).spawn(move || {
            let _exit = ExitGuard(exits);
            let shared = worker.shared();
            let queue = worker.run();
            let pool = &shared.pool;
            *lock(&pool.queues[w]) = Some(queue);
            pool.states[w].store(VACANT, Ordering::SeqCst);
            // The service serves the vacant slot's timers from now on, and joins this thread.
            shared.timers.service_waker.release_permit();
        });
        match spawned {
            Ok(h) => {
                handles.workers[w] = Some(h);
                Ok(())
            }
            Err(e) => {
                // The closure (with the worker and its queue) was dropped: the slot has no queue
                // any more and stays vacant.
                self.exits.arrive();
                self.states[w].store(VACANT, Ordering::SeqCst);
                Err(WorkerCountError::ThreadStart(e.to_string()))
            }
        }
    }

    /// Runs `f` if slot `w` is vacant, with the pool locked so that no thread can start in it
    /// meanwhile (only `scale_to`, which holds the same lock, starts threads). Skips `f` if the
    /// lock is taken right now.
    pub(crate) fn while_vacant(&self, w: usize, f: impl FnOnce()) {
        if let Some(_handles) = crate::sync::try_lock(&self.handles) {
            if self.state(w) == VACANT {
                f();
            }
        }
    }

    /// Joins the threads of vacant slots (retired workers that have exited). Never blocks for
    /// long: a vacant slot's thread has finished its work.
    pub(crate) fn reap(&self) {
        let Some(mut handles) = crate::sync::try_lock(&self.handles) else {
            return;
        };
        for (w, h) in handles.workers.iter_mut().enumerate() {
            if self.state(w) == VACANT {
                if let Some(h) = h.take() {
                    let _ = h.join();
                }
            }
        }
    }

    /// Shutdown's wait: until every thread has left or `deadline`; joins them all if so, detaches
    /// them otherwise. `waitable` is false on one of this runtime's own workers (it could never
    /// see itself leave): then every thread is detached at once. Returns whether all had left.
    pub(crate) fn wait_all(&self, deadline: Option<Instant>, waitable: bool) -> bool {
        let all_exited = waitable && self.exits.wait_none_live(deadline);
        let mut handles = lock(&self.handles);
        let service = handles.service.take();
        let taken: Vec<_> = handles
            .workers
            .iter_mut()
            .filter_map(Option::take)
            .chain(service)
            .collect();
        drop(handles);
        if all_exited {
            for h in taken {
                let _ = h.join();
            }
        }
        // Otherwise the handles drop here: detached. Each thread drops its task as cancelled
        // after its poll and exits on its own.
        all_exited
    }
}
