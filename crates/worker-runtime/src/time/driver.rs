//! The runtime's timers: the clock, one [`TimerWheel`] per worker and each worker's timer inbox.
//!
//! **Ownership.** A timer is filed in the wheel of the worker whose thread first polls its
//! `Sleep` (its *owner*), and stays there. The owner files, cancels and resets it directly under
//! its own wheel lock, which nobody else normally takes. Any other thread (a thread inside
//! `block_on`, another worker the `Sleep` moved to, a thread dropping it) sends the operation to
//! the owner's *inbox* instead and sets the owner's inbox queue group in its status word
//! ([`TIMER_INBOX_GROUP`]): the 0→1 transition releases a permit, so a parked owner wakes up,
//! applies the message and parks again with its new next deadline.
//!
//! **Who fires.** The owner, before it searches for work (every few dozen polls), before it parks
//! and after it unparks, parking with its next deadline as the futex timeout. When an owner
//! falls behind by more than [`Timers::grace_ns`] (it is stuck in a long poll or a blocking call,
//! or it has retired), the WorkerService thread takes its wheel lock (a `try_lock`: the owner only
//! holds it for the few operations of a timer check, never while it runs user code) and does the
//! same for it. Wakers are always called after the lock is released.
//!
//! **Wake-up of the service.** Every shard publishes its earliest deadline (`next_deadline`, and
//! `inbox_min` for messages not yet applied). The service stores the time it plans to wake at
//! (`planned_wake`), then re-reads every shard; whoever lowers a deadline stores it, then reads
//! `planned_wake` and wakes the service if it would oversleep. Both sides are `SeqCst`, so
//! either the service's re-read sees the new deadline or the registrant sees the plan.

use crate::sync::{lock, new_atomic_u64, new_atomic_usize, try_lock, AtomicU64, AtomicUsize};
use crate::sync::{Mutex, Ordering};
use crate::time::entry::{TimerEntry, NOT_FILED};
use crossbeam_utils::CachePadded;
use signal_waker::SignalWaker;
use std::sync::Arc;
use std::time::{Duration, Instant};
use timer_wheel::{TimerId, TimerWheel};

/// The status-word queue group that stands for "this worker's timer inbox has messages".
pub(crate) const TIMER_INBOX_GROUP: u32 = 0;

/// "No deadline" in the published deadline words.
pub(crate) const NO_DEADLINE: u64 = u64::MAX;

/// The service steps in for an owner that is this many ticks behind its earliest timer (but at
/// least [`MIN_GRACE`]): long enough that a busy owner, which checks its timers every few dozen
/// polls, is not raced for them, short enough that a stuck one delays its timers by a few ms.
const GRACE_TICKS: u64 = 2;
const MIN_GRACE: Duration = Duration::from_millis(1);

/// A filing in a wheel: the entry and the generation it was filed for.
pub(crate) type Filed = (Arc<TimerEntry>, u64);

/// An operation on a timer, applied under its owner's wheel lock.
pub(crate) enum TimerOp {
    /// File `entry` for `generation` at `deadline_ns`, replacing its previous filing. Skipped if
    /// the entry has moved on to a newer generation meanwhile.
    File {
        entry: Arc<TimerEntry>,
        generation: u64,
        deadline_ns: u64,
    },
    /// Remove `entry`'s filing, if any.
    Cancel { entry: Arc<TimerEntry> },
}

/// One worker's wheel and inbox.
struct TimerShard {
    wheel: Mutex<TimerWheel<Filed>>,
    inbox: Mutex<Vec<TimerOp>>,
    inbox_len: AtomicUsize,
    /// Earliest deadline among the inbox's `File` messages, or [`NO_DEADLINE`].
    inbox_min: AtomicU64,
    /// The wheel's `next_deadline()` after the latest operation on it, or [`NO_DEADLINE`].
    next_deadline: AtomicU64,
}

/// The runtime's clock and timer shards (one per worker slot).
pub(crate) struct Timers {
    base: Instant,
    tick_ns: u64,
    grace_ns: u64,
    shards: Box<[CachePadded<TimerShard>]>,
    /// When the service plans to wake up next (ns on this clock), 0 while it is awake.
    planned_wake: CachePadded<AtomicU64>,
    /// The WorkerService thread's parking spot.
    pub(crate) service_waker: SignalWaker,
}

impl Timers {
    /// `slots` shards (one per worker slot) with a `tick_ns` tick (a power of two).
    pub(crate) fn new(slots: usize, tick_ns: u64) -> Self {
        let shards = (0..slots)
            .map(|_| {
                CachePadded::new(TimerShard {
                    wheel: Mutex::new(
                        TimerWheel::with_tick(tick_ns).expect("tick validated by the builder"),
                    ),
                    inbox: Mutex::new(Vec::new()),
                    inbox_len: new_atomic_usize(0),
                    inbox_min: new_atomic_u64(NO_DEADLINE),
                    next_deadline: new_atomic_u64(NO_DEADLINE),
                })
            })
            .collect();
        Timers {
            base: Instant::now(),
            tick_ns,
            grace_ns: (GRACE_TICKS * tick_ns).max(MIN_GRACE.as_nanos() as u64),
            shards,
            planned_wake: CachePadded::new(new_atomic_u64(0)),
            service_waker: SignalWaker::new(),
        }
    }

    /// Nanoseconds since this runtime's clock started.
    #[inline]
    pub(crate) fn now_ns(&self) -> u64 {
        self.instant_to_ns(Instant::now())
    }

    /// `t` on this clock (saturating: an instant before the start is 0, one past ~584 years is
    /// the far future).
    #[inline]
    pub(crate) fn instant_to_ns(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.base);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// The wheel tick in ns.
    pub(crate) fn tick_ns(&self) -> u64 {
        self.tick_ns
    }

    /// How far behind its earliest timer an owner may fall before the service fires for it.
    pub(crate) fn grace_ns(&self) -> u64 {
        self.grace_ns
    }

    /// Applies `op` to shard `w`'s wheel: the owner's direct path.
    pub(crate) fn apply_local(&self, w: usize, op: TimerOp) {
        let lowered = op_deadline(&op);
        {
            let shard = &self.shards[w];
            let mut wheel = lock(&shard.wheel);
            apply(&mut wheel, &op);
            publish_next(shard, &wheel);
        }
        // The op (and with it possibly the last reference to an entry, and its waker) is dropped
        // after the lock is released.
        drop(op);
        if let Some(d) = lowered {
            self.wake_service_if_late(d);
        }
    }

    /// Sends `op` to worker `w`'s inbox and marks its inbox group (waking it if it sleeps).
    /// Returns `false` (and drops `op`) if `refuse()` says no message may be queued any more
    /// (the runtime shut down); `refuse` is asked under the inbox lock.
    pub(crate) fn send(
        &self,
        w: usize,
        op: TimerOp,
        owner: &SignalWaker,
        refuse: impl FnOnce() -> bool,
    ) -> bool {
        let lowered = op_deadline(&op);
        let shard = &self.shards[w];
        {
            let mut inbox = lock(&shard.inbox);
            if refuse() {
                drop(inbox);
                drop(op);
                return false;
            }
            inbox.push(op);
            if let Some(d) = lowered {
                shard.inbox_min.fetch_min(d, Ordering::SeqCst);
            }
            // A SeqCst RMW: the inbox's publication that `mark_active` requires before it.
            shard.inbox_len.fetch_add(1, Ordering::SeqCst);
        }
        owner.mark_active(TIMER_INBOX_GROUP);
        if let Some(d) = lowered {
            self.wake_service_if_late(d);
        }
        true
    }

    /// Whether shard `w` has inbox messages not yet applied.
    #[inline]
    pub(crate) fn inbox_pending(&self, w: usize) -> bool {
        self.shards[w].inbox_len.load(Ordering::SeqCst) != 0
    }

    /// Shard `w`'s earliest deadline, inbox included (ns, or [`NO_DEADLINE`]).
    #[inline]
    pub(crate) fn earliest(&self, w: usize) -> u64 {
        let shard = &self.shards[w];
        shard
            .next_deadline
            .load(Ordering::SeqCst)
            .min(shard.inbox_min.load(Ordering::SeqCst))
    }

    /// Whether shard `w` has a timer due at `now_ns` or a message to apply (a cheap check: loads
    /// only).
    #[inline]
    pub(crate) fn needs_attention(&self, w: usize, now_ns: u64) -> bool {
        self.inbox_pending(w) || self.shards[w].next_deadline.load(Ordering::SeqCst) <= now_ns
    }

    /// Applies shard `w`'s inbox and moves every timer due at `now_ns` into `due`, under the
    /// wheel lock; `None` if `try_only` and the lock is taken. The caller fires `due` after this
    /// returns, outside the lock. Returns how many timers became due.
    pub(crate) fn collect_due(
        &self,
        w: usize,
        now_ns: u64,
        try_only: bool,
        due: &mut Vec<Filed>,
    ) -> Option<usize> {
        let shard = &self.shards[w];
        let mut wheel = if try_only {
            try_lock(&shard.wheel)?
        } else {
            lock(&shard.wheel)
        };
        let ops = take_inbox(shard);
        for op in &ops {
            apply(&mut wheel, op);
        }
        let before = due.len();
        while let Some(filed) = wheel.poll_expired(now_ns) {
            due.push(filed);
        }
        publish_next(shard, &wheel);
        drop(wheel);
        drop(ops);
        Some(due.len() - before)
    }

    /// Drops every timer and message of shard `w` (shutdown). The entries' wakers are dropped
    /// outside the locks; a panic in one of them (a foreign waker's `Drop`) is contained.
    pub(crate) fn clear(&self, w: usize) {
        let shard = &self.shards[w];
        let ops = take_inbox(shard);
        let mut filed = Vec::new();
        {
            let mut wheel = lock(&shard.wheel);
            let far = u64::MAX;
            while let Some(f) = wheel.poll_expired(far) {
                filed.push(f);
            }
            shard.next_deadline.store(NO_DEADLINE, Ordering::SeqCst);
        }
        for op in ops {
            crate::task::drop_contained(op);
        }
        for f in filed {
            crate::task::drop_contained(f);
        }
    }

    /// The service's plan: stores `at` (ns, or [`NO_DEADLINE`]) as its wake time and returns
    /// [`earliest_overdue_at`](Self::earliest_overdue_at), read after the store. If that is
    /// earlier than `at`, the caller must not sleep until `at`.
    pub(crate) fn plan_service_wake(&self, at: u64, grace_of: impl Fn(usize) -> u64) -> u64 {
        self.planned_wake.store(at, Ordering::SeqCst);
        self.earliest_overdue_at(grace_of)
    }

    /// The service is awake: no registrant needs to wake it.
    pub(crate) fn service_awake(&self) {
        self.planned_wake.store(0, Ordering::SeqCst);
    }

    /// The earliest time at which some shard `w`'s earliest deadline is `grace_of(w)` overdue.
    pub(crate) fn earliest_overdue_at(&self, grace_of: impl Fn(usize) -> u64) -> u64 {
        (0..self.shards.len())
            .map(|w| self.earliest(w).saturating_add(grace_of(w)))
            .min()
            .unwrap_or(NO_DEADLINE)
    }

    /// `(filed, queued)` over every shard: timers in the wheels, messages in the inboxes.
    pub(crate) fn counts(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(filed, queued), shard| {
            (
                filed + lock(&shard.wheel).len(),
                queued + shard.inbox_len.load(Ordering::SeqCst),
            )
        })
    }

    /// Number of shards (worker slots).
    pub(crate) fn slots(&self) -> usize {
        self.shards.len()
    }

    /// A registrant lowered a deadline to `deadline_ns`: wakes the service if it plans to sleep
    /// past the time that timer would be overdue.
    pub(crate) fn wake_service_if_late(&self, deadline_ns: u64) {
        let planned = self.planned_wake.load(Ordering::SeqCst);
        if planned != 0 && deadline_ns.saturating_add(self.grace_ns) < planned {
            self.service_waker.release_permit();
        }
    }
}

fn op_deadline(op: &TimerOp) -> Option<u64> {
    match op {
        TimerOp::File { deadline_ns, .. } => Some(*deadline_ns),
        TimerOp::Cancel { .. } => None,
    }
}

fn take_inbox(shard: &TimerShard) -> Vec<TimerOp> {
    if shard.inbox_len.load(Ordering::SeqCst) == 0 {
        return Vec::new();
    }
    let mut inbox = lock(&shard.inbox);
    shard.inbox_len.store(0, Ordering::SeqCst);
    shard.inbox_min.store(NO_DEADLINE, Ordering::SeqCst);
    std::mem::take(&mut *inbox)
}

fn publish_next(shard: &TimerShard, wheel: &TimerWheel<Filed>) {
    let next = wheel.next_deadline().unwrap_or(NO_DEADLINE);
    shard.next_deadline.store(next, Ordering::SeqCst);
}

/// Applies one operation under the wheel lock. Entries removed from the wheel are dropped here,
/// but never their last reference: the operation holds one.
fn apply(wheel: &mut TimerWheel<Filed>, op: &TimerOp) {
    match op {
        TimerOp::File {
            entry,
            generation,
            deadline_ns,
        } => {
            if entry.generation() != *generation {
                return;
            }
            let old = entry.filed_id();
            if old != NOT_FILED {
                drop(wheel.cancel(TimerId::from_u64(old)));
            }
            let id = wheel.insert(*deadline_ns, (Arc::clone(entry), *generation));
            entry.set_filed_id(id.to_u64());
        }
        TimerOp::Cancel { entry } => {
            let old = entry.filed_id();
            if old != NOT_FILED {
                entry.set_filed_id(NOT_FILED);
                drop(wheel.cancel(TimerId::from_u64(old)));
            }
        }
    }
}

/// Fires every filing in `due` (outside any lock), in order; returns how many fired.
pub(crate) fn fire_all(due: &mut Vec<Filed>) -> usize {
    let mut fired = 0;
    for (entry, generation) in due.drain(..) {
        if entry.fire(generation) {
            fired += 1;
        }
    }
    fired
}
