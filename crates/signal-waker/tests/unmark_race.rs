//! CAS race harness for `try_unmark_*` (`docs/testing.md` §2): producers push to SeqCst
//! counter-backed "queues" (queue groups, the yield queue, partition leaves) and mark; consumers
//! drain and clear with clear-then-recheck (`try_unmark_if_empty`, `try_unmark_yield`,
//! `clear_partition_leaf`, `try_unmark_tasks`). Whenever the threads have stopped: a non-empty
//! source has its bit set, a non-zero summary has PARTITION, and nothing was consumed twice or
//! lost.
//!
//! Threaded tests are named `concurrent_*` so the Miri many-seeds run picks them up.
#![cfg(not(loom))]

mod common;

use common::{sized, XorShift};
use signal_waker::{SignalWaker, STATUS_BIT_PARTITION, STATUS_BIT_YIELD};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Barrier};

/// Sources 0..GROUPS are queue groups, source YIELD is the yield queue, and sources LEAF0..
/// are leaves of the owner's partition (summary bit = leaf index), which drive PARTITION.
const GROUPS: usize = 4;
const YIELD: usize = GROUPS;
const LEAF0: usize = GROUPS + 1;
const LEAVES: usize = 2;
const SOURCES: usize = LEAF0 + LEAVES;

/// Producer side: publish with a SeqCst RMW, then mark (the order the crate requires).
fn push(w: &SignalWaker, queues: &[AtomicU64], source: usize) {
    queues[source].fetch_add(1, SeqCst);
    match source {
        YIELD => {
            w.mark_yield();
        }
        s if s >= LEAF0 => {
            w.mark_partition_leaf_active((s - LEAF0) as u32);
        }
        g => {
            w.mark_active(g as u32);
        }
    }
}

/// Consumer side: take everything, then clear the bit only if the source is still empty. The
/// emptiness check spins `delay` hints after reading, which widens the window between the check
/// and the clear in which a producer can push and see the bit still set.
fn drain(w: &SignalWaker, queues: &[AtomicU64], source: usize, delay: u64) -> u64 {
    let taken = queues[source].swap(0, SeqCst);
    let is_empty = || {
        let empty = queues[source].load(SeqCst) == 0;
        common::spin(delay);
        empty
    };
    match source {
        YIELD => {
            w.try_unmark_yield(is_empty);
        }
        s if s >= LEAF0 => {
            w.clear_partition_leaf((s - LEAF0) as u32, is_empty);
            if delay % 4 == 0 {
                w.try_unmark_tasks();
            }
        }
        g => {
            w.try_unmark_if_empty(g as u32, is_empty);
        }
    }
    taken
}

/// The resting invariant: a non-empty source has its bit (a leaf: its summary bit), and a
/// non-zero summary has PARTITION.
fn assert_non_empty_implies_bit(w: &SignalWaker, queues: &[AtomicU64], round: usize) {
    let (status, summary) = (w.status(), w.partition_summary());
    for (source, q) in queues.iter().enumerate() {
        let len = q.load(SeqCst);
        let (word, bit, name) = match source {
            YIELD => (status, STATUS_BIT_YIELD, "status"),
            s if s >= LEAF0 => (summary, 1 << (s - LEAF0), "summary"),
            g => (status, 1 << g, "status"),
        };
        assert!(
            len == 0 || word & bit != 0,
            "round {round}: source {source} holds {len} items but its {name} bit is clear \
             (status {status:#x}, summary {summary:#x}): the owner would never look"
        );
    }
    assert!(
        summary == 0 || status & STATUS_BIT_PARTITION != 0,
        "round {round}: summary {summary:#x} but PARTITION clear"
    );
}

/// Runs `rounds` short rounds with persistent threads: in each, `producers` producers push a
/// few items each while `consumers` consumers drain and clear, then everybody meets at a barrier
/// and the main thread checks the resting state. Short rounds matter: a bit lost in the middle
/// of a long run is healed by the next push to that queue, so only a race with the round's last
/// pushes shows; many short rounds make many "last pushes".
fn race(producers: usize, consumers: usize, rounds: usize, pushes: u64) {
    let w = Arc::new(SignalWaker::new());
    let queues: Arc<Vec<AtomicU64>> = Arc::new((0..SOURCES).map(|_| AtomicU64::new(0)).collect());
    let consumed = Arc::new(AtomicU64::new(0));
    let pushed = Arc::new(AtomicU64::new(0));
    // Two barriers per round: `start` releases a round, `end` closes it.
    let start = Arc::new(Barrier::new(producers + consumers + 1));
    let end = Arc::new(Barrier::new(producers + consumers + 1));
    let mut threads = Vec::new();
    for p in 0..producers {
        let (w, queues, pushed, start, end) = (
            Arc::clone(&w),
            Arc::clone(&queues),
            Arc::clone(&pushed),
            Arc::clone(&start),
            Arc::clone(&end),
        );
        threads.push(std::thread::spawn(move || {
            let mut rng = XorShift::new(p as u64 + 1);
            for _ in 0..rounds {
                start.wait();
                for _ in 0..1 + rng.below(pushes) {
                    common::spin(rng.below(64));
                    push(&w, &queues, rng.below(SOURCES as u64) as usize);
                    pushed.fetch_add(1, SeqCst);
                }
                end.wait();
            }
        }));
    }
    for c in 0..consumers {
        let (w, queues, consumed, start, end) = (
            Arc::clone(&w),
            Arc::clone(&queues),
            Arc::clone(&consumed),
            Arc::clone(&start),
            Arc::clone(&end),
        );
        threads.push(std::thread::spawn(move || {
            let mut rng = XorShift::new(c as u64 + 1000);
            for _ in 0..rounds {
                start.wait();
                for _ in 0..2 * pushes {
                    let source = rng.below(SOURCES as u64) as usize;
                    let delay = rng.below(64);
                    consumed.fetch_add(drain(&w, &queues, source, delay), SeqCst);
                    w.try_acquire();
                }
                end.wait();
            }
        }));
    }
    for round in 0..rounds {
        start.wait();
        end.wait();
        // Quiescent: every thread is parked at the next round's `start`.
        assert_non_empty_implies_bit(&w, &queues, round);
    }
    for t in threads {
        t.join().expect("race thread panicked");
    }
    let left: u64 = queues.iter().map(|q| q.load(SeqCst)).sum();
    assert_eq!(
        consumed.load(SeqCst) + left,
        pushed.load(SeqCst),
        "items consumed twice or lost"
    );
    // Draining everything now clears every bit for good.
    for source in 0..SOURCES {
        drain(&w, &queues, source, 0);
    }
    w.try_unmark_tasks();
    assert_eq!(w.partition_summary(), 0, "all leaves empty, summary clear");
    assert_eq!(w.status(), 0, "all queues empty, all bits clear");
}

#[test]
fn concurrent_try_unmark_if_empty_cas_race_one_consumer() {
    race(3, 1, sized(20_000, 200_000, 6), 3);
}

/// Two consumers clearing the same bits at once: each clear is still followed by its own
/// re-check, so the first clear after a producer's "bit already set" load re-arms it.
#[test]
fn concurrent_try_unmark_if_empty_cas_race_two_consumers() {
    race(2, 2, sized(20_000, 200_000, 6), 3);
}
