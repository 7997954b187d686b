//! The WorkerService: one thread per runtime that watches the workers and does what a stuck
//! worker cannot.
//!
//! Today it keeps timers honest: a worker fires its own timers, but not while it is stuck in a
//! long poll or a blocking call. The service wakes up when some worker's earliest timer is more
//! than the grace period overdue (see `time::driver`), takes that worker's wheel lock with a
//! `try_lock` (the owner holds it only for the few operations of a timer check, never while it
//! runs user code), applies its inbox and fires its due timers, outside the lock. The woken tasks
//! are scheduled as from any other thread, so an awake worker (or the periodic look of a busy
//! one) runs them.
//!
//! It sleeps on its own `SignalWaker` until the next time a timer could be overdue, untimed when
//! there is none, so an idle runtime costs no CPU; a registration that makes a timer due before
//! the planned wake wakes it early (see `Timers::plan_service_wake`). Shutdown releases its permit.

use crate::scheduler::shared::Shared;
use crate::time::driver::{fire_all, NO_DEADLINE};
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
        let mut due = Vec::new();
        while !shared.is_shutdown() {
            timers.service_awake();
            // Wake-ups that arrived while awake are covered by the scan below (a registrant
            // publishes its deadline before it reads the plan).
            timers.service_waker.drain_permits();
            let now = timers.now_ns();
            for w in 0..timers.slots() {
                if timers.earliest(w).saturating_add(timers.grace_ns()) <= now
                    && timers.collect_due(w, now, true, &mut due).is_some()
                {
                    fire_all(&mut due);
                }
            }
            // Never plan sooner than one tick ahead: an owner that holds its lock right now, or a
            // timer that stays overdue, is looked at again then, without spinning.
            let min_next = now.saturating_add(timers.tick_ns());
            let at = timers.earliest_overdue_at().max(min_next);
            if timers.plan_service_wake(at) < at && at != min_next {
                // A timer became due before the plan while it was being stored: plan again.
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
