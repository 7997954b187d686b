//! The WorkerService: one thread per runtime that watches the workers and does what a stuck or
//! absent worker cannot.
//!
//! * **Timers of a stuck worker.** A worker fires its own timers, but not while it is stuck in a
//!   long poll or a blocking call. The service wakes up when some worker's earliest timer is more
//!   than the grace period overdue (see `time::driver`), takes that worker's wheel lock with a
//!   `try_lock` (the owner holds it only for the few operations of a timer check, never while it
//!   runs user code), applies its inbox and fires its due timers, outside the lock. The woken
//!   tasks are scheduled as from any other thread, so an awake worker (or the periodic look of a
//!   busy one) runs them.
//! * **Timers of a vacant slot.** A retired worker's timers stay in its wheel; while its slot has
//!   no thread the service is their owner (it applies the slot's inbox and fires them on time).
//! * **The IO driver** while no worker holds it (see [`io_watch`]): events never wait behind a
//!   worker that is running user code.
//! * **Scaling** (see [`scaling`]) and joining retired workers' threads ([`pool`]).
//!
//! It sleeps on its own `SignalWaker` until the next time it has something to do, untimed when
//! there is nothing, so an idle runtime costs no CPU; a registration that makes a timer due before
//! the planned wake wakes it early (see `Timers::plan_service_wake`), as do a scaling hint, a
//! message to a vacant slot and a worker that retired. Shutdown releases its permit.

mod io_watch;
pub(crate) use io_watch::MAX_PERIOD_GRACES as IO_WATCH_MAX_PERIOD_GRACES;
pub(crate) mod pool;
mod scaling;

use crate::scheduler::shared::Shared;
use crate::time::driver::{fire_all, NO_DEADLINE, TIMER_INBOX_GROUP};
use std::sync::Arc;
use std::time::Duration;

/// The service thread's state.
pub(crate) struct WorkerService {
    shared: Arc<Shared>,
}

impl WorkerService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        WorkerService { shared }
    }

    /// Runs until the runtime shuts down.
    pub(crate) fn run(self) {
        let shared = &self.shared;
        let timers = &shared.timers;
        let mut scaler = scaling::Scaler::default();
        let mut io_watch = io_watch::IoWatch::default();
        let mut due = Vec::new();
        // A running worker's timers are the service's business only once `grace_ns` overdue; a
        // vacant slot's are due on time.
        let grace_of = |w: usize| {
            if shared.pool.state(w) == pool::VACANT {
                0
            } else {
                timers.grace_ns()
            }
        };
        while !shared.is_shutdown() {
            timers.service_awake();
            // Wake-ups that arrived while awake are covered by the scan below (a registrant
            // publishes its deadline before it reads the plan).
            timers.service_waker.drain_permits();
            shared.pool.reap();
            let now = timers.now_ns();
            for w in 0..timers.slots() {
                let vacant = grace_of(w) == 0;
                let overdue = if vacant {
                    timers.needs_attention(w, now)
                } else {
                    timers.earliest(w).saturating_add(grace_of(w)) <= now
                };
                if overdue && timers.collect_due(w, now, !vacant, &mut due).is_some() {
                    fire_all(&mut due);
                }
                if vacant {
                    // A message to a vacant slot marked its inbox group (and released a permit)
                    // on a waker nobody sleeps on: clear both, so no phantom state remains. No
                    // thread can start in the slot meanwhile; one that starts later finds any
                    // message still queued by its inbox count.
                    let waker = shared.tree.waker(w);
                    shared.pool.while_vacant(w, || {
                        waker.try_unmark_if_empty(TIMER_INBOX_GROUP, || !timers.inbox_pending(w));
                        waker.drain_permits();
                    });
                }
            }
            let scale_at = scaler.decide(shared, now);
            let io_at = io_watch.look(shared, now);
            // Never plan sooner than one tick ahead: an owner that holds its lock right now, or a
            // timer that stays overdue, is looked at again then, without spinning.
            let min_next = now.saturating_add(timers.tick_ns());
            let at = timers
                .earliest_overdue_at(grace_of)
                .min(scale_at)
                .min(io_at)
                .max(min_next);
            let io_before = io_watch.next_look(shared);
            if (timers.plan_service_wake(at, grace_of) < at
                || io_watch.next_look(shared) < io_before)
                && at != min_next
            {
                // A timer became due, or the driver was let go, before the plan while it was
                // being stored: plan again.
                continue;
            }
            if shared.is_shutdown() {
                break;
            }
            if at == NO_DEADLINE {
                timers.service_waker.acquire();
            } else {
                let wait = Duration::from_nanos(at.saturating_sub(timers.now_ns()));
                let _ = timers.service_waker.acquire_timeout(wait);
            }
        }
    }
}
