//! The slot table: summary-tree slot → task pointer.
//!
//! A worker that claims a task bit in the summary tree finds the task here. The table is a fixed
//! directory of lazily allocated segments (one per tree leaf), so it grows with the tree without
//! ever moving an entry: a reader needs no epoch or lock, and segments are freed only when the
//! table drops. While a task occupies its slot the table holds one reference to it; whoever
//! [`take`](SlotTable::take)s the pointer out owns that reference.
//!
//! An entry is empty between a spawn's reservation and its insert (nobody else knows the slot
//! yet) and after the task's `release` took it out, with one exception: shutdown's sweep borrows
//! an entry (takes it, marks the task cancelled, puts it back: atomics only, no user code), so that
//! it can touch a task without racing that task's free. A worker that claimed the slot's tree bit,
//! or the task's own `release`, that finds the entry empty is inside that short window and waits
//! for the pointer to come back ([`get_or_wait`](SlotTable::get_or_wait),
//! [`take_or_wait`](SlotTable::take_or_wait)).

use crate::sync::{new_atomic_usize, AtomicPtr, AtomicUsize, Ordering};
use crate::task::Header;
use std::ptr::{self, NonNull};
use summary_tree::SLOTS_PER_LEAF;

/// Entries per segment: one segment per summary-tree leaf (a power of two, so indexing is a
/// shift and a mask).
const SEGMENT_LEN: usize = SLOTS_PER_LEAF;
const _: () = assert!(SEGMENT_LEN.is_power_of_two());

/// Slot → task pointer, growing in segments of [`SEGMENT_LEN`] entries.
pub(crate) struct SlotTable {
    segments: Box<[AtomicPtr<AtomicPtr<Header>>]>,
    /// Slots `0..capacity` exist (the tree's `max_tasks`); the last segment may be partly unused.
    capacity: usize,
    /// One past the highest segment ever installed (raised before the install): the sweep and
    /// `Drop` look at segments `0..installed` only, not at a whole directory sized for 2^30 tasks.
    installed: AtomicUsize,
}

/// A directory of `n` null segment pointers. Outside loom it is allocated zeroed (a null
/// `AtomicPtr` is all zero bytes), so a directory sized for a large `max_tasks` costs address
/// space, not memory, until segments are installed.
fn null_segments(n: usize) -> Box<[AtomicPtr<AtomicPtr<Header>>]> {
    #[cfg(not(loom))]
    {
        use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};
        type Entry = AtomicPtr<AtomicPtr<Header>>;
        let layout = Layout::array::<Entry>(n).expect("slot table size overflows");
        if layout.size() == 0 {
            return Box::new([]);
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let p = unsafe { alloc_zeroed(layout) }.cast::<Entry>();
        if p.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: `p` is a fresh allocation of `n` elements with the global allocator and the
        // layout `Box<[T]>` uses; `AtomicPtr<T>` has the size and bit validity of `*mut T`, for
        // which all zero bytes are the null pointer, so the slice holds `n` valid nulls.
        unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, n)) }
    }
    #[cfg(loom)]
    {
        (0..n).map(|_| AtomicPtr::new(ptr::null_mut())).collect()
    }
}

impl SlotTable {
    /// A table for slots `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        let n = capacity.div_ceil(SEGMENT_LEN).max(1);
        SlotTable {
            segments: null_segments(n),
            capacity,
            installed: new_atomic_usize(0),
        }
    }

    /// The first entry of `slot`'s segment, installing the segment on first use.
    #[inline]
    fn segment(&self, slot: usize) -> *const AtomicPtr<Header> {
        let dir = &self.segments[slot / SEGMENT_LEN];
        // Acquire: pairs with the Release CAS that installed the segment, so its zeroed entries are
        // visible.
        let mut seg = dir.load(Ordering::Acquire);
        if seg.is_null() {
            // SeqCst, before the install and so before the spawn's `insert` and its read of the
            // shutdown flag: a sweep that runs after that flag reads a mark covering this segment.
            self.installed
                .fetch_max(slot / SEGMENT_LEN + 1, Ordering::SeqCst);
            let fresh: Box<[AtomicPtr<Header>]> = (0..SEGMENT_LEN)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect();
            let fresh = Box::into_raw(fresh).cast::<AtomicPtr<Header>>();
            // SeqCst: publishes the initialised segment (and reads a competitor's) in the single
            // order that shutdown's sweep reads the directory in (see `allocated_slots`).
            match dir.compare_exchange(ptr::null_mut(), fresh, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => seg = fresh,
                Err(existing) => {
                    // SAFETY: `fresh` came from the Box above and was never shared.
                    drop(unsafe {
                        Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, SEGMENT_LEN))
                    });
                    seg = existing;
                }
            }
        }
        seg
    }

    #[inline]
    fn entry(&self, slot: usize) -> &AtomicPtr<Header> {
        // SAFETY: installed segments hold `SEGMENT_LEN` entries and live until the table drops,
        // and the masked index is in range. Only the one entry is borrowed: a reference to the
        // whole segment would make Miri retag all its entries on every access.
        unsafe { &*self.segment(slot).add(slot & (SEGMENT_LEN - 1)) }
    }

    /// Stores a freshly spawned task's pointer (with the table's reference) in its slot.
    ///
    /// SeqCst (a locked swap, as any swap on x86): a spawn that then reads "not shut down" is
    /// ordered before shutdown's flag, and so before the sweep's pass over the table, which then
    /// sees this task; a spawn that reads "shut down" cancels the task itself.
    pub(crate) fn insert(&self, slot: usize, task: NonNull<Header>) {
        let entry = self.entry(slot);
        let old = entry.swap(task.as_ptr(), Ordering::SeqCst);
        debug_assert!(old.is_null(), "slot {slot} reused while occupied");
    }

    /// Puts back a pointer that [`take`](Self::take) returned to the sweep (with its reference).
    pub(crate) fn put_back(&self, slot: usize, task: NonNull<Header>) {
        // Release: our uses of the task (the cancel mark) come before the next taker's, which
        // takes with AcqRel.
        let old = self.entry(slot).swap(task.as_ptr(), Ordering::Release);
        debug_assert!(old.is_null(), "slot {slot} filled while the sweep held it");
    }

    /// The task in `slot`, whose tree bit the caller claimed (so the task is alive and its entry
    /// is filled, or borrowed by the sweep for a moment: then this waits for it).
    pub(crate) fn get_or_wait(&self, slot: usize) -> NonNull<Header> {
        let entry = self.entry(slot);
        loop {
            // Acquire: pairs with the swap in `insert` / `put_back`.
            if let Some(task) = NonNull::new(entry.load(Ordering::Acquire)) {
                return task;
            }
            wait_for_sweep();
        }
    }

    /// Removes the pointer from `slot`; the caller owns the table's reference if one comes back.
    pub(crate) fn take(&self, slot: usize) -> Option<NonNull<Header>> {
        // SeqCst: Acquire the task written by `insert`, Release our prior uses to the next owner,
        // and, in the sweep, read in the single order that `insert`'s swap is in.
        NonNull::new(self.entry(slot).swap(ptr::null_mut(), Ordering::SeqCst))
    }

    /// [`take`](Self::take) for the task's own `release`: the entry is filled from the spawn
    /// until this call, except while the sweep borrows it, which this waits out.
    pub(crate) fn take_or_wait(&self, slot: usize) -> NonNull<Header> {
        loop {
            if let Some(task) = self.take(slot) {
                return task;
            }
            wait_for_sweep();
        }
    }

    /// Every slot index below the capacity whose segment exists (for shutdown's sweep).
    pub(crate) fn allocated_slots(&self) -> impl Iterator<Item = usize> + '_ {
        let installed = self.installed.load(Ordering::SeqCst);
        self.segments[..installed]
            .iter()
            .enumerate()
            .flat_map(move |(i, dir)| {
                // SeqCst: a segment installed by a spawn that read "not shut down" is seen here (the
                // same single-order argument as `insert`).
                let present = !dir.load(Ordering::SeqCst).is_null();
                let start = i * SEGMENT_LEN;
                let end = if present {
                    (start + SEGMENT_LEN).min(self.capacity)
                } else {
                    start
                };
                start..end
            })
    }
}

/// One turn of the wait for the sweep to put a borrowed entry back (a few atomics away).
#[cold]
fn wait_for_sweep() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}

impl Drop for SlotTable {
    fn drop(&mut self) {
        // Relaxed: `&mut self`, no concurrent access remains.
        let installed = self.installed.load(Ordering::Relaxed);
        for dir in self.segments[..installed].iter() {
            let seg = dir.load(Ordering::Relaxed);
            if !seg.is_null() {
                // SAFETY: installed by `segment` from a boxed slice of `SEGMENT_LEN` entries.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(seg, SEGMENT_LEN)) });
            }
        }
    }
}
