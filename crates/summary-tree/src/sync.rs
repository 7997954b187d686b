//! The one place that names std or loom atomics.
//!
//! Everything else in the crate imports from here, so `--cfg loom` moves the whole protocol (task
//! bits, leaf words, reservation words, the leaf directory, the published assignment, and through
//! `signal-waker` the wakers) onto loom's model checker without any `cfg` in the algorithm code.
//!
//! **Initial values under loom.** Loom records an atomic's initial value as a non-`SeqCst` store,
//! and lets a `SeqCst` load return a non-`SeqCst` store even after a `SeqCst` RMW that, in C++20's
//! single total order `S`, precedes the load (C++ forbids it: a load that reads a value
//! modification-ordered before an SC write is coherence-ordered before it, hence precedes it in
//! `S`). That gap makes loom report store-buffer "losses" that cannot happen, e.g. a rebalance's
//! re-sync reading a leaf word's initial 0 after the notifier's RMW. [`atomic_u64`] and
//! [`atomic_ptr`] therefore re-store the initial value with `SeqCst` under loom, which puts the
//! initial value under loom's `SeqCst` rule; real builds construct the atomic and nothing else.
//! Every other access to these atomics is `SeqCst`, so this removes only behaviours C++ forbids.
//!
//! [`SearchHint`] is the one exception, on purpose: it is a plain std atomic in every build. It
//! only remembers where a worker's last claim ended so that the next search starts after it
//! (round-robin fairness). It is read and written `Relaxed`, carries no synchronisation, and any
//! value it holds is correct; keeping it out of loom keeps the models' state space for the
//! protocol that matters.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU64};

pub(crate) use std::sync::atomic::Ordering;

/// The planted-bug switch of the loom negative controls (see `signal_waker::negative_control`).
pub(crate) use signal_waker::negative_control;

/// `AtomicU64::new(value)`; under loom also a `SeqCst` store of `value` (see the module docs).
#[inline]
pub(crate) fn atomic_u64(value: u64) -> AtomicU64 {
    let atomic = AtomicU64::new(value);
    #[cfg(loom)]
    atomic.store(value, Ordering::SeqCst);
    atomic
}

/// `AtomicPtr::new(ptr)`; under loom also a `SeqCst` store of `ptr` (see the module docs).
#[cfg(loom)]
#[inline]
pub(crate) fn atomic_ptr<T>(ptr: *mut T) -> AtomicPtr<T> {
    let atomic = AtomicPtr::new(ptr);
    #[cfg(loom)]
    atomic.store(ptr, Ordering::SeqCst);
    atomic
}

/// A search-start hint: `Relaxed`, never part of any happens-before edge (see the module docs).
pub(crate) use std::sync::atomic::AtomicUsize as SearchHint;
