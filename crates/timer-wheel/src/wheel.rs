//! [`TimerWheel`]: the hierarchical wheel itself (placement, cascade, expiry, cancel).
//!
//! # How it works
//!
//! Time is counted in ticks of `2^shift` ns. `elapsed` is the tick the wheel has reached.
//! A timer due at tick `t >= elapsed` goes to the level of the highest 10-bit digit in which
//! `t` and `elapsed` differ, in the slot named by `t`'s digit at that level; if they differ
//! above the top level the timer waits in the overflow list. So every entry at level `L`
//! shares all digits above `L` with `elapsed`, and its slot index is at or after `elapsed`'s
//! digit at `L`. The placement is relative to `elapsed`, never to absolute time.
//!
//! The lowest level with a non-empty slot at or after `elapsed`'s digit holds the earliest
//! work; its bitmap finds that slot in O(1). When time reaches the start of a level-0 slot
//! its timers are due; when it reaches the start of a higher-level slot its timers are
//! re-placed relative to the new `elapsed`, which puts each on a lower level (cascade). When
//! the wheel is empty and time reaches the top-level epoch of the overflow list's lower
//! bound, the overflow list is re-placed the same way.

use core::fmt;

use crate::error::{TimerWheelError, MAX_TICK_NS, MIN_TICK_NS};
use crate::id::TimerId;
use crate::level::{Level, SLOTS, SLOT_BITS, SLOT_MASK};
use crate::slab::{List, Location, Slab, NIL};
use crate::stats::WheelStats;

/// Number of levels in the wheel.
pub const LEVELS: usize = 3;

/// Slots in each level (a power of two; level `L` slots are `1024^L` ticks wide).
pub const SLOTS_PER_LEVEL: usize = SLOTS;

/// The default tick: 2^20 ns (about 1.05 ms).
pub const DEFAULT_TICK_NS: u64 = 1 << 20;

/// Ticks covered by the whole wheel (one top-level "epoch"), as a bit count.
const WHEEL_BITS: u32 = SLOT_BITS * LEVELS as u32;

/// Where the next piece of work is, and the tick at which it becomes due.
#[derive(Debug, Clone, Copy)]
struct Expiration {
    target: Target,
    tick: u64,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Slot { level: usize, slot: usize },
    Overflow,
}

/// A hierarchical hashed timer wheel holding values of type `T`.
///
/// * Time is a plain `u64` of nanoseconds chosen by the caller (for example nanoseconds since
///   the runtime started); the wheel never reads a clock.
/// * [`insert`](Self::insert) and [`cancel`](Self::cancel) are O(1), with no allocation once
///   the slab has grown to the peak number of live timers (or after [`reserve`](Self::reserve)).
/// * [`poll_expired`](Self::poll_expired), [`advance`](Self::advance) and
///   [`drain_expired`](Self::drain_expired) hand out due values; their cost is O(levels) per
///   call plus O(1) per slot and timer touched, never proportional to elapsed ticks.
///
/// # Deadline semantics
///
/// A deadline `d` is rounded **up** to the tick grid: the timer is due at tick
/// `ceil(d / tick)`. It is handed out by the first `advance(now)` (or `poll_expired`,
/// `drain_expired`) whose `now` reaches that tick, so it never fires before `d` and, if time
/// is advanced at least once per tick, at most one tick after `d`. Timers are handed out in
/// order of their due tick; within one tick the order is unspecified.
///
/// A deadline at or before the latest `now` the wheel was advanced to (a past deadline) is
/// due immediately: it fires on the next advance, whatever `now` that advance is given.
///
/// `now` should not go backwards; a `now` before the wheel's current tick is treated as the
/// current tick. `now == u64::MAX` means "the end of time": every pending timer fires.
///
/// # Example
///
/// ```
/// use timer_wheel::TimerWheel;
///
/// let mut wheel = TimerWheel::with_tick(1 << 10).unwrap(); // 1024 ns ticks
/// let a = wheel.insert(5_000, "a");
/// let _b = wheel.insert(2_000, "b");
/// wheel.insert(3_000_000_000, "c"); // 3 s: lands on a higher level, cascades later
/// assert_eq!(wheel.cancel(a), Some("a"));
/// assert_eq!(wheel.cancel(a), None); // already cancelled
///
/// let mut fired = Vec::new();
/// wheel.advance(10_000, |v| fired.push(v));
/// assert_eq!(fired, ["b"]);
/// let next = wheel.next_deadline().unwrap(); // a cascade point, not after "c" is due
/// assert!(next > 10_000 && next <= 3_000_000_000);
/// wheel.advance(2_999_999_999, |v| fired.push(v));
/// assert_eq!(fired, ["b"]); // never early
/// wheel.advance(3_000_000_000 + 1024, |v| fired.push(v)); // within a tick after it
/// assert_eq!(fired, ["b", "c"]);
/// assert!(wheel.is_empty());
/// ```
pub struct TimerWheel<T> {
    slab: Slab<T>,
    levels: [Level; LEVELS],
    /// Timers beyond the top level's span, unsorted.
    overflow: List,
    /// A lower bound on the due tick of every overflow timer (exact after each overflow
    /// scan; cancels may leave it low). Meaningless while `overflow` is empty.
    overflow_min: u64,
    /// Timers that are due and not yet handed out.
    expired: List,
    /// The tick the wheel has reached.
    elapsed: u64,
    /// The latest `now` an advance was given (a deadline at or before it is already past).
    now_ns: u64,
    /// log2 of the tick in ns.
    shift: u32,
    stats: WheelStats,
}

impl<T> TimerWheel<T> {
    /// A wheel with the default tick, [`DEFAULT_TICK_NS`] (2^20 ns ≈ 1 ms), at time 0.
    #[must_use]
    pub fn new() -> Self {
        Self::from_shift(DEFAULT_TICK_NS.trailing_zeros())
    }

    /// A wheel whose tick is `tick_ns` nanoseconds, at time 0.
    ///
    /// # Errors
    ///
    /// [`TimerWheelError::InvalidTick`] unless `tick_ns` is a power of two in
    /// [`MIN_TICK_NS`]`..=`[`MAX_TICK_NS`] (1 ns to 2^40 ns).
    pub fn with_tick(tick_ns: u64) -> Result<Self, TimerWheelError> {
        if !tick_ns.is_power_of_two() || !(MIN_TICK_NS..=MAX_TICK_NS).contains(&tick_ns) {
            return Err(TimerWheelError::InvalidTick { tick_ns });
        }
        Ok(Self::from_shift(tick_ns.trailing_zeros()))
    }

    fn from_shift(shift: u32) -> Self {
        TimerWheel {
            slab: Slab::with_capacity(0),
            levels: [Level::new(), Level::new(), Level::new()],
            overflow: List::EMPTY,
            overflow_min: u64::MAX,
            expired: List::EMPTY,
            elapsed: 0,
            now_ns: 0,
            shift,
            stats: WheelStats::default(),
        }
    }

    /// Makes room for `additional` more live timers, so the next that many inserts do not
    /// allocate.
    pub fn reserve(&mut self, additional: usize) {
        self.slab.reserve(additional);
    }

    /// How many timers the wheel can hold before its storage grows.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// The tick length in nanoseconds.
    #[must_use]
    pub fn tick_ns(&self) -> u64 {
        1 << self.shift
    }

    /// The wheel's current time: the start of the tick the last advance reached
    /// (0 for a new wheel, `u64::MAX` after `advance(u64::MAX)`).
    #[must_use]
    pub fn current_ns(&self) -> u64 {
        self.tick_to_ns(self.elapsed)
    }

    /// The time span covered by `level`: `tick × 1024^(level + 1)` ns, saturating at
    /// `u64::MAX`; `None` if `level >= LEVELS`. Timers further out than the top level's span
    /// (relative to the top-level epoch the wheel is in) wait in the overflow list.
    #[must_use]
    pub fn level_span_ns(&self, level: usize) -> Option<u64> {
        if level >= LEVELS {
            return None;
        }
        let bits = self.shift + SLOT_BITS * (level as u32 + 1);
        Some(if bits >= 64 { u64::MAX } else { 1 << bits })
    }

    /// Number of pending timers (including due ones not yet handed out).
    #[must_use]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// True when no timer is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slab.len() == 0
    }

    /// True if `id` names a timer that is still pending (not fired, not cancelled).
    #[must_use]
    pub fn contains(&self, id: TimerId) -> bool {
        self.slab.resolve(id).is_some()
    }

    /// The work counters (see [`WheelStats`]).
    #[must_use]
    pub fn stats(&self) -> WheelStats {
        self.stats
    }

    /// Adds a timer due at `deadline_ns` carrying `value`, in O(1).
    ///
    /// A deadline at or before the latest `now` passed to an advance is already past: it
    /// fires on the next advance.
    ///
    /// # Panics
    ///
    /// If `u32::MAX - 1` timers are already live.
    pub fn insert(&mut self, deadline_ns: u64, value: T) -> TimerId {
        let fire_tick = self.due_tick(deadline_ns);
        let id = self.slab.alloc(value, fire_tick, Location::Expired);
        self.place(id.index);
        id
    }

    /// Removes a pending timer in O(1) and returns its value.
    ///
    /// Returns `None` if the timer already fired, was already cancelled, or `id` is stale
    /// (its slab entry now holds a newer timer, which is left untouched).
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        let index = self.slab.resolve(id)?;
        self.unlink(index);
        Some(self.slab.free(index))
    }

    /// Moves a pending timer to a new deadline in O(1), keeping its id. Returns `false` (and
    /// does nothing) if `id` is not pending. The same past-deadline rule as
    /// [`insert`](Self::insert) applies.
    pub fn reschedule(&mut self, id: TimerId, deadline_ns: u64) -> bool {
        let Some(index) = self.slab.resolve(id) else {
            return false;
        };
        self.unlink(index);
        let fire_tick = self.due_tick(deadline_ns);
        self.slab.set_fire_tick(index, fire_tick);
        self.place(index);
        true
    }

    /// When the wheel may next have work: `None` if empty, otherwise a time in ns.
    ///
    /// * It is never later than the earliest pending deadline rounded up to the tick, so a
    ///   caller that parks until it and then advances never oversleeps a timer.
    /// * It is never earlier than [`current_ns`](Self::current_ns): a timer whose deadline is
    ///   in the past reports the current tick, not its stale deadline.
    /// * When the earliest timer sits on level 0 it is exact: advancing to it fires that
    ///   timer. When it sits on a higher level (or in the overflow list) it is the time of the
    ///   next cascade, which is earlier; advancing to it moves timers down and the next call
    ///   is more precise. At most `LEVELS` such early wake-ups happen per timer.
    #[must_use]
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.expired.is_empty() {
            return Some(self.tick_to_ns(self.elapsed));
        }
        self.peek_expiration().map(|e| self.tick_to_ns(e.tick))
    }

    /// Advances the wheel to `now_ns` and returns one due value, or `None` when nothing more
    /// is due at `now_ns`. Never allocates.
    ///
    /// Call it in a loop (`while let Some(v) = wheel.poll_expired(now) { .. }`); between
    /// calls the wheel may be used freely (insert, cancel, ...). A timer cancelled between
    /// two calls is not handed out.
    pub fn poll_expired(&mut self, now_ns: u64) -> Option<T> {
        self.now_ns = self.now_ns.max(now_ns);
        let now_tick = self.now_tick(now_ns).max(self.elapsed);
        loop {
            if let Some(index) = self.slab.pop_front(&mut self.expired) {
                self.stats.fired += 1;
                return Some(self.slab.free(index));
            }
            match self.next_expiration() {
                Some(exp) if exp.tick <= now_tick => self.process(exp),
                _ => {
                    self.elapsed = now_tick;
                    return None;
                }
            }
        }
    }

    /// Advances the wheel to `now_ns`, calling `on_expired` with every value that is due, in
    /// due-tick order, and returns how many fired. Never allocates.
    pub fn advance(&mut self, now_ns: u64, mut on_expired: impl FnMut(T)) -> usize {
        let mut fired = 0;
        while let Some(value) = self.poll_expired(now_ns) {
            on_expired(value);
            fired += 1;
        }
        fired
    }

    /// Advances the wheel to `now_ns` lazily: an iterator of the due values (in due-tick
    /// order). Each `next` is one [`poll_expired`](Self::poll_expired). Dropping the
    /// iterator early leaves the remaining due values pending; they are handed out by the
    /// next advance.
    pub fn drain_expired(&mut self, now_ns: u64) -> DrainExpired<'_, T> {
        DrainExpired {
            wheel: self,
            now_ns,
        }
    }

    // ---- internals -------------------------------------------------------------------

    /// Tick at which a deadline is due: the current tick if the deadline is not after the
    /// latest `now` (it is past: due at once), otherwise the deadline rounded up.
    fn due_tick(&self, deadline_ns: u64) -> u64 {
        if deadline_ns <= self.now_ns {
            return self.elapsed;
        }
        let mask = (1u64 << self.shift) - 1;
        let ceil = (deadline_ns >> self.shift) + u64::from(deadline_ns & mask != 0);
        ceil.max(self.elapsed)
    }

    /// Tick reached at `now_ns` (the floor; `u64::MAX` is the end of time).
    fn now_tick(&self, now_ns: u64) -> u64 {
        if now_ns == u64::MAX {
            u64::MAX
        } else {
            now_ns >> self.shift
        }
    }

    /// Start of `tick` in ns, saturating at `u64::MAX`.
    fn tick_to_ns(&self, tick: u64) -> u64 {
        if tick > (u64::MAX >> self.shift) {
            u64::MAX
        } else {
            tick << self.shift
        }
    }

    /// Links entry `index` (unlinked, `fire_tick >= elapsed`) where its due tick belongs
    /// relative to `elapsed`.
    fn place(&mut self, index: u32) {
        let tick = self.slab.fire_tick(index);
        debug_assert!(tick >= self.elapsed);
        let masked = (self.elapsed ^ tick) | SLOT_MASK;
        let level = ((63 - masked.leading_zeros()) / SLOT_BITS) as usize;
        if level < LEVELS {
            let slot = ((tick >> (level as u32 * SLOT_BITS)) & SLOT_MASK) as usize;
            self.slab.set_location(
                index,
                Location::Slot {
                    level: level as u8,
                    slot: slot as u16,
                },
            );
            self.levels[level].push(&mut self.slab, slot, index);
        } else {
            if self.overflow.is_empty() || tick < self.overflow_min {
                self.overflow_min = tick;
            }
            self.slab.set_location(index, Location::Overflow);
            self.slab.push_back(&mut self.overflow, index);
        }
    }

    /// Unlinks an occupied entry from whatever list holds it.
    fn unlink(&mut self, index: u32) {
        match self.slab.location(index) {
            Location::Slot { level, slot } => {
                self.levels[level as usize].remove(&mut self.slab, slot as usize, index);
            }
            Location::Overflow => self.slab.unlink(&mut self.overflow, index),
            Location::Expired => self.slab.unlink(&mut self.expired, index),
        }
    }

    /// Counts a lookup, then [`peek_expiration`](Self::peek_expiration).
    fn next_expiration(&mut self) -> Option<Expiration> {
        self.stats.expiration_lookups += 1;
        self.peek_expiration()
    }

    /// The earliest pending work: the first non-empty slot of the lowest non-empty level
    /// (found through the bitmaps), else the overflow list's epoch. O(LEVELS).
    fn peek_expiration(&self) -> Option<Expiration> {
        for (level, wheel_level) in self.levels.iter().enumerate() {
            let digit_shift = level as u32 * SLOT_BITS;
            let from = ((self.elapsed >> digit_shift) & SLOT_MASK) as usize;
            if let Some(slot) = wheel_level.next_occupied(from) {
                let level_mask = (1u64 << (digit_shift + SLOT_BITS)) - 1;
                let tick = (self.elapsed & !level_mask) + ((slot as u64) << digit_shift);
                return Some(Expiration {
                    target: Target::Slot { level, slot },
                    tick,
                });
            }
        }
        if self.overflow.is_empty() {
            return None;
        }
        let epoch_mask = (1u64 << WHEEL_BITS) - 1;
        Some(Expiration {
            target: Target::Overflow,
            tick: (self.overflow_min & !epoch_mask).max(self.elapsed),
        })
    }

    /// Does the work at `exp` (whose tick is `<= now`): level 0 → due list; higher level →
    /// cascade down; overflow → re-place every overflow timer.
    fn process(&mut self, exp: Expiration) {
        debug_assert!(exp.tick >= self.elapsed);
        self.elapsed = exp.tick;
        match exp.target {
            Target::Slot { level: 0, slot } => {
                self.stats.slots_processed += 1;
                let list = self.levels[0].take(slot);
                let mut index = list.head;
                while index != NIL {
                    self.slab.set_location(index, Location::Expired);
                    index = self.slab.next(index);
                }
                debug_assert!(self.expired.is_empty());
                self.expired = list;
            }
            Target::Slot { level, slot } => {
                self.stats.slots_processed += 1;
                let list = self.levels[level].take(slot);
                let mut index = list.head;
                while index != NIL {
                    let next = self.slab.next(index);
                    self.stats.entries_cascaded += 1;
                    self.place(index);
                    index = next;
                }
            }
            Target::Overflow => {
                self.stats.overflow_scans += 1;
                let list = core::mem::replace(&mut self.overflow, List::EMPTY);
                let mut index = list.head;
                while index != NIL {
                    let next = self.slab.next(index);
                    self.stats.overflow_entries_scanned += 1;
                    self.place(index);
                    index = next;
                }
            }
        }
    }
}

impl<T> Default for TimerWheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("tick_ns", &self.tick_ns())
            .field("current_ns", &self.current_ns())
            .field("len", &self.len())
            .field("next_deadline", &self.next_deadline())
            .finish_non_exhaustive()
    }
}

/// Iterator returned by [`TimerWheel::drain_expired`]: yields the values due at its `now`.
#[derive(Debug)]
pub struct DrainExpired<'a, T> {
    wheel: &'a mut TimerWheel<T>,
    now_ns: u64,
}

impl<T> Iterator for DrainExpired<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.wheel.poll_expired(self.now_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_is_relative_to_elapsed_not_absolute() {
        // The reference design compared the absolute deadline with the level-0 span, so after
        // one span of uptime every timer went to level 1. Here a short timer at a late time
        // must still land on level 0.
        let mut wheel = TimerWheel::with_tick(1).unwrap();
        wheel.advance(5 * 1024 * 1024 + 17, |_: u32| {});
        let id = wheel.insert(5 * 1024 * 1024 + 20, 1);
        let index = wheel.slab.resolve(id).unwrap();
        assert!(matches!(
            wheel.slab.location(index),
            Location::Slot { level: 0, .. }
        ));
    }

    #[test]
    fn overflow_bound_survives_cancel_and_is_tightened_by_a_scan() {
        let mut wheel = TimerWheel::with_tick(1).unwrap();
        let epoch = 1u64 << WHEEL_BITS;
        let near = wheel.insert(epoch + 5, 1u8);
        wheel.insert(3 * epoch + 7, 2u8);
        assert_eq!(wheel.overflow_min, epoch + 5);
        wheel.cancel(near);
        // Stale bound: the next work is the scan at `epoch`; it re-places nothing and makes
        // the bound exact.
        assert_eq!(wheel.next_deadline(), Some(epoch));
        assert_eq!(wheel.advance(epoch, |_| {}), 0);
        assert_eq!(wheel.stats().overflow_scans, 1);
        assert_eq!(wheel.overflow_min, 3 * epoch + 7);
        assert_eq!(wheel.next_deadline(), Some(3 * epoch));
        let mut fired = Vec::new();
        wheel.advance(3 * epoch + 7, |v| fired.push(v));
        assert_eq!(fired, [2]);
    }
}
