//! [`Sleep`], [`sleep`] and [`sleep_until`].

use crate::context;
use crate::scheduler::shared::Shared;
use crate::time::driver::TimerOp;
use crate::time::entry::TimerEntry;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `duration` has elapsed; a [`Sleep`] future. Like `tokio::time::sleep`.
///
/// The timer resolution is the runtime's tick ([`Builder::tick_duration`](crate::Builder::tick_duration));
/// a sleep never ends early, and ends at most about one tick late on an idle runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = worker_runtime::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     worker_runtime::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
///
/// # Panics
/// Outside a runtime (a task, or `Runtime::block_on`).
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    Sleep::new(deadline, "sleep")
}

/// Waits until `deadline`; a [`Sleep`] future. Like `tokio::time::sleep_until`.
///
/// # Panics
/// Outside a runtime (a task, or `Runtime::block_on`).
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, "sleep_until")
}

/// About 30 years from now: what a deadline that `Instant` cannot represent becomes (tokio does
/// the same).
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// A future that completes at its deadline; made by [`sleep`] and [`sleep_until`].
///
/// `Send + Sync + Unpin`. It registers its timer on its first poll, in the timer wheel of the
/// worker that polls it (a sleep dropped before its first poll costs nothing), and cancels it when
/// dropped, in O(1). [`reset`](Self::reset) moves it to a new deadline and reuses the same
/// registration.
pub struct Sleep {
    deadline: Instant,
    shared: Arc<Shared>,
    registration: Option<Registration>,
    /// Set once `poll` returned `Ready` (until a `reset`).
    done: bool,
}

struct Registration {
    entry: Arc<TimerEntry>,
    generation: u64,
    /// The worker whose wheel holds the timer.
    owner: usize,
}

impl Sleep {
    #[track_caller]
    fn new(deadline: Instant, what: &str) -> Sleep {
        let Some(shared) = context::current() else {
            // Here, not in a closure: `#[track_caller]` then points at the caller's line.
            panic!(
                "worker_runtime::time::{what} called outside a runtime: call it from a task, \
                 from inside Runtime::block_on or after Runtime::enter"
            )
        };
        Sleep {
            deadline,
            shared,
            registration: None,
            done: false,
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached: its timer fired, or a poll saw the deadline passed.
    pub fn is_elapsed(&self) -> bool {
        self.done
            || self
                .registration
                .as_ref()
                .is_some_and(|r| r.entry.is_fired(r.generation))
    }

    /// Moves the deadline to `deadline` (earlier or later), re-filing the existing timer in place
    /// (no allocation). A sleep that has completed can be reset and awaited again.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.done = false;
        if let Some(r) = &mut this.registration {
            r.generation += 1;
            r.entry.rearm(r.generation);
            let op = TimerOp::File {
                entry: Arc::clone(&r.entry),
                generation: r.generation,
                deadline_ns: this.shared.timers.instant_to_ns(deadline),
            };
            if !this.shared.timer_op(r.owner, op) {
                // Shut down: no worker will ever fire it; the next poll says so.
                this.registration = None;
            }
        }
    }

    #[track_caller]
    fn register(&mut self, cx: &Context<'_>) -> Poll<()> {
        let timers = &self.shared.timers;
        let deadline_ns = timers.instant_to_ns(self.deadline);
        if deadline_ns <= timers.now_ns() {
            self.done = true;
            return Poll::Ready(());
        }
        let entry = Arc::new(TimerEntry::new(cx.waker().clone()));
        let owner = self.shared.timer_owner();
        let op = TimerOp::File {
            entry: Arc::clone(&entry),
            generation: 0,
            deadline_ns,
        };
        if !self.shared.timer_op(owner, op) {
            panic!(
                "a worker_runtime Sleep was polled after its runtime shut down: no worker is left \
                 to fire it"
            );
        }
        self.registration = Some(Registration {
            entry,
            generation: 0,
            owner,
        });
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        let Some(r) = &this.registration else {
            return this.register(cx);
        };
        if r.entry.is_fired(r.generation) {
            this.done = true;
            return Poll::Ready(());
        }
        r.entry.set_waker(cx.waker());
        // Re-check after storing the waker: a fire in between found no waker (see `entry.rs`).
        if r.entry.is_fired(r.generation) {
            this.done = true;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(r) = self.registration.take() {
            // Make every filing stale first, so whatever still sits in a wheel never fires, then
            // let go of the task's waker and ask the owner to drop the filing (O(1)).
            r.entry.rearm(r.generation + 1);
            r.entry.clear_waker();
            let _ = self
                .shared
                .timer_op(r.owner, TimerOp::Cancel { entry: r.entry });
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("is_elapsed", &self.is_elapsed())
            .finish_non_exhaustive()
    }
}
