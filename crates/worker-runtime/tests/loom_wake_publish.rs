//! Loom model of the wake edge: every wake ends in a read-modify-write on the task state, even
//! when the task is already scheduled, so the poll that consumes the wake sees what the waker
//! published before waking (`schedule_if_idle` in `src/task/waker.rs`, `docs/no-lost-wakeup.md`
//! §3). The task is the runtime's own, on the harness's `TestScheduler`.
//!
//! The waker publishes through plain memory (a loom `UnsafeCell`), not through an atomic or a
//! lock, and nothing but the task state orders its write before the poll's read; if the wake of an
//! already-scheduled task returned after a plain load, loom reports a causality violation on the
//! cell. `NEGATIVE_CONTROL=wake_plain_load` plants exactly that bug; this model must then
//! fail.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_wake_publish`.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicBool;
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::task::{Context, Poll, Waker};
use worker_runtime::loom_harness::{model, TestScheduler};

/// Data the waker writes before waking, with no synchronisation of its own.
struct Published(UnsafeCell<u32>);

// SAFETY: written once by the waking thread before it wakes the task, read only by polls that run
// after that wake; the task's wake edge (the RMW in `schedule_if_idle`, acquired by `run`'s CAS)
// orders the two, and checking that it does is the point of this model (loom fails the model on a
// read that the write does not happen before).
unsafe impl Sync for Published {}

/// Pending on its first poll (storing its waker in `waker`); every later poll reads `data`.
struct ReadAfterWake {
    data: Arc<Published>,
    waker: Arc<Mutex<Option<Waker>>>,
    polled: bool,
}

impl Future for ReadAfterWake {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if !self.polled {
            self.polled = true;
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        // SAFETY: see `Published`.
        Poll::Ready(self.data.0.with(|p| unsafe { *p }))
    }
}

/// The task has been polled once and waits. Thread A wakes it (idle → scheduled, queued); thread W
/// writes the data and wakes it too (when A came first, W finds it already scheduled), then sets a
/// `Relaxed` flag; thread R polls the task if it sees that flag. A `Relaxed` flag orders nothing,
/// so R's poll sees W's write only through W's wake: when W's wake found the task scheduled by A,
/// only W's RMW on the state (which `run`'s CAS reads from) carries W's write to R. Nothing else
/// does: R takes the task from the queue that A pushed to, and W wakes by reference and hands its
/// waker back to the main thread (dropping it in W would be an RMW on the state after the write). The losing interleaving needs no
/// preemption (A, then W, then R, each to completion).
#[test]
fn wake_of_scheduled_task_publishes_to_next_poll() {
    model(0, || {
        let sched = Arc::new(TestScheduler::new());
        let data = Arc::new(Published(UnsafeCell::new(0)));
        let slot = Arc::new(Mutex::new(None));
        let mut handle = sched.spawn(ReadAfterWake {
            data: Arc::clone(&data),
            waker: Arc::clone(&slot),
            polled: false,
        });
        assert!(sched.run_one());
        let waker = slot
            .lock()
            .unwrap()
            .take()
            .expect("the first poll stored its waker");
        let woke = Arc::new(AtomicBool::new(false));
        woke.store(false, SeqCst); // the initial value as a SeqCst store (see `sync.rs`)

        let a = {
            let waker = waker.clone();
            thread::spawn(move || waker.wake())
        };
        let w = {
            let (data, woke) = (Arc::clone(&data), Arc::clone(&woke));
            thread::spawn(move || {
                // SAFETY: see `Published`.
                data.0.with_mut(|p| unsafe { *p = 1 });
                // By reference, and the waker goes back to the main thread to be dropped: its
                // reference drop is an RMW on the state too, and would carry the write to R.
                waker.wake_by_ref();
                woke.store(true, Relaxed); // orders nothing: see the model's comment
                waker
            })
        };
        let r = {
            let (sched, woke) = (Arc::clone(&sched), Arc::clone(&woke));
            thread::spawn(move || {
                if woke.load(Relaxed) {
                    sched.run_until_idle();
                }
            })
        };
        a.join().unwrap();
        let waker = w.join().unwrap();
        r.join().unwrap();
        drop(waker);
        sched.run_until_idle();

        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut handle).poll(&mut cx) {
            Poll::Ready(Ok(value)) => assert_eq!(value, 1, "the poll missed the published data"),
            Poll::Ready(Err(e)) => panic!("the task failed: {e}"),
            Poll::Pending => panic!("the task is still pending after both wakes"),
        }
        drop(handle);
        assert_eq!(sched.released(), 1);
        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.live_tasks(), 0);
    });
}
