//! The service thread's watch over the IO driver: events must not wait for a worker to park.
//!
//! While sockets are registered and no thread holds the driver, the service looks at it once it
//! has been free for the grace period (the timers' grace, a few ticks, at least 1 ms): if a
//! worker sleeps on its futex, the service wakes it (it finds no work, parks again, and parks in
//! the free driver); if every worker is busy, the service polls the driver itself without waiting
//! (the woken tasks are scheduled as from any other thread) and looks again a grace period later.
//! When a thread holds the driver there is nothing to watch and the service can sleep untimed: a
//! holder that lets go of the driver wakes it (`Timers::wake_service_if_late`), and the service
//! re-checks after publishing its plan, so neither side misses the other.

use crate::io::driver::{self as io_driver, Driver};
use crate::scheduler::idle;
use crate::scheduler::shared::Shared;
use crate::time::driver::NO_DEADLINE;

/// When the service must look at the driver next (runtime clock, ns; `NO_DEADLINE`: no need).
pub(crate) fn next_look(shared: &Shared) -> u64 {
    match watched(shared) {
        Some(driver) => driver
            .released_at()
            .saturating_add(shared.timers.grace_ns()),
        None => NO_DEADLINE,
    }
}

/// Does what the watch calls for at `now`; returns when to look next.
pub(crate) fn look(shared: &Shared, now: u64) -> u64 {
    let at = next_look(shared);
    if at > now {
        return at;
    }
    let Some(driver) = watched(shared) else {
        return NO_DEADLINE;
    };
    if shared.idle.futex_parked_mask() != 0 {
        // The woken worker parks again, in the driver. If a searcher is about already,
        // `notify_one` wakes nobody: that searcher parks soon and takes the driver itself.
        idle::notify_one(&shared.idle, |w| shared.tree.waker(w));
    } else {
        // Every worker is busy (or in a long poll): poll the driver here. A holder that got in
        // first makes this a no-op.
        io_driver::poll_now(shared, driver);
    }
    now.saturating_add(shared.timers.grace_ns())
}

/// The driver, if it needs watching: sockets registered and nobody holding it.
fn watched(shared: &Shared) -> Option<&Driver> {
    shared
        .io_driver_if_started()
        .filter(|d| d.registrations() > 0 && !d.is_held())
}
