//! Regression tests for failures that lost tasks or hung the process: user code that panics on a
//! worker (wakers, `Drop` of futures, outputs and panic payloads), `shutdown_timeout` with tasks
//! left behind, a runtime dropped inside its own task, and the runtime context of shutdown's sweep.
//! Each test would hang (the watchdog turns that into a failure) or fail its assertions on the
//! code before the fix it guards.

mod common;

use common::{block_on, wait_until, DropCounter, Watchdog};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use worker_runtime::{spawn, try_spawn, JoinHandle, Runtime, SpawnError};

fn rt(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Silences the default panic hook's report for the panics these tests cause on purpose (their
/// messages start with `on purpose:`, or their payload is a `BombPayload`); every other panic,
/// such as a failed assertion, is reported as usual.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p
                .downcast_ref::<&str>()
                .copied()
                .or(p.downcast_ref::<String>().map(String::as_str));
            let on_purpose = p.is::<BombPayload>() || msg.is_some_and(|m| m.starts_with(PURPOSE));
            if !on_purpose {
                default(info);
            }
        }));
    });
}

const PURPOSE: &str = "on purpose:";

/// A waker whose `wake` panics.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("on purpose: this waker panics on wake");
    }
}

/// A value whose `Drop` panics.
#[derive(Debug)]
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("on purpose: Bomb dropped");
    }
}

/// A panic payload whose own `Drop` panics.
struct BombPayload(#[allow(dead_code)] Bomb);

/// Checks that the runtime still runs tasks on every worker and that dropping it returns.
fn still_alive_then_drop(rt: Runtime, workers: usize) {
    let sum = rt.block_on(async {
        let hs: Vec<_> = (0..4 * workers as u64)
            .map(|i| spawn(async move { i }))
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    let n = 4 * workers as u64;
    assert_eq!(sum, n * (n - 1) / 2);
    drop(rt);
}

/// Failure 1: the worker that completes a task calls the JoinHandle's waker; a panic there must
/// not kill the worker (with one worker nothing would ever run again), and the drop must return.
#[test]
fn a_panicking_join_handle_waker_does_not_kill_the_worker() {
    quiet_panics();
    let _dog = Watchdog::new("panicking JoinHandle waker");
    for workers in [1, 2] {
        let rt = rt(workers);
        let (tx, rx) = async_channel::bounded::<u32>(1);
        let mut handle = rt.spawn(async move { rx.recv().await.unwrap() });
        let waker = Waker::from(Arc::new(PanickingWaker));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
        tx.send_blocking(7).unwrap();
        wait_until(|| handle.is_finished());
        assert_eq!(block_on(handle).unwrap(), 7);
        still_alive_then_drop(rt, workers);
    }
}

/// Failure 2: a panic payload whose `Drop` panics, from a future that completes and then panics
/// in its own `Drop`, and as a detached task's panic and output.
#[test]
fn payloads_and_outputs_whose_drop_panics_are_contained() {
    quiet_panics();
    let _dog = Watchdog::new("payload drop panics");
    struct ReadyThenPanicWithBombPayload;
    impl Future for ReadyThenPanicWithBombPayload {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            Poll::Ready(1)
        }
    }
    impl Drop for ReadyThenPanicWithBombPayload {
        fn drop(&mut self) {
            std::panic::panic_any(BombPayload(Bomb));
        }
    }
    let rt = rt(1);
    // Awaited: the handle gets the panic; its payload is leaked here (dropping it would panic on
    // this thread, which is the test's business, not the runtime's).
    let err = block_on(rt.spawn(ReadyThenPanicWithBombPayload)).unwrap_err();
    assert!(err.is_panic());
    let payload = err.into_panic();
    assert!(payload.is::<BombPayload>());
    std::mem::forget(payload);
    // Detached: the worker drops the payload (whose drop panics) and the outputs (whose drop
    // panics) itself.
    let done = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..3 {
        let d = Arc::clone(&done);
        drop(rt.spawn(async move {
            d.fetch_add(1, Ordering::SeqCst);
            std::panic::panic_any(BombPayload(Bomb));
        }));
        let d = Arc::clone(&done);
        drop(rt.spawn(async move {
            d.fetch_add(1, Ordering::SeqCst);
            Bomb
        }));
        handles.push(rt.spawn(ReadyThenPanicWithBombPayload));
    }
    drop(handles);
    wait_until(|| done.load(Ordering::SeqCst) == 6);
    still_alive_then_drop(rt, 1);
}

/// Failure 3a: `Ready(v)` followed by a panic in the future's `Drop` is a panic, as in tokio.
#[test]
fn ready_then_panic_in_drop_is_a_panic_not_ok() {
    quiet_panics();
    let _dog = Watchdog::new("ready then panic in drop");
    struct ReadyThenPanic;
    impl Future for ReadyThenPanic {
        type Output = Bomb;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Bomb> {
            // The output's own drop panics too: the runtime must drop it, contained.
            Poll::Ready(Bomb)
        }
    }
    impl Drop for ReadyThenPanic {
        fn drop(&mut self) {
            panic!("on purpose: drop after Ready");
        }
    }
    let rt = rt(1);
    let err = block_on(rt.spawn(ReadyThenPanic)).unwrap_err();
    assert!(err.is_panic(), "got {err:?}");
    let payload = err.into_panic();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"on purpose: drop after Ready")
    );
    still_alive_then_drop(rt, 1);
}

/// Failure 3b: the future whose poll panicked is dropped while the panic unwinds, so its `Drop`
/// sees `std::thread::panicking()` (and a `MutexGuard` it holds poisons its mutex, as std
/// promises for a panicking holder).
#[test]
fn a_panicking_poll_drops_its_future_during_the_unwind() {
    quiet_panics();
    let _dog = Watchdog::new("drop during unwind");
    struct SeesPanicking(Arc<Mutex<Option<bool>>>);
    impl Drop for SeesPanicking {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(std::thread::panicking());
        }
    }
    struct PanicsInPoll(#[allow(dead_code)] SeesPanicking);
    impl Future for PanicsInPoll {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            panic!("on purpose: poll panics");
        }
    }
    let seen = Arc::new(Mutex::new(None));
    let rt = rt(1);
    let err = block_on(rt.spawn(PanicsInPoll(SeesPanicking(Arc::clone(&seen))))).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        *seen.lock().unwrap(),
        Some(true),
        "the future must be dropped during the unwind"
    );
    still_alive_then_drop(rt, 1);
}

/// A task that never finishes, holding a drop guard and reporting its first poll.
fn pending_task(
    rt: &Runtime,
    drops: &Arc<DropCounter>,
    started: &Arc<AtomicUsize>,
) -> JoinHandle<()> {
    let g = drops.guard();
    let started = Arc::clone(started);
    rt.spawn(async move {
        let _g = g;
        started.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await
    })
}

/// Failure 4a: `shutdown_timeout(ZERO)` cancels every idle task before it returns.
#[test]
fn shutdown_timeout_zero_cancels_every_idle_task() {
    let _dog = Watchdog::new("shutdown_timeout(0)");
    for _ in 0..common::reps(20) {
        let rt = rt(2);
        let drops = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..10)
            .map(|_| pending_task(&rt, &drops, &started))
            .collect();
        wait_until(|| started.load(Ordering::SeqCst) == 10);
        rt.shutdown_timeout(Duration::ZERO);
        assert_eq!(drops.dropped(), 10, "every pending future is dropped");
        for h in handles {
            assert!(h.is_finished());
            assert!(block_on(h).unwrap_err().is_cancelled());
        }
    }
}

/// Failure 4b: with one worker stuck in a long poll past the timeout, every other task is still
/// cancelled at once, later wakes and aborts go nowhere, and the stuck task is dropped by its
/// worker as soon as its poll returns.
#[test]
fn shutdown_timeout_with_a_stuck_worker_cancels_the_rest_and_the_stuck_task_later() {
    let _dog = Watchdog::new("shutdown_timeout with a stuck worker");
    let rt = rt(2);
    let drops = DropCounter::new();
    let started = Arc::new(AtomicUsize::new(0));
    let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (g, s, w) = (drops.guard(), Arc::clone(&started), Arc::clone(&wakers));
        handles.push(rt.spawn(async move {
            let _g = g;
            let mut first = true;
            std::future::poll_fn(move |cx| {
                if std::mem::take(&mut first) {
                    w.lock().unwrap().push(cx.waker().clone());
                    s.fetch_add(1, Ordering::SeqCst);
                }
                Poll::<()>::Pending
            })
            .await
        }));
    }
    wait_until(|| started.load(Ordering::SeqCst) == 10);
    // The stuck task: its poll blocks its worker until the test lets it go.
    let (in_poll_tx, in_poll) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let g = drops.guard();
    let stuck = rt.spawn(async move {
        let _g = g;
        in_poll_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        std::future::pending::<()>().await
    });
    in_poll.recv().unwrap();
    rt.shutdown_timeout(Duration::from_millis(100));
    assert_eq!(
        drops.dropped(),
        10,
        "every task but the stuck one is dropped"
    );
    for h in &handles {
        assert!(h.is_finished());
    }
    // Later wakes and aborts find the tasks finished and queue nothing.
    for w in wakers.lock().unwrap().drain(..) {
        w.wake();
    }
    for h in &handles {
        h.abort();
    }
    stuck.abort();
    assert!(!stuck.is_finished(), "the stuck task is still in its poll");
    release.send(()).unwrap();
    wait_until(|| drops.dropped() == 11);
    assert!(block_on(stuck).unwrap_err().is_cancelled());
    for h in handles {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
}

/// Failure 5: dropping the last `Runtime` inside one of its own tasks neither hangs nor leaves
/// the other tasks behind.
#[test]
fn dropping_the_runtime_inside_its_own_task_does_not_hang() {
    let _dog = Watchdog::new("drop inside own task");
    for workers in [1, 2] {
        let rt = rt(workers);
        let drops = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));
        let others: Vec<_> = (0..5)
            .map(|_| pending_task(&rt, &drops, &started))
            .collect();
        wait_until(|| started.load(Ordering::SeqCst) == 5);
        let (rt_tx, rt_rx) = async_channel::bounded::<Runtime>(1);
        let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
        let killer = rt.spawn(async move {
            let rt = rt_rx.recv().await.expect("runtime handed over");
            drop(rt);
            dropped_tx.send(()).unwrap();
        });
        rt_tx.send_blocking(rt).unwrap();
        dropped_rx.recv().unwrap();
        // The killer's own poll finished after the drop returned: it completed normally, or was
        // cancelled by its own shutdown; either way its handle resolves.
        let _ = block_on(killer);
        assert_eq!(drops.dropped(), 5);
        for h in others {
            assert!(block_on(h).unwrap_err().is_cancelled());
        }
    }
}

/// Failure 6: a future dropped by the shutdown sweep on the dropping thread sees the runtime's
/// context, as on a worker: `spawn` in its `Drop` is refused (a cancelled handle), not a panic
/// for want of a runtime.
#[test]
fn the_shutdown_sweep_drops_futures_inside_the_runtime_context() {
    let _dog = Watchdog::new("sweep context");
    #[derive(Debug, PartialEq)]
    enum Seen {
        Refused,
        Other(String),
    }
    struct SpawnsInDrop(Arc<Mutex<Vec<Seen>>>);
    impl Drop for SpawnsInDrop {
        fn drop(&mut self) {
            let seen = match try_spawn(async {}) {
                Err(SpawnError::Shutdown) => {
                    // The panicking form must give a cancelled handle, not a panic.
                    match std::panic::catch_unwind(|| spawn(async {})) {
                        Ok(h) if h.is_finished() => Seen::Refused,
                        Ok(_) => Seen::Other("spawn after shutdown ran".into()),
                        Err(_) => Seen::Other("spawn panicked".into()),
                    }
                }
                Err(e) => Seen::Other(format!("{e}")),
                Ok(_) => Seen::Other("spawned".into()),
            };
            self.0.lock().unwrap().push(seen);
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(AtomicBool::new(false));
    let rt = rt(2);
    let (s, st) = (SpawnsInDrop(Arc::clone(&seen)), Arc::clone(&started));
    let h = rt.spawn(async move {
        let _s = s;
        st.store(true, Ordering::SeqCst);
        std::future::pending::<()>().await
    });
    wait_until(|| started.load(Ordering::SeqCst));
    drop(rt);
    assert!(block_on(h).unwrap_err().is_cancelled());
    assert_eq!(*seen.lock().unwrap(), vec![Seen::Refused]);
}
