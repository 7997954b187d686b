//! The service thread's watch over the IO driver: events must not wait for a worker to park.
//!
//! While sockets are registered and no thread holds the driver, the service looks at it once it
//! has gone unpolled for the watch period: if a worker sleeps on its futex, the service wakes it
//! (it finds no work, parks again, and parks in the free driver); if every worker is busy, the
//! service polls the driver itself without waiting (the woken tasks are scheduled as from any
//! other thread) and looks again a grace later. The period starts at the timers' grace (a few
//! ticks, at least 1 ms) and doubles with every look that finds nothing to do: up to
//! [`MAX_PERIOD_GRACES`] graces while the workers keep polling the driver themselves (a busy
//! server: at most a few hundred service wake-ups a second, and an event waits at most about that
//! many milliseconds when every worker gets stuck in user code). While a parked worker holds the
//! driver and nobody has let go of it since the previous look (an idle server), the holder sees
//! every event itself and the service sleeps untimed. A holder that lets go of the driver while
//! the service plans to look later than [`MAX_PERIOD_GRACES`] graces ahead (or not at all) wakes
//! it (`Timers::wake_service_if_late`), and the service re-checks after publishing its plan, so
//! neither side misses the other. With no socket registered the service does not watch at all.

use crate::io::driver as io_driver;
use crate::scheduler::idle;
use crate::scheduler::shared::Shared;
use crate::time::driver::NO_DEADLINE;

/// The longest the driver may go unpolled while sockets are registered before the service acts,
/// in graces (the watch period while the driver is busy).
pub(crate) const MAX_PERIOD_GRACES: u64 = 4;

/// The watch's state between looks.
#[derive(Debug, Default)]
pub(crate) struct IoWatch {
    /// The current period (ns; 0 = one grace).
    period: u64,
    /// The driver's release time seen by the previous look.
    last_released: u64,
}

impl IoWatch {
    /// When the service must look at the driver next (runtime clock, ns; `NO_DEADLINE`: no need).
    pub(crate) fn next_look(&self, shared: &Shared) -> u64 {
        match shared.io_driver_if_started() {
            Some(driver) if driver.registrations() > 0 && !driver.is_held() => driver
                .released_at()
                .saturating_add(self.unpolled_limit(shared)),
            _ => NO_DEADLINE,
        }
    }

    /// How long a free driver may go unpolled before the service acts.
    fn unpolled_limit(&self, shared: &Shared) -> u64 {
        let grace = shared.timers.grace_ns();
        self.period.clamp(grace, grace * MAX_PERIOD_GRACES)
    }

    /// Does what the watch calls for at `now`; returns when to look next.
    pub(crate) fn look(&mut self, shared: &Shared, now: u64) -> u64 {
        let grace = shared.timers.grace_ns();
        let Some(driver) = shared
            .io_driver_if_started()
            .filter(|d| d.registrations() > 0)
        else {
            // Nothing to watch: a registration wakes the service.
            self.period = grace;
            return NO_DEADLINE;
        };
        let released = driver.released_at();
        let held = driver.is_held();
        if !held && released.saturating_add(self.unpolled_limit(shared)) <= now {
            self.period = grace;
            if shared.idle.futex_parked_mask() != 0 {
                // The woken worker parks again, in the driver. If a searcher is about already,
                // `notify_one` wakes nobody: that searcher parks soon and takes the driver.
                idle::notify_one(&shared.idle, |w| shared.tree.waker(w));
            } else {
                // Every worker is busy (or in a long poll): poll the driver here. A holder that
                // got in first makes this a no-op.
                io_driver::poll_now(shared, driver);
            }
            return now.saturating_add(grace);
        }
        let quiet = released == self.last_released;
        self.last_released = released;
        if held && quiet {
            // A parked worker waits in the driver and nobody has let go of it since the previous
            // look (an idle server): nothing to watch until a holder lets go, which wakes the
            // service (see the module docs).
            self.period = grace;
            return NO_DEADLINE;
        }
        // Polled by the workers since the previous look: a busy driver.
        self.period = (self.period.max(grace) * 2).min(grace * MAX_PERIOD_GRACES);
        if held {
            now.saturating_add(self.period)
        } else {
            released.saturating_add(self.unpolled_limit(shared))
        }
    }
}
