//! [`TimerId`]: the handle `insert` returns and `cancel` takes.

/// Handle to one timer in a [`TimerWheel`](crate::TimerWheel).
///
/// It names a slab entry *and* the generation that entry had when the timer
/// was inserted. Once the timer fires or is cancelled the entry's generation
/// moves on, so an old id can never reach a newer timer that reuses the same
/// entry: [`cancel`](crate::TimerWheel::cancel) with a stale id returns `None`.
///
/// Ids are only meaningful for the wheel that issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl TimerId {
    /// Packs the id into one `u64` (generation in the high half, index in the low half),
    /// e.g. to store it in an atomic or a waker's data word.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        ((self.generation as u64) << 32) | self.index as u64
    }

    /// Inverse of [`to_u64`](Self::to_u64). Any `u64` is accepted; an id that was never
    /// issued simply makes `cancel` return `None`.
    #[must_use]
    pub const fn from_u64(raw: u64) -> Self {
        TimerId {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}
