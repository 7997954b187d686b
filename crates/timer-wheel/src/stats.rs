//! [`WheelStats`]: counters of the work a [`TimerWheel`](crate::TimerWheel) has done.

/// Counts of the internal steps a [`TimerWheel`](crate::TimerWheel) has taken since it was
/// built, read with [`TimerWheel::stats`](crate::TimerWheel::stats).
///
/// They make the cost model checkable: the work of `advance` is proportional to the slots and
/// entries it touches, never to the number of ticks that elapsed. Each timer is cascaded at
/// most once per level it descends, so over any span of time
/// `slots_processed + entries_cascaded` stays within a small multiple of
/// `levels × timers`, however many ticks pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WheelStats {
    /// Non-empty slots taken off the wheel: level-0 slots whose timers fell due plus
    /// higher-level slots whose timers were cascaded down. Empty slots are never visited.
    pub slots_processed: u64,
    /// Timers moved from a higher level to a lower one.
    pub entries_cascaded: u64,
    /// Times the overflow list (timers beyond the top level's span) was re-examined.
    pub overflow_scans: u64,
    /// Timers looked at during those overflow scans.
    pub overflow_entries_scanned: u64,
    /// Bitmap searches for the next occupied slot (each costs O(levels) word operations).
    pub expiration_lookups: u64,
    /// Timers handed out as expired.
    pub fired: u64,
}

impl WheelStats {
    /// The slot and entry work: `slots_processed + entries_cascaded + overflow_entries_scanned`.
    #[must_use]
    pub fn work(&self) -> u64 {
        self.slots_processed + self.entries_cascaded + self.overflow_entries_scanned
    }
}
