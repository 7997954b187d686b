//! State shared by every worker and every handle of one runtime: the summary tree (with the
//! workers' `SignalWaker`s), the slot table, the LIFO slots, the yield-queue stealers, the wake
//! throttle and the shutdown gate. Also the [`Schedule`] implementation: where a runnable task goes.

use crate::blocking::pool::BlockingPool;
use crate::context;
use crate::error::SpawnError;
use crate::io::driver::Driver;
use crate::scheduler::idle::Idle;
use crate::scheduler::queue::{Steal, Stealer};
use crate::service::pool::{self, Pool};
use crate::sync::{lock, AtomicBool, AtomicPtr, AtomicUsize, Mutex, Ordering};
use crate::table::SlotTable;
use crate::task::{self, Header, JoinHandle, Notified, Schedule};
use crate::time::driver::{TimerOp, Timers};
use crossbeam_utils::CachePadded;
use std::future::Future;
use std::ptr::{self, NonNull};
use std::sync::{Arc, OnceLock};
use summary_tree::{SlotId, SummaryTree};

/// Consecutive remote spawns aimed at one worker's partition before moving to the next.
const REMOTE_RUN: usize = 64;

/// Slot value of a task that never got a slot (spawned after shutdown).
pub(crate) const NO_SLOT: usize = usize::MAX;

/// Everything the workers and handles of one runtime share.
pub(crate) struct Shared {
    pub(crate) tree: SummaryTree,
    pub(crate) table: SlotTable,
    /// One task slot per worker, polled next by its owner (message-passing locality) and stealable
    /// by everyone else with a swap.
    pub(crate) lifo: Box<[CachePadded<AtomicPtr<Header>>]>,
    /// Per worker: how many tasks it has started polling (wrapping). Thieves compare two readings
    /// to tell a stuck owner from a busy one before taking its LIFO task.
    polls: Box<[CachePadded<AtomicUsize>]>,
    pub(crate) yield_stealers: Box<[Stealer<Notified>]>,
    pub(crate) idle: Idle,
    /// Worker slots (`max_workers`): every per-worker array has this many entries. Workers
    /// `0..active_workers()` own partitions; the others are retiring or vacant.
    pub(crate) slots: usize,
    pub(crate) max_tasks: usize,
    shutdown: AtomicBool,
    /// Threads inside the remote gate: a spawn or a wake from a thread that is not one of our
    /// workers, between its check of the shutdown flag and its push into the summary tree.
    /// Shutdown raises its flag, then waits for this count to drain, so after that nothing is
    /// ever pushed into the tree again (the gate holds no user code and no blocking call).
    remote_gate: CachePadded<AtomicUsize>,
    /// Written by every remote spawn: on its own cache line, so the fields the workers read on
    /// every turn (the shutdown flag, the timer shards, the pool) do not bounce with it.
    remote_cursor: CachePadded<AtomicUsize>,
    /// The clock, each worker's timer wheel and inbox, and the service thread's parking spot.
    pub(crate) timers: Timers,
    /// Round-robin choice of owner for timers registered by threads that are not workers.
    timer_cursor: CachePadded<AtomicUsize>,
    /// The worker threads: which slots run, starting and retiring them.
    pub(crate) pool: Pool,
    /// Set when work arrived while every worker was busy (automatic scaling only); the service
    /// clears it when it looks.
    scale_hint: CachePadded<AtomicBool>,
    /// The IO driver, created by the first socket registration (see `io::driver`).
    io: OnceLock<Driver>,
    /// Serialises the driver's creation.
    io_init: Mutex<()>,
    /// The threads of `spawn_blocking`, separate from the workers.
    pub(crate) blocking: BlockingPool,
}

impl Shared {
    pub(crate) fn new(
        tree: SummaryTree,
        table: SlotTable,
        yield_stealers: Box<[Stealer<Notified>]>,
        max_tasks: usize,
        tick_ns: u64,
        pool: Pool,
        blocking: BlockingPool,
    ) -> Self {
        let workers = yield_stealers.len();
        Shared {
            tree,
            table,
            polls: (0..workers)
                .map(|_| CachePadded::new(AtomicUsize::new(0)))
                .collect(),
            lifo: (0..workers)
                .map(|_| CachePadded::new(AtomicPtr::new(ptr::null_mut())))
                .collect(),
            yield_stealers,
            idle: Idle::new(),
            slots: workers,
            max_tasks,
            shutdown: AtomicBool::new(false),
            remote_gate: CachePadded::new(AtomicUsize::new(0)),
            remote_cursor: CachePadded::new(AtomicUsize::new(0)),
            timers: Timers::new(workers, tick_ns),
            timer_cursor: CachePadded::new(AtomicUsize::new(0)),
            pool,
            scale_hint: CachePadded::new(AtomicBool::new(false)),
            io: OnceLock::new(),
            io_init: Mutex::new(()),
            blocking,
        }
    }

    /// Workers that own partitions now (the summary tree's published assignment).
    #[inline]
    pub(crate) fn active_workers(&self) -> usize {
        self.tree.assignment().workers()
    }

    /// The IO driver, created on first use; an error if it cannot be created (no epoll
    /// instance) or the runtime has shut down.
    pub(crate) fn io_driver(&self) -> std::io::Result<&Driver> {
        if let Some(driver) = self.io.get() {
            return Ok(driver);
        }
        let _creating = lock(&self.io_init);
        if self.is_shutdown() {
            return Err(crate::io::registration::shutdown_error());
        }
        if self.io.get().is_none() {
            let driver = Driver::new((0..self.slots).map(|w| self.tree.waker(w)))?;
            let _ = self.io.set(driver);
            // A parked worker moves into the new driver when it parks again.
            crate::scheduler::idle::notify_one(&self.idle, |w| self.tree.waker(w));
        }
        Ok(self.io.get().expect("set above"))
    }

    /// The IO driver if some socket created it.
    #[inline]
    pub(crate) fn io_driver_if_started(&self) -> Option<&Driver> {
        self.io.get()
    }

    /// Takes the scaling hint (see `scale_hint`).
    pub(crate) fn take_scale_hint(&self) -> bool {
        self.scale_hint.swap(false, Ordering::SeqCst)
    }

    /// Puts the scaling hint back (the service will look at it later).
    pub(crate) fn restore_scale_hint(&self) {
        self.scale_hint.store(true, Ordering::SeqCst);
    }

    /// Points the remote-spawn cursor at worker `w`'s run (loom models aim spawns with it).
    #[cfg(loom)]
    pub(crate) fn aim_remote_spawns_at(&self, w: usize) {
        self.remote_cursor.store(w * REMOTE_RUN, Ordering::SeqCst);
    }

    /// The worker whose wheel a timer first polled on this thread goes to: this worker, or (on
    /// a thread that is not one of ours) the next worker in turn.
    pub(crate) fn timer_owner(&self) -> usize {
        match context::current_worker_of(self) {
            Some(w) => w,
            // Relaxed: a round-robin hint, nothing is published through it.
            None => self.timer_cursor.fetch_add(1, Ordering::Relaxed) % self.active_workers(),
        }
    }

    /// Applies `op` to `owner`'s wheel: directly on `owner`'s own thread, by message to its inbox
    /// from anywhere else. Returns `false` if the message was refused because the runtime shut
    /// down (nobody would ever read it).
    pub(crate) fn timer_op(&self, owner: usize, op: TimerOp) -> bool {
        if context::current_worker_of(self) == Some(owner) {
            self.timers.apply_local(owner, op);
            return true;
        }
        let sent = self
            .timers
            .send(owner, op, self.tree.waker(owner), || self.is_shutdown());
        if sent && self.pool.state(owner) == pool::VACANT {
            // Nobody runs in that slot: the service serves its wheel and inbox.
            self.timers.service_waker.release_permit();
        }
        sent
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Spawns `future`: reserves a slot near the caller's partition, allocates the task and makes
    /// it runnable. After shutdown returns `SpawnError::Shutdown`; past `max_tasks`,
    /// `SpawnError::AtCapacity`.
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match context::current_worker_of(self) {
            Some(w) => self.spawn_inner(future, Some(w)),
            None => {
                // A remote spawn either sees the flag or finishes its push before shutdown's
                // sweep starts (see `remote_gate`).
                let _gate = RemoteGate::enter(self);
                self.spawn_inner(future, None)
            }
        }
    }

    fn spawn_inner<F>(
        self: &Arc<Self>,
        future: F,
        worker: Option<usize>,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.is_shutdown() {
            return Err((SpawnError::Shutdown, future));
        }
        // One load of the assignment serves both the round robin and the partition's range.
        let assignment = self.tree.assignment();
        let w = match worker {
            Some(w) => w,
            // Relaxed: a round-robin hint, no data depends on it. Runs of REMOTE_RUN spawns go to
            // one partition, so a burst fills signal words one at a time (their leaf and summary
            // bits are then already set: the notification is a load) instead of alternating.
            None => {
                (self.remote_cursor.fetch_add(1, Ordering::Relaxed) / REMOTE_RUN)
                    % assignment.workers()
            }
        };
        // Where the spawn looks for a free slot first: the start of that worker's current
        // partition (empty for a worker that is retiring: anywhere).
        let range = assignment.range(w);
        let hint = if range.is_empty() { 0 } else { range.start };
        let slot = match self.tree.reserve_task(hint) {
            Ok(slot) => slot,
            Err(_) => {
                let err = SpawnError::AtCapacity {
                    max_tasks: self.max_tasks,
                };
                return Err((err, future));
            }
        };
        let (notified, handle, raw) = task::new_task(future, Arc::clone(self), slot.index());
        self.table.insert(slot.index(), raw);
        match worker {
            // A worker's spawn is not gated: it checks the flag again after its (SeqCst) insert.
            // Either the sweep's pass over the table sees the task, or this check sees the flag
            // and the task is cancelled here (its handle resolves cancelled).
            Some(_) if self.is_shutdown() => self.cancel_after_shutdown(notified),
            Some(w) => self.push_local(w, notified),
            None => self.push_remote(notified),
        }
        Ok(handle)
    }

    /// Drops the future of a task spawned by a worker racing the shutdown flag, here, inside this
    /// runtime's context: a `spawn` in its `Drop` is refused as on a worker.
    fn cancel_after_shutdown(self: &Arc<Self>, task: Notified) {
        let _context = context::enter(self, None);
        task.cancel();
    }

    /// A task that can never run (spawned after shutdown): its handle resolves cancelled at once.
    pub(crate) fn cancelled_handle<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (notified, handle, raw) = task::new_task(future, Arc::clone(self), NO_SLOT);
        // SAFETY: the table never saw this task; we own its table reference.
        unsafe { task::drop_table_ref(raw) };
        notified.cancel();
        handle
    }

    /// Makes `task` runnable from worker `w`'s own thread: into `w`'s LIFO slot; the previous
    /// occupant moves to the back of `w`'s FIFO local queue (stealable in batches).
    ///
    /// Only a displaced task wakes an idle worker: a task alone in the LIFO slot runs next on
    /// this worker (message passing stays on one core, as in tokio), and a searching worker may
    /// still steal it.
    #[inline]
    pub(crate) fn push_local(&self, w: usize, task: Notified) {
        // AcqRel: Release publishes the task to a stealer's swap; Acquire takes over the previous
        // occupant (published by its own Release swap).
        let prev = self.lifo[w].swap(task.into_raw().as_ptr(), Ordering::AcqRel);
        if let Some(prev) = NonNull::new(prev) {
            // SAFETY: the LIFO slot held the previous task's run permission; now we do.
            let prev = unsafe { Notified::from_raw(prev) };
            match context::push_local_queue(prev) {
                Ok(()) => {
                    self.tree.waker(w).mark_yield();
                }
                Err(prev) => self.push_tree(prev),
            }
            self.notify_idle();
        }
    }

    /// Makes `task` runnable from a thread that is not one of our workers.
    #[inline]
    pub(crate) fn push_remote(&self, task: Notified) {
        self.push_tree(task);
        self.notify_idle();
    }

    /// A retiring worker's LIFO task and yield queue, made runnable through the summary tree (each
    /// leaf's current owner is notified), through the remote gate; gives them back after shutdown.
    pub(crate) fn hand_off(&self, tasks: Vec<Notified>) -> Result<(), Vec<Notified>> {
        let _gate = RemoteGate::enter(self);
        if self.is_shutdown() {
            return Err(tasks);
        }
        let any = !tasks.is_empty();
        for t in tasks {
            self.push_tree(t);
        }
        if any {
            self.notify_idle();
        }
        Ok(())
    }

    /// Sets the task's bit in the summary tree, which notifies the owner of its leaf.
    #[inline]
    pub(crate) fn push_tree(&self, task: Notified) {
        let slot = task.slot();
        debug_assert_ne!(slot, NO_SLOT);
        // The tree bit now stands for the run permission; the table holds the pointer.
        let _ = task.into_raw();
        self.tree.schedule(SlotId::from_index(slot));
    }

    /// Wakes one parked worker if nobody is searching (see `idle.rs`). With automatic scaling,
    /// work that arrives while every worker is busy (none parked, none searching) also hints the
    /// service that another worker may be needed: one load while the hint is already up.
    #[inline]
    pub(crate) fn notify_idle(&self) {
        if !crate::scheduler::idle::notify_one(&self.idle, |w| self.tree.waker(w))
            && self.pool.bounds.automatic
        {
            self.hint_scale_up();
        }
    }

    #[cold]
    fn hint_scale_up(&self) {
        if self.idle.parked_mask() == 0
            && self.idle.searching() == 0
            // Relaxed: a pre-check that keeps the line shared while the hint is up; the swap
            // decides (and orders the service's later `take_scale_hint`).
            && !self.scale_hint.load(Ordering::Relaxed)
            && !self.scale_hint.swap(true, Ordering::SeqCst)
        {
            self.timers.service_waker.release_permit();
        }
    }

    /// Whether any leaf of worker `w`'s partition has a scheduled task (a scan of its leaf words).
    pub(crate) fn partition_has_work(&self, w: usize) -> bool {
        self.tree
            .partition_range(w)
            .any(|leaf| self.tree.leaf_word(leaf) != 0)
    }

    /// Worker `w` starts polling a task (only `w` calls this).
    #[inline]
    pub(crate) fn count_poll(&self, w: usize) {
        // Relaxed: a progress counter read as a hint by thieves; only its owner writes it, so a
        // load + store is enough and no data is published through it.
        let n = self.polls[w].load(Ordering::Relaxed);
        self.polls[w].store(n.wrapping_add(1), Ordering::Relaxed);
    }

    /// Worker `w`'s poll count (see [`count_poll`](Self::count_poll)).
    #[inline]
    pub(crate) fn polls(&self, w: usize) -> usize {
        // Relaxed: a hint only; see `count_poll`.
        self.polls[w].load(Ordering::Relaxed)
    }

    /// Whether worker `w`'s LIFO slot holds a task.
    #[inline]
    pub(crate) fn has_lifo(&self, w: usize) -> bool {
        !self.lifo[w].load(Ordering::SeqCst).is_null()
    }

    /// Takes the task in worker `w`'s LIFO slot.
    #[inline]
    pub(crate) fn take_lifo(&self, w: usize) -> Option<Notified> {
        // Fast check first: most of the time the slot is empty. Relaxed: only a hint; the swap
        // below is the real, ordered access.
        if self.lifo[w].load(Ordering::Relaxed).is_null() {
            return None;
        }
        // AcqRel: Acquire the task published by `push_local`'s Release swap.
        let p = self.lifo[w].swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: a non-null LIFO entry is a run permission, now ours.
        NonNull::new(p).map(|p| unsafe { Notified::from_raw(p) })
    }

    /// The runnable task behind a claimed tree bit.
    #[inline]
    pub(crate) fn task_for_slot(&self, slot: SlotId) -> Notified {
        let raw = self.table.get_or_wait(slot.index());
        // SAFETY: the caller claimed the slot's tree bit, which stood for the run permission.
        unsafe { Notified::from_raw(raw) }
    }

    /// Refuses new spawns and queueing from now on, waits until no remote push is in flight (a
    /// few atomics each, see `remote_gate`) and wakes every worker so it leaves its loop. Returns
    /// `false` if shutdown had already begun.
    pub(crate) fn begin_shutdown(&self) -> bool {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return false;
        }
        while self.remote_gate.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        for w in 0..self.slots {
            self.tree.waker(w).release_permit();
        }
        self.timers.service_waker.release_permit();
        if let Some(driver) = self.io.get() {
            driver.shutdown();
        }
        true
    }

    /// Cancels every task that is not running, after [`begin_shutdown`](Self::begin_shutdown),
    /// on this thread and inside this runtime's context (so the futures' `Drop`s see the same
    /// runtime as on a worker). Safe while workers still run (a worker stuck in a long poll, or
    /// the calling thread itself when a task drops its runtime), and never waits for another
    /// thread:
    ///
    /// 1. every run permission in a queue is taken and cancelled: the LIFO slots, the summary
    ///    tree (nothing is pushed into it any more, see `remote_gate`), the yield queues;
    /// 2. every task in the slot table is marked `CLOSED` through a borrowed entry (see
    ///    `SlotTable`); unless it is running, the sweep takes it over and drops its future here,
    ///    even if a permission for it is still queued somewhere (a worker's own LIFO slot or yield
    ///    queue, which that worker empties when it leaves its loop) or in flight with a waker:
    ///    such a permission is void. A running task is finished as cancelled by its worker after
    ///    the poll.
    ///
    /// When `workers_gone` (every worker has left its loop), every signal is cleared and every
    /// permit drained at the end.
    pub(crate) fn sweep_after_shutdown(self: &Arc<Self>, workers_gone: bool) {
        debug_assert!(self.is_shutdown());
        let _context = context::enter(self, None);
        for w in 0..self.slots {
            while let Some(t) = self.take_lifo(w) {
                t.cancel();
            }
            while let Some(slot) = self.tree.claim_in_partition(w) {
                self.task_for_slot(slot).cancel();
            }
            while let Some(slot) = self.tree.steal(w, w) {
                self.task_for_slot(slot).cancel();
            }
            loop {
                match self.yield_stealers[w].steal() {
                    Steal::Success(t) => t.cancel(),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        for slot in self.table.allocated_slots() {
            let Some(raw) = self.table.take(slot) else {
                continue;
            };
            // SAFETY: we hold the table's reference while the entry is out, and nobody else can
            // drop it meanwhile (the task's `release` waits for the entry to come back).
            let taken = unsafe { task::shutdown_take_over(raw) };
            self.table.put_back(slot, raw);
            if let Some(task) = taken {
                // We are its runner now, with our own reference: its future is dropped here.
                task.finish();
            }
        }
        if workers_gone {
            for w in 0..self.timers.slots() {
                self.timers.clear(w);
            }
            for w in 0..self.slots {
                let waker = self.tree.waker(w);
                self.tree.sync_partition_summary(w);
                waker.try_unmark_yield(|| true);
                waker.try_unmark(crate::time::driver::TIMER_INBOX_GROUP);
                waker.drain_permits();
            }
        }
    }
}

/// A thread inside the remote gate (see `Shared::remote_gate`); leaves it when dropped, also on
/// unwind, so shutdown never waits for a thread that panicked inside.
struct RemoteGate<'a>(&'a Shared);

impl<'a> RemoteGate<'a> {
    fn enter(shared: &'a Shared) -> Self {
        // SeqCst: either shutdown's wait reads this increment (and waits for our push), or our
        // check of the flag that follows reads its store.
        shared.remote_gate.fetch_add(1, Ordering::SeqCst);
        RemoteGate(shared)
    }
}

impl Drop for RemoteGate<'_> {
    fn drop(&mut self) {
        self.0.remote_gate.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Schedule for Arc<Shared> {
    /// On one of our workers: its LIFO slot. Elsewhere: the summary tree, through the remote gate.
    /// After shutdown: nowhere (nobody reads the queues any more); the task is cancelled here.
    #[inline]
    fn schedule(&self, task: Notified) {
        match context::current_worker_of(self) {
            // A worker that has not seen the flag yet may still push into its own LIFO slot: it
            // cancels what is there when it leaves its loop.
            Some(w) if !self.is_shutdown() => self.push_local(w, task),
            // After shutdown a wake or an abort queues nothing: the sweep takes the task over and
            // drops its future. Not here: a waker often runs under its own locks, which the
            // future's `Drop` may take again.
            Some(_) => task.forget_after_shutdown(),
            None => {
                let gate = RemoteGate::enter(self);
                if self.is_shutdown() {
                    drop(gate);
                    task.forget_after_shutdown();
                } else {
                    self.push_remote(task);
                }
            }
        }
    }

    #[inline]
    fn release(&self, task: &Header) -> bool {
        if task.slot == NO_SLOT {
            return false;
        }
        // The entry is filled from the spawn until now (or borrowed by the sweep for a moment),
        // so the table's reference always comes back here.
        let _table_ref = self.table.take_or_wait(task.slot);
        self.tree.release_task(SlotId::from_index(task.slot));
        true
    }
}
