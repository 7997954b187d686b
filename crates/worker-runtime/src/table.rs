//! The slot table: summary-tree slot → task pointer.
//!
//! A worker that claims a task bit in the summary tree finds the task here. The table is a fixed
//! directory of lazily allocated segments (one per tree leaf), so it grows with the tree without
//! ever moving an entry: a reader needs no epoch or lock, and segments are freed only when the
//! table drops. While a task occupies its slot the table holds one reference to it; whoever
//! [`take`](SlotTable::take)s the pointer out owns that reference.

use crate::sync::{AtomicPtr, Ordering};
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
}

impl SlotTable {
    /// A table for slots `0..capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        let n = capacity.div_ceil(SEGMENT_LEN).max(1);
        SlotTable {
            segments: (0..n).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            capacity,
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
            let fresh: Box<[AtomicPtr<Header>]> = (0..SEGMENT_LEN)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect();
            let fresh = Box::into_raw(fresh).cast::<AtomicPtr<Header>>();
            // AcqRel: Release publishes the initialised segment; Acquire reads a competitor's.
            match dir.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire)
            {
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
    pub(crate) fn insert(&self, slot: usize, task: NonNull<Header>) {
        let entry = self.entry(slot);
        // Release: the task's initialised header is published with the pointer; the worker that
        // claims the slot's tree bit (a SeqCst chain after this store) loads it with Acquire.
        let old = entry.swap(task.as_ptr(), Ordering::Release);
        debug_assert!(old.is_null(), "slot {slot} reused while occupied");
    }

    /// The task in `slot`, if any. The caller must hold something that keeps it alive (the run
    /// permission behind a claimed tree bit).
    pub(crate) fn get(&self, slot: usize) -> Option<NonNull<Header>> {
        // Acquire: pairs with the Release in `insert`.
        NonNull::new(self.entry(slot).load(Ordering::Acquire))
    }

    /// Removes the pointer from `slot`; the caller owns the table's reference if one comes back.
    pub(crate) fn take(&self, slot: usize) -> Option<NonNull<Header>> {
        // AcqRel: Acquire the task written by `insert`; Release our prior uses to the next owner.
        NonNull::new(self.entry(slot).swap(ptr::null_mut(), Ordering::AcqRel))
    }

    /// Every slot index below the capacity whose segment exists (for shutdown's sweep).
    pub(crate) fn allocated_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().enumerate().flat_map(move |(i, dir)| {
            // Acquire: as in `segment`.
            let present = !dir.load(Ordering::Acquire).is_null();
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

impl Drop for SlotTable {
    fn drop(&mut self) {
        for dir in self.segments.iter() {
            // Relaxed: `&mut self`, no concurrent access remains.
            let seg = dir.load(Ordering::Relaxed);
            if !seg.is_null() {
                // SAFETY: installed by `segment` from a boxed slice of `SEGMENT_LEN` entries.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(seg, SEGMENT_LEN)) });
            }
        }
    }
}
