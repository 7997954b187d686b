//! The [`SignalWaker`] struct: one per worker, its fields and their layout.
//!
//! The operations live beside the state they touch: `status.rs` (the status word), `partition.rs`
//! (the partition summary) and `park.rs` (permits, sleepers and the futex).

use crate::sync::{new_atomic_u32, new_atomic_u64, AtomicU32, AtomicU64, Futex, Ordering};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The hook [`SignalWaker::park_external`]'s sleepers are woken through (see
/// [`SignalWaker::set_external_unpark`]).
pub(crate) type ExternalUnpark = Arc<dyn Fn() + Send + Sync>;

/// One sleeper inside [`SignalWaker::park_external`] counts this much in `sleepers`; the futex
/// sleepers count 1 each in the bits below it.
pub(crate) const EXTERNAL_SLEEPER: u32 = 1 << 16;
/// The futex sleepers' part of `sleepers`.
pub(crate) const FUTEX_SLEEPERS: u32 = EXTERNAL_SLEEPER - 1;

/// Number of queue-group bits in the status word (bits 0–61).
pub const QUEUE_GROUPS: u32 = 62;
/// Mask of the queue-group bits (bits 0–61) of the status word.
pub const QUEUE_GROUP_MASK: u64 = (1 << QUEUE_GROUPS) - 1;
/// Status bit 62: "my partition of the summary tree has runnable tasks".
pub const STATUS_BIT_PARTITION: u64 = 1 << 62;
/// Status bit 63: "my yield queue is non-empty".
pub const STATUS_BIT_YIELD: u64 = 1 << 63;
/// Permits saturate here. A permit stands for an unconsumed 0→1 transition of one of the 64 status
/// bits; more than 64 outstanding carry no information the owner could act on, and a busy worker
/// that never parks would otherwise let the counter grow without bound (design: "drain or cap";
/// we cap, and [`SignalWaker::drain_permits`] drains).
pub const MAX_PERMITS: u64 = 64;

/// The per-worker signalling word, permit counter and parking spot.
///
/// * `status`: bits 0–61 are queue groups, bit 62 [`STATUS_BIT_PARTITION`], bit 63
///   [`STATUS_BIT_YIELD`]. "Is there anything for me?" is one load of this word.
/// * `permits`: a counting semaphore fed by every 0→1 transition of a status bit or of the
///   partition summary, capped at [`MAX_PERMITS`].
/// * `sleepers` + `epoch`: an eventcount. A sleeper announces itself, re-checks the permits and
///   waits on the epoch only if no permit arrived; a releaser publishes its permit, then reads
///   `sleepers` and bumps the epoch and wakes one only when somebody sleeps. Both sides use
///   `SeqCst` read-modify-writes and loads, which closes the store-buffer window in which each side
///   could miss the other. No mutex is involved and no timeout is needed for correctness.
/// * `partition_summary`: bit *i* stands for leaf group *i* of the owner's partition of the
///   summary tree (a leaf per bit when the partition has at most 64 leaves; see
///   [`partition_summary_bit`](crate::partition_summary_bit)).
/// * `external_unpark`: how to wake a sleeper that waits somewhere else than on the futex (in an
///   IO driver's poll, see [`park_external`](Self::park_external)); set once.
///
/// The protocol, edge by edge, is written out in
/// [docs/no-lost-wakeup.md](https://github.com/worker-runtime/worker-runtime/blob/main/docs/no-lost-wakeup.md) in the repository.
pub struct SignalWaker {
    pub(crate) status: CachePadded<AtomicU64>,
    pub(crate) partition_summary: CachePadded<AtomicU64>,
    pub(crate) permits: CachePadded<AtomicU64>,
    pub(crate) sleepers: AtomicU32,
    pub(crate) epoch: Futex,
    pub(crate) external_unpark: OnceLock<ExternalUnpark>,
}

impl SignalWaker {
    /// A waker with every bit clear, no permits and no sleepers.
    pub fn new() -> Self {
        SignalWaker {
            status: CachePadded::new(new_atomic_u64(0)),
            partition_summary: CachePadded::new(new_atomic_u64(0)),
            permits: CachePadded::new(new_atomic_u64(0)),
            sleepers: new_atomic_u32(0),
            epoch: Futex::new(0),
            external_unpark: OnceLock::new(),
        }
    }

    /// The status word: queue groups, [`STATUS_BIT_PARTITION`], [`STATUS_BIT_YIELD`].
    #[inline]
    pub fn status(&self) -> u64 {
        self.status.load(Ordering::SeqCst)
    }

    /// Whether any status bit is set, i.e. the owner has something to look at.
    #[inline]
    pub fn has_work(&self) -> bool {
        self.status() != 0
    }

    /// The partition summary: bit *i* = leaf group *i* of the owner's partition may be non-empty.
    #[inline]
    pub fn partition_summary(&self) -> u64 {
        self.partition_summary.load(Ordering::SeqCst)
    }

    /// Permits currently available (at most [`MAX_PERMITS`]).
    #[inline]
    pub fn permits(&self) -> u64 {
        self.permits.load(Ordering::SeqCst)
    }

    /// Threads currently inside [`acquire`](Self::acquire) / [`acquire_timeout`](Self::acquire_timeout)
    /// / [`park_external`](Self::park_external) between announcing themselves and leaving. Never
    /// negative; 0 when nobody sleeps.
    #[inline]
    pub fn sleepers(&self) -> usize {
        let s = self.sleepers.load(Ordering::SeqCst);
        ((s & FUTEX_SLEEPERS) + s / EXTERNAL_SLEEPER) as usize
    }
}

impl Default for SignalWaker {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SignalWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalWaker")
            .field("status", &format_args!("{:#018x}", self.status()))
            .field(
                "partition_summary",
                &format_args!("{:#018x}", self.partition_summary()),
            )
            .field("permits", &self.permits())
            .field("sleepers", &self.sleepers())
            .finish()
    }
}
