//! [`interval`], [`interval_at`], [`Interval`] and [`MissedTickBehavior`].

use crate::time::sleep::{sleep_until, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// An [`Interval`] whose first tick completes at once and then every `period`. Like
/// `tokio::time::interval`.
///
/// ```
/// use std::time::Duration;
/// let rt = worker_runtime::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let mut every = worker_runtime::time::interval(Duration::from_millis(2));
///     let first = every.tick().await;
///     let second = every.tick().await;
///     assert_eq!(second - first, Duration::from_millis(2));
/// });
/// ```
///
/// # Panics
/// If `period` is zero, or outside a runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An [`Interval`] whose first tick completes at `start`, then every `period`.
///
/// # Panics
/// If `period` is zero, or outside a runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "interval: `period` must be non-zero (got {period:?})"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when a tick is late (the task was busy past one or more ticks).
///
/// A tick counts as missed when it completes more than 5 ms after its scheduled time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Catch up: the missed ticks complete back to back, then the original schedule resumes.
    #[default]
    Burst,
    /// Start over: the next tick is one `period` after the late one completed.
    Delay,
    /// Skip the missed ticks: the next tick is the next one on the original schedule that is
    /// still in the future.
    Skip,
}

impl MissedTickBehavior {
    fn next_timeout(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let behind = (now - scheduled).as_nanos();
                let period_ns = period.as_nanos();
                let into_period = (behind % period_ns) as u64;
                now + period - Duration::from_nanos(into_period)
            }
        }
    }
}

/// Ticks at a fixed period; made by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready(scheduled instant)` once it is due.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = if now > scheduled + Duration::from_millis(5) {
            self.missed_tick_behavior
                .next_timeout(scheduled, now, self.period)
        } else {
            scheduled + self.period
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        Pin::new(&mut self.delay).reset(Instant::now() + self.period);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The missed-tick behaviour (default [`MissedTickBehavior::Burst`]).
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the missed-tick behaviour.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}
