//! Permits and parking: the counter's cap, `try_acquire` / `acquire` / `acquire_timeout`, the
//! `sleepers` count around them, and spurious wakeups (`docs/testing.md` §2: permit monotonicity,
//! sleepers symmetry, "simulate spurious wakeups and ensure no double decrement").
//!
//! Threaded tests are named `concurrent_*` so the Miri many-seeds run picks them up.
#![cfg(not(loom))]

mod common;

use common::{join, sized, wait_until, XorShift};
use signal_waker::{SignalWaker, MAX_PERMITS};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// Long enough that a sleeper in the tests below never times out before its handshake: they
/// all wake it explicitly.
const LONG: Duration = Duration::from_secs(3600);

#[test]
fn try_acquire_takes_exactly_the_released_permits() {
    let w = SignalWaker::new();
    for _ in 0..3 {
        w.release_permit();
    }
    assert_eq!(w.permits(), 3);
    for left in (0..3).rev() {
        assert!(w.try_acquire());
        assert_eq!(w.permits(), left);
    }
    assert!(!w.try_acquire(), "no fourth permit");
    assert_eq!(w.permits(), 0);
}

/// Wrap-around close to `u64::MAX` (`docs/testing.md` §2) cannot happen: permits saturate at
/// `MAX_PERMITS` (of draining and capping, we cap). This replaces a wrap-around test: a million
/// releases with no consumer leave exactly `MAX_PERMITS`, never more, never wrapped.
#[test]
fn permits_saturate_at_max_after_a_million_releases() {
    let releases = sized(1_000_000, 4_000_000, 300);
    let w = SignalWaker::new();
    for i in 0..releases {
        w.release_permit();
        if i % 1024 == 0 || i < 2 * MAX_PERMITS as usize {
            let expected = (i as u64 + 1).min(MAX_PERMITS);
            assert_eq!(w.permits(), expected, "after {} releases", i + 1);
        }
    }
    assert_eq!(w.permits(), MAX_PERMITS);
    assert_eq!(w.drain_permits(), MAX_PERMITS);
    assert_eq!(w.permits(), 0);
}

#[test]
fn permits_saturate_under_mark_unmark_cycles_with_no_consumer() {
    let cycles = sized(1_000_000, 4_000_000, 300);
    let w = SignalWaker::new();
    for i in 0..cycles {
        let g = (i % 62) as u32;
        assert!(w.mark_active(g), "cycle {i}: bit {g} was clear");
        assert!(w.try_unmark(g));
    }
    assert_eq!(w.status(), 0);
    assert_eq!(w.permits(), MAX_PERMITS, "capped, not overflowed");
}

#[test]
fn drain_permits_takes_all_and_leaves_zero() {
    let w = SignalWaker::new();
    assert_eq!(w.drain_permits(), 0);
    w.mark_active_mask(0b1011);
    assert_eq!(w.drain_permits(), 3);
    assert_eq!(w.permits(), 0);
    assert!(!w.try_acquire());
    assert_eq!(
        w.status(),
        0b1011,
        "draining permits leaves the status alone"
    );
}

#[test]
fn acquire_takes_an_available_permit_without_blocking() {
    let w = SignalWaker::new();
    w.mark_active(1);
    // Checked first so that a missing permit fails here instead of blocking the test forever.
    assert_eq!(w.permits(), 1, "the 0→1 released a permit");
    w.acquire();
    assert_eq!((w.permits(), w.sleepers()), (0, 0));
}

#[test]
fn acquire_timeout_with_a_permit_returns_true() {
    let w = SignalWaker::new();
    w.release_permit();
    assert!(w.acquire_timeout(Duration::ZERO));
    assert_eq!((w.permits(), w.sleepers()), (0, 0));
}

#[test]
fn acquire_timeout_zero_without_permit_returns_false_and_leaves_no_sleeper() {
    let w = SignalWaker::new();
    assert!(!w.acquire_timeout(Duration::ZERO));
    assert_eq!((w.permits(), w.sleepers()), (0, 0));
}

#[test]
fn acquire_timeout_expires_without_permit_and_leaves_no_sleeper() {
    let w = SignalWaker::new();
    for ms in [1, 3] {
        assert!(!w.acquire_timeout(Duration::from_millis(ms)));
        assert_eq!(
            w.sleepers(),
            0,
            "sleepers back to 0 after a timeout of {ms} ms"
        );
    }
    assert_eq!(w.permits(), 0);
}

#[test]
fn wake_all_without_sleepers_changes_nothing() {
    let w = SignalWaker::new();
    w.wake_all();
    assert_eq!((w.permits(), w.sleepers(), w.status()), (0, 0, 0));
}

#[test]
fn concurrent_sleepers_symmetric_around_acquire() {
    let rounds = sized(50, 500, 3);
    let w = Arc::new(SignalWaker::new());
    for round in 0..rounds {
        let sleeper = {
            let w = Arc::clone(&w);
            std::thread::spawn(move || w.acquire())
        };
        wait_until("sleeper announced in acquire()", || w.sleepers() == 1);
        assert_eq!(w.permits(), 0);
        if round % 2 == 0 {
            w.release_permit();
        } else {
            assert!(w.mark_active(round as u32 % 62));
        }
        join("sleeper returned from acquire()", sleeper);
        assert_eq!(
            w.sleepers(),
            0,
            "round {round}: one increment, one decrement"
        );
        assert_eq!(w.permits(), 0, "round {round}: the sleeper took the permit");
        w.try_unmark(round as u32 % 62);
    }
}

#[test]
fn concurrent_sleepers_symmetric_around_acquire_timeout() {
    let rounds = sized(50, 500, 3);
    let w = Arc::new(SignalWaker::new());
    for round in 0..rounds {
        let sleeper = {
            let w = Arc::clone(&w);
            std::thread::spawn(move || w.acquire_timeout(LONG))
        };
        wait_until("sleeper announced in acquire_timeout()", || {
            w.sleepers() == 1
        });
        w.release_permit();
        assert!(join("sleeper returned", sleeper), "round {round}");
        assert_eq!((w.sleepers(), w.permits()), (0, 0), "round {round}");
    }
}

#[test]
fn concurrent_acquire_timeout_duration_max_is_untimed_and_wakes() {
    let w = Arc::new(SignalWaker::new());
    let sleeper = {
        let w = Arc::clone(&w);
        std::thread::spawn(move || w.acquire_timeout(Duration::MAX))
    };
    wait_until("sleeper announced", || w.sleepers() == 1);
    w.mark_yield();
    assert!(join("sleeper returned", sleeper));
    assert_eq!((w.sleepers(), w.permits()), (0, 0));
}

/// `wake_all` without a permit is a spurious wakeup for the sleeper: it must decrement once, find
/// no permit, re-announce and sleep again. `sleepers` is a `u32`: a double decrement would show
/// as a huge value (wrapped) or as 0 while the thread still sleeps.
#[test]
fn concurrent_spurious_wake_all_never_double_decrements() {
    let storms = sized(200, 2000, 4);
    let w = Arc::new(SignalWaker::new());
    let returned = Arc::new(AtomicU64::new(0));
    let sleeper = {
        let (w, returned) = (Arc::clone(&w), Arc::clone(&returned));
        std::thread::spawn(move || {
            let got = w.acquire_timeout(LONG);
            returned.fetch_add(1, SeqCst);
            got
        })
    };
    wait_until("sleeper announced", || w.sleepers() == 1);
    for storm in 0..storms {
        w.wake_all();
        let s = w.sleepers();
        assert!(
            s <= 1,
            "storm {storm}: sleepers = {s}, at most one thread sleeps"
        );
        // Handshake: the woken sleeper has found no permit and announced itself again.
        wait_until("sleeper re-announced after a spurious wake", || {
            let s = w.sleepers();
            assert!(s <= 1, "storm {storm}: sleepers = {s}");
            s == 1
        });
        assert_eq!(
            returned.load(SeqCst),
            0,
            "no permit: the sleeper must not return"
        );
    }
    w.release_permit();
    assert!(join("sleeper returned", sleeper), "the permit was taken");
    assert_eq!(returned.load(SeqCst), 1);
    assert_eq!(w.sleepers(), 0, "back to 0");
    assert!(!w.try_acquire(), "exactly one acquisition for one permit");
}

/// Two sleepers, spurious `wake_all` storms, then permits one at a time: each permit lets exactly
/// one sleeper through; sleepers never exceeds 2 and ends at 0.
#[test]
fn concurrent_two_sleepers_one_permit_each_through_spurious_wakes() {
    let storms = sized(50, 500, 2);
    let w = Arc::new(SignalWaker::new());
    let returned = Arc::new(AtomicU64::new(0));
    let sleepers: Vec<_> = (0..2)
        .map(|i| {
            let (w, returned) = (Arc::clone(&w), Arc::clone(&returned));
            std::thread::spawn(move || {
                let got = if i == 0 {
                    w.acquire();
                    true
                } else {
                    w.acquire_timeout(LONG)
                };
                returned.fetch_add(1, SeqCst);
                got
            })
        })
        .collect();
    wait_until("both sleepers announced", || w.sleepers() == 2);
    for _ in 0..storms {
        w.wake_all();
        wait_until("both re-announced", || {
            let s = w.sleepers();
            assert!(s <= 2, "sleepers = {s} with two threads");
            s == 2
        });
    }
    w.release_permit();
    wait_until("one sleeper returned", || returned.load(SeqCst) == 1);
    // The other one is still inside (announced or about to re-announce), holding no permit.
    assert_eq!(w.permits(), 0);
    wait_until("the other sleeper is parked again", || w.sleepers() == 1);
    assert_eq!(returned.load(SeqCst), 1, "one permit, one acquisition");
    w.release_permit();
    for s in sleepers {
        assert!(join("both sleepers returned", s));
    }
    assert_eq!(returned.load(SeqCst), 2);
    assert_eq!((w.sleepers(), w.permits()), (0, 0));
}

/// Several producers and several consumers: no increment is lost (producers keep the outstanding
/// count below the cap, so `acquired + permits == released` exactly), no permit is taken twice,
/// and a monitor sees `permits() <= MAX_PERMITS` throughout.
#[test]
fn concurrent_permits_monotonic_with_many_producers_and_consumers() {
    let per_producer = sized(20_000, 200_000, 40) as u64;
    let (producers, consumers) = (3u64, 3u64);
    let total = producers * per_producer;
    let w = Arc::new(SignalWaker::new());
    let released = Arc::new(AtomicU64::new(0));
    let acquired = Arc::new(AtomicU64::new(0));
    let stop_monitor = Arc::new(AtomicBool::new(false));

    let monitor = {
        let (w, stop) = (Arc::clone(&w), Arc::clone(&stop_monitor));
        std::thread::spawn(move || {
            let mut max_seen = 0;
            while !stop.load(SeqCst) {
                max_seen = max_seen.max(w.permits());
                std::thread::yield_now();
            }
            max_seen
        })
    };
    let mut threads = Vec::new();
    for p in 0..producers {
        let (w, released, acquired) =
            (Arc::clone(&w), Arc::clone(&released), Arc::clone(&acquired));
        threads.push(std::thread::spawn(move || {
            let mut rng = XorShift::new(p + 1);
            for _ in 0..per_producer {
                // Keep fewer than MAX_PERMITS outstanding so the cap never swallows a release.
                loop {
                    // `acquired` first: it never exceeds `released`, so no underflow.
                    let a = acquired.load(SeqCst);
                    if released.load(SeqCst) - a < MAX_PERMITS / 2 {
                        break;
                    }
                    std::thread::yield_now();
                }
                released.fetch_add(1, SeqCst);
                w.release_permit();
                common::spin(rng.below(8));
            }
        }));
    }
    for _ in 0..consumers {
        let (w, acquired) = (Arc::clone(&w), Arc::clone(&acquired));
        threads.push(std::thread::spawn(move || loop {
            if acquired.load(SeqCst) >= total {
                return;
            }
            if w.try_acquire() {
                acquired.fetch_add(1, SeqCst);
            } else {
                std::thread::yield_now();
            }
        }));
    }
    for t in threads {
        join("producers and consumers finished", t);
    }
    stop_monitor.store(true, SeqCst);
    let max_seen = join("monitor finished", monitor);
    assert!(max_seen <= MAX_PERMITS, "permits reached {max_seen}");
    assert_eq!(released.load(SeqCst), total);
    assert_eq!(acquired.load(SeqCst), total, "every release acquired once");
    assert_eq!(w.permits(), 0, "acquired + permits == released");
}

/// Blocking consumers: each parks in `acquire()` for its share; producers release the total.
/// Every consumer must return (no lost wake) and no permit is left or missing.
#[test]
fn concurrent_blocking_consumers_receive_every_permit() {
    let per_consumer = sized(5_000, 50_000, 15) as u64;
    let consumers = 3u64;
    let total = consumers * per_consumer;
    let w = Arc::new(SignalWaker::new());
    let acquired = Arc::new(AtomicU64::new(0));
    let consumer_threads: Vec<_> = (0..consumers)
        .map(|c| {
            let (w, acquired) = (Arc::clone(&w), Arc::clone(&acquired));
            std::thread::spawn(move || {
                for i in 0..per_consumer {
                    if (c + i) % 3 == 0 {
                        assert!(w.acquire_timeout(LONG));
                    } else {
                        w.acquire();
                    }
                    acquired.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    let producer_threads: Vec<_> = (0..2u64)
        .map(|p| {
            let w = Arc::clone(&w);
            std::thread::spawn(move || {
                let mut rng = XorShift::new(p + 11);
                let mut mine = 0;
                let share = total / 2 + if p == 0 { total % 2 } else { 0 };
                while mine < share {
                    // Stay below the cap, as above, so each release is one acquisition.
                    let outstanding = w.permits();
                    if outstanding < MAX_PERMITS / 4 {
                        w.release_permit();
                        mine += 1;
                    } else {
                        std::thread::yield_now();
                    }
                    common::spin(rng.below(16));
                }
            })
        })
        .collect();
    // Guarded first: if a consumer sleeps through its wakeup, the producers stall on the cap.
    wait_until("every consumer got its share", || {
        acquired.load(SeqCst) == total
    });
    for t in producer_threads {
        join("producer finished", t);
    }
    for t in consumer_threads {
        join("consumer finished", t);
    }
    assert_eq!((w.permits(), w.sleepers()), (0, 0));
}
