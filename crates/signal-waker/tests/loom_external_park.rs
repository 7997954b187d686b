//! Loom models of `SignalWaker::park_external`: a sleeper that waits somewhere else than on the
//! futex (in the runtime, an IO driver's poll), against a release. The "somewhere else" here is a
//! loom `Mutex` + `Condvar` event that the external-unpark hook sets, so a release that neither
//! the sleeper's re-check sees nor the hook reaches leaves the sleeper blocked and loom reports a
//! deadlock.
//!
//! Negative controls: `NEGATIVE_CONTROL=external_recheck` (no permit re-check after the
//! announcement) and `NEGATIVE_CONTROL=external_unpark` (the releaser never calls the hook) must
//! each make these models fail.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" cargo test --release -p signal-waker
//! --test loom_external_park`
#![cfg(loom)]

mod loom_support;

use loom::sync::{Condvar, Mutex};
use loom::thread;
use signal_waker::SignalWaker;
// `std`'s `Arc` (see `loom_park.rs`: a loom `Arc` dropped during a deadlock's unwind aborts).
use std::sync::Arc;

/// The external wait: a flag behind a mutex and a condvar, set by the hook.
struct Event {
    set: Mutex<bool>,
    cond: Condvar,
}

impl Event {
    fn new() -> Arc<Self> {
        Arc::new(Event {
            set: Mutex::new(false),
            cond: Condvar::new(),
        })
    }

    /// Waits until the hook ran, and consumes it (an untimed poll of an IO driver).
    fn wait(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.cond.wait(set).unwrap();
        }
        *set = false;
    }

    fn notify(&self) {
        *self.set.lock().unwrap() = true;
        self.cond.notify_one();
    }
}

/// A waker whose external-unpark hook sets `event`.
fn waker_with_hook(event: &Arc<Event>) -> Arc<SignalWaker> {
    let w = Arc::new(SignalWaker::new());
    let event = Arc::clone(event);
    assert!(w.set_external_unpark(Arc::new(move || event.notify())));
    w
}

/// A producer's `mark_active` against a sleeper parked externally: the sleeper takes the permit,
/// either in a re-check or after the hook cut its wait short.
#[test]
fn loom_mark_active_against_park_external() {
    loom_support::model(|| {
        let event = Event::new();
        let w = waker_with_hook(&event);
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                assert!(w.mark_active(0));
            })
        };
        // An external wait may return without a permit (its own event); the caller loops.
        while !w.park_external(|| event.wait()) {}
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
    });
}

/// Two sleepers, one on the futex and one external, and two releases: both get through.
#[test]
fn loom_futex_and_external_sleepers() {
    loom_support::model(|| {
        let event = Event::new();
        let w = waker_with_hook(&event);
        let futex_sleeper = {
            let w = Arc::clone(&w);
            thread::spawn(move || w.acquire())
        };
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                w.release_permit();
                w.release_permit();
            })
        };
        while !w.park_external(|| event.wait()) {}
        futex_sleeper.join().unwrap();
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
    });
}
