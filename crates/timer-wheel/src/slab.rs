//! Timer storage: a slab of entries with a free list and per-entry generations, plus the
//! intrusive doubly-linked lists (by index, not pointer) that chain entries into wheel slots.
//!
//! After warm-up (or [`Slab::reserve`]) inserting and removing a timer allocates nothing:
//! a freed entry goes on the free list and the next insert reuses it with a bumped generation.

use crate::id::TimerId;

/// "No entry": the end of a list, or an empty free list.
pub(crate) const NIL: u32 = u32::MAX;

/// Which list an occupied entry is linked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// A slot of one wheel level.
    Slot {
        /// Level index, `0..LEVELS`.
        level: u8,
        /// Slot index within the level, `0..SLOTS_PER_LEVEL`.
        slot: u16,
    },
    /// Beyond the top level's span: waiting in the overflow list.
    Overflow,
    /// Due: detached from its level-0 slot, waiting to be handed out by `poll_expired`.
    Expired,
}

/// Head and tail of one intrusive list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct List {
    pub(crate) head: u32,
    pub(crate) tail: u32,
}

impl List {
    /// The empty list.
    pub(crate) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    /// True when the list has no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// One slab entry. Vacant when `value` is `None`; then `next` links the free list.
#[derive(Debug)]
struct Entry<T> {
    /// Bumped every time the entry is freed, so ids of earlier occupants go stale.
    generation: u32,
    prev: u32,
    next: u32,
    /// The tick at which the timer is due (deadline rounded up, clamped to the wheel's past).
    fire_tick: u64,
    location: Location,
    value: Option<T>,
}

/// The slab: entries, free list, live count.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free_head: u32,
    len: usize,
}

impl<T> Slab<T> {
    /// An empty slab with room for `capacity` entries before it reallocates.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Slab {
            entries: Vec::with_capacity(capacity),
            free_head: NIL,
            len: 0,
        }
    }

    /// Makes room for `additional` more live entries without reallocation.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let free = self.entries.len() - self.len;
        if additional > free {
            self.entries.reserve(additional - free);
        }
    }

    /// Number of live (occupied) entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of entries the slab can hold without reallocating.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Stores a new timer, unlinked (`prev`/`next` are `NIL`), and returns its id.
    ///
    /// # Panics
    ///
    /// If `u32::MAX - 1` entries are already in use (the index space is exhausted).
    pub(crate) fn alloc(&mut self, value: T, fire_tick: u64, location: Location) -> TimerId {
        self.len += 1;
        if self.free_head != NIL {
            let index = self.free_head;
            let entry = &mut self.entries[index as usize];
            self.free_head = entry.next;
            entry.prev = NIL;
            entry.next = NIL;
            entry.fire_tick = fire_tick;
            entry.location = location;
            entry.value = Some(value);
            return TimerId {
                index,
                generation: entry.generation,
            };
        }
        let index = u32::try_from(self.entries.len())
            .ok()
            .filter(|&i| i != NIL)
            .expect("timer-wheel: more than u32::MAX - 1 live timers");
        self.entries.push(Entry {
            generation: 0,
            prev: NIL,
            next: NIL,
            fire_tick,
            location,
            value: Some(value),
        });
        TimerId {
            index,
            generation: 0,
        }
    }

    /// The entry index of `id` if it names a live timer of the right generation.
    pub(crate) fn resolve(&self, id: TimerId) -> Option<u32> {
        let entry = self.entries.get(id.index as usize)?;
        (entry.generation == id.generation && entry.value.is_some()).then_some(id.index)
    }

    /// Frees an occupied, already unlinked entry and returns its value. The generation moves
    /// on so every id issued for this occupancy goes stale. An entry whose generation would
    /// wrap is retired instead of reused, so an id can never become valid again.
    pub(crate) fn free(&mut self, index: u32) -> T {
        let entry = &mut self.entries[index as usize];
        let value = entry
            .value
            .take()
            .expect("timer-wheel: freeing a vacant slab entry");
        self.len -= 1;
        entry.prev = NIL;
        if entry.generation == u32::MAX {
            // Retired: never handed out again (one entry lost per 2^32 reuses).
            entry.next = NIL;
        } else {
            entry.generation += 1;
            entry.next = self.free_head;
            self.free_head = index;
        }
        value
    }

    /// The due tick of an occupied entry.
    pub(crate) fn fire_tick(&self, index: u32) -> u64 {
        self.entries[index as usize].fire_tick
    }

    /// Sets the due tick of an occupied entry.
    pub(crate) fn set_fire_tick(&mut self, index: u32, fire_tick: u64) {
        self.entries[index as usize].fire_tick = fire_tick;
    }

    /// The list an occupied entry is in.
    pub(crate) fn location(&self, index: u32) -> Location {
        self.entries[index as usize].location
    }

    /// Records which list an entry is in (callers link it with [`Slab::push_back`]).
    pub(crate) fn set_location(&mut self, index: u32, location: Location) {
        self.entries[index as usize].location = location;
    }

    /// The entry after `index` in its list, or `NIL`.
    pub(crate) fn next(&self, index: u32) -> u32 {
        self.entries[index as usize].next
    }

    /// Appends an unlinked entry to `list`.
    pub(crate) fn push_back(&mut self, list: &mut List, index: u32) {
        let old_tail = list.tail;
        {
            let entry = &mut self.entries[index as usize];
            entry.prev = old_tail;
            entry.next = NIL;
        }
        if old_tail == NIL {
            list.head = index;
        } else {
            self.entries[old_tail as usize].next = index;
        }
        list.tail = index;
    }

    /// Removes `index` from `list` (it must be linked there) in O(1).
    pub(crate) fn unlink(&mut self, list: &mut List, index: u32) {
        let (prev, next) = {
            let entry = &mut self.entries[index as usize];
            let links = (entry.prev, entry.next);
            entry.prev = NIL;
            entry.next = NIL;
            links
        };
        if prev == NIL {
            list.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
    }

    /// Detaches and returns the first entry of `list`.
    pub(crate) fn pop_front(&mut self, list: &mut List) -> Option<u32> {
        let head = list.head;
        if head == NIL {
            return None;
        }
        self.unlink(list, head);
        Some(head)
    }

    /// Test hook: jump an entry's generation (to reach the wrap-around case quickly).
    #[cfg(test)]
    fn set_generation(&mut self, index: u32, generation: u32) {
        self.entries[index as usize].generation = generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOC: Location = Location::Overflow;

    #[test]
    fn freed_entry_is_reused_with_a_new_generation() {
        let mut slab = Slab::with_capacity(4);
        let a = slab.alloc("a", 1, LOC);
        assert_eq!(slab.resolve(a), Some(a.index));
        assert_eq!(slab.free(a.index), "a");
        assert_eq!(slab.resolve(a), None, "freed id must be stale");
        let b = slab.alloc("b", 2, LOC);
        assert_eq!(b.index, a.index, "free list reuses the entry");
        assert_ne!(b.generation, a.generation);
        assert_eq!(
            slab.resolve(a),
            None,
            "old id must not reach the new occupant"
        );
        assert_eq!(slab.resolve(b), Some(b.index));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn generation_never_wraps_back_to_an_old_id() {
        let mut slab = Slab::with_capacity(2);
        let first = slab.alloc(0u32, 0, LOC);
        slab.set_generation(first.index, u32::MAX);
        let last = TimerId {
            index: first.index,
            generation: u32::MAX,
        };
        assert_eq!(slab.free(last.index), 0);
        // The entry is retired: the next alloc must take a fresh index, and the old ids
        // (generation 0 and u32::MAX) stay dead.
        let next = slab.alloc(1, 0, LOC);
        assert_ne!(next.index, first.index);
        assert_eq!(slab.resolve(last), None);
        assert_eq!(slab.resolve(first), None);
    }

    #[test]
    fn list_push_unlink_pop_keep_order() {
        let mut slab = Slab::with_capacity(4);
        let mut list = List::EMPTY;
        let ids: Vec<u32> = (0..4).map(|v| slab.alloc(v, 0, LOC).index).collect();
        for &i in &ids {
            slab.push_back(&mut list, i);
        }
        slab.unlink(&mut list, ids[1]); // middle
        slab.unlink(&mut list, ids[3]); // tail
        assert_eq!(list.tail, ids[2]);
        assert_eq!(slab.pop_front(&mut list), Some(ids[0]));
        assert_eq!(slab.pop_front(&mut list), Some(ids[2]));
        assert_eq!(slab.pop_front(&mut list), None);
        assert!(list.is_empty());
        assert_eq!(list.tail, NIL);
    }

    #[test]
    fn reserve_prevents_reallocation() {
        let mut slab: Slab<u8> = Slab::with_capacity(0);
        slab.reserve(100);
        let cap = slab.capacity();
        assert!(cap >= 100);
        for _ in 0..100 {
            slab.alloc(0, 0, LOC);
        }
        assert_eq!(slab.capacity(), cap);
    }
}
