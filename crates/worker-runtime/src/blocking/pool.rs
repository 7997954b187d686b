//! The blocking pool's threads and queue: one mutex over the queue and the counts, one condition
//! variable idle threads wait on, one that shutdown waits on for threads to exit.
//!
//! The accounting is tokio's and is exact because every count changes under the one lock:
//!
//! * `num_threads` counts threads that will look at the queue again before they exit: a thread
//!   leaves the count in the same critical section in which it decides to exit;
//! * `num_idle` counts threads waiting for work that nobody has claimed yet; a spawn that finds
//!   one claims it (`num_idle -= 1`, `num_notify += 1`) and signals the condition variable once;
//! * `num_notify` counts claims not yet taken: a waking idle thread takes one if there is any,
//!   *before* it looks at its timeout, so a claim made while its wait timed out is still taken
//!   (by it or by another idle thread) and no job is left in the queue with every thread asleep.
//!
//! A spawn starts a thread only when no idle thread is unclaimed and fewer than
//! `max_blocking_threads` run. If the system refuses the thread, the job still queues when some
//! thread exists (each busy thread looks at the queue before it waits again); with none, the
//! spawn fails and the job is given back to be cancelled, so nothing is ever left in a queue that
//! no thread will read. An idle thread that has waited `thread_keep_alive` without work exits, so
//! an idle pool shrinks to zero threads.
//!
//! The lock is never held while user code runs: a job runs (and a cancelled one is dropped) after
//! the lock is released. It is held while a thread is started, so the new thread's first look at
//! the queue comes after the job it was started for was queued.

use crate::context;
use crate::error::SpawnError;
use crate::scheduler::shared::Shared;
use crate::sync::{lock_unmodelled, UnmodelledCondvar, UnmodelledMutex, UnmodelledMutexGuard};
use crate::task::Notified;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::ptr;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The blocking pool's settings, from the builder.
#[derive(Clone, Debug)]
pub(crate) struct BlockingConfig {
    /// Thread name prefix: threads are named `<name>-blocking-<index>`.
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
    /// Most threads at once (`Builder::max_blocking_threads`).
    pub(crate) max_threads: usize,
    /// How long an idle thread waits for work before it exits (`Builder::thread_keep_alive`).
    pub(crate) keep_alive: Duration,
    /// Testing only: every thread start after this many fails as if the system refused it.
    pub(crate) start_limit: Option<usize>,
}

/// Everything the mutex guards.
struct State {
    queue: VecDeque<Notified>,
    /// Threads that will look at the queue again before exiting (see the module docs).
    num_threads: usize,
    /// Idle threads not yet claimed by a spawn.
    num_idle: usize,
    /// Claims on idle threads not yet taken by a waking thread.
    num_notify: usize,
    /// Jobs being run right now.
    running: usize,
    shutdown: bool,
    /// Index of the next thread (its name's suffix and its key in `handles`).
    next_index: usize,
    /// Threads started so far (for `BlockingConfig::start_limit`).
    starts: usize,
    /// The handles of live threads; an exiting thread takes its own out.
    handles: HashMap<usize, thread::JoinHandle<()>>,
    /// The last thread that exited: joined by the next one that exits, or by shutdown, so the
    /// handles of threads that left on keep-alive do not pile up.
    last_exited: Option<thread::JoinHandle<()>>,
}

/// The blocking pool of one runtime (see the module docs).
pub(crate) struct BlockingPool {
    state: UnmodelledMutex<State>,
    /// Idle threads wait here: signalled once per claim, and all at once at shutdown.
    work: UnmodelledCondvar,
    /// Shutdown waits here for threads to exit; every exit signals it.
    exited: UnmodelledCondvar,
    config: BlockingConfig,
}

std::thread_local! {
    /// The pool whose thread this is (null on any other thread): shutdown never waits for the
    /// thread it runs on. `std`'s even under loom: only real pool threads set it.
    static CURRENT_POOL: Cell<*const BlockingPool> = const { Cell::new(ptr::null()) };
}

/// Marks this thread as one of `pool`'s until dropped.
struct CurrentPool;

impl CurrentPool {
    fn enter(pool: &BlockingPool) -> Self {
        CURRENT_POOL.with(|c| c.set(pool));
        CurrentPool
    }
}

impl Drop for CurrentPool {
    fn drop(&mut self) {
        CURRENT_POOL.with(|c| c.set(ptr::null()));
    }
}

/// What a pool thread is counted as; on drop (an unwind out of the thread's loop, which runs no
/// user code outside a task's contained run) it takes the thread out of every count it is still
/// in, so shutdown never waits for a thread that is gone.
struct ExitReport<'a> {
    pool: &'a BlockingPool,
    index: usize,
    /// Still in `num_threads` (cleared by the normal exit, which does its accounting itself).
    counted: bool,
    idle: bool,
    running: bool,
}

impl Drop for ExitReport<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut st = lock_unmodelled(&self.pool.state);
        st.num_threads -= 1;
        if self.idle {
            st.num_idle -= 1;
        }
        if self.running {
            st.running -= 1;
        }
        // Our own handle: dropped (detached), never joined by ourselves.
        drop(st.handles.remove(&self.index));
        self.pool.exited.notify_all();
    }
}

impl BlockingPool {
    pub(crate) fn new(config: BlockingConfig) -> Self {
        BlockingPool {
            state: UnmodelledMutex::new(State {
                queue: VecDeque::new(),
                num_threads: 0,
                num_idle: 0,
                num_notify: 0,
                running: 0,
                shutdown: false,
                next_index: 0,
                starts: 0,
                handles: HashMap::new(),
                last_exited: None,
            }),
            work: UnmodelledCondvar::new(),
            exited: UnmodelledCondvar::new(),
            config,
        }
    }

    /// Live pool threads (running a job, idle, or about to look at the queue).
    pub(crate) fn num_threads(&self) -> usize {
        lock_unmodelled(&self.state).num_threads
    }

    /// Whether the calling thread is one of this pool's threads.
    fn is_current_thread(&self) -> bool {
        CURRENT_POOL.with(|c| ptr::eq(c.get(), self))
    }

    /// Queues `task` (its run permission) for a pool thread, starting one if needed (see the
    /// module docs). Gives the task back, for the caller to cancel outside the lock, after
    /// shutdown began or when no thread could start and none exists.
    pub(crate) fn submit(
        &self,
        shared: &Arc<Shared>,
        task: Notified,
    ) -> Result<(), (SpawnError, Notified)> {
        let mut st = lock_unmodelled(&self.state);
        if st.shutdown || shared.is_shutdown() {
            return Err((SpawnError::Shutdown, task));
        }
        if st.num_idle > 0 {
            st.num_idle -= 1;
            st.num_notify += 1;
            st.queue.push_back(task);
            self.work.notify_one();
            return Ok(());
        }
        if st.num_threads < self.config.max_threads {
            if let Err(e) = self.start_thread(&mut st, shared) {
                if st.num_threads == 0 {
                    return Err((SpawnError::ThreadStart(e.to_string()), task));
                }
                // Busy threads exist: each looks at the queue when its job returns.
            }
        }
        st.queue.push_back(task);
        Ok(())
    }

    /// Starts one thread (under the lock: its first look at the queue follows our push).
    fn start_thread(&self, st: &mut State, shared: &Arc<Shared>) -> io::Result<()> {
        if self
            .config
            .start_limit
            .is_some_and(|limit| st.starts >= limit)
        {
            return Err(io::Error::other(
                "blocking thread start refused by Builder::fail_blocking_thread_starts_after",
            ));
        }
        let index = st.next_index;
        let mut builder =
            thread::Builder::new().name(format!("{}-blocking-{index}", self.config.thread_name));
        if let Some(size) = self.config.stack_size {
            builder = builder.stack_size(size);
        }
        let thread_shared = Arc::clone(shared);
        let handle = builder.spawn(move || run_thread(thread_shared, index))?;
        st.next_index += 1;
        st.starts += 1;
        st.num_threads += 1;
        st.handles.insert(index, handle);
        Ok(())
    }

    /// A pool thread's loop: run queued jobs, wait (at most `keep_alive`) for more, exit on
    /// timeout or shutdown.
    fn run(&self, exit: &mut ExitReport<'_>) {
        let mut st = lock_unmodelled(&self.state);
        'main: loop {
            while let Some(task) = st.queue.pop_front() {
                st.running += 1;
                exit.running = true;
                drop(st);
                // Contained: a panic in the closure (or in its output's `Drop`) is the task's
                // result, never this thread's end.
                let (_, again) = task.run();
                st = lock_unmodelled(&self.state);
                st.running -= 1;
                exit.running = false;
                if let Some(again) = again {
                    // Unreachable (a blocking task finishes in its one poll); should a permission
                    // come back, the task is cancelled rather than left behind.
                    drop(st);
                    again.cancel();
                    st = lock_unmodelled(&self.state);
                }
            }
            if st.shutdown {
                break 'main;
            }
            st.num_idle += 1;
            exit.idle = true;
            let deadline = Instant::now().checked_add(self.config.keep_alive);
            loop {
                st = match deadline {
                    Some(d) => {
                        let wait = d.saturating_duration_since(Instant::now());
                        self.work
                            .wait_timeout(st, wait)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => self.work.wait(st).unwrap_or_else(|e| e.into_inner()),
                };
                if st.num_notify > 0 {
                    // A spawn claimed us (and already took us out of `num_idle`).
                    st.num_notify -= 1;
                    exit.idle = false;
                    continue 'main;
                }
                if st.shutdown || deadline.is_some_and(|d| Instant::now() >= d) {
                    st.num_idle -= 1;
                    exit.idle = false;
                    break 'main;
                }
                // A spurious wake-up: wait for the rest of the keep-alive.
            }
        }
        self.exit(st, exit);
    }

    /// The normal exit, decided under the lock `st`: leaves the counts in the same critical
    /// section, parks its handle for the next exiting thread to join, and joins the previous one
    /// (which has left every count already and is at its last instructions; never this thread).
    fn exit(&self, mut st: UnmodelledMutexGuard<'_, State>, exit: &mut ExitReport<'_>) {
        st.num_threads -= 1;
        exit.counted = false;
        let mine = st.handles.remove(&exit.index);
        let previous = std::mem::replace(&mut st.last_exited, mine);
        self.exited.notify_all();
        drop(st);
        if let Some(previous) = previous {
            let _ = previous.join();
        }
    }

    /// Shutdown's first half, after `Shared::begin_shutdown`: refuses new jobs, cancels every
    /// queued one (its closure dropped unrun, contained, inside the runtime's context; its handle
    /// resolves cancelled) and wakes the idle threads so they exit. Running jobs go on.
    pub(crate) fn begin_shutdown(&self, shared: &Arc<Shared>) {
        let queued: Vec<Notified> = {
            let mut st = lock_unmodelled(&self.state);
            st.shutdown = true;
            self.work.notify_all();
            st.queue.drain(..).collect()
        };
        if !queued.is_empty() {
            let _context = context::enter(shared, None);
            for task in queued {
                task.cancel();
            }
        }
    }

    /// Shutdown's second half: waits (until `deadline`; not at all unless `waitable`) for every
    /// pool thread but the calling one to exit, then joins them if they all did (never the caller)
    /// or leaves them detached. Returns the jobs still running and whether no pool thread is left.
    pub(crate) fn wait_shutdown(&self, deadline: Option<Instant>, waitable: bool) -> (usize, bool) {
        let own = usize::from(self.is_current_thread());
        let mut st = lock_unmodelled(&self.state);
        while waitable && st.num_threads > own {
            st = match deadline {
                None => self.exited.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    self.exited
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let others_gone = st.num_threads <= own;
        let running = st.running;
        let last_exited = st.last_exited.take();
        let handles: Vec<_> = st
            .handles
            .drain()
            .map(|(_, h)| h)
            .chain(last_exited)
            .collect();
        drop(st);
        if others_gone {
            let me = thread::current().id();
            for h in handles {
                // Every other thread has left the counts: each join is a thread's last steps.
                if h.thread().id() != me {
                    let _ = h.join();
                }
            }
        }
        // Otherwise the handles drop here: detached; each thread exits after its job returns.
        (running, others_gone && own == 0)
    }
}

/// The body of a pool thread: inside the runtime's context (so `spawn`, `Handle::current` and the
/// time functions work in a blocking closure, as in tokio), marked as this pool's thread.
fn run_thread(shared: Arc<Shared>, index: usize) {
    let pool = &shared.blocking;
    let _context = context::enter(&shared, None);
    let _current = CurrentPool::enter(pool);
    let mut exit = ExitReport {
        pool,
        index,
        counted: true,
        idle: false,
        running: false,
    };
    pool.run(&mut exit);
}
