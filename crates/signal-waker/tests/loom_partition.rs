//! Loom models (`docs/testing.md` §4): `mark_partition_leaf_active` against `clear_partition_leaf`
//! against `sync_partition_summary`, with the leaf words as loom atomics. After all threads
//! finish: a non-empty leaf has its summary bit, and a non-zero summary has PARTITION set.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p signal-waker --test loom_partition`
#![cfg(loom)]

mod loom_support;

use loom::sync::atomic::AtomicU64;
use loom::sync::Arc;
use loom::thread;
use signal_waker::{SignalWaker, STATUS_BIT_PARTITION};
use std::sync::atomic::Ordering::SeqCst;

const LEAVES: usize = 2;

fn setup() -> (Arc<SignalWaker>, Arc<[AtomicU64; LEAVES]>) {
    let w = Arc::new(SignalWaker::new());
    let leaves = Arc::new([loom_support::atomic(0), loom_support::atomic(0)]);
    // Leaf 0 holds a task the owner is about to take; its permit was consumed.
    leaves[0].fetch_add(1, SeqCst);
    w.mark_partition_leaf_active(0);
    assert!(w.try_acquire());
    (w, leaves)
}

/// Producer side: fill a leaf; its 0→1 marks the summary bit (one leaf per bit here).
fn push(w: &SignalWaker, leaves: &[AtomicU64; LEAVES], leaf: usize) {
    if leaves[leaf].fetch_add(1, SeqCst) == 0 {
        w.mark_partition_leaf_active(leaf as u32);
    }
}

/// Owner side: take leaf 0's tasks and clear its bit if it stayed empty.
fn drain_leaf0(w: &SignalWaker, leaves: &[AtomicU64; LEAVES]) {
    leaves[0].swap(0, SeqCst);
    w.clear_partition_leaf(0, || leaves[0].load(SeqCst) == 0);
}

fn assert_superset(w: &SignalWaker, leaves: &[AtomicU64; LEAVES]) {
    let summary = w.partition_summary();
    for (leaf, word) in leaves.iter().enumerate() {
        if word.load(SeqCst) != 0 {
            assert_ne!(
                summary & (1 << leaf),
                0,
                "leaf {leaf} non-empty, summary bit clear"
            );
        }
    }
    if summary != 0 {
        assert_ne!(
            w.status() & STATUS_BIT_PARTITION,
            0,
            "summary {summary:#x}, PARTITION clear"
        );
    }
}

/// Three threads: a producer filling leaf 0 and then leaf 1, the owner clearing leaf 0, and a
/// sync of the whole partition running at the same time.
#[test]
fn loom_mark_leaf_against_clear_leaf_against_sync() {
    loom_support::model(|| {
        let (w, leaves) = setup();
        let producer = {
            let (w, leaves) = (Arc::clone(&w), Arc::clone(&leaves));
            thread::spawn(move || {
                push(&w, &leaves, 0);
                push(&w, &leaves, 1);
            })
        };
        let syncer = {
            let (w, leaves) = (Arc::clone(&w), Arc::clone(&leaves));
            thread::spawn(move || {
                w.sync_partition_summary(0, LEAVES, leaves.as_slice());
            })
        };
        drain_leaf0(&w, &leaves);
        producer.join().unwrap();
        syncer.join().unwrap();
        assert_superset(&w, &leaves);
    });
}

/// Two threads, the owner's real order: clear leaf 0, then sync before parking. If the sync
/// says "no work", a later producer must have left PARTITION and a permit.
#[test]
fn loom_mark_leaf_against_owner_clear_then_sync() {
    loom_support::model(|| {
        let (w, leaves) = setup();
        let producer = {
            let (w, leaves) = (Arc::clone(&w), Arc::clone(&leaves));
            thread::spawn(move || {
                push(&w, &leaves, 1);
                push(&w, &leaves, 0);
            })
        };
        drain_leaf0(&w, &leaves);
        // Leaf 1's bit, if the producer got there: take its task and clear it the same way.
        leaves[1].swap(0, SeqCst);
        w.clear_partition_leaf(1, || leaves[1].load(SeqCst) == 0);
        let work = w.sync_partition_summary(0, LEAVES, leaves.as_slice());
        let status_after_sync = w.status();
        producer.join().unwrap();
        assert_superset(&w, &leaves);
        let any = leaves.iter().any(|l| l.load(SeqCst) != 0);
        if any && !work && status_after_sync & STATUS_BIT_PARTITION == 0 {
            // The owner would park now: the producer's later 0→1 must have left a permit.
            assert!(w.permits() >= 1, "owner parks with work and no permit");
        }
    });
}
