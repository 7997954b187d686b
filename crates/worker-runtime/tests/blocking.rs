//! The blocking pool (`spawn_blocking`): values and panics through the `JoinHandle`, the thread
//! cap, keep-alive shrinking, shutdown (queued closures cancelled, running ones left running and
//! counted), the builder's checks, and the error when no thread can start.
//!
//! Real threads with timed waits (keep-alive): not in Miri's `miri-args`.

mod common;

use common::{DropCounter, Watchdog};
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use worker_runtime::task;
use worker_runtime::{spawn, spawn_blocking, Handle, Runtime, SpawnError};

/// Longest bounded wait for a state another thread reaches on its own (a keep-alive exit).
const CAP: Duration = Duration::from_secs(10);

fn rt(name: &str) -> Runtime {
    Runtime::builder()
        .worker_threads(2)
        .thread_name(name)
        .build()
        .unwrap()
}

/// Polls `cond` (yielding the CPU) until it holds, for a state no handshake announces (a thread
/// leaving on its own); fails the test if it does not hold within [`CAP`].
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < CAP,
            "{what} did not happen within {CAP:?}"
        );
        thread::yield_now();
    }
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn returns_its_value_on_a_pool_thread_inside_the_runtime() {
    let _w = Watchdog::new("returns_its_value_on_a_pool_thread_inside_the_runtime");
    let rt = rt("blk-value");
    let (tx, rx) = mpsc::channel();
    let (value, name, inner, id) = rt.block_on(async {
        let h = spawn_blocking(move || {
            let id = rx.recv().unwrap();
            // The runtime is current on a pool thread: a spawn from the closure works.
            let inner = Handle::current().spawn(async { 5 });
            (42, thread_name(), inner, (task::try_id(), id))
        });
        tx.send(h.id()).unwrap();
        h.await.unwrap()
    });
    assert_eq!(value, 42);
    // The closure sees its own task id, as any task does.
    assert_eq!(id.0, Some(id.1));
    assert!(name.starts_with("blk-value-blocking-"), "{name}");
    assert_eq!(rt.block_on(inner).unwrap(), 5);
    let worker = rt.block_on(rt.spawn(async { thread_name() })).unwrap();
    assert!(worker.starts_with("blk-value-"), "{worker}");
    assert!(!worker.contains("blocking"), "{worker}");
    assert_eq!(rt.handle().num_blocking_threads(), 1);
}

#[test]
fn a_panic_is_a_join_error_and_the_thread_keeps_serving() {
    let _w = Watchdog::new("a_panic_is_a_join_error_and_the_thread_keeps_serving");
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_name("blk-panic")
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let first = rt.block_on(async { spawn_blocking(thread_name).await.unwrap() });
    let err = rt
        .block_on(async { spawn_blocking(|| -> u32 { panic!("boom") }).await })
        .unwrap_err();
    assert!(err.is_panic(), "{err:?}");
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");

    // An output whose `Drop` panics, dropped on the pool thread (its handle is gone): contained.
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("output drop");
        }
    }
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let h = rt.spawn_blocking(move || {
        go_rx.recv().unwrap();
        // Reported before the return: the output is dropped right after, on this thread.
        done_tx.send(()).unwrap();
        PanicOnDrop
    });
    drop(h);
    go_tx.send(()).unwrap();
    done_rx.recv().unwrap();

    // Still the same single thread (a thread that died would have been replaced by `-1`).
    let later = rt.block_on(async { spawn_blocking(thread_name).await.unwrap() });
    assert_eq!(first, "blk-panic-blocking-0");
    assert_eq!(later, first);
    assert_eq!(rt.handle().num_blocking_threads(), 1);
}

#[test]
fn never_more_than_max_blocking_threads_at_once() {
    let _w = Watchdog::new("never_more_than_max_blocking_threads_at_once");
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_name("blk-cap")
        .max_blocking_threads(4)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let names = Arc::new(Mutex::new(HashSet::new()));
    let n = 10_000;
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (running, peak, done, names) = (
                Arc::clone(&running),
                Arc::clone(&peak),
                Arc::clone(&done),
                Arc::clone(&names),
            );
            rt.spawn_blocking(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                for _ in 0..100 {
                    std::hint::spin_loop();
                }
                names.lock().unwrap().insert(thread_name());
                running.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    assert!(rt.handle().num_blocking_threads() <= 4);
    let sum: usize = rt.block_on(async {
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
    assert_eq!(done.load(Ordering::SeqCst), n);
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=4).contains(&peak), "peak {peak}");
    let names = names.lock().unwrap();
    assert!((1..=4).contains(&names.len()), "{names:?}");
    assert!(rt.handle().num_blocking_threads() <= 4);
}

#[test]
fn idle_threads_exit_after_keep_alive_and_the_pool_grows_again() {
    let _w = Watchdog::new("idle_threads_exit_after_keep_alive_and_the_pool_grows_again");
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    let handle = rt.handle();
    assert_eq!(handle.num_blocking_threads(), 0);
    // Three closures that meet at a barrier need three threads at once.
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            handle.spawn_blocking(move || {
                barrier.wait();
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(handle.num_blocking_threads(), 3);
    for h in handles {
        common::block_on(h).unwrap();
    }
    eventually("the pool shrinking to zero threads", || {
        handle.num_blocking_threads() == 0
    });
    assert_eq!(common::block_on(handle.spawn_blocking(|| 9)).unwrap(), 9);
    assert!(handle.num_blocking_threads() <= 1);
}

#[test]
fn spawns_from_a_worker_task_and_from_block_on() {
    let _w = Watchdog::new("spawns_from_a_worker_task_and_from_block_on");
    let rt = rt("blk-where");
    let from_task = rt.block_on(async {
        spawn(async { task::spawn_blocking(|| 7).await.unwrap() })
            .await
            .unwrap()
    });
    assert_eq!(from_task, 7);
    let from_block_on = rt.block_on(async { task::try_spawn_blocking(|| 8).unwrap().await });
    assert_eq!(from_block_on.unwrap(), 8);
    let from_enter = {
        let _guard = rt.enter();
        spawn_blocking(|| 9)
    };
    assert_eq!(rt.block_on(from_enter).unwrap(), 9);
}

#[test]
fn refused_after_shutdown_and_outside_a_runtime() {
    let _w = Watchdog::new("refused_after_shutdown_and_outside_a_runtime");
    assert_eq!(
        task::try_spawn_blocking(|| 1).unwrap_err(),
        SpawnError::NoRuntime
    );
    let panic = catch_unwind(|| spawn_blocking(|| 1)).unwrap_err();
    let msg = panic.downcast_ref::<&str>().copied().unwrap_or("");
    assert!(msg.contains("outside a runtime"), "{msg}");
    assert!(msg.contains("Handle::spawn_blocking"), "{msg}");

    let rt = rt("blk-after");
    let handle = rt.handle();
    assert!(rt.shutdown_timeout(CAP).is_complete());
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    assert_eq!(
        handle
            .try_spawn_blocking(move || r.store(true, Ordering::SeqCst))
            .unwrap_err(),
        SpawnError::Shutdown
    );
    let r = Arc::clone(&ran);
    let cancelled = handle.spawn_blocking(move || r.store(true, Ordering::SeqCst));
    assert!(common::block_on(cancelled).unwrap_err().is_cancelled());
    {
        let _guard = handle.enter();
        let r = Arc::clone(&ran);
        assert_eq!(
            task::try_spawn_blocking(move || r.store(true, Ordering::SeqCst)).unwrap_err(),
            SpawnError::Shutdown
        );
        let r = Arc::clone(&ran);
        let cancelled = spawn_blocking(move || r.store(true, Ordering::SeqCst));
        assert!(common::block_on(cancelled).unwrap_err().is_cancelled());
    }
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(handle.num_blocking_threads(), 0);
}

/// A closure that reports its start and then waits for its release; returns 5.
fn stuck(
    handle: &Handle,
) -> (
    worker_runtime::JoinHandle<u32>,
    mpsc::Receiver<()>,
    mpsc::Sender<()>,
) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let h = handle.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        5
    });
    (h, started_rx, release_tx)
}

#[test]
fn shutdown_timeout_cancels_queued_closures_and_reports_a_running_one() {
    let _w = Watchdog::new("shutdown_timeout_cancels_queued_closures_and_reports_a_running_one");
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle();
    let (running, started, release) = stuck(&handle);
    started.recv().unwrap();
    let drops = DropCounter::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let guard = drops.guard();
            let ran = Arc::clone(&ran);
            handle.spawn_blocking(move || {
                let _guard = guard;
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Returns although the closure is stuck until after it returns.
    let outcome = rt.shutdown_timeout(Duration::from_millis(50));
    assert_eq!(outcome.blocking_tasks_left_running(), 1, "{outcome:?}");
    assert!(!outcome.is_complete(), "{outcome:?}");
    for h in queued {
        assert!(common::block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!(drops.created(), 3);
    assert_eq!(drops.dropped(), 3);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    // The running closure was not cancelled: released, it returns its value.
    release.send(()).unwrap();
    assert_eq!(common::block_on(running).unwrap(), 5);
    eventually("the detached pool thread exiting", || {
        handle.num_blocking_threads() == 0
    });
}

#[test]
fn abort_cancels_a_queued_closure_and_not_a_running_one() {
    let _w = Watchdog::new("abort_cancels_a_queued_closure_and_not_a_running_one");
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle();
    let (running, started, release) = stuck(&handle);
    started.recv().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = Arc::clone(&ran);
    let queued = handle.spawn_blocking(move || r.store(true, Ordering::SeqCst));
    queued.abort();
    running.abort();
    release.send(()).unwrap();
    assert_eq!(common::block_on(running).unwrap(), 5);
    assert!(common::block_on(queued).unwrap_err().is_cancelled());
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn builder_rejects_out_of_range_pool_settings() {
    let err = Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_blocking_threads");
    assert_eq!(err.allowed(), "1..=32768");
    assert!(
        err.to_string().contains("max_blocking_threads = 0"),
        "{err}"
    );
    let err = Runtime::builder()
        .max_blocking_threads(worker_runtime::MAX_BLOCKING_THREADS_LIMIT + 1)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "max_blocking_threads");

    let err = Runtime::builder()
        .thread_keep_alive(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "thread_keep_alive");
    assert_eq!(err.allowed(), "1ms..=86400s");
    let err = Runtime::builder()
        .thread_keep_alive(Duration::from_secs(2 * 24 * 3600))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "thread_keep_alive");

    // The edges of both ranges are accepted.
    Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .thread_keep_alive(Duration::from_millis(1))
        .build()
        .unwrap();
    Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(worker_runtime::MAX_BLOCKING_THREADS_LIMIT)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .build()
        .unwrap();
}

#[test]
fn dropping_the_runtime_inside_a_blocking_closure_does_not_hang() {
    let _w = Watchdog::new("dropping_the_runtime_inside_a_blocking_closure_does_not_hang");
    let rt = rt("blk-drop");
    let handle = rt.handle();
    let (tx, rx) = mpsc::channel();
    let h = handle.spawn_blocking(move || {
        drop(rt);
        tx.send(()).unwrap();
        3
    });
    rx.recv_timeout(CAP)
        .expect("dropping the runtime inside its blocking closure returned");
    assert_eq!(common::block_on(h).unwrap(), 3);
    eventually("the pool thread exiting", || {
        handle.num_blocking_threads() == 0
    });
}

#[test]
fn no_thread_can_start_and_none_exists_is_an_error_and_drops_the_closure() {
    let _w = Watchdog::new("no_thread_can_start_and_none_exists_is_an_error_and_drops_the_closure");
    let rt = Runtime::builder()
        .worker_threads(1)
        .fail_blocking_thread_starts_after(0)
        .build()
        .unwrap();
    let drops = DropCounter::new();
    let ran = Arc::new(AtomicBool::new(false));
    let (guard, r) = (drops.guard(), Arc::clone(&ran));
    let err = rt
        .handle()
        .try_spawn_blocking(move || {
            let _guard = guard;
            r.store(true, Ordering::SeqCst);
        })
        .unwrap_err();
    assert!(matches!(err, SpawnError::ThreadStart(_)), "{err:?}");
    assert_eq!((drops.created(), drops.dropped()), (1, 1));
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(rt.handle().num_blocking_threads(), 0);

    // The panicking form says how to get the error instead.
    let (guard, r) = (drops.guard(), Arc::clone(&ran));
    let panic = catch_unwind(AssertUnwindSafe(|| {
        rt.spawn_blocking(move || {
            let _guard = guard;
            r.store(true, Ordering::SeqCst);
        })
    }))
    .unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("try_spawn_blocking"), "{msg}");
    assert_eq!((drops.created(), drops.dropped()), (2, 2));
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_thread_that_cannot_start_leaves_the_closure_queued_for_an_existing_one() {
    let _w =
        Watchdog::new("a_thread_that_cannot_start_leaves_the_closure_queued_for_an_existing_one");
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_name("blk-one")
        .fail_blocking_thread_starts_after(1)
        .build()
        .unwrap();
    let handle = rt.handle();
    let (running, started, release) = stuck(&handle);
    started.recv().unwrap();
    // The only thread is busy and a second cannot start: queued for the first.
    let queued = handle.try_spawn_blocking(thread_name).unwrap();
    assert_eq!(handle.num_blocking_threads(), 1);
    release.send(()).unwrap();
    assert_eq!(common::block_on(running).unwrap(), 5);
    assert_eq!(common::block_on(queued).unwrap(), "blk-one-blocking-0");
    assert_eq!(handle.num_blocking_threads(), 1);
}
