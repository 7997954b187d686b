//! The loom façade: just enough of the crate-private machinery for the integration-test models in
//! `tests/loom_*.rs`. Compiled only under `--cfg loom`, hidden from the docs, no stability promise.
//!
//! * [`TestScheduler`]: the real task state machine (`task/`) on a minimal [`Schedule`]: a queue
//!   of run permissions and a slot table, both behind loom mutexes. Anything that leaks a task
//!   leaks the scheduler's loom `Arc` with it, which loom reports at the end of the model.
//! * [`ParkModel`]: the real parking protocol ([`idle::park_protocol`](crate::scheduler::idle) and
//!   `notify_one`) on a loom-built [`SummaryTree`], for remote-spawn-versus-park models.
//! * [`RunLoopModel`] / [`ModelWorker`]: a real `Shared` and real `Worker`s (without their
//!   threads), so a model thread can play a worker through the run loop's own steps
//!   (`find_task`, `run_task`, `park` with the real final check `work_visible`) and spawn and wake
//!   through the runtime's own `Shared::spawn`, `Schedule` and thread-local context.
//!
//!   The same model drives the timers' own code: a `Sleep` polled inside a worker's context is
//!   filed in that worker's wheel, and [`RunLoopModel::fire_timers`] is the owner's timer check.
//!
//! Everything here must be created inside `loom::model` (it holds loom atomics and mutexes).

use crate::context::{self, EnterGuard};
use crate::scheduler::idle::{self, Idle};
use crate::scheduler::queue::LocalQueue;
use crate::scheduler::shared::Shared;
use crate::scheduler::worker::{SearchState, Worker};
use crate::table::SlotTable;
use crate::task::{self, Header, JoinHandle, Notified, RunOutcome, Schedule};
use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicUsize;
use loom::sync::{Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc as StdArc;
use summary_tree::{SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};

/// Runs `f` under loom with the bounds from the environment (`LOOM_MAX_PREEMPTIONS`,
/// `LOOM_MAX_BRANCHES`, ...), or, where the environment sets none, at most 2 preemptions and
/// 10,000 branches (the xtask's defaults), and never fewer than `min_preemptions` preemptions: a
/// model whose losing interleaving needs more than the default bound says so here.
pub fn model<F>(min_preemptions: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(2);
    builder.preemption_bound = Some(bound.max(min_preemptions));
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = 10_000;
    }
    builder.check(f);
}

/// A flag for a model to wait on (`std`'s `Arc`, so a model that unwinds does not drop loom state
/// outside the execution), initialised with a `SeqCst` store (see `sync.rs`).
pub fn flag() -> StdArc<loom::sync::atomic::AtomicBool> {
    let flag = StdArc::new(loom::sync::atomic::AtomicBool::new(false));
    flag.store(false, Ordering::SeqCst);
    flag
}

/// A task that sets `flag` when polled.
pub fn set_flag(
    flag: &StdArc<loom::sync::atomic::AtomicBool>,
) -> impl Future<Output = ()> + Send + 'static {
    let flag = StdArc::clone(flag);
    async move { flag.store(true, Ordering::SeqCst) }
}

/// A task pointer held by the harness's slot table (with the table's reference).
struct TableRef(NonNull<Header>);

// SAFETY: the pointer stands for one reference to a task, and tasks are `Send`; the table only
// hands it to the thread that takes it out under the mutex.
unsafe impl Send for TableRef {}

/// The state every task of one scheduler points back to (through its [`TaskSched`]).
struct Inner {
    queue: Mutex<VecDeque<Notified>>,
    /// Slot → task, like the runtime's `SlotTable`: holds one reference per live task, handed
    /// back by `release` (so `finish` drops it, as in the runtime).
    table: Mutex<Vec<Option<TableRef>>>,
    released: AtomicUsize,
    /// Set (under the queue lock) when shutdown begins: nothing is queued after it.
    closed: loom::sync::atomic::AtomicBool,
}

impl Inner {
    /// Queues `task`, or after [`TestScheduler::shutdown`] began gives the permission up as the
    /// runtime's `Schedule` does (`Notified::forget_after_shutdown`: the sweep takes the task over).
    fn push(&self, task: Notified) {
        let mut queue = self.queue.lock().unwrap();
        if self.closed.load(Ordering::SeqCst) {
            drop(queue);
            task.forget_after_shutdown();
        } else {
            queue.push_back(task);
        }
    }
}

/// What each task holds as its scheduler (`S`): the shared state, plus a probe of the task's free.
struct TaskSched {
    inner: Arc<Inner>,
    /// Written by `release` on the thread that finishes the task, and accessed again when the task
    /// is freed (this value is dropped with the task). A `Box` free is no access loom can see, so
    /// without the probe a free racing the finish (a missing Acquire on the last reference drop,
    /// the `Arc::drop` edge of `drop_refs`) would go unnoticed; with it loom reports a causality
    /// violation on this cell.
    finished: UnsafeCell<bool>,
}

// SAFETY: `finished` is written once, by the thread running `finish` (which holds `RUNNING`), and
// then only accessed in `Drop`, which runs once the last reference is gone; every other use of a
// shared `&TaskSched` only reaches `inner`, which is `Sync`. Loom checks exactly this ordering.
unsafe impl Sync for TaskSched {}

impl Schedule for TaskSched {
    fn schedule(&self, task: Notified) {
        self.inner.push(task);
    }

    fn release(&self, task: &Header) -> bool {
        // SAFETY: called once per task, by the thread that holds `RUNNING` (see the impl above).
        self.finished.with_mut(|f| unsafe { *f = true });
        self.inner.released.fetch_add(1, Ordering::SeqCst);
        // The entry is filled until now, except while the sweep borrows it (as in the runtime's
        // `SlotTable::take_or_wait`): wait that out.
        loop {
            let taken = self.inner.table.lock().unwrap()[task.slot].take();
            if taken.is_some() {
                return true;
            }
            loom::thread::yield_now();
        }
    }
}

impl Drop for TaskSched {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.finished.with_mut(|_| ());
        }
    }
}

/// A scheduler for loom models of the task state machine: [`spawn`](Self::spawn) puts the run
/// permission in a FIFO queue, [`run_one`](Self::run_one) runs the oldest queued task on the
/// calling thread (any model thread may call it), and every task gets its own slot in a table
/// whose reference `release` hands back, as the runtime's slot table does.
///
/// Dropping the scheduler runs [`shutdown`](Self::shutdown), which cancels what is left the way
/// runtime shutdown does, so a model that ends with a pending task still frees it; join every
/// model thread before dropping it.
pub struct TestScheduler {
    inner: Arc<Inner>,
}

impl TestScheduler {
    /// An empty scheduler.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        TestScheduler {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                table: Mutex::new(Vec::new()),
                released: AtomicUsize::new(0),
                closed: loom::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Spawns `future`: allocates the task in a fresh slot, stores the table's reference and queues
    /// the run permission.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut table = self.inner.table.lock().unwrap();
        let slot = table.len();
        let sched = TaskSched {
            inner: Arc::clone(&self.inner),
            finished: UnsafeCell::new(false),
        };
        let (notified, handle, raw) = task::new_task(future, sched, slot);
        table.push(Some(TableRef(raw)));
        drop(table);
        self.inner.push(notified);
        handle
    }

    /// Runs the oldest queued task once on this thread (re-queuing it if it was woken during its
    /// poll). Returns `false` if the queue was empty.
    pub fn run_one(&self) -> bool {
        // The guard is dropped before the poll: the task may wake itself (and lock the queue).
        let task = self.inner.queue.lock().unwrap().pop_front();
        let Some(task) = task else {
            return false;
        };
        let (outcome, again) = task.run();
        debug_assert_eq!(outcome == RunOutcome::Rescheduled, again.is_some());
        if let Some(task) = again {
            self.inner.push(task);
        }
        true
    }

    /// Runs queued tasks until the queue is empty; returns how many runs that took.
    pub fn run_until_idle(&self) -> usize {
        let mut runs = 0;
        while self.run_one() {
            runs += 1;
        }
        runs
    }

    /// How many times `release` was called (once per finished task).
    pub fn released(&self) -> usize {
        self.inner.released.load(Ordering::SeqCst)
    }

    /// Run permissions waiting in the queue.
    pub fn queued(&self) -> usize {
        self.inner.queue.lock().unwrap().len()
    }

    /// Tasks whose slot is still in use (not yet released).
    pub fn live_tasks(&self) -> usize {
        let table = self.inner.table.lock().unwrap();
        table.iter().filter(|t| t.is_some()).count()
    }
}

impl TestScheduler {
    /// The runtime's shutdown protocol (`Shared::sweep_after_shutdown`) on this scheduler: from now
    /// on nothing is queued (a wake or an abort gives its permission up); every queued permission
    /// is cancelled; then every task in the table is taken over through a borrowed entry (taken
    /// out under the lock, `task::shutdown_take_over`, put back) and, unless it is running,
    /// finished as cancelled here. Other model threads may still wake, abort or run tasks
    /// meanwhile; a running task is finished by its runner.
    pub fn shutdown(&self) {
        {
            let _queue = self.inner.queue.lock().unwrap();
            self.inner.closed.store(true, Ordering::SeqCst);
        }
        while let Some(task) = {
            let next = self.inner.queue.lock().unwrap().pop_front();
            next
        } {
            task.cancel();
        }
        let slots = self.inner.table.lock().unwrap().len();
        for slot in 0..slots {
            let Some(entry) = self.inner.table.lock().unwrap()[slot].take() else {
                continue;
            };
            // SAFETY: we hold the table's reference while the entry is out; the task's `release`
            // waits for it to come back.
            let taken = unsafe { task::shutdown_take_over(entry.0) };
            self.inner.table.lock().unwrap()[slot] = Some(entry);
            if let Some(task) = taken {
                task.finish();
            }
        }
    }
}

impl Drop for TestScheduler {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The model already failed; sweeping now could only panic again (and abort).
            return;
        }
        self.shutdown();
    }
}

impl fmt::Debug for TestScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestScheduler")
            .field("queued", &self.queued())
            .field("released", &self.released())
            .finish()
    }
}

/// The parking protocol of the workers on a real (loom-built) [`SummaryTree`]: the tree's wakers
/// are the workers' `SignalWaker`s, and [`park`](Self::park) / [`notify`](Self::notify) are the
/// runtime's own `idle::park_protocol` / `idle::notify_one`.
///
/// A model worker's final check is its own partition (`sync_partition_summary`, as
/// `Worker::work_visible` does) and the leaf words of every other partition (as
/// `Shared::partition_has_work` does); LIFO slots and yield queues are not modelled.
pub struct ParkModel {
    /// Not dropped while a model panics: loom unwinds the model threads after reporting a
    /// deadlock, and the tree's `Drop` touches loom atomics, which would panic again outside the
    /// execution and abort the test binary instead of failing the test.
    tree: ManuallyDrop<SummaryTree>,
    idle: Idle,
}

impl ParkModel {
    /// Wraps `tree` with an empty parked set and nobody searching.
    pub fn new(tree: SummaryTree) -> Self {
        ParkModel {
            tree: ManuallyDrop::new(tree),
            idle: Idle::new(),
        }
    }

    /// The tree: reserve, schedule and claim tasks on it directly.
    pub fn tree(&self) -> &SummaryTree {
        &self.tree
    }

    /// Worker `w` found nothing: runs the runtime's park protocol (stop searching if `searching`,
    /// drop stale permits, announce, final check, sleep until a permit, unpark). Returns whether
    /// worker `w` now counts as searching (a notifier picked it).
    pub fn park(&self, w: usize, searching: bool) -> bool {
        let tree = &self.tree;
        idle::park_protocol(
            &self.idle,
            tree.waker(w),
            w,
            searching,
            None,
            || self.work_visible(w),
            idle::futex_sleep,
        )
    }

    /// As [`park`](Self::park), but worker `w` sleeps the way a worker sleeps in the IO driver
    /// (`idle::driver_sleep`), with `wait` standing for the driver's poll. The wake-up of such a
    /// sleeper is the hook installed by [`install_driver_unpark`](Self::install_driver_unpark).
    pub fn park_in_driver(&self, w: usize, searching: bool, wait: impl FnOnce()) -> bool {
        let tree = &self.tree;
        idle::park_protocol(
            &self.idle,
            tree.waker(w),
            w,
            searching,
            None,
            || self.work_visible(w),
            |waker, _timeout| idle::driver_sleep(&self.idle, w, waker, wait),
        )
    }

    /// Installs `unpark` as every worker's driver wake-up, as the IO driver does when it is
    /// created (`io::driver::install_unpark`).
    pub fn install_driver_unpark(&self, unpark: StdArc<dyn Fn() + Send + Sync>) {
        let tree = &self.tree;
        let workers = tree.assignment().workers();
        crate::io::driver::install_unpark((0..workers).map(|w| tree.waker(w)), unpark);
    }

    /// The final check of the model's workers: the own partition (re-synced), then the others.
    fn work_visible(&self, w: usize) -> bool {
        let tree = &self.tree;
        let n = tree.assignment().workers();
        tree.sync_partition_summary(w)
            || (0..n).filter(|&v| v != w).any(|v| {
                tree.partition_range(v)
                    .any(|leaf| tree.leaf_word(leaf) != 0)
            })
    }

    /// A producer has published work: wake one parked worker unless somebody is searching.
    pub fn notify(&self) {
        idle::notify_one(&self.idle, |w| self.tree.waker(w));
    }

    /// A searching worker found work: stop searching. Returns `true` if it was the last searcher
    /// (the runtime then notifies another worker).
    pub fn end_search(&self) -> bool {
        self.idle.end_search()
    }

    /// Makes worker `w` a searcher the way the runtime does: it announces itself parked, a
    /// producer's notify picks it, and it unparks as the searcher. Call it before the model's
    /// threads start. Panics if the notify picked nobody.
    pub fn make_searcher(&self, w: usize) {
        self.idle.announce_parked(w);
        self.notify();
        assert!(
            self.idle.unpark(w),
            "worker {w} was not picked by the notify"
        );
        assert!(
            self.tree.waker(w).try_acquire(),
            "the notify released no permit"
        );
    }

    /// Bitmask of parked workers.
    pub fn parked_mask(&self) -> u64 {
        self.idle.parked_mask()
    }

    /// Workers counted as searching.
    pub fn searching(&self) -> usize {
        self.idle.searching()
    }
}

impl Drop for ParkModel {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: `tree` is dropped only here, once, and not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.tree) };
        }
    }
}

impl fmt::Debug for ParkModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParkModel")
            .field("parked_mask", &self.parked_mask())
            .field("searching", &self.searching())
            .finish_non_exhaustive()
    }
}

/// A runtime's real shared state and workers, built inside a loom model: a real [`Shared`] (summary
/// tree of one leaf per worker, slot table, LIFO slots, idle set) and real [`Worker`]s with their
/// yield queues (the loom stand-in of `queue.rs`), without worker threads. A model drives the
/// workers' own run-loop steps on threads of its choosing through [`ModelWorker`], and spawns and
/// wakes through the runtime's own `Shared::spawn` and task wakers (so `Schedule::schedule`,
/// `push_local`, `push_remote` and the thread-local context are the real ones).
///
/// `Shared` is held through `std`'s `Arc`; while a model unwinds (it failed) the harness leaks it
/// instead of dropping it, since its drop touches loom atomics outside the execution.
pub struct RunLoopModel {
    shared: ManuallyDrop<StdArc<Shared>>,
}

/// One real [`Worker`] of a [`RunLoopModel`] with its run-loop counters; move it to the model thread
/// that plays that worker.
pub struct ModelWorker {
    index: usize,
    worker: ManuallyDrop<Worker>,
    shared: ManuallyDrop<StdArc<Shared>>,
    st: SearchState,
}

/// What one [`ModelWorker::turn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Found a task and polled it.
    Ran,
    /// Found nothing and went through the park protocol (and is awake again).
    Parked,
}

impl RunLoopModel {
    /// A runtime of `workers` workers (one tree leaf each), as `Builder::build` lays it out, and its
    /// workers in index order.
    pub fn new(workers: usize) -> (Self, Vec<ModelWorker>) {
        let max_tasks = workers * SLOTS_PER_LEAF;
        let tree = SummaryTree::new(SummaryTreeConfig::new(workers).max_tasks(max_tasks))
            .expect("a valid loom tree");
        let queues: Vec<_> = (0..workers).map(|_| LocalQueue::new_fifo()).collect();
        let stealers = queues.iter().map(|q| q.stealer()).collect();
        let shared = StdArc::new(Shared::new(
            tree,
            SlotTable::new(max_tasks),
            stealers,
            max_tasks,
            timer_wheel::DEFAULT_TICK_NS,
            crate::service::pool::Pool::driven_externally(workers),
            crate::blocking::pool::BlockingPool::new(crate::blocking::pool::BlockingConfig {
                thread_name: "loom".to_owned(),
                stack_size: None,
                max_threads: 1,
                keep_alive: std::time::Duration::from_secs(1),
                start_limit: Some(0),
            }),
        ));
        let workers = queues
            .into_iter()
            .enumerate()
            .map(|(i, q)| ModelWorker {
                index: i,
                worker: ManuallyDrop::new(Worker::new(i, StdArc::clone(&shared), q)),
                shared: ManuallyDrop::new(StdArc::clone(&shared)),
                st: SearchState::new(workers),
            })
            .collect();
        (
            RunLoopModel {
                shared: ManuallyDrop::new(shared),
            },
            workers,
        )
    }

    /// Another handle to the same runtime (for another model thread).
    pub fn handle(&self) -> Self {
        RunLoopModel {
            shared: ManuallyDrop::new(StdArc::clone(&self.shared)),
        }
    }

    /// `Shared::spawn` on the calling thread, detaching the task (its handle is dropped at once).
    /// Inside [`ModelWorker::with_context`] this is a worker's local spawn (into its LIFO slot);
    /// anywhere else a remote spawn (into the tree, then a notify).
    pub fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self.shared.spawn(future) {
            Ok(handle) => drop(handle),
            Err((e, _)) => panic!("spawn failed: {e}"),
        }
    }

    /// Applies worker `w`'s timer inbox and fires every timer due at `now_ns` on the runtime's
    /// clock (a synthetic "now": the model does not wait for real time), as the owner's timer check
    /// and the service do (`Timers::collect_due`, then `fire_all` outside the lock). Returns how
    /// many fired.
    pub fn fire_timers(&self, w: usize, now_ns: u64) -> usize {
        let mut due = Vec::new();
        self.shared.timers.collect_due(w, now_ns, false, &mut due);
        crate::time::driver::fire_all(&mut due)
    }

    /// `instant` on the runtime's timer clock, in ns.
    pub fn clock_ns(&self, instant: std::time::Instant) -> u64 {
        self.shared.timers.instant_to_ns(instant)
    }

    /// `(filed, queued)`: timers in the wheels and messages in the inboxes.
    pub fn timers(&self) -> (usize, usize) {
        self.shared.timers.counts()
    }

    /// Runs `f` inside this runtime's context on a thread that is none of its workers (as
    /// `block_on` does): a `Sleep` made there belongs to this runtime.
    pub fn with_runtime<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = context::enter(&self.shared, None);
        f()
    }

    /// Rebalances to `workers` active workers, as `Pool::scale_to` does: publishes the new
    /// assignment (the summary tree re-syncs every worker's partition summary), then asks every
    /// worker beyond it to retire (a state CAS and a permit on its waker).
    pub fn set_active_workers(&self, workers: usize) {
        let before = self.shared.active_workers();
        self.shared
            .tree
            .set_active_workers(workers)
            .expect("within max_workers");
        for w in workers..before {
            if self.shared.pool.request_retire(w) {
                self.shared.tree.waker(w).release_permit();
            }
        }
    }

    /// Makes the next remote spawns aim at worker `w`'s partition (when `w` is still active at
    /// the spawn), as the round-robin cursor would after `w` runs of remote spawns.
    pub fn aim_remote_spawns_at(&self, w: usize) {
        self.shared.aim_remote_spawns_at(w);
    }

    /// The runtime's summary tree.
    pub fn tree(&self) -> &SummaryTree {
        &self.shared.tree
    }

    /// Bitmask of parked workers.
    pub fn parked_mask(&self) -> u64 {
        self.shared.idle.parked_mask()
    }

    /// Workers counted as searching.
    pub fn searching(&self) -> usize {
        self.shared.idle.searching()
    }

    /// Whether worker `w`'s LIFO slot holds a task.
    pub fn has_lifo(&self, w: usize) -> bool {
        self.shared.has_lifo(w)
    }

    /// Whether worker `w`'s yield queue is empty.
    pub fn yield_queue_is_empty(&self, w: usize) -> bool {
        self.shared.yield_stealers[w].is_empty()
    }

    /// Checks the end state of a model in which every task has finished: nothing is scheduled or
    /// queued anywhere, no slot is reserved, nobody is parked or searching. Drains the permits
    /// and the yield mark left on the wakers of workers that the model does not run.
    pub fn check_quiescent(&self) {
        let shared = &self.shared;
        for w in 0..shared.slots {
            assert!(!shared.has_lifo(w), "worker {w}'s LIFO slot is not empty");
            assert!(
                shared.yield_stealers[w].is_empty(),
                "worker {w}'s yield queue is not empty"
            );
        }
        assert_eq!(
            shared.tree.scheduled_count(),
            0,
            "a task is still scheduled"
        );
        assert_eq!(shared.tree.reserved_count(), 0, "a slot is still reserved");
        assert_eq!(shared.idle.parked_mask(), 0, "a worker is still parked");
        assert_eq!(shared.idle.searching(), 0, "the searching count leaked");
        for w in 0..shared.slots {
            let waker = shared.tree.waker(w);
            shared.tree.sync_partition_summary(w);
            waker.try_unmark_yield(|| true);
            waker.drain_permits();
        }
    }
}

impl Drop for RunLoopModel {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: dropped only here, once, and not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.shared) };
        }
    }
}

impl fmt::Debug for RunLoopModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunLoopModel")
            .field("parked_mask", &self.parked_mask())
            .field("searching", &self.searching())
            .finish_non_exhaustive()
    }
}

/// Leaves the runtime context when dropped, unless the model is unwinding (then the thread-local
/// is loom's and dies with the model thread; touching it again would panic inside the unwind).
struct ContextGuard(ManuallyDrop<EnterGuard>);

impl ContextGuard {
    /// `context::enter` as worker `index` of `shared` with `worker`'s yield queue, as `Worker::run`
    /// does. The guard borrows nothing, so the caller keeps `worker` alive and in place while it
    /// lives (it is dropped at the end of the caller's scope).
    fn enter(shared: &StdArc<Shared>, index: usize, worker: &Worker) -> Self {
        ContextGuard(ManuallyDrop::new(context::enter(
            shared,
            Some((index, &worker.yields)),
        )))
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: dropped only here, once.
            unsafe { ManuallyDrop::drop(&mut self.0) };
        }
    }
}

impl ModelWorker {
    /// This worker's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether this worker counts as searching (a notifier picked it, and it has not found work or
    /// parked since).
    pub fn is_searching(&self) -> bool {
        self.st.searching
    }

    /// Runs `f` on this thread as this worker: inside the runtime's thread-local context with this
    /// worker's index and yield queue, as `Worker::run` sets it up (so a spawn or a wake in `f` is
    /// a worker's local one).
    pub fn with_context<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = ContextGuard::enter(&self.shared, self.index, &self.worker);
        f()
    }

    /// If this worker was asked to retire, commits to it and leaves as `Worker::run` does (the real
    /// `retiring` and `leave`: its LIFO task and yield queue go to the summary tree). Returns
    /// whether it retired.
    pub fn retire_if_asked(&mut self) -> bool {
        let (worker, shared, st) = (&*self.worker, &*self.shared, &mut self.st);
        let _guard = ContextGuard::enter(shared, self.index, worker);
        if !worker.retiring() {
            return false;
        }
        worker.leave(st);
        true
    }

    /// One pass of `Worker::run`'s loop, inside the worker's context: the real `find_task`; if it
    /// found a task, leave searching the way `run` does (the last searcher notifies another
    /// worker) and poll it with the real `run_task`; otherwise the real `park` (its final check is
    /// the real `work_visible`). `run`'s fruitless search rounds between finding nothing and
    /// parking are left out: they repeat `find_task`.
    pub fn turn(&mut self) -> Turn {
        let (worker, shared, st) = (&*self.worker, &*self.shared, &mut self.st);
        let _guard = ContextGuard::enter(shared, self.index, worker);
        match worker.find_task(st) {
            Some(task) => {
                worker.run_found(st, task);
                Turn::Ran
            }
            None => {
                worker.park(st);
                Turn::Parked
            }
        }
    }

    /// Takes turns until `done()` holds (checked before each turn); panics after `max_turns` turns.
    ///
    /// After a park that returned, the thread yields to the other model threads (loom's
    /// `yield_now`, which costs no preemption): that stands for `run`'s spin between fruitless
    /// searches. A park may return at once because its final check saw work that `find_task` does
    /// not take yet (a leaf bit whose owner's summary bit its producer has not set yet: thieves
    /// steal where summaries point); without the yield, a bounded-preemption schedule could keep
    /// the producer from ever finishing and the worker would spin through its turns.
    pub fn run_until(&mut self, max_turns: usize, done: impl Fn() -> bool) {
        let mut turns = 0;
        while !done() {
            turns += 1;
            assert!(
                turns <= max_turns,
                "worker {} took {max_turns} turns without getting done",
                self.index
            );
            if self.turn() == Turn::Parked {
                loom::thread::yield_now();
            }
        }
    }

    /// Polls the task in this worker's own LIFO slot if there is one (the real `Shared::take_lifo`
    /// and `run_task`, in the worker's context): a busy worker that runs its LIFO task next and
    /// looks nowhere else. Returns whether it polled one.
    pub fn run_lifo_task(&self) -> bool {
        let (worker, shared) = (&*self.worker, &*self.shared);
        let _guard = ContextGuard::enter(shared, self.index, worker);
        match shared.take_lifo(self.index) {
            Some(task) => {
                worker.run_task(task);
                true
            }
            None => false,
        }
    }

    /// The real final check (`Worker::work_visible`) of this worker.
    pub fn work_visible(&self) -> bool {
        self.worker.work_visible()
    }
}

impl Drop for ModelWorker {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: both dropped only here, once, and not used afterwards.
            unsafe {
                ManuallyDrop::drop(&mut self.worker);
                ManuallyDrop::drop(&mut self.shared);
            }
        }
    }
}

impl fmt::Debug for ModelWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelWorker")
            .field("index", &self.index)
            .field("searching", &self.st.searching)
            .finish_non_exhaustive()
    }
}
