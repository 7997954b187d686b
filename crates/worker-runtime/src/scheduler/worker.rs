//! The worker run loop: LIFO slot → own partition ⇄ yield queue → steal → park.
//!
//! Order of search:
//! 1. the LIFO slot (a task this worker just woke or spawned), at most [`MAX_LIFO_POLLS`] in a row
//!    so two ping-ponging tasks cannot starve the rest;
//! 2. its own partition of the summary tree (guided by `partition_summary`) and its FIFO yield
//!    queue, alternately, so yields and partition tasks both make progress;
//! 3. stealing: other workers' LIFO slots, other partitions of the tree (their hints first, then a
//!    scan), other yield queues;
//! 4. parking on its `SignalWaker` after draining stale permits, announcing itself idle,
//!    re-syncing its partition summary and checking every source once more (`idle::park_protocol`),
//!    with its next timer deadline as the timeout.
//!
//! Timers: the worker applies its timer inbox and fires its due timers every
//! [`TIMER_CHECK_POLLS`] polls while busy, when a search first comes up empty, before it parks
//! and after it unparks (see `time::driver`).

use crate::context;
use crate::io::driver as io_driver;
use crate::scheduler::idle;
use crate::scheduler::queue::{LocalQueue as YieldQueue, Steal};
use crate::scheduler::shared::Shared;
use crate::service::pool;
use crate::sync::negative_control;
use crate::task::Notified;
use crate::time::driver::{fire_all, Filed, NO_DEADLINE, TIMER_INBOX_GROUP};
use signal_waker::SignalWaker;
use std::sync::Arc;
use std::time::Duration;

/// Search rounds before parking when sockets are open and nobody waits in the IO driver.
const IO_SPIN_ROUNDS: u32 = 4;

/// Consecutive LIFO-slot polls before the worker looks elsewhere.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// Every this many turns away from the LIFO slot a busy worker also looks beyond its own queues:
/// every few such checks it re-syncs its partition summary from the leaf words (so a summary bit is
/// never the only thing standing between a task and its poll), and it takes one task from the other workers' partitions and
/// queues (so tasks behind an owner that is stuck in a long poll still run while every other
/// worker is busy). Odd, so it does not fall into step with the two-way alternation below.
pub(crate) const GLOBAL_CHECK_INTERVAL: u32 = 31;

/// Every this many periodic checks the partition summary is also re-derived from the leaf words.
const RESYNC_EVERY_CHECKS: u32 = 8;

/// Fruitless search rounds (with a growing pause between them: about 760 spin-loop hints in all,
/// 5 to 35 µs depending on the CPU's `pause` latency) before a worker parks. A park and the wake
/// that follows cost a futex syscall on each side plus the wakee's scheduling latency (2–30 µs on
/// a VM), so a short search first keeps bursty work on awake workers; after it the worker sleeps,
/// so an idle runtime uses no CPU.
pub(crate) const SEARCH_ROUNDS_BEFORE_PARK: u32 = 32;

/// Task polls between two timer checks of a busy worker (a clock read and two loads when nothing
/// is due). The service thread covers a worker whose polls are long (see `time::driver`).
pub(crate) const TIMER_CHECK_POLLS: u32 = 61;

/// One worker thread's queue and identity. Only ever used through `&self`: the thread-local
/// context holds a shared pointer to `yields` while the worker runs, so no `&mut` may exist.
pub(crate) struct Worker {
    index: usize,
    shared: Arc<Shared>,
    pub(crate) yields: YieldQueue<Notified>,
}

/// The run loop's counters.
#[derive(Default)]
pub(crate) struct SearchState {
    /// Per victim: its poll count when this worker last saw a task in its LIFO slot.
    lifo_seen: Vec<Option<usize>>,
    /// Per victim: its poll count at this worker's previous periodic check.
    progress_seen: Vec<Option<usize>>,
    lifo_streak: u32,
    /// Turns away from the LIFO slot (wrapping). The partition and the yield queue alternate on
    /// this counter alone: alternating on every search instead (LIFO hits included) falls into
    /// step with the LIFO streak, whose period is even, and then one source is always asked first
    /// and a never-empty yield queue starves the partition for good.
    turn: u32,
    pub(crate) searching: bool,
    idle_rounds: u32,
    polls_since_timer_check: u32,
    /// Timers taken out of the wheel, fired once its lock is released (kept for its capacity).
    due: Vec<Filed>,
}

impl SearchState {
    /// The state `run` starts with (also used by the loom harness, which drives the run loop's
    /// steps).
    pub(crate) fn new(workers: usize) -> Self {
        SearchState {
            lifo_seen: vec![None; workers],
            progress_seen: vec![None; workers],
            ..SearchState::default()
        }
    }
}

impl Worker {
    pub(crate) fn new(index: usize, shared: Arc<Shared>, yields: YieldQueue<Notified>) -> Self {
        Worker {
            index,
            shared,
            yields,
        }
    }

    /// The runtime this worker belongs to.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Runs until the runtime shuts down (then cancels what is left in its own queues) or until
    /// this worker retires (then hands it to the others, see `service::pool`). Returns its yield
    /// queue, empty, for the next thread of this slot.
    pub(crate) fn run(self) -> YieldQueue<Notified> {
        {
            let shared = Arc::clone(&self.shared);
            let mut st = SearchState::new(shared.slots);
            // The guard keeps a pointer to `self.yields`, which stays in place (`self` is not
            // moved while it lives) and is pushed only by this thread.
            let _guard = context::enter(&shared, Some((self.index, &self.yields)));
            self.run_loop(&mut st);
            self.leave(&mut st);
        }
        self.yields
    }

    fn run_loop(&self, st: &mut SearchState) {
        let shared = &self.shared;
        while !shared.is_shutdown() {
            match self.find_task(st) {
                Some(task) => {
                    self.run_found(st, task);
                    st.polls_since_timer_check += 1;
                    if st.polls_since_timer_check >= TIMER_CHECK_POLLS {
                        self.check_timers(st);
                        self.poll_io_now();
                        if self.retiring() {
                            return;
                        }
                    }
                }
                None if st.idle_rounds < SEARCH_ROUNDS_BEFORE_PARK => {
                    if st.idle_rounds == 0 {
                        if self.check_timers(st) > 0 {
                            continue;
                        }
                        if self.retiring() {
                            return;
                        }
                        if let Some(driver) = self.free_driver() {
                            if io_driver::poll_now(&self.shared, driver) > 0 {
                                continue;
                            }
                            // Sockets are open and nobody waits in the driver: park in it soon
                            // rather than spin (its events arrive there first).
                            st.idle_rounds = SEARCH_ROUNDS_BEFORE_PARK - IO_SPIN_ROUNDS;
                        }
                    }
                    st.idle_rounds += 1;
                    for _ in 0..(1u32 << (st.idle_rounds / 4).min(6)) {
                        std::hint::spin_loop();
                    }
                }
                None => {
                    st.idle_rounds = 0;
                    if self.retiring() {
                        return;
                    }
                    self.park(st);
                }
            }
        }
    }

    /// Polls `task`, which a search found. The last searcher to find work wakes another worker to
    /// search (passes the baton): at once if more work is visible, so nothing it could see waits
    /// for this poll; otherwise after the poll, because on a machine with few CPUs the woken
    /// worker lands on this one's CPU and searches there before the task that was waited for runs
    /// (that made the wake-up latency of a parked task about 33 µs instead of 5 µs on 2 vCPUs).
    pub(crate) fn run_found(&self, st: &mut SearchState, task: Notified) {
        let shared = &self.shared;
        let mut pass_baton = std::mem::take(&mut st.searching) && shared.idle.end_search();
        if pass_baton && self.more_work_visible() {
            shared.notify_idle();
            pass_baton = false;
        }
        st.idle_rounds = 0;
        self.run_task(task);
        if pass_baton {
            shared.notify_idle();
        }
    }

    /// Whether any queue holds runnable work right now (loads only): a partition summary, a yield
    /// queue, another worker's LIFO slot. Work in the summary tree also woke its partition's
    /// owner through its status word; this check is about work a second searcher could take.
    fn more_work_visible(&self) -> bool {
        let shared = &self.shared;
        (0..shared.active_workers()).any(|w| {
            shared.tree.waker(w).partition_summary() != 0
                || !shared.yield_stealers[w].is_empty()
                || (w != self.index && shared.has_lifo(w))
        })
    }

    /// Whether this worker was asked to retire and has committed to it (see `service::pool`).
    #[inline]
    pub(crate) fn retiring(&self) -> bool {
        self.shared.pool.state(self.index) == pool::RETIRE_REQUESTED
            && self.shared.pool.commit_retire(self.index)
    }

    /// Leaves the run loop. At shutdown: cancels what is left in its own queues and drops its
    /// timers. Retiring: hands its LIFO task and yield queue to the summary tree (their leaves'
    /// new owners are notified), keeps its timers in its wheel for the service, and clears its
    /// signal state, so no phantom worker remains.
    pub(crate) fn leave(&self, st: &mut SearchState) {
        let shared = &self.shared;
        if std::mem::take(&mut st.searching) && shared.idle.end_search() && !shared.is_shutdown() {
            // It was the last searcher: pass the baton, as a searcher that found work does.
            shared.notify_idle();
        }
        let mut local = self.take_local();
        if negative_control("retire_skips_handoff") {
            // Planted bug (`tests/loom_scaling.rs` must fail): a retiring worker forgets its LIFO
            // task and yield queue (leaked, never run).
            std::mem::forget(std::mem::take(&mut local));
        }
        let local = if shared.is_shutdown() {
            local
        } else {
            match shared.hand_off(local) {
                Ok(()) => {
                    let waker = shared.tree.waker(self.index);
                    waker.try_unmark_yield(|| self.yields.is_empty());
                    waker.try_unmark_tasks();
                    waker.drain_permits();
                    return;
                }
                Err(local) => local,
            }
        };
        for t in local {
            t.cancel();
        }
        // No poll runs here any more: drop this worker's timers (their tasks are cancelled by the
        // shutdown sweep; a `Sleep` dropped later finds its filing gone, which is fine).
        shared.timers.clear(self.index);
    }

    /// Everything in this worker's LIFO slot and yield queue.
    fn take_local(&self) -> Vec<Notified> {
        let mut out = Vec::new();
        out.extend(self.shared.take_lifo(self.index));
        while let Some(t) = self.yields.pop() {
            out.push(t);
        }
        out
    }

    /// Applies this worker's timer inbox and fires its due timers (their tasks go to this worker's
    /// LIFO slot and local queue). Returns how many fired. Costs two loads when there are no
    /// timers and no messages, plus a clock read when there are.
    pub(crate) fn check_timers(&self, st: &mut SearchState) -> usize {
        st.polls_since_timer_check = 0;
        let timers = &self.shared.timers;
        let w = self.index;
        let waker = self.shared.tree.waker(w);
        let marked = waker.status() & (1 << TIMER_INBOX_GROUP) != 0;
        if !marked && !timers.inbox_pending(w) && timers.earliest(w) == NO_DEADLINE {
            return 0;
        }
        let now = timers.now_ns();
        if !marked && !timers.needs_attention(w, now) {
            return 0;
        }
        timers.collect_due(w, now, false, &mut st.due);
        if marked {
            // After the drain: a message that lands meanwhile keeps the bit (or re-arms it).
            waker.try_unmark_if_empty(TIMER_INBOX_GROUP, || !timers.inbox_pending(w));
        }
        fire_all(&mut st.due)
    }

    /// How long this worker may sleep before its next timer is due (`None`: no timer).
    fn park_timeout(&self) -> Option<Duration> {
        let timers = &self.shared.timers;
        let next = timers.earliest(self.index);
        (next != NO_DEADLINE).then(|| Duration::from_nanos(next.saturating_sub(timers.now_ns())))
    }

    pub(crate) fn run_task(&self, task: Notified) {
        self.shared.count_poll(self.index);
        let (_, again) = task.run();
        if let Some(task) = again {
            // Woken during its own poll (a yield): to the back of the FIFO yield queue.
            self.yields.push(task);
            self.shared.tree.waker(self.index).mark_yield();
            self.shared.notify_idle();
        }
    }

    /// The next task, in an order that bounds how long any runnable task waits: at most
    /// [`MAX_LIFO_POLLS`] LIFO polls in a row, then one turn that alternates strictly between the
    /// partition (claimed round-robin from its claim hint) and the FIFO yield queue, and every
    /// [`GLOBAL_CHECK_INTERVAL`] turns a look at the other workers' work first.
    pub(crate) fn find_task(&self, st: &mut SearchState) -> Option<Notified> {
        if st.lifo_streak < MAX_LIFO_POLLS {
            if let Some(t) = self.shared.take_lifo(self.index) {
                st.lifo_streak += 1;
                return Some(t);
            }
        }
        st.lifo_streak = 0;
        st.turn = st.turn.wrapping_add(1);
        if st.turn % GLOBAL_CHECK_INTERVAL == 0 {
            if let Some(t) = self.look_beyond_own_queues(st) {
                return Some(t);
            }
        }
        let found = if st.turn & 1 == 0 {
            self.take_from_partition()
                .or_else(|| self.take_from_yield_queue())
        } else {
            self.take_from_yield_queue()
                .or_else(|| self.take_from_partition())
        };
        found
            .or_else(|| self.shared.take_lifo(self.index))
            .or_else(|| self.steal(st))
    }

    fn take_from_partition(&self) -> Option<Notified> {
        // Guided by the summary only: an empty summary means nothing was announced here since the
        // last sync. (The scan of unmarked leaves happens once, in the re-sync before parking.)
        if self.shared.tree.waker(self.index).partition_summary() == 0 {
            return None;
        }
        let slot = self.shared.tree.claim_in_partition(self.index)?;
        Some(self.shared.task_for_slot(slot))
    }

    fn take_from_yield_queue(&self) -> Option<Notified> {
        match self.yields.pop() {
            Some(t) => Some(t),
            None => {
                let waker = self.shared.tree.waker(self.index);
                if waker.status() & signal_waker::STATUS_BIT_YIELD != 0 {
                    waker.try_unmark_yield(|| self.yields.is_empty());
                }
                None
            }
        }
    }

    fn steal(&self, st: &mut SearchState) -> Option<Notified> {
        let n = self.shared.active_workers();
        for k in 1..n {
            let victim = (self.index + k) % n;
            if let Some(t) = self.steal_stuck_lifo(victim, st) {
                return Some(t);
            }
        }
        // The tree is searched where the owners' summaries point; a full scan of leaf words
        // happens only in the final check before parking.
        let announced =
            (0..n).any(|w| w != self.index && self.shared.tree.waker(w).partition_summary() != 0);
        if announced {
            if let Some(slot) = self.shared.tree.steal(self.index, (self.index + 1) % n) {
                return Some(self.shared.task_for_slot(slot));
            }
        }
        for k in 1..n {
            let victim = (self.index + k) % n;
            loop {
                match self.shared.yield_stealers[victim].steal_batch_and_pop(&self.yields) {
                    Steal::Success(t) => return Some(t),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        None
    }

    /// The periodic check of a busy worker (see [`GLOBAL_CHECK_INTERVAL`]): now and then re-sync its
    /// own partition summary, take one task from another partition if any is announced, and take the
    /// LIFO task or one queued task of a worker that has not started a poll since the previous
    /// check (stuck in a long poll). A busy owner's queues are left alone: it serves them itself,
    /// and moving them would split message-passing pairs across cores.
    fn look_beyond_own_queues(&self, st: &mut SearchState) -> Option<Notified> {
        let shared = &self.shared;
        let n = shared.active_workers();
        if st.turn % (GLOBAL_CHECK_INTERVAL * RESYNC_EVERY_CHECKS) == 0 {
            // A full re-sync reads every leaf word of the partition (about 200 ns for 256 leaves),
            // so it is done only every few checks.
            shared.tree.sync_partition_summary(self.index);
        }
        let announced =
            (0..n).any(|w| w != self.index && shared.tree.waker(w).partition_summary() != 0);
        if announced {
            if let Some(slot) = shared.tree.steal(self.index, (self.index + 1) % n) {
                return Some(shared.task_for_slot(slot));
            }
        }
        for k in 1..n {
            let victim = (self.index + k) % n;
            let polls = shared.polls(victim);
            let stuck = st.progress_seen[victim] == Some(polls);
            st.progress_seen[victim] = Some(polls);
            if !stuck {
                continue;
            }
            if let Some(t) = shared.take_lifo(victim) {
                return Some(t);
            }
            loop {
                match shared.yield_stealers[victim].steal() {
                    Steal::Success(t) => return Some(t),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        None
    }

    /// Takes `victim`'s LIFO task only if `victim` has not started a single poll since this worker
    /// last saw a task there: a busy owner runs its LIFO task next (stealing it would move a
    /// message-passing pair across cores on every hand-off), while a task behind a stuck owner is
    /// still taken on the thief's next round.
    fn steal_stuck_lifo(&self, victim: usize, st: &mut SearchState) -> Option<Notified> {
        if !self.shared.has_lifo(victim) {
            st.lifo_seen[victim] = None;
            return None;
        }
        let polls = self.shared.polls(victim);
        if st.lifo_seen[victim] == Some(polls) {
            st.lifo_seen[victim] = None;
            return self.shared.take_lifo(victim);
        }
        st.lifo_seen[victim] = Some(polls);
        None
    }

    /// Whether any source this worker could take from holds work (the final check before parking).
    /// Another worker's LIFO task is not counted: its owner is awake (a worker never parks with a
    /// task in its own LIFO slot) and runs it next.
    pub(crate) fn work_visible(&self) -> bool {
        let shared = &self.shared;
        // Planted bug `final_check_timer_inbox` (fails `tests/loom_timers.rs`): ignore the inbox.
        if !self.yields.is_empty()
            || shared.is_shutdown()
            || (!negative_control("final_check_timer_inbox")
                && shared.timers.inbox_pending(self.index))
        {
            return true;
        }
        // Planted bugs (each fails a model of `tests/loom_run_loop.rs`): skip the own partition's
        // re-sync, the other workers' yield queues, or the other partitions.
        if !negative_control("final_check_own_partition")
            && shared.tree.sync_partition_summary(self.index)
        {
            return true;
        }
        (0..shared.active_workers()).any(|w| {
            w != self.index
                && ((!negative_control("final_check_other_yield_queues")
                    && !shared.yield_stealers[w].is_empty())
                    || (!negative_control("final_check_other_partitions")
                        && shared.partition_has_work(w)))
        })
    }

    pub(crate) fn park(&self, st: &mut SearchState) {
        let shared = &self.shared;
        if self.check_timers(st) > 0 {
            // The woken tasks are in this worker's LIFO slot and queue: run them instead.
            return;
        }
        let timeout = self.park_timeout();
        let pool = &shared.pool;
        // Only the automatic scale-down reads when a worker parked: no clock read otherwise.
        let automatic = pool.bounds.automatic;
        if automatic {
            pool.set_parked(self.index, Some(shared.timers.now_ns()));
        }
        let was_searching = std::mem::take(&mut st.searching);
        let mut turn = None;
        // Stop searching, drop stale permits, announce, final check, sleep (in the IO driver if
        // it is free, else on the futex), unpark: `idle.rs`.
        st.searching = idle::park_protocol(
            &shared.idle,
            shared.tree.waker(self.index),
            self.index,
            was_searching,
            timeout,
            || self.work_visible(),
            |waker, timeout| self.sleep(waker, timeout, &mut turn),
        );
        if automatic {
            pool.set_parked(self.index, None);
        }
        if let Some(turn) = turn {
            // The woken tasks go to this worker's LIFO slot and queue, after it let go of the
            // driver (see `io::driver`).
            io_driver::finish_and_wake(shared, turn);
        }
        self.check_timers(st);
    }

    /// Step 5 of the park: in the IO driver if there is one and nobody holds it (the held turn is
    /// left in `turn` for the caller to dispatch), else on the futex.
    fn sleep<'a>(
        &'a self,
        waker: &SignalWaker,
        timeout: Option<Duration>,
        turn: &mut Option<io_driver::Turn<'a>>,
    ) {
        match self
            .shared
            .io_driver_if_started()
            .and_then(io_driver::Driver::try_turn)
        {
            Some(mut held) => {
                idle::driver_sleep(&self.shared.idle, self.index, waker, || held.poll(timeout));
                *turn = Some(held);
            }
            None => idle::futex_sleep(waker, timeout),
        }
    }

    /// Polls the IO driver without waiting if sockets are registered and nobody holds it (a busy
    /// worker's periodic look, so events do not wait for a worker to park). Returns how many
    /// events it dispatched.
    fn poll_io_now(&self) -> usize {
        self.free_driver()
            .map_or(0, |driver| io_driver::poll_now(&self.shared, driver))
    }

    /// The IO driver, if sockets are registered and nobody holds it.
    fn free_driver(&self) -> Option<&io_driver::Driver> {
        self.shared
            .io_driver_if_started()
            .filter(|d| d.registrations() > 0 && !d.is_held())
    }
}
