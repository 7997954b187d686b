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

/// Slot → task pointer, growing in segments of `segment_len` entries.
pub(crate) struct SlotTable {
    segments: Box<[AtomicPtr<AtomicPtr<Header>>]>,
    segment_len: usize,
}

impl SlotTable {
    /// A table for `capacity` slots in segments of `segment_len`.
    pub(crate) fn new(capacity: usize, segment_len: usize) -> Self {
        let n = capacity.div_ceil(segment_len).max(1);
        SlotTable {
            segments: (0..n).map(|_| AtomicPtr::new(ptr::null_mut())).collect(),
            segment_len,
        }
    }

    fn segment(&self, slot: usize) -> &[AtomicPtr<Header>] {
        let dir = &self.segments[slot / self.segment_len];
        // Acquire: pairs with the Release CAS that installed the segment, so its zeroed entries are
        // visible.
        let mut seg = dir.load(Ordering::Acquire);
        if seg.is_null() {
            let fresh: Box<[AtomicPtr<Header>]> = (0..self.segment_len)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect();
            let fresh = Box::into_raw(fresh).cast::<AtomicPtr<Header>>();
            // AcqRel: Release publishes the initialised segment; Acquire reads a competitor's.
            match dir.compare_exchange(
                ptr::null_mut(),
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => seg = fresh,
                Err(existing) => {
                    // SAFETY: `fresh` came from the Box above and was never shared.
                    drop(unsafe {
                        Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, self.segment_len))
                    });
                    seg = existing;
                }
            }
        }
        // SAFETY: installed segments hold `segment_len` entries and live until the table drops.
        unsafe { std::slice::from_raw_parts(seg, self.segment_len) }
    }

    /// Stores a freshly spawned task's pointer (with the table's reference) in its slot.
    pub(crate) fn insert(&self, slot: usize, task: NonNull<Header>) {
        let entry = &self.segment(slot)[slot % self.segment_len];
        // Release: the task's initialised header is published with the pointer; the worker that
        // claims the slot's tree bit (a SeqCst chain after this store) loads it with Acquire.
        let old = entry.swap(task.as_ptr(), Ordering::Release);
        debug_assert!(old.is_null(), "slot {slot} reused while occupied");
    }

    /// The task in `slot`, if any. The caller must hold something that keeps it alive (the run
    /// permission behind a claimed tree bit).
    pub(crate) fn get(&self, slot: usize) -> Option<NonNull<Header>> {
        // Acquire: pairs with the Release in `insert`.
        NonNull::new(self.segment(slot)[slot % self.segment_len].load(Ordering::Acquire))
    }

    /// Removes the pointer from `slot`; the caller owns the table's reference if one comes back.
    pub(crate) fn take(&self, slot: usize) -> Option<NonNull<Header>> {
        // AcqRel: Acquire the task written by `insert`; Release our prior uses to the next owner.
        NonNull::new(self.segment(slot)[slot % self.segment_len].swap(ptr::null_mut(), Ordering::AcqRel))
    }

    /// Every slot index whose segment exists (for shutdown's sweep).
    pub(crate) fn allocated_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().enumerate().flat_map(move |(i, dir)| {
            // Acquire: as in `segment`.
            let present = !dir.load(Ordering::Acquire).is_null();
            let start = i * self.segment_len;
            let len = if present { self.segment_len } else { 0 };
            start..start + len
        })
    }
}

impl Drop for SlotTable {
    fn drop(&mut self) {
        for dir in self.segments.iter() {
            // Relaxed: `&mut self`, no concurrent access remains.
            let seg = dir.load(Ordering::Relaxed);
            if !seg.is_null() {
                // SAFETY: installed by `segment` from a boxed slice of `segment_len` entries.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(seg, self.segment_len)) });
            }
        }
    }
}
