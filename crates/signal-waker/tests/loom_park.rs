//! Loom models (`docs/testing.md` §4): release against park. Under loom the futex is a loom
//! `Mutex` + `Condvar` (see `src/sync.rs`), so a wake that falls between a sleeper's check and its
//! wait leaves the sleeper blocked and loom reports a deadlock.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p signal-waker --test loom_park`
#![cfg(loom)]

mod loom_support;

use loom::thread;
use signal_waker::SignalWaker;
use std::sync::atomic::Ordering::SeqCst;
// `std`'s `Arc`, not loom's: when loom reports a deadlock (a lost wakeup) it unwinds the model
// thread, and dropping a loom `Arc` during that unwind panics again and aborts the test binary
// instead of failing the test with loom's message.
use std::sync::Arc;
use std::time::Duration;

/// A worker in `acquire()` and a producer's `mark_active`: the worker must return, having taken
/// the one permit, and `sleepers` is back to 0.
#[test]
fn loom_mark_active_against_acquire() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let queue = Arc::new(loom_support::atomic(0));
        let producer = {
            let (w, queue) = (Arc::clone(&w), Arc::clone(&queue));
            thread::spawn(move || {
                queue.fetch_add(1, SeqCst);
                assert!(w.mark_active(0));
            })
        };
        w.acquire();
        assert_eq!(
            queue.load(SeqCst),
            1,
            "the permit came with the bit, after the push"
        );
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
        assert_eq!(w.status(), 1);
    });
}

/// One worker parking twice in a row while a producer marks two groups: the second park must
/// not be fooled by the epoch the first one saw, and each permit lets one `acquire` through.
#[test]
fn loom_two_marks_against_acquire_twice() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                assert!(w.mark_active(0));
                assert!(w.mark_active(1));
            })
        };
        w.acquire();
        w.acquire();
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
        assert_eq!(w.status(), 0b11);
    });
}

/// Two sleepers, two permits from two groups: `wake_one` per release must reach both.
#[test]
fn loom_two_releases_against_two_sleepers() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let sleeper = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.acquire())
        };
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                w.mark_active(0);
                w.mark_active(1);
            })
        };
        w.acquire();
        sleeper.join().unwrap();
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
    });
}

/// `wake_all` without a permit (a spurious wakeup for the sleeper) and then a release: the
/// sleeper must come back to sleep, not decrement twice, and take the one permit.
#[test]
fn loom_wake_all_then_release_against_acquire() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let waker = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                w.wake_all();
                w.release_permit();
            })
        };
        w.acquire();
        waker.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
    });
}

/// `acquire_timeout(ZERO)` against a release: it takes the permit or leaves it, never both or
/// neither, and leaves no sleeper behind. (Loom's futex returns at once from a timed wait.)
#[test]
fn loom_acquire_timeout_zero_against_release() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.release_permit())
        };
        let got = w.acquire_timeout(Duration::ZERO);
        producer.join().unwrap();
        assert_eq!(
            u64::from(got) + w.permits(),
            1,
            "the one permit is taken or still there"
        );
        assert_eq!(w.sleepers(), 0);
    });
}
