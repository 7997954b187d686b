//! Loom model (`docs/testing.md` §4): `mark_active` against `try_unmark_if_empty`, one worker, two
//! queue groups. The producer publishes with a SeqCst RMW and marks; the owner drains and clears
//! with clear-then-recheck. After both finish: a non-empty source has its bit set, and a bit the
//! owner cleared that is set again came with a permit.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p signal-waker --test loom_status`
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use signal_waker::{SignalWaker, STATUS_BIT_YIELD};
use std::sync::atomic::Ordering::SeqCst;

#[test]
fn loom_mark_active_against_try_unmark_if_empty() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let queues = Arc::new([loom_support::atomic(0), loom_support::atomic(0)]);
        // Group 1 holds an item the owner has not taken yet; its permit was consumed.
        queues[1].fetch_add(1, SeqCst);
        w.mark_active(1);
        assert!(w.try_acquire());

        let producer = {
            let (w, queues) = (Arc::clone(&w), Arc::clone(&queues));
            thread::spawn(move || {
                for g in [0usize, 1, 0] {
                    queues[g].fetch_add(1, SeqCst);
                    w.mark_active(g as u32);
                }
            })
        };
        // The owner's clear of a group may be followed by a later push to it: `cleared[g]`
        // remembers whether the owner's last clear of `g` reported "cleared and stays clear".
        let mut cleared = [false; 2];
        let mut taken = 0;
        for g in [1usize, 0, 1, 0] {
            taken += queues[g].swap(0, SeqCst);
            cleared[g] = w.try_unmark_if_empty(g as u32, || queues[g].load(SeqCst) == 0);
        }
        producer.join().unwrap();
        let left: u64 = queues.iter().map(|q| q.load(SeqCst)).sum();
        assert_eq!(taken + left, 4, "items taken twice or lost");

        let status = w.status();
        for g in 0..2 {
            if queues[g].load(SeqCst) != 0 {
                assert_ne!(
                    status & (1 << g),
                    0,
                    "group {g} non-empty but its bit is clear"
                );
            }
            if cleared[g] && status & (1 << g) != 0 {
                assert!(
                    w.permits() >= 1,
                    "group {g} re-set after the clear without a permit"
                );
            }
        }
    });
}

/// The same race on the YIELD bit, with the owner draining twice.
#[test]
fn loom_mark_yield_against_try_unmark_yield() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let queue = Arc::new(loom_support::atomic(0));
        let producer = {
            let (w, queue) = (Arc::clone(&w), Arc::clone(&queue));
            thread::spawn(move || {
                queue.fetch_add(1, SeqCst);
                w.mark_yield();
            })
        };
        let mut taken = 0;
        for _ in 0..2 {
            taken += queue.swap(0, SeqCst);
            w.try_unmark_yield(|| queue.load(SeqCst) == 0);
        }
        producer.join().unwrap();
        let left = queue.load(SeqCst);
        assert_eq!(taken + left, 1);
        if left != 0 {
            assert_ne!(
                w.status() & STATUS_BIT_YIELD,
                0,
                "yield item left with the bit clear"
            );
            assert!(w.permits() >= 1, "yield item left without a permit");
        }
    });
}
