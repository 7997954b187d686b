//! `JoinHandle` semantics beyond `tests/api.rs`: outputs are moved out or dropped exactly once,
//! panic payloads of any type survive, `abort` of an idle / running / finished task, detaching
//! with a registered waker, re-polling with a different waker, and wakes that arrive while the
//! task runs or after it is gone.
//!
//! Interleavings are made deterministic with handshakes: a task that must be "running" blocks
//! its worker on a `std::sync::mpsc` channel until the test has done its part.

mod common;

use common::{block_on, reps, wait_until, DropCounter, Watchdog, HANG};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use worker_runtime::{spawn, JoinError, JoinHandle, Runtime};

fn rt(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>, u64);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn output_is_moved_out_to_the_awaiter_and_dropped_once() {
    let _w = Watchdog::new("output_is_moved_out_to_the_awaiter_and_dropped_once");
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let h = rt.spawn(async move { (Counted(d, 7), vec![1u8; 1000], String::from("out")) });
    let (c, v, s) = block_on(h).unwrap();
    assert_eq!((c.1, v.len(), s.as_str()), (7, 1000, "out"));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "output dropped inside the task"
    );
    drop(c);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn unread_output_is_dropped_when_the_handle_is_dropped() {
    let _w = Watchdog::new("unread_output_is_dropped_when_the_handle_is_dropped");
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let h = rt.spawn(async move { Counted(d, 1) });
    wait_until(|| h.is_finished());
    // Finished, output stored for the handle: not dropped yet.
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(h);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn output_of_a_detached_task_is_dropped_when_it_finishes() {
    let _w = Watchdog::new("output_of_a_detached_task_is_dropped_when_it_finishes");
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let (tx, rx) = async_channel::bounded::<()>(1);
    let h = rt.spawn(async move {
        rx.recv().await.unwrap();
        Counted(d, 2)
    });
    drop(h);
    tx.send_blocking(()).unwrap();
    wait_until(|| drops.load(Ordering::SeqCst) == 1);
    rt.shutdown_timeout(HANG);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[derive(Debug, PartialEq)]
struct CustomPayload(u32);

#[test]
fn panic_payloads_of_any_type_are_preserved() {
    let _w = Watchdog::new("panic_payloads_of_any_type_are_preserved");
    let rt = rt(2);
    let guards = DropCounter::new();

    let g = guards.guard();
    let n = 5;
    let err = block_on(rt.spawn(async move {
        let _g = g;
        panic!("formatted {n}");
    }))
    .unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(err.to_string().contains("formatted 5"), "{err}");
    assert!(format!("{err:?}").contains("formatted 5"), "{err:?}");
    assert_eq!(
        *err.into_panic().downcast::<String>().unwrap(),
        "formatted 5"
    );

    let err = block_on(rt.spawn(async {
        std::panic::panic_any(CustomPayload(42));
    }))
    .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        *err.into_panic().downcast::<CustomPayload>().unwrap(),
        CustomPayload(42)
    );
    // The panicking future's locals were dropped (unwound) exactly once.
    assert_eq!((guards.created(), guards.dropped()), (1, 1));

    // Both workers still run tasks.
    let hs: Vec<_> = (0..100).map(|i| rt.spawn(async move { i })).collect();
    let sum: i32 = hs.into_iter().map(|h| block_on(h).unwrap()).sum();
    assert_eq!(sum, 4950);
}

#[test]
fn a_cancelled_error_is_not_a_panic() {
    let _w = Watchdog::new("a_cancelled_error_is_not_a_panic");
    let rt = rt(1);
    let h = rt.spawn(std::future::pending::<()>());
    h.abort();
    let err: JoinError = block_on(h).unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic());
    assert!(err.to_string().contains("cancelled"), "{err}");
    let err = err.try_into_panic().unwrap_err();
    assert!(err.is_cancelled());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.into_panic()));
    assert!(caught.is_err(), "into_panic on a cancellation must panic");
}

#[test]
fn a_panic_while_dropping_a_cancelled_future_is_reported_and_the_worker_survives() {
    let _w = Watchdog::new(
        "a_panic_while_dropping_a_cancelled_future_is_reported_and_the_worker_survives",
    );
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    let rt = rt(1);
    let (started_tx, started) = mpsc::channel();
    let h = rt.spawn(async move {
        let _p = PanicOnDrop;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started.recv_timeout(HANG).unwrap();
    h.abort();
    let err = block_on(h).unwrap_err();
    assert!(err.is_panic(), "{err:?}");
    assert_eq!(
        *err.into_panic().downcast::<&str>().unwrap(),
        "drop panicked"
    );
    assert_eq!(block_on(rt.spawn(async { 3 })).unwrap(), 3);
}

#[test]
fn abort_of_an_idle_task_drops_its_future_at_once() {
    let _w = Watchdog::new("abort_of_an_idle_task_drops_its_future_at_once");
    let rt = rt(2);
    let guards = DropCounter::new();
    let g = guards.guard();
    let (started_tx, started) = mpsc::channel();
    let (_tx, rx) = async_channel::bounded::<()>(1);
    let h = rt.spawn(async move {
        let _g = g;
        started_tx.send(()).unwrap();
        rx.recv().await.unwrap();
        1
    });
    // The task ran and now waits on the channel: idle, nobody holds its run permission.
    started.recv_timeout(HANG).unwrap();
    assert!(!h.is_finished());
    h.abort();
    h.abort(); // twice: nothing more happens
    wait_until(|| guards.dropped() == 1);
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!((guards.created(), guards.dropped()), (1, 1));
}

/// Spawns a task whose first poll reports itself running and then blocks its worker until the
/// test sends on the returned channel; after that the poll returns what `finish` says.
fn running_task(
    rt: &Runtime,
    guards: &Arc<DropCounter>,
    finish_in_this_poll: bool,
) -> (JoinHandle<u32>, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let g = guards.guard();
    let (running_tx, running) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let h = rt.spawn(async move {
        let _g = g;
        running_tx.send(()).unwrap();
        go_rx.recv_timeout(HANG).unwrap();
        if !finish_in_this_poll {
            std::future::pending::<()>().await;
        }
        9
    });
    (h, running, go)
}

#[test]
fn abort_of_a_running_task_cancels_it_after_its_current_poll() {
    let _w = Watchdog::new("abort_of_a_running_task_cancels_it_after_its_current_poll");
    let rt = rt(2);
    let guards = DropCounter::new();
    let (h, running, go) = running_task(&rt, &guards, false);
    running.recv_timeout(HANG).unwrap();
    // The task is inside its poll on a worker.
    h.abort();
    assert!(!h.is_finished());
    assert_eq!(
        guards.dropped(),
        0,
        "future dropped while it was being polled"
    );
    go.send(()).unwrap();
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!((guards.created(), guards.dropped()), (1, 1));
}

#[test]
fn abort_of_a_running_task_that_finishes_in_that_poll_keeps_the_output() {
    let _w = Watchdog::new("abort_of_a_running_task_that_finishes_in_that_poll_keeps_the_output");
    let rt = rt(2);
    let guards = DropCounter::new();
    let (h, running, go) = running_task(&rt, &guards, true);
    running.recv_timeout(HANG).unwrap();
    h.abort();
    go.send(()).unwrap();
    assert_eq!(block_on(h).unwrap(), 9);
    assert_eq!((guards.created(), guards.dropped()), (1, 1));
}

#[test]
fn abort_of_a_finished_task_keeps_its_output() {
    let _w = Watchdog::new("abort_of_a_finished_task_keeps_its_output");
    let rt = rt(2);
    let h = rt.spawn(async { String::from("kept") });
    wait_until(|| h.is_finished());
    h.abort();
    h.abort();
    assert!(h.is_finished());
    assert_eq!(block_on(h).unwrap(), "kept");
}

#[test]
fn abort_wakes_a_task_that_awaits_the_handle() {
    let _w = Watchdog::new("abort_wakes_a_task_that_awaits_the_handle");
    let rt = rt(2);
    for _ in 0..reps(200) {
        let (started_tx, started) = async_channel::bounded::<()>(1);
        let target = rt.spawn(async move {
            started_tx.send(()).await.unwrap();
            std::future::pending::<u8>().await
        });
        let out = rt.block_on(async move {
            started.recv().await.unwrap();
            // Inside another task: register as the handle's awaiter, abort, keep awaiting. The
            // cancellation (on whichever worker drops the future) must wake this task.
            spawn(async move {
                let mut h = target;
                assert!(futures_lite::future::poll_once(&mut h).await.is_none());
                h.abort();
                h.await
            })
            .await
            .unwrap()
        });
        assert!(out.unwrap_err().is_cancelled());
    }
}

#[test]
fn a_chain_of_tasks_awaiting_each_other_across_workers_completes() {
    let _w = Watchdog::new("a_chain_of_tasks_awaiting_each_other_across_workers_completes");
    let rt = rt(2);
    let n = if cfg!(miri) { 20 } else { 2000 };
    let (tx, rx) = async_channel::bounded::<u64>(1);
    // Task 0 waits for a message; task i awaits task i-1's handle and adds one.
    let mut prev: JoinHandle<u64> = rt.spawn(async move { rx.recv().await.unwrap() });
    for _ in 0..n {
        let p = prev;
        prev = rt.spawn(async move { p.await.unwrap() + 1 });
    }
    tx.send_blocking(1000).unwrap();
    assert_eq!(block_on(prev).unwrap(), 1000 + n);
}

#[test]
fn dropping_a_handle_with_a_registered_waker_detaches_the_task() {
    let _w = Watchdog::new("dropping_a_handle_with_a_registered_waker_detaches_the_task");
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let (tx, rx) = async_channel::bounded::<()>(1);
    let mut h = rt.spawn(async move {
        rx.recv().await.unwrap();
        Counted(d, 3)
    });
    // Register a waker (the task is still waiting), then drop the handle.
    assert!(block_on(futures_lite::future::poll_once(&mut h)).is_none());
    drop(h);
    tx.send_blocking(()).unwrap();
    wait_until(|| drops.load(Ordering::SeqCst) == 1);
}

#[test]
fn a_handle_repolled_with_another_waker_on_another_thread_resolves() {
    let _w = Watchdog::new("a_handle_repolled_with_another_waker_on_another_thread_resolves");
    let rt = rt(2);
    for i in 0..reps(200) as u32 {
        let (tx, rx) = async_channel::bounded::<u32>(1);
        let mut h = rt.spawn(async move { rx.recv().await.unwrap() * 2 });
        // First poll here (waker A), then the rest on another thread (waker B).
        assert!(block_on(futures_lite::future::poll_once(&mut h)).is_none());
        let t = std::thread::spawn(move || block_on(h));
        tx.send_blocking(i).unwrap();
        assert_eq!(t.join().unwrap().unwrap(), i * 2);
    }
}

#[test]
fn a_wake_from_another_thread_while_the_task_runs_is_not_lost() {
    let _w = Watchdog::new("a_wake_from_another_thread_while_the_task_runs_is_not_lost");
    let rt = rt(2);
    for _ in 0..reps(200) {
        let polls = Arc::new(AtomicUsize::new(0));
        let p = Arc::clone(&polls);
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (woken_tx, woken_rx) = mpsc::channel::<()>();
        let h = rt.spawn(std::future::poll_fn(move |cx| {
            if p.fetch_add(1, Ordering::SeqCst) == 0 {
                // Hand our waker to another thread and wait, still inside this poll, until it
                // has called `wake`: the wake lands while the task is RUNNING.
                waker_tx.send(cx.waker().clone()).unwrap();
                woken_rx.recv_timeout(HANG).unwrap();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        let w = waker_rx.recv_timeout(HANG).unwrap();
        std::thread::spawn(move || {
            w.wake();
            woken_tx.send(()).unwrap();
        })
        .join()
        .unwrap();
        // The wake during the poll must re-schedule the task after it returns Pending.
        block_on(h).unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}

#[test]
fn stale_wakers_after_abort_and_after_shutdown_are_harmless() {
    let _w = Watchdog::new("stale_wakers_after_abort_and_after_shutdown_are_harmless");
    let rt = rt(2);
    let stash: Arc<Mutex<Vec<Waker>>> = Arc::default();
    let guards = DropCounter::new();
    let mut idle = Vec::new();
    for _ in 0..20 {
        let (s, g) = (Arc::clone(&stash), guards.guard());
        let mut registered = false;
        idle.push(rt.spawn(std::future::poll_fn(move |cx| {
            let _ = &g;
            if !registered {
                registered = true;
                s.lock().unwrap().push(cx.waker().clone());
            }
            Poll::<()>::Pending
        })));
    }
    wait_until(|| stash.lock().unwrap().len() == 20);
    // Abort half and wake their stale wakers; the others are cancelled by the shutdown.
    for h in &idle[..10] {
        h.abort();
    }
    for w in stash.lock().unwrap()[..10].iter() {
        w.wake_by_ref();
    }
    let first: Vec<_> = idle.drain(..10).collect();
    for h in first {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    rt.shutdown_timeout(HANG);
    for h in idle {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!((guards.created(), guards.dropped()), (20, 20));
    // Every task is finished and its handle gone; the wakers alone keep the allocations.
    let wakers = std::mem::take(&mut *stash.lock().unwrap());
    for w in &wakers {
        w.wake_by_ref();
        let clone = w.clone();
        clone.wake();
    }
    drop(wakers);
}

#[test]
fn join_handle_is_a_future_usable_by_generic_code() {
    let _w = Watchdog::new("join_handle_is_a_future_usable_by_generic_code");
    fn assert_future<F: Future<Output = Result<u8, JoinError>> + Send + Sync + Unpin>(f: F) -> F {
        f
    }
    let rt = rt(1);
    let h = assert_future(rt.spawn(async { 4u8 }));
    let mut h = pin!(h);
    assert_eq!(block_on(h.as_mut()).unwrap(), 4);
    assert!(format!("{:?}", rt.spawn(async {})).contains("JoinHandle"));
}

/// An `AbortHandle` holds its own reference: it aborts an idle task from another thread, outlives
/// the `JoinHandle` and the task, and frees nothing twice (Miri checks the reference counts).
#[test]
fn abort_handle_aborts_and_outlives_the_task() {
    let _w = Watchdog::new("abort_handle_aborts_and_outlives_the_task");
    let rt = rt(1);
    let drops = DropCounter::new();
    let g = drops.guard();
    let h = rt.spawn(async move {
        let _g = g;
        std::future::pending::<()>().await;
    });
    let a = h.abort_handle();
    let b = a.clone();
    std::thread::spawn(move || b.abort()).join().unwrap();
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
    assert!(a.is_finished());
    let h = rt.spawn(async { 2u8 });
    let c = h.abort_handle();
    drop(h); // detached
    wait_until(|| c.is_finished());
    c.abort(); // finished: nothing happens
    drop((a, c));
}
