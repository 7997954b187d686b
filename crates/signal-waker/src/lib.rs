//! `signal-waker`: the per-worker status word of a work-stealing executor, with permits released on
//! every 0→1 transition and futex parking that never misses a wake.
//!
//! A worker owns one [`SignalWaker`]. Producers (other workers, remote spawners, the summary tree)
//! set bits in its status word: 62 queue groups, [`STATUS_BIT_PARTITION`] ("my part of the task
//! bitmap has work") and [`STATUS_BIT_YIELD`] ("my yield queue has tasks"). Each bit's 0→1 releases
//! one permit; a set bit costs the producer one load. The worker clears a bit only when its source
//! is truly empty, re-checking after the clear. When it runs out of work it parks in
//! [`SignalWaker::acquire`] / [`SignalWaker::acquire_timeout`], an eventcount over a futex with no
//! mutex on the hot path.
//!
//! ```
//! use signal_waker::SignalWaker;
//! use std::sync::Arc;
//!
//! let waker = Arc::new(SignalWaker::new());
//! let producer = {
//!     let waker = Arc::clone(&waker);
//!     std::thread::spawn(move || {
//!         waker.mark_active(3); // 0→1: one permit, wakes the sleeper
//!         waker.mark_active(3); // already set: one load, no permit
//!     })
//! };
//! waker.acquire(); // returns once the permit is there
//! assert_eq!(waker.status() & (1 << 3), 1 << 3);
//! producer.join().unwrap();
//! assert!(waker.try_unmark(3));
//! assert_eq!(waker.permits(), 0);
//! ```
//!
//! Under `--cfg loom` every atomic and the futex are loom's (see the `sync` module), so the
//! crate's own loom models, and those of crates built on it, check the real code.

#![warn(missing_docs, missing_debug_implementations)]

#[cfg(not(loom))]
mod futex;
mod negative_control;
mod park;
mod partition;
mod status;
mod sync;
mod waker;

pub use partition::{
    partition_group_size, partition_summary_bit, partition_summary_group, LeafWords,
};
pub use waker::{
    SignalWaker, MAX_PERMITS, QUEUE_GROUPS, QUEUE_GROUP_MASK, STATUS_BIT_PARTITION,
    STATUS_BIT_YIELD,
};

#[doc(hidden)]
pub use negative_control::negative_control;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
