//! The service's scaling decisions (automatic scaling only, between `min_workers` and
//! `max_workers`).
//!
//! * **Up**: a producer that finds no worker parked and none searching (every worker is busy)
//!   raises the scaling hint and wakes the service (one load while the hint is already up, see
//!   `Shared::notify_idle`). The service adds one worker if, when it looks, work still waits
//!   (queued in the summary tree or a yield queue) while no worker is parked or searching, at
//!   most one every [`SCALE_UP_SPACING`].
//! * **Down**: when some worker has been parked for `worker_keep_alive`, the highest-numbered
//!   worker retires (partitions are contiguous ranges `0..n`, so the count shrinks from the top;
//!   the idle worker then takes over a share of the retired one's slots). While the count is above
//!   the minimum the service looks again at the earliest time that could be true, so an idle
//!   runtime wakes it at most once per `worker_keep_alive`; at the minimum it does not wake for
//!   scaling at all.

use crate::scheduler::shared::Shared;
use crate::time::driver::NO_DEADLINE;
use std::sync::Arc;
use std::time::Duration;

/// Fewest ns between two automatic scale-ups: a burst grows the pool step by step, each new
/// worker getting a chance to take load before the next is added.
pub(crate) const SCALE_UP_SPACING: Duration = Duration::from_millis(1);

/// The service's scaling state between wake-ups.
#[derive(Default)]
pub(crate) struct Scaler {
    last_up_ns: Option<u64>,
}

impl Scaler {
    /// Decides on one wake-up at `now_ns`; returns when to look again ([`NO_DEADLINE`]: only on a
    /// hint).
    pub(crate) fn decide(&mut self, shared: &Arc<Shared>, now_ns: u64) -> u64 {
        let pool = &shared.pool;
        let bounds = pool.bounds;
        if !bounds.automatic {
            return NO_DEADLINE;
        }
        let n = shared.active_workers();
        let spacing = SCALE_UP_SPACING.as_nanos() as u64;
        let mut next = NO_DEADLINE;
        if n < bounds.max && shared.take_scale_hint() {
            match self.last_up_ns {
                Some(t) if now_ns < t + spacing => {
                    // Too soon after the last one: look again when the spacing has passed.
                    shared.restore_scale_hint();
                    next = t + spacing;
                }
                _ if work_waits(shared) => {
                    if pool.scale_to(shared, n + 1).is_ok() {
                        self.last_up_ns = Some(now_ns);
                    }
                    return now_ns + spacing;
                }
                _ => {}
            }
        }
        if n > bounds.min {
            let keep = bounds.keep_alive.as_nanos() as u64;
            let idle_since = (0..n).filter_map(|w| pool.parked_since(w)).min();
            let at = match idle_since {
                Some(t) if now_ns.saturating_sub(t) >= keep => {
                    let _ = pool.scale_to(shared, n - 1);
                    now_ns + keep.min(spacing.max(keep / 4))
                }
                Some(t) => t + keep,
                None => now_ns + keep,
            };
            next = next.min(at);
        }
        next
    }
}

/// Whether runnable work is queued while no worker is parked or searching.
fn work_waits(shared: &Shared) -> bool {
    if shared.idle.parked_mask() != 0 || shared.idle.searching() != 0 {
        return false;
    }
    (0..shared.active_workers()).any(|w| !shared.yield_stealers[w].is_empty())
        || shared.tree.scheduled_count() > 0
}
