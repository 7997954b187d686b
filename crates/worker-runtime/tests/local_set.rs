//! `LocalSet` and `spawn_local`: `!Send` futures run on the set's thread only, their handles give
//! their outputs, wakes from other threads reach them, a panic in one is contained, and dropping
//! the set cancels its tasks there, as tokio's.

mod common;

use common::{DropCounter, Watchdog};
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use worker_runtime::task::{self, spawn_local, yield_now, LocalSet};
use worker_runtime::Runtime;

fn runtime(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Records the thread it is dropped on.
struct DropsOn(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

#[test]
fn rc_futures_run_on_the_sets_thread_and_give_their_outputs() {
    let _w = Watchdog::new("rc_futures_run_on_the_sets_thread_and_give_their_outputs");
    let rt = runtime(2);
    let local = LocalSet::new();
    let me = thread::current().id();
    let log = Rc::new(RefCell::new(Vec::new()));
    let out = local.block_on(&rt, async {
        let handles: Vec<_> = (0..10u32)
            .map(|i| {
                let log = Rc::clone(&log);
                spawn_local(async move {
                    for _ in 0..3 {
                        log.borrow_mut().push(thread::current().id());
                        yield_now().await;
                    }
                    i * 10
                })
            })
            .collect();
        let mut outs = Vec::new();
        for h in handles {
            outs.push(h.await.unwrap());
        }
        outs
    });
    assert_eq!(out, (0..10).map(|i| i * 10).collect::<Vec<_>>());
    let log = log.borrow();
    assert_eq!(log.len(), 30);
    assert!(
        log.iter().all(|t| *t == me),
        "a local task ran off the set's thread"
    );
}

#[test]
fn local_set_spawn_local_runs_when_the_set_is_driven() {
    let _w = Watchdog::new("local_set_spawn_local_runs_when_the_set_is_driven");
    let rt = runtime(1);
    let local = LocalSet::new();
    let ran = Rc::new(Cell::new(false));
    let handle = local.spawn_local({
        let ran = Rc::clone(&ran);
        async move {
            ran.set(true);
            Rc::new(7) // a `!Send` output
        }
    });
    assert!(!ran.get(), "a local task ran before its set was driven");
    let out = local.block_on(&rt, handle).unwrap();
    assert_eq!(*out, 7);
    assert!(ran.get());
}

fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn spawn_local_outside_a_local_set_panics_with_a_clear_message() {
    let _w = Watchdog::new("spawn_local_outside_a_local_set_panics_with_a_clear_message");
    let err = catch_unwind(|| drop(spawn_local(async {}))).unwrap_err();
    assert!(message(err).contains("spawn_local called outside a LocalSet"));

    // Nor in a worker task, even while a set is driven on another thread.
    let rt = runtime(1);
    let local = LocalSet::new();
    let from_worker = local.block_on(&rt, async {
        worker_runtime::spawn(async {
            catch_unwind(|| drop(spawn_local(async {})))
                .map_err(message)
                .unwrap_err()
        })
        .await
        .unwrap()
    });
    assert!(from_worker.contains("outside a LocalSet"), "{from_worker}");

    // After the set's `run_until` returned, it is no longer current either.
    let err = catch_unwind(|| drop(spawn_local(async {}))).unwrap_err();
    assert!(message(err).contains("outside a LocalSet"));
}

#[test]
fn a_wake_from_a_worker_completes_a_local_task() {
    let _w = Watchdog::new("a_wake_from_a_worker_completes_a_local_task");
    let rt = runtime(2);
    let local = LocalSet::new();
    let me = thread::current().id();
    let (tx, rx) = async_channel::bounded::<u64>(1);
    let (got, sender_thread) = local.block_on(&rt, async move {
        let receiver = spawn_local(async move {
            let not_send = Rc::new(());
            let mut sum = 0;
            while let Ok(v) = rx.recv().await {
                assert_eq!(thread::current().id(), me);
                sum += v + (Rc::strong_count(&not_send) as u64 - 1);
            }
            sum
        });
        let sender = worker_runtime::spawn(async move {
            for v in 1..=20 {
                tx.send(v).await.unwrap();
            }
            thread::current().id()
        });
        let sender_thread = sender.await.unwrap();
        (receiver.await.unwrap(), sender_thread)
    });
    assert_eq!(got, 210);
    assert_ne!(sender_thread, me, "the sender should have run on a worker");
}

#[test]
fn a_panic_in_a_local_task_is_contained_and_the_others_go_on() {
    let _w = Watchdog::new("a_panic_in_a_local_task_is_contained_and_the_others_go_on");
    let rt = runtime(1);
    let local = LocalSet::new();
    let (panicked, others) = local.block_on(&rt, async {
        let bad = spawn_local(async {
            yield_now().await;
            panic!("local task panics");
        });
        let good: Vec<_> = (0..5u32)
            .map(|i| {
                spawn_local(async move {
                    yield_now().await;
                    yield_now().await;
                    i
                })
            })
            .collect();
        let panicked = bad.await.unwrap_err();
        let mut others = Vec::new();
        for h in good {
            others.push(h.await.unwrap());
        }
        (panicked, others)
    });
    assert!(panicked.is_panic());
    let payload = panicked.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"local task panics"));
    assert_eq!(others, [0, 1, 2, 3, 4]);
}

#[test]
fn dropping_the_set_cancels_its_tasks_and_drops_their_futures_on_its_thread() {
    let _w =
        Watchdog::new("dropping_the_set_cancels_its_tasks_and_drops_their_futures_on_its_thread");
    let rt = runtime(1);
    let counter = DropCounter::new();
    let dropped_on = Arc::new(Mutex::new(Vec::new()));
    let me = thread::current().id();
    let local = LocalSet::new();
    let started = Rc::new(Cell::new(0));
    let mut handles = Vec::new();
    // Polled once, then pending forever.
    for _ in 0..4 {
        let guard = counter.guard();
        let on = DropsOn(Arc::clone(&dropped_on));
        let started = Rc::clone(&started);
        handles.push(local.spawn_local(async move {
            let _keep = (guard, on, Rc::new(()));
            started.set(started.get() + 1);
            std::future::pending::<()>().await;
        }));
    }
    local.block_on(
        &rt,
        poll_fn(|cx| {
            if started.get() == 4 {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }),
    );
    // Never polled at all.
    for _ in 0..3 {
        let guard = counter.guard();
        let on = DropsOn(Arc::clone(&dropped_on));
        handles.push(local.spawn_local(async move {
            let _keep = (guard, on);
        }));
    }
    assert_eq!(counter.created(), 7);
    assert_eq!(counter.dropped(), 0);
    drop(local);
    assert_eq!(counter.dropped(), 7, "every future is dropped with the set");
    let threads = dropped_on.lock().unwrap().clone();
    assert_eq!(threads.len(), 7);
    assert!(
        threads.iter().all(|t| *t == me),
        "a future was dropped off the set's thread"
    );
    for h in handles {
        assert!(h.is_finished());
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
    }
}

#[test]
fn a_wake_after_the_set_is_dropped_is_harmless() {
    let _w = Watchdog::new("a_wake_after_the_set_is_dropped_is_harmless");
    let rt = runtime(1);
    let dropped_on = Arc::new(Mutex::new(Vec::new()));
    let me = thread::current().id();
    let stash: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let local = LocalSet::new();
    let handle = local.spawn_local({
        let stash = Arc::clone(&stash);
        let on = DropsOn(Arc::clone(&dropped_on));
        async move {
            let _on = on;
            poll_fn(|cx| {
                *stash.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
            .await;
        }
    });
    local.block_on(
        &rt,
        poll_fn(|cx| {
            if stash.lock().unwrap().is_some() {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }),
    );
    drop(local);
    assert_eq!(*dropped_on.lock().unwrap(), [me]);
    // The task's waker, woken and dropped on another thread after its set is gone.
    let waker = stash.lock().unwrap().take().unwrap();
    thread::spawn(move || {
        waker.wake_by_ref();
        waker.wake();
    })
    .join()
    .unwrap();
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    assert_eq!(dropped_on.lock().unwrap().len(), 1);
}

#[test]
fn an_abort_from_a_worker_cancels_a_local_task_on_the_sets_thread() {
    let _w = Watchdog::new("an_abort_from_a_worker_cancels_a_local_task_on_the_sets_thread");
    let rt = runtime(1);
    let dropped_on = Arc::new(Mutex::new(Vec::new()));
    let me = thread::current().id();
    let local = LocalSet::new();
    let err = local.block_on(&rt, async {
        let on = DropsOn(Arc::clone(&dropped_on));
        let h = spawn_local(async move {
            let _on = (on, Rc::new(()));
            std::future::pending::<()>().await;
        });
        let abort = h.abort_handle();
        worker_runtime::spawn(async move { abort.abort() })
            .await
            .unwrap();
        h.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(*dropped_on.lock().unwrap(), [me]);
}

#[test]
fn awaiting_the_set_runs_it_until_its_tasks_are_done() {
    let _w = Watchdog::new("awaiting_the_set_runs_it_until_its_tasks_are_done");
    let rt = runtime(1);
    let local = LocalSet::new();
    let count = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let count = Rc::clone(&count);
        local.spawn_local(async move {
            // Nested: a local task spawns more local tasks.
            for _ in 0..3 {
                let count = Rc::clone(&count);
                spawn_local(async move {
                    yield_now().await;
                    count.set(count.get() + 1);
                });
            }
            count.set(count.get() + 1);
        });
    }
    rt.block_on(local);
    assert_eq!(count.get(), 12);
}

#[test]
fn a_busy_local_task_does_not_starve_the_run_until_future() {
    let _w = Watchdog::new("a_busy_local_task_does_not_starve_the_run_until_future");
    let rt = runtime(1);
    let local = LocalSet::new();
    let turns = Rc::new(Cell::new(0u64));
    let spinner = local.spawn_local({
        let turns = Rc::clone(&turns);
        async move {
            loop {
                turns.set(turns.get() + 1);
                yield_now().await;
            }
        }
    });
    // The main future needs the spinner to have run, and must itself be polled again while the
    // spinner keeps the queue non-empty.
    local.block_on(&rt, async {
        while turns.get() < 100 {
            yield_now().await;
        }
    });
    assert!(turns.get() >= 100);
    assert!(!spinner.is_finished());
}

worker_runtime::task_local! {
    static REQUEST: u32;
}

#[test]
fn task_locals_work_in_local_tasks() {
    let _w = Watchdog::new("task_locals_work_in_local_tasks");
    let rt = runtime(1);
    let local = LocalSet::new();
    let got = local.block_on(&rt, async {
        let handles: Vec<_> = (0..4u32)
            .map(|i| {
                spawn_local(REQUEST.scope(i, async move {
                    yield_now().await;
                    let id_inside = task::try_id().is_some();
                    (REQUEST.get(), id_inside)
                }))
            })
            .collect();
        let mut got = Vec::new();
        for h in handles {
            got.push(h.await.unwrap());
        }
        got
    });
    assert_eq!(got, [(0, true), (1, true), (2, true), (3, true)]);
}

#[test]
fn a_local_set_runs_under_any_executor() {
    // No runtime at all: a plain block_on on this thread drives the set.
    let _w = Watchdog::new("a_local_set_runs_under_any_executor");
    let local = LocalSet::new();
    let out = futures_lite::future::block_on(local.run_until(async {
        let a = spawn_local(async { Rc::new(1) });
        let b = spawn_local(async { 2 });
        *a.await.unwrap() + b.await.unwrap()
    }));
    assert_eq!(out, 3);
    // A task left unfinished by one `run_until` runs in the next.
    let (tx, rx) = async_channel::bounded::<u32>(1);
    let late = local.spawn_local(async move { rx.recv().await.unwrap() * 2 });
    futures_lite::future::block_on(local.run_until(yield_now()));
    assert!(!late.is_finished());
    let out = futures_lite::future::block_on(local.run_until(async move {
        tx.send(21).await.unwrap();
        late.await.unwrap()
    }));
    assert_eq!(out, 42);
}

#[test]
fn a_panic_while_dropping_a_local_future_is_contained() {
    let _w = Watchdog::new("a_panic_while_dropping_a_local_future_is_contained");
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop panics");
        }
    }
    let local = LocalSet::new();
    let started = Rc::new(Cell::new(false));
    let h = local.spawn_local({
        let started = Rc::clone(&started);
        async move {
            let _p = PanicsOnDrop;
            started.set(true);
            std::future::pending::<()>().await;
        }
    });
    futures_lite::future::block_on(local.run_until(poll_fn(|cx| {
        if started.get() {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })));
    let other = local.spawn_local(async { 9 });
    let res = catch_unwind(AssertUnwindSafe(|| drop(local)));
    assert!(res.is_ok(), "the drop panic escaped the set's drop");
    assert!(futures_lite::future::block_on(h).unwrap_err().is_panic());
    assert!(futures_lite::future::block_on(other)
        .unwrap_err()
        .is_cancelled());
}
