//! A hierarchical hashed timer wheel: a pure data structure for an async runtime's timers.
//!
//! [`TimerWheel<T>`] keeps `T` values keyed by a deadline (a `u64` of nanoseconds on a
//! clock of the caller's choosing) and hands them back once time has been advanced past
//! their deadline.
//!
//! * [`LEVELS`] = 3 levels × [`SLOTS_PER_LEVEL`] = 1024 slots; the tick is a power of two of
//!   nanoseconds, [`DEFAULT_TICK_NS`] = 2^20 ns (≈ 1 ms) by default, so the wheel spans
//!   2^30 ticks (≈ 13 days); later deadlines wait in an overflow list and are cascaded in
//!   when their time comes, never dropped or fired early.
//! * O(1) [`TimerWheel::insert`], [`TimerWheel::cancel`] and [`TimerWheel::reschedule`]:
//!   a slab with a free list and intrusive doubly-linked slot lists (indices, no pointers,
//!   no `unsafe`), no allocation per timer after warm-up.
//! * [`TimerId`] carries a generation: a stale id (its timer fired or was cancelled and
//!   the entry reused) makes `cancel` return `None`, never touching the newer timer.
//! * Advancing ([`TimerWheel::advance`], [`TimerWheel::poll_expired`],
//!   [`TimerWheel::drain_expired`]) finds the next non-empty slot through per-level
//!   occupancy bitmaps (16 `u64` words plus a summary word), so its cost depends on the
//!   slots and timers touched, not on how many ticks went by ([`WheelStats`] counts it).
//! * [`TimerWheel::next_deadline`] gives the park timeout.
//!
//! No threads, no atomics, no clocks: `TimerWheel<T>` is `Send` when `T` is.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod id;
mod level;
mod slab;
mod stats;
mod wheel;

pub use error::{TimerWheelError, MAX_TICK_NS, MIN_TICK_NS};
pub use id::TimerId;
pub use stats::WheelStats;
pub use wheel::{DrainExpired, TimerWheel, DEFAULT_TICK_NS, LEVELS, SLOTS_PER_LEVEL};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
