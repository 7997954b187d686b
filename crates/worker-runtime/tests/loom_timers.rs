//! Loom models of the timers' cross-thread edges on the runtime's own code (`src/time/`): a real
//! `Sleep` filed in a real worker's wheel (the harness's `RunLoopModel`, its worker 0 played by
//! the model's main thread), raced by another thread that drops or resets it, which goes by
//! message to the owner's inbox, while the owner fires its due timers
//! (`RunLoopModel::fire_timers`: the owner's `collect_due` + `fire_all`, at a synthetic "now").
//!
//! * `remote_registration_races_park`: a sleep first polled on a plain thread reaches its owner,
//!   which is parking at that moment. Planted bug `NEGATIVE_CONTROL=final_check_timer_inbox` (the
//!   final check before parking ignores the timer inbox) must fail it.
//! * `reset_by_message_races_fire`: a fire of the old deadline never completes the reset sleep
//!   (the generation check), and exactly one filing remains. Planted bug
//!   `NEGATIVE_CONTROL=fire_ignores_generation` must fail it.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_timers`.
#![cfg(loom)]

use loom::sync::atomic::AtomicUsize;
use loom::thread;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;
use worker_runtime::loom_harness::{model, RunLoopModel};
use worker_runtime::time::{sleep, Sleep};

/// More turns than a correct interleaving needs (a park returns for the one message's permit, or
/// for the timed park once the timer is filed).
const MAX_TURNS: usize = 4;

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> Arc<CountingWaker> {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    c.0.store(0, SeqCst); // the initial value as a SeqCst store (see `sync.rs`)
    c
}

/// A one-hour sleep, polled once on worker 0 (so filed in worker 0's wheel) with `waker`.
fn filed_sleep(worker: &worker_runtime::loom_harness::ModelWorker, waker: &Waker) -> Sleep {
    worker.with_context(|| {
        let mut s = sleep(Duration::from_secs(3600));
        let mut cx = Context::from_waker(waker);
        assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
        s
    })
}

/// A sleep polled on a thread that is not a worker is filed by message: the owner must wake up
/// (its inbox group's permit) or see the message in its final check before it parks, or it
/// would sleep through the registration (and, with no timer of its own, sleep untimed for ever:
/// loom reports the deadlock).
#[test]
fn remote_registration_races_park() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(1);
        let mut owner = workers.remove(0);
        let registrant = {
            let rt = rt.handle();
            thread::spawn(move || {
                rt.with_runtime(|| {
                    let mut s = sleep(Duration::from_secs(3600));
                    let waker = Waker::from(counter());
                    let mut cx = Context::from_waker(&waker);
                    assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
                    // Not dropped if the model unwinds (a reported deadlock): its drop would
                    // touch loom objects outside the execution and abort the test binary.
                    ManuallyDrop::new(s)
                })
            })
        };
        owner.run_until(MAX_TURNS, || rt.timers() == (1, 0));
        let s = registrant.join().unwrap();
        owner.with_context(|| drop(ManuallyDrop::into_inner(s)));
        assert_eq!(rt.timers(), (0, 0), "a dropped sleep stayed filed");
    });
}

#[test]
fn reset_by_message_races_fire() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(1);
        let owner = workers.remove(0);
        let wakes = counter();
        let s = filed_sleep(&owner, &Waker::from(Arc::clone(&wakes)));
        let first = s.deadline();
        let later = first + Duration::from_secs(3600);
        // "Now" is between the old and the new deadline.
        let between = rt.clock_ns(first + Duration::from_millis(5));
        let resetter = thread::spawn(move || {
            let mut s = s;
            Pin::new(&mut s).reset(later); // not the owner's thread: a message
            s
        });
        owner.with_context(|| rt.fire_timers(0, between));
        let s = resetter.join().unwrap();
        owner.with_context(|| rt.fire_timers(0, between));
        assert!(
            !s.is_elapsed(),
            "the old deadline's fire completed the reset sleep"
        );
        assert_eq!(s.deadline(), later);
        assert_eq!(
            rt.timers(),
            (1, 0),
            "not exactly one filing after the reset"
        );
        owner.with_context(|| drop(s));
        assert_eq!(rt.timers(), (0, 0));
    });
}
