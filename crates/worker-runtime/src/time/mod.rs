//! Time: [`sleep`], [`sleep_until`], [`timeout`], [`interval`], with tokio's names and semantics,
//! so `use tokio::time::{..}` ports by renaming the crate.
//!
//! Deadlines are [`std::time::Instant`]s ([`Instant`] here is that same type). Each worker keeps
//! its own hierarchical timer wheel (the `timer-wheel` crate): a timer lives in the wheel of the
//! worker that first polled it, which fires it before it searches for work and parks with its
//! next deadline as the futex timeout. A timer registered, reset or dropped on another thread is
//! sent to its owner as a message. When an owner is stuck (a task blocks its thread), the
//! runtime's service thread fires that owner's overdue timers for it, so one blocking task does
//! not freeze other tasks' timers.
//!
//! Resolution: the runtime's tick ([`Builder::tick_duration`](crate::Builder::tick_duration)).
//! A timer never fires before its deadline. These functions panic outside a runtime (a task, or
//! `Runtime::block_on`), as tokio's do.

pub(crate) mod driver;
pub(crate) mod entry;
mod interval;
mod sleep;
mod timeout;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::{Duration, Instant};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
