//! State shared by every worker and every handle of one runtime: the summary tree (with the
//! workers' `SignalWaker`s), the slot table, the LIFO slots, the yield-queue stealers, the wake
//! throttle and the shutdown gate. Also the [`Schedule`] implementation: where a runnable task goes.

use crate::context;
use crate::error::SpawnError;
use crate::idle::Idle;
use crate::queue::{Steal, Stealer};
use crate::sync::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use crate::table::SlotTable;
use crate::task::{self, Header, JoinHandle, Notified, Schedule};
use crossbeam_utils::CachePadded;
use std::future::Future;
use std::ptr::{self, NonNull};
use std::sync::Arc;
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
    pub(crate) workers: usize,
    /// First leaf of each worker's partition: where its spawns look for a free slot first.
    spawn_hint: Box<[usize]>,
    pub(crate) max_tasks: usize,
    shutdown: AtomicBool,
    /// Non-worker threads inside `spawn` (shutdown waits for them to leave).
    remote_spawning: CachePadded<AtomicUsize>,
    remote_cursor: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(
        tree: SummaryTree,
        table: SlotTable,
        yield_stealers: Box<[Stealer<Notified>]>,
        max_tasks: usize,
    ) -> Self {
        let workers = yield_stealers.len();
        let spawn_hint = (0..workers)
            .map(|w| tree.partition_range(w).start)
            .collect();
        Shared {
            spawn_hint,
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
            workers,
            max_tasks,
            shutdown: AtomicBool::new(false),
            remote_spawning: CachePadded::new(AtomicUsize::new(0)),
            remote_cursor: AtomicUsize::new(0),
        }
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
        let worker = context::current_worker_of(self);
        if worker.is_none() {
            // The gate: shutdown raises its flag, then waits for this count to drain, so a remote
            // spawn either sees the flag or is seen by shutdown's sweep (SeqCst on both sides).
            self.remote_spawning.fetch_add(1, Ordering::SeqCst);
        }
        let result = self.spawn_inner(future, worker);
        if worker.is_none() {
            self.remote_spawning.fetch_sub(1, Ordering::SeqCst);
        }
        result
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
        let w = match worker {
            Some(w) => w,
            // Relaxed: a round-robin hint, no data depends on it. Runs of REMOTE_RUN spawns go to
            // one partition, so a burst fills signal words one at a time (their leaf and summary
            // bits are then already set: the notification is a load) instead of alternating.
            None => {
                (self.remote_cursor.fetch_add(1, Ordering::Relaxed) / REMOTE_RUN) % self.workers
            }
        };
        let hint = self.spawn_hint[w];
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
            Some(w) => self.push_local(w, notified),
            None => self.push_remote(notified),
        }
        Ok(handle)
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

    /// Sets the task's bit in the summary tree, which notifies the owner of its leaf.
    #[inline]
    pub(crate) fn push_tree(&self, task: Notified) {
        let slot = task.slot();
        debug_assert_ne!(slot, NO_SLOT);
        // The tree bit now stands for the run permission; the table holds the pointer.
        let _ = task.into_raw();
        self.tree.schedule(SlotId::from_index(slot));
    }

    /// Wakes one parked worker if nobody is searching (see `idle.rs`).
    #[inline]
    pub(crate) fn notify_idle(&self) {
        crate::idle::notify_one(&self.idle, |w| self.tree.waker(w));
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
        let raw = self
            .table
            .get(slot.index())
            .expect("a scheduled slot has no task");
        // SAFETY: the caller claimed the slot's tree bit, which stood for the run permission.
        unsafe { Notified::from_raw(raw) }
    }

    /// Refuses new spawns from now on and waits until no remote spawn is in flight.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        while self.remote_spawning.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        for w in 0..self.workers {
            self.tree.waker(w).release_permit();
        }
    }

    /// After the workers have stopped: cancels every task that is left (queued ones through their
    /// run permission, idle ones directly), until no slot is in use, then clears every signal and
    /// drains every permit.
    pub(crate) fn sweep_after_shutdown(&self) {
        loop {
            for w in 0..self.workers {
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
                if let Some(raw) = self.table.get(slot) {
                    // SAFETY: only this thread runs tasks now (workers have exited and every
                    // other thread only queues), so a task in the table stays alive while we
                    // look at it; `shutdown_cancel` takes the run permission if the task is idle.
                    unsafe { task::shutdown_cancel(raw) };
                }
            }
            if self.tree.reserved_count() == 0 {
                break;
            }
            // A waker on another thread holds a permission it has not queued yet.
            std::thread::yield_now();
        }
        for w in 0..self.workers {
            let waker = self.tree.waker(w);
            self.tree.sync_partition_summary(w);
            waker.try_unmark_yield(|| true);
            waker.drain_permits();
        }
    }
}

impl Schedule for Arc<Shared> {
    #[inline]
    fn schedule(&self, task: Notified) {
        match context::current_worker_of(self) {
            Some(w) if !self.is_shutdown() => self.push_local(w, task),
            _ => self.push_remote(task),
        }
    }

    #[inline]
    fn release(&self, task: &Header) -> bool {
        if task.slot == NO_SLOT {
            return false;
        }
        let table_ref = self.table.take(task.slot).is_some();
        self.tree.release_task(SlotId::from_index(task.slot));
        table_ref
    }
}
