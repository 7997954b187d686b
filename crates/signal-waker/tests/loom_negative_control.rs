//! Negative control for the loom setup: the smallest lost-wakeup model. It passes normally and
//! must FAIL (loom reports a deadlock) with `NEGATIVE_CONTROL=sleeper_recheck` in the
//! environment, which removes the sleeper's re-check of the permits after it announces itself
//! (`src/park.rs`). A pass with it would mean the models cannot see a lost wakeup.
//!
//! Run: `NEGATIVE_CONTROL=sleeper_recheck RUSTFLAGS='--cfg loom -C debug_assertions'
//! LOOM_MAX_PREEMPTIONS=2 LOOM_MAX_BRANCHES=10000 cargo test --release -p signal-waker
//! --test loom_negative_control` (expected to fail), and without the variable (expected to
//! pass).
#![cfg(loom)]

mod loom_support;

use loom::thread;
use signal_waker::SignalWaker;
// `std`'s `Arc`, not loom's: when loom reports the deadlock it unwinds the model thread, and
// dropping a loom `Arc` during that unwind calls back into the finished execution and panics
// again, which aborts the test binary instead of failing the test.
use std::sync::Arc;

#[test]
fn loom_negative_control_release_against_acquire() {
    loom_support::model(|| {
        let w = Arc::new(SignalWaker::new());
        let producer = {
            let w = Arc::clone(&w);
            thread::spawn(move || {
                w.mark_active(0);
            })
        };
        w.acquire();
        producer.join().unwrap();
        assert_eq!((w.permits(), w.sleepers()), (0, 0));
    });
}
