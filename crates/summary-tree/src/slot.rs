//! Geometry of the tree (slots per signal word, signal words per leaf) and [`SlotId`], the name
//! of one task slot.

use std::fmt;

/// Task slots per signal word: one bit each in an `AtomicU64`.
pub const SLOTS_PER_SIGNAL_WORD: usize = 64;

/// Signal words per leaf: 64 (so 4096 slots per leaf), shrunk to 2 under `--cfg loom` so that the
/// models stay small.
pub const SIGNAL_WORDS_PER_LEAF: usize = if cfg!(loom) { 2 } else { 64 };

/// Task slots per leaf (`SIGNAL_WORDS_PER_LEAF * 64`: 4096, or 128 under loom).
pub const SLOTS_PER_LEAF: usize = SIGNAL_WORDS_PER_LEAF * SLOTS_PER_SIGNAL_WORD;

/// `log2(SLOTS_PER_LEAF)`.
const LEAF_SHIFT: u32 = SLOTS_PER_LEAF.trailing_zeros();

const _: () = assert!(SIGNAL_WORDS_PER_LEAF.is_power_of_two() && SIGNAL_WORDS_PER_LEAF <= 64);

/// One task slot: (leaf, signal word, bit), packed densely into a `u32`:
/// `index = leaf * SLOTS_PER_LEAF + signal * 64 + bit`.
///
/// The runtime keeps its own per-slot storage indexed by [`SlotId::index`]; the tree only knows
/// whether a slot is reserved and whether its task bit is set.
///
/// ```
/// use summary_tree::{SlotId, SLOTS_PER_LEAF};
///
/// let slot = SlotId::from_index(SLOTS_PER_LEAF + 3 * 64 + 5);
/// assert_eq!((slot.leaf(), slot.signal(), slot.bit()), (1, 3, 5));
/// assert_eq!(SlotId::new(1, 3, 5), slot);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(u32);

impl SlotId {
    /// The slot at `leaf`, signal word `signal` (< [`SIGNAL_WORDS_PER_LEAF`]), bit `bit` (< 64).
    ///
    /// # Panics
    /// If `signal` or `bit` is out of range or the index does not fit in a `u32`.
    #[inline]
    pub fn new(leaf: usize, signal: usize, bit: u32) -> SlotId {
        assert!(
            signal < SIGNAL_WORDS_PER_LEAF,
            "signal word {signal} out of range: allowed 0..{SIGNAL_WORDS_PER_LEAF}"
        );
        assert!(bit < 64, "bit {bit} out of range: allowed 0..64");
        Self::from_index(leaf * SLOTS_PER_LEAF + signal * SLOTS_PER_SIGNAL_WORD + bit as usize)
    }

    /// The slot with dense index `index` (inverse of [`SlotId::index`]).
    ///
    /// # Panics
    /// If `index > u32::MAX`.
    #[inline]
    pub fn from_index(index: usize) -> SlotId {
        match u32::try_from(index) {
            Ok(i) => SlotId(i),
            Err(_) => panic!("slot index {index} out of range: allowed 0..=4294967295"),
        }
    }

    /// Dense index `leaf * SLOTS_PER_LEAF + signal * 64 + bit`, for the runtime's slot array.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The leaf holding this slot.
    #[inline]
    pub fn leaf(self) -> usize {
        (self.0 >> LEAF_SHIFT) as usize
    }

    /// The signal word (within the leaf) holding this slot's task bit.
    #[inline]
    pub fn signal(self) -> usize {
        (self.0 as usize / SLOTS_PER_SIGNAL_WORD) % SIGNAL_WORDS_PER_LEAF
    }

    /// The bit (0–63) within the signal word.
    #[inline]
    pub fn bit(self) -> u32 {
        self.0 % 64
    }
}

impl fmt::Debug for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SlotId({} = leaf {} signal {} bit {})",
            self.0,
            self.leaf(),
            self.signal(),
            self.bit()
        )
    }
}
