//! One leaf: up to 4096 task slots as signal words (scheduled bits) and reservation words (slot in
//! use), with a leaf word summarising the signal words and a free word summarising the
//! reservation words.
//!
//! Layout (each group on its own cache lines, so producers setting task bits, workers scanning
//! the leaf word and spawners reserving slots do not share lines across groups):
//!
//! | field | bit meaning |
//! |---|---|
//! | `word` | bit *s* = signal word *s* may be non-empty (set on its 0→1, cleared clear-then-recheck) |
//! | `signals[s]` | bit *b* = task slot *s·64+b* is scheduled |
//! | `free` | bit *s* = reservation word *s* may have a free slot (a hint; see `reserve.rs`) |
//! | `reservations[s]` | bit *b* = task slot *s·64+b* is reserved (slots past `max_tasks` are set forever) |
//!
//! Leaves are allocated on first use and installed in the tree's directory with one CAS; they are
//! never moved or freed before the tree is dropped, so `&Leaf` borrowed from `&SummaryTree` is
//! always valid and no reclamation scheme is needed.

use crate::slot::{SIGNAL_WORDS_PER_LEAF, SLOTS_PER_LEAF, SLOTS_PER_SIGNAL_WORD};
use crate::sync::{atomic_u64, AtomicU64};
use crossbeam_utils::CachePadded;

/// One leaf of the tree (see the module docs for the layout).
#[derive(Debug)]
pub(crate) struct Leaf {
    /// Bit *s*: signal word *s* is non-empty (a superset once in-flight operations finish).
    pub(crate) word: CachePadded<AtomicU64>,
    /// Task bits: bit *b* of word *s* = slot `s * 64 + b` is scheduled.
    pub(crate) signals: CachePadded<[AtomicU64; SIGNAL_WORDS_PER_LEAF]>,
    /// Bit *s*: reservation word *s* may have a free slot (never a false negative at rest).
    pub(crate) free: CachePadded<AtomicU64>,
    /// Reservation bits: bit *b* of word *s* = slot `s * 64 + b` is in use.
    pub(crate) reservations: CachePadded<[AtomicU64; SIGNAL_WORDS_PER_LEAF]>,
}

/// The reservation word `s` of a leaf with `usable` slots starts with the unusable slots set.
#[inline]
pub(crate) fn unusable_mask(signal: usize, usable: usize) -> u64 {
    let first = signal * SLOTS_PER_SIGNAL_WORD;
    let usable_here = usable.saturating_sub(first).min(SLOTS_PER_SIGNAL_WORD);
    if usable_here == SLOTS_PER_SIGNAL_WORD {
        0
    } else {
        !((1u64 << usable_here) - 1)
    }
}

impl Leaf {
    /// A leaf whose first `usable` slots can be reserved (the last leaf of a tree whose
    /// `max_tasks` is not a multiple of [`SLOTS_PER_LEAF`] has fewer).
    pub(crate) fn new(usable: usize) -> Leaf {
        debug_assert!((1..=SLOTS_PER_LEAF).contains(&usable));
        let mut free = 0u64;
        for s in 0..SIGNAL_WORDS_PER_LEAF {
            if unusable_mask(s, usable) != u64::MAX {
                free |= 1 << s;
            }
        }
        Leaf {
            word: CachePadded::new(atomic_u64(0)),
            signals: CachePadded::new(std::array::from_fn(|_| atomic_u64(0))),
            free: CachePadded::new(atomic_u64(free)),
            reservations: CachePadded::new(std::array::from_fn(|s| {
                atomic_u64(unusable_mask(s, usable))
            })),
        }
    }
}
