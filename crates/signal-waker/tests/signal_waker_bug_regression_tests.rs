//! Minimal reproducers of bugs this kind of signalling code has had (`docs/testing.md` §8): a clear
//! that hits the wrong word or bit, a stale partition summary that suppresses a permit, the
//! store-buffer race in which a sleeper and a waker miss each other, and a sync of an empty
//! partition that claimed work (found while writing these tests; fixed in `partition.rs`).
//!
//! Threaded tests are named `concurrent_*` so the Miri many-seeds run picks them up.
#![cfg(not(loom))]

mod common;

use common::{sized, spin, wait_until, Watchdog, XorShift};
use signal_waker::{
    SignalWaker, QUEUE_GROUPS, QUEUE_GROUP_MASK, STATUS_BIT_PARTITION, STATUS_BIT_YIELD,
};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

const ALL_BITS: u64 = u64::MAX;

/// A waker with all 64 status bits and all 64 summary bits set, permits drained.
fn saturated_waker() -> SignalWaker {
    let w = SignalWaker::new();
    w.mark_active_mask(QUEUE_GROUP_MASK);
    w.mark_yield();
    for bit in 0..64 {
        w.mark_partition_leaf_active(bit);
    }
    assert_eq!((w.status(), w.partition_summary()), (ALL_BITS, ALL_BITS));
    w.drain_permits();
    w
}

/// Wrong-word clear: clearing queue group `g` (by any of the clear calls) must clear that bit
/// of the status word only, never another group, PARTITION, YIELD, or the partition summary.
#[test]
fn clear_of_one_group_touches_no_other_bit_or_word() {
    for g in 0..QUEUE_GROUPS {
        let w = saturated_waker();
        assert!(w.try_unmark(g));
        assert_eq!(w.status(), ALL_BITS & !(1 << g), "try_unmark({g})");
        assert_eq!(
            w.partition_summary(),
            ALL_BITS,
            "try_unmark({g}) hit the summary"
        );
        w.mark_active(g);
        assert!(w.try_unmark_if_empty(g, || true));
        assert_eq!(w.status(), ALL_BITS & !(1 << g), "try_unmark_if_empty({g})");
        assert_eq!(w.partition_summary(), ALL_BITS);
    }
}

#[test]
fn clear_of_yield_or_partition_touches_only_that_bit() {
    let w = saturated_waker();
    assert!(w.try_unmark_yield(|| true));
    assert_eq!(w.status(), ALL_BITS & !STATUS_BIT_YIELD);
    assert_eq!(w.partition_summary(), ALL_BITS);
    assert!(
        !w.try_unmark_tasks(),
        "summary non-zero: PARTITION must stay"
    );
    assert_eq!(w.status(), ALL_BITS & !STATUS_BIT_YIELD);
    // Empty the summary; then clearing PARTITION leaves the queue groups alone.
    for bit in 0..64 {
        w.clear_partition_leaf(bit, || true);
    }
    assert_eq!(
        w.status(),
        QUEUE_GROUP_MASK,
        "only PARTITION went with the summary"
    );
}

/// Wrong-bit clear in the summary: `clear_partition_leaf(i)` clears summary bit `i` only, and
/// leaves PARTITION set while any other summary bit remains.
#[test]
fn clear_partition_leaf_clears_only_its_summary_bit() {
    for i in 0..64 {
        let w = saturated_waker();
        assert!(w.clear_partition_leaf(i, || true));
        assert_eq!(
            w.partition_summary(),
            ALL_BITS & !(1 << i),
            "clear_partition_leaf({i})"
        );
        assert_eq!(
            w.status(),
            ALL_BITS,
            "clear_partition_leaf({i}) touched the status word"
        );
    }
}

/// Stale summary: a summary bit left set for a leaf that is empty must never keep a newly
/// active leaf from setting PARTITION and releasing the owner's permit. (A version of this code
/// released the permit only on the summary's zero→non-zero transition.)
#[test]
fn stale_summary_bit_does_not_suppress_partition_permit() {
    let w = SignalWaker::new();
    assert!(w.mark_partition_leaf_active(0)); // leaf 0 is then emptied by a stealer: stale
    assert!(w.try_acquire(), "the owner took that permit");
    // The owner cannot drop PARTITION while the (stale) summary is non-zero...
    assert!(!w.try_unmark_tasks());
    assert_eq!(w.status(), STATUS_BIT_PARTITION);
    // ...and clearing the stale bit clears PARTITION with it, without a permit.
    assert!(w.clear_partition_leaf(0, || true));
    assert_eq!((w.status(), w.partition_summary(), w.permits()), (0, 0, 0));
    // Stale bit 0 again, next to a live bit 5 that the owner then clears: PARTITION must stay
    // while the stale bit remains.
    assert!(w.mark_partition_leaf_active(5));
    assert!(w.mark_partition_leaf_active(0));
    assert_eq!(w.drain_permits(), 1);
    assert!(w.clear_partition_leaf(5, || true)); // summary still {0}: PARTITION stays
    assert_eq!(w.status(), STATUS_BIT_PARTITION);
    // A new leaf with the stale bit 0 still set: PARTITION is set (it never left).
    assert!(w.mark_partition_leaf_active(9));
    assert_ne!(w.status() & STATUS_BIT_PARTITION, 0);
    // Sync before parking drops the stale bit 0 and keeps leaf 9's.
    let leaves: Vec<AtomicU64> = (0..16).map(|_| AtomicU64::new(0)).collect();
    leaves[9].store(1, SeqCst);
    assert!(w.sync_partition_summary(0, 16, leaves.as_slice()));
    assert_eq!(w.partition_summary(), 1 << 9);
    assert_ne!(w.status() & STATUS_BIT_PARTITION, 0);
    // Now the owner consumes leaf 9 and its stale-free summary empties: a new leaf gets a permit.
    leaves[9].store(0, SeqCst);
    assert!(w.clear_partition_leaf(9, || true));
    assert_eq!(w.status(), 0);
    leaves[3].store(1, SeqCst);
    assert!(w.mark_partition_leaf_active(3));
    assert_eq!((w.status(), w.permits()), (STATUS_BIT_PARTITION, 1));
}

/// The stale-summary race with threads: the owner clears a stale summary bit (which clears
/// PARTITION when the summary empties) while a producer activates a new leaf. Whatever the
/// interleaving, the owner must either see PARTITION after its clear or find a permit: otherwise
/// it would park with work pending.
#[test]
fn concurrent_stale_summary_clear_against_new_leaf_keeps_a_permit() {
    let rounds = sized(2_000, 20_000, 10);
    for round in 0..rounds {
        let w = Arc::new(SignalWaker::new());
        w.mark_partition_leaf_active(0); // stale: leaf 0 is empty
        assert!(w.try_acquire());
        let go = Arc::new(AtomicBool::new(false));
        let producer = {
            let (w, go) = (Arc::clone(&w), Arc::clone(&go));
            std::thread::spawn(move || {
                wait_until("start", || go.load(SeqCst));
                spin(round as u64 % 32);
                w.mark_partition_leaf_active(1);
            })
        };
        go.store(true, SeqCst);
        spin((round as u64 * 7) % 32);
        w.clear_partition_leaf(0, || true);
        let owner_saw_partition = w.status() & STATUS_BIT_PARTITION != 0;
        producer.join().expect("producer panicked");
        assert_eq!(w.partition_summary(), 1 << 1, "round {round}");
        assert_ne!(
            w.status() & STATUS_BIT_PARTITION,
            0,
            "round {round}: summary ⇒ PARTITION"
        );
        assert!(
            owner_saw_partition || w.permits() >= 1,
            "round {round}: PARTITION was clear when the owner looked and no permit is left: \
             the owner would sleep through leaf 1"
        );
    }
}

/// The store-buffer race: the sleeper announces itself (`sleepers += 1`) and re-checks the
/// permits; the releaser adds a permit and reads `sleepers`. With anything weaker than a total
/// order over those four accesses both can read the old value, and the sleeper sleeps forever.
/// Many rounds, each bounded by a handshake; the releaser varies its timing so its release
/// lands all around the sleeper's announcement. A watchdog fails the test with a message if a
/// round takes more than 10 s, rather than letting it hang.
#[test]
fn concurrent_store_buffer_sleeper_and_waker_never_miss_each_other() {
    let rounds = sized(5_000, 50_000, 12) as u64;
    let w = Arc::new(SignalWaker::new());
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let watchdog = Watchdog::start(
        "concurrent_store_buffer_sleeper_and_waker_never_miss_each_other",
        Duration::from_secs(10),
    );
    let sleeper = {
        let (w, started, finished) = (Arc::clone(&w), Arc::clone(&started), Arc::clone(&finished));
        std::thread::spawn(move || {
            for round in 0..rounds {
                started.store(round + 1, SeqCst);
                if round % 2 == 0 {
                    w.acquire();
                } else {
                    assert!(w.acquire_timeout(Duration::from_secs(3600)));
                }
                w.try_unmark(0);
                finished.store(round + 1, SeqCst);
            }
        })
    };
    let mut rng = XorShift::new(42);
    for round in 0..rounds {
        // Handshake: the sleeper is in round `round` (about to park or parked).
        while started.load(SeqCst) <= round {
            std::hint::spin_loop();
        }
        spin(rng.below(200));
        if round % 3 == 0 {
            // A permit without a status bit (the runtime's "look at me").
            w.release_permit();
        } else {
            assert!(
                w.mark_active(0),
                "round {round}: bit 0 was cleared last round"
            );
        }
        while finished.load(SeqCst) <= round {
            std::thread::yield_now();
        }
        watchdog.tick(round);
    }
    sleeper.join().expect("sleeper panicked");
    watchdog.finish();
    assert_eq!(w.sleepers(), 0);
    assert_eq!(
        w.permits(),
        0,
        "one permit per round, each taken by the sleeper"
    );
}

/// Found while writing these tests: `sync_partition_summary` returned `true` ("may hold work")
/// for a partition with a zero summary whenever PARTITION was already clear, e.g. a fresh
/// waker's zero-length partition, or any second sync of an empty partition, because it returned
/// `!try_unmark_tasks()` and that is `false` both for "work raced in" and for "already clear".
/// An owner looping "while sync() { scan }" spun forever.
#[test]
fn sync_of_an_empty_partition_with_partition_bit_clear_returns_false() {
    let leaves: Vec<AtomicU64> = (0..8).map(|_| AtomicU64::new(0)).collect();
    let w = SignalWaker::new();
    assert!(
        !w.sync_partition_summary(0, 0, leaves.as_slice()),
        "zero-length, fresh"
    );
    assert!(
        !w.sync_partition_summary(0, 8, leaves.as_slice()),
        "empty, fresh"
    );
    assert!(
        !w.sync_partition_summary(0, 8, leaves.as_slice()),
        "empty, second sync"
    );
    leaves[4].store(1, SeqCst);
    assert!(w.sync_partition_summary(0, 8, leaves.as_slice()));
    leaves[4].store(0, SeqCst);
    assert!(
        !w.sync_partition_summary(0, 8, leaves.as_slice()),
        "emptied: clears, false"
    );
    assert!(
        !w.sync_partition_summary(0, 8, leaves.as_slice()),
        "and stays false"
    );
    assert_eq!((w.status(), w.partition_summary()), (0, 0));
}
