//! One wheel level: `SLOTS_PER_LEVEL` slot lists and the occupancy bitmap that finds the next
//! non-empty slot in O(1) (one masked word, then one summary word), never by scanning slots.

use crate::slab::{List, Slab};

/// log2 of the number of slots per level.
pub(crate) const SLOT_BITS: u32 = 10;
/// Slots per level (1024).
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Mask of a slot index.
pub(crate) const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Bitmap words per level.
const WORDS: usize = SLOTS / 64;

// The summary is a u16: one bit per bitmap word.
const _: () = assert!(WORDS == 16);

/// One level of the wheel.
#[derive(Debug)]
pub(crate) struct Level {
    /// Each slot's list, encoded as `!(tail << 32 | head)` so that an empty list
    /// (`NIL`, `NIL`) is 0: a new level is one zeroed allocation rather than a fill loop
    /// (which matters under Miri, where a wheel is built in every test).
    slots: Box<[u64]>,
    /// Bit `s % 64` of `words[s / 64]` is set iff slot `s` is non-empty.
    words: [u64; WORDS],
    /// Bit `w` is set iff `words[w] != 0`.
    summary: u16,
}

impl Level {
    /// A level with every slot empty.
    pub(crate) fn new() -> Self {
        Level {
            slots: vec![0; SLOTS].into_boxed_slice(),
            words: [0; WORDS],
            summary: 0,
        }
    }

    fn list(&self, slot: usize) -> List {
        let raw = !self.slots[slot];
        List {
            head: raw as u32,
            tail: (raw >> 32) as u32,
        }
    }

    fn set_list(&mut self, slot: usize, list: List) {
        self.slots[slot] = !((u64::from(list.tail) << 32) | u64::from(list.head));
    }

    fn mark(&mut self, slot: usize) {
        self.words[slot / 64] |= 1 << (slot % 64);
        self.summary |= 1 << (slot / 64);
    }

    fn unmark(&mut self, slot: usize) {
        let word = &mut self.words[slot / 64];
        *word &= !(1 << (slot % 64));
        if *word == 0 {
            self.summary &= !(1 << (slot / 64));
        }
    }

    /// Appends entry `index` to `slot`.
    pub(crate) fn push<T>(&mut self, slab: &mut Slab<T>, slot: usize, index: u32) {
        let mut list = self.list(slot);
        slab.push_back(&mut list, index);
        self.set_list(slot, list);
        self.mark(slot);
    }

    /// Removes entry `index` (linked in `slot`) from it.
    pub(crate) fn remove<T>(&mut self, slab: &mut Slab<T>, slot: usize, index: u32) {
        let mut list = self.list(slot);
        slab.unlink(&mut list, index);
        self.set_list(slot, list);
        if list.is_empty() {
            self.unmark(slot);
        }
    }

    /// Empties `slot` and returns its whole list (entries keep their links to each other).
    pub(crate) fn take(&mut self, slot: usize) -> List {
        self.unmark(slot);
        let list = self.list(slot);
        self.set_list(slot, List::EMPTY);
        list
    }

    /// The first non-empty slot with index `>= from`, in O(1): two bit operations.
    pub(crate) fn next_occupied(&self, from: usize) -> Option<usize> {
        debug_assert!(from < SLOTS);
        let w = from / 64;
        let in_word = self.words[w] & (u64::MAX << (from % 64));
        if in_word != 0 {
            return Some(w * 64 + in_word.trailing_zeros() as usize);
        }
        // Words strictly after `w` (w + 1 <= 16, and a u32 shift by 16 is defined).
        let later = u32::from(self.summary) & (u32::MAX << (w + 1));
        if later == 0 {
            return None;
        }
        let w = later.trailing_zeros() as usize;
        Some(w * 64 + self.words[w].trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::Location;

    fn level_with(slots: &[usize]) -> (Level, Slab<()>) {
        let mut level = Level::new();
        let mut slab = Slab::with_capacity(slots.len());
        for &s in slots {
            let id = slab.alloc((), 0, Location::Overflow);
            level.push(&mut slab, s, id.index);
        }
        (level, slab)
    }

    #[test]
    fn next_occupied_finds_the_first_set_slot_at_or_after() {
        let (level, _slab) = level_with(&[3, 64, 700, 1023]);
        assert_eq!(level.next_occupied(0), Some(3));
        assert_eq!(level.next_occupied(3), Some(3));
        assert_eq!(level.next_occupied(4), Some(64));
        assert_eq!(level.next_occupied(65), Some(700));
        assert_eq!(level.next_occupied(701), Some(1023));
        assert_eq!(level.next_occupied(1023), Some(1023));
        let (empty, _s) = level_with(&[]);
        assert_eq!(empty.summary, 0);
        assert_eq!(empty.next_occupied(0), None);
        assert_eq!(empty.next_occupied(1023), None);
    }

    #[test]
    fn bitmap_follows_removals() {
        let (mut level, mut slab) = level_with(&[5, 5, 900]);
        level.remove(&mut slab, 5, 0);
        assert_eq!(
            level.next_occupied(0),
            Some(5),
            "slot 5 still holds entry 1"
        );
        level.remove(&mut slab, 5, 1);
        assert_eq!(level.next_occupied(0), Some(900));
        let list = level.take(900);
        assert_eq!(list.head, 2);
        assert_eq!(level.summary, 0);
        assert_eq!(level.next_occupied(0), None);
    }
}
