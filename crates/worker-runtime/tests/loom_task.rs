//! Loom models of the task state machine (`src/task/`): wakes, aborts, completion, the
//! `JoinHandle` and shutdown's sweep, racing each other on up to three threads. The tasks are the
//! runtime's own, on the harness's `TestScheduler` (a queue of run permissions and a slot table).
//!
//! (a) a wake racing the poll and completion; (b) `abort` racing a wake and a run; (c) dropping the
//! `JoinHandle` (with and without a registered waker) racing completion; (d) polling the handle
//! (same waker again, or a new one) racing completion; (e) shutdown's sweep racing a wake and an
//! abort; (f) two runners and a wake.
//!
//! Every model ends by checking that the future was dropped exactly once, the task released its
//! slot exactly once, the output (if any) was dropped exactly once, and nothing is queued. Leaks
//! are caught by loom: every task holds the scheduler's loom `Arc`, every future and waker here
//! holds loom `Arc`s, and loom fails a model that ends with one still alive. A task freed without
//! happening after its finish is caught by the harness's probe (a loom cell written at release
//! and touched again when the task is freed).
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_task`.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use worker_runtime::loom_harness::{model, TestScheduler};
use worker_runtime::{JoinError, JoinHandle};

/// Counts drops of the [`Tracked`] values made from it.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }

    fn track(&self) -> Tracked {
        Tracked(self.clone())
    }

    fn bump(&self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Bumps its counter when dropped.
struct Tracked(Counter);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.bump();
    }
}

/// A one-shot event: a flag and the waker of the task waiting for it.
#[derive(Default)]
struct OneShot {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl OneShot {
    /// Sets the flag, then wakes (by value) the waker stored by the latest poll, if any.
    fn fire(&self) {
        self.fired.store(true, SeqCst);
        let waker = self.waker.lock().unwrap().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A task's future: waits for `shot`, then returns a [`Tracked`] output. Every poll (also the last
/// one) stores a clone of its waker in the one-shot, so a wake can race the completion and hit a
/// finished task. Drops `_guard` with the future; counts the polls that returned `Ready`.
struct WaitShot {
    shot: Arc<OneShot>,
    output: Counter,
    completed: Counter,
    _guard: Tracked,
}

impl Future for WaitShot {
    type Output = Tracked;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tracked> {
        *self.shot.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.shot.fired.load(SeqCst) {
            self.completed.bump();
            Poll::Ready(self.output.track())
        } else {
            Poll::Pending
        }
    }
}

/// A future that is ready at once with a [`Tracked`] output.
struct ReadyNow {
    output: Counter,
    _guard: Tracked,
}

impl Future for ReadyNow {
    type Output = Tracked;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Tracked> {
        Poll::Ready(self.output.track())
    }
}

/// A waker that sets its loom flag; its clones share one loom `Arc`, so a leaked clone fails the
/// model and `Arc::strong_count` tells how many clones are alive.
fn flag_waker(flag: &Arc<AtomicBool>) -> Waker {
    let data = Arc::into_raw(Arc::clone(flag)).cast::<()>();
    // SAFETY: `data` is a loom `Arc<AtomicBool>` turned into a raw pointer with its own strong
    // count, which is what every function of `FLAG_VTABLE` expects.
    unsafe { Waker::from_raw(RawWaker::new(data, &FLAG_VTABLE)) }
}

static FLAG_VTABLE: RawWakerVTable =
    RawWakerVTable::new(flag_clone, flag_wake, flag_wake_by_ref, flag_drop);

unsafe fn flag_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Arc::into_raw` and the waker being cloned owns a strong count.
    unsafe { Arc::increment_strong_count(data.cast::<AtomicBool>()) };
    RawWaker::new(data, &FLAG_VTABLE)
}

unsafe fn flag_wake(data: *const ()) {
    // SAFETY: the waker owns one strong count, consumed here.
    let flag = unsafe { Arc::from_raw(data.cast::<AtomicBool>()) };
    flag.store(true, SeqCst);
}

unsafe fn flag_wake_by_ref(data: *const ()) {
    // SAFETY: the waker owns a strong count, so the flag is alive.
    unsafe { &*data.cast::<AtomicBool>() }.store(true, SeqCst);
}

unsafe fn flag_drop(data: *const ()) {
    // SAFETY: the waker owns one strong count, released here.
    drop(unsafe { Arc::from_raw(data.cast::<AtomicBool>()) });
}

/// Polls `handle` once with `waker`.
fn poll_handle<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

/// Polls `handle` once with a fresh flag waker; the task must have finished.
fn expect_ready<T>(mut handle: JoinHandle<T>) -> Result<T, JoinError> {
    let flag = Arc::new(AtomicBool::new(false));
    match poll_handle(&mut handle, &flag_waker(&flag)) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("the task did not finish: a wake or a run was lost"),
    }
}

/// Spawns a [`WaitShot`] on `sched` with fresh counters: (handle, shot, future drops, output
/// drops, completions).
fn spawn_wait_shot(
    sched: &TestScheduler,
) -> (JoinHandle<Tracked>, Arc<OneShot>, Counter, Counter, Counter) {
    let shot = Arc::new(OneShot::default());
    let (future_drops, output_drops, completed) =
        (Counter::default(), Counter::default(), Counter::default());
    let handle = sched.spawn(WaitShot {
        shot: Arc::clone(&shot),
        output: output_drops.clone(),
        completed: completed.clone(),
        _guard: future_drops.track(),
    });
    (handle, shot, future_drops, output_drops, completed)
}

/// (a) A wake from another thread races the task's poll and completion. The task may see the
/// flag on its first poll, or be woken while it runs (the run returns "rescheduled" and is
/// queued again), or be woken while idle, or be woken after it finished (a stale waker, possibly
/// dropping the last reference on the waking thread). Whatever the order, once the waker thread
/// is done and the queue is drained the task has finished: the output arrives exactly once, and
/// the future, the output and the slot are each dropped/released exactly once.
#[test]
fn wake_races_completion() {
    model(0, || {
        let sched = TestScheduler::new();
        let (handle, shot, future_drops, output_drops, completed) = spawn_wait_shot(&sched);
        let waker_thread = thread::spawn(move || shot.fire());
        sched.run_one();
        waker_thread.join().unwrap();
        sched.run_until_idle();

        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.released(), 1, "the slot is released exactly once");
        assert_eq!(sched.live_tasks(), 0);
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert_eq!(completed.get(), 1);
        let output = expect_ready(handle).expect("the task completed normally");
        assert_eq!(output_drops.get(), 0);
        drop(output);
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
    });
}

/// (b) `abort` races a wake and a run on three threads. The task ends either completed (its
/// future returned `Ready` before the abort took effect: the handle gets the output) or
/// cancelled (the future is dropped without completing: the handle gets a cancelled error), never
/// both, never neither; it is released once and its future dropped once.
#[test]
fn abort_races_wake_and_run() {
    model(0, || {
        let sched = Arc::new(TestScheduler::new());
        let (handle, shot, future_drops, output_drops, completed) = spawn_wait_shot(&sched);
        let runner = {
            let sched = Arc::clone(&sched);
            thread::spawn(move || {
                sched.run_one();
            })
        };
        let waker_thread = thread::spawn(move || shot.fire());
        handle.abort();
        runner.join().unwrap();
        waker_thread.join().unwrap();
        sched.run_until_idle();

        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.released(), 1, "the slot is released exactly once");
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        match expect_ready(handle) {
            Ok(output) => {
                assert_eq!(completed.get(), 1, "an output without a completion");
                drop(output);
                assert_eq!(output_drops.get(), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected error {e:?}");
                assert_eq!(
                    completed.get(),
                    0,
                    "the future completed but the output was lost"
                );
                assert_eq!(output_drops.get(), 0);
            }
        }
    });
}

/// (c) The `JoinHandle` is dropped while another thread runs the task to completion. With
/// `awaiter`, the handle was polled first, so it holds a registered waker (`AWAITER`) that the
/// drop takes back or the completion takes and wakes. Either the completing worker drops the
/// output (the handle was gone) or the handle's drop does (the task was complete): exactly once,
/// and the registered waker is freed exactly once (no clone outlives the model).
fn handle_drop_races_completion(awaiter: bool) {
    model(0, move || {
        let sched = Arc::new(TestScheduler::new());
        let (future_drops, output_drops) = (Counter::default(), Counter::default());
        let mut handle = sched.spawn(ReadyNow {
            output: output_drops.clone(),
            _guard: future_drops.track(),
        });
        let flag = Arc::new(AtomicBool::new(false));
        if awaiter {
            // Not run yet: this registers the waker.
            assert!(poll_handle(&mut handle, &flag_waker(&flag)).is_pending());
        }
        let runner = {
            let sched = Arc::clone(&sched);
            thread::spawn(move || {
                assert!(sched.run_one());
            })
        };
        drop(handle);
        runner.join().unwrap();

        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.released(), 1);
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
        assert_eq!(
            Arc::strong_count(&flag),
            1,
            "a clone of the awaiter waker is still alive"
        );
    });
}

#[test]
fn handle_drop_races_completion_plain() {
    handle_drop_races_completion(false);
}

#[test]
fn handle_drop_races_completion_with_awaiter() {
    handle_drop_races_completion(true);
}

/// (d) The `JoinHandle` is polled (registering, re-registering, or replacing its waker) while
/// another thread completes the task. Each poll either returns `Ready` or leaves a waker that the
/// completion wakes: after both threads are done, a handle whose last poll said `Pending` has had
/// that poll's waker woken, and a further poll is `Ready` with the output. Never a hang. With
/// `same_waker` the second poll uses the same waker (the "already registered" path); otherwise a
/// new one (the "replace the waker" path).
fn join_poll_races_completion(same_waker: bool) {
    model(0, move || {
        let sched = Arc::new(TestScheduler::new());
        let (future_drops, output_drops) = (Counter::default(), Counter::default());
        let mut handle = sched.spawn(ReadyNow {
            output: output_drops.clone(),
            _guard: future_drops.track(),
        });
        let runner = {
            let sched = Arc::clone(&sched);
            thread::spawn(move || {
                assert!(sched.run_one());
            })
        };
        let first = Arc::new(AtomicBool::new(false));
        let second = if same_waker {
            Arc::clone(&first)
        } else {
            Arc::new(AtomicBool::new(false))
        };
        let mut output = None;
        let mut last_flag = &first;
        for flag in [&first, &second] {
            match poll_handle(&mut handle, &flag_waker(flag)) {
                Poll::Ready(result) => {
                    output = Some(result.expect("the task completed normally"));
                    break;
                }
                Poll::Pending => last_flag = flag,
            }
        }
        runner.join().unwrap();

        let output = match output {
            Some(output) => output,
            None => {
                assert!(
                    last_flag.load(SeqCst),
                    "the handle returned Pending and its waker was never woken: a lost wakeup"
                );
                expect_ready(handle).expect("the task completed normally")
            }
        };
        assert_eq!(sched.released(), 1);
        assert_eq!(future_drops.get(), 1);
        drop(output);
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
        assert_eq!(Arc::strong_count(&first), 1 + usize::from(same_waker));
        assert_eq!(Arc::strong_count(&second), 1 + usize::from(same_waker));
    });
}

#[test]
fn join_poll_races_completion_same_waker() {
    join_poll_races_completion(true);
}

#[test]
fn join_poll_races_completion_new_waker() {
    join_poll_races_completion(false);
}

/// (e) Shutdown's sweep races a wake and an abort from other threads. The task has been polled
/// once (it waits for its one-shot), so it is idle when the sweep starts; meanwhile one thread
/// fires the one-shot (a wake that may take the run permission and queue it after the sweep
/// looked at the queue) and another aborts through the handle. The sweep must end with the task
/// cancelled exactly once: its future dropped once without completing, its slot released once,
/// the handle resolving to a cancelled error, nothing left queued.
#[test]
fn shutdown_sweep_races_wake_and_abort() {
    model(0, || {
        let sched = TestScheduler::new();
        let (handle, shot, future_drops, output_drops, completed) = spawn_wait_shot(&sched);
        assert!(sched.run_one());
        assert_eq!(sched.queued(), 0, "the task waits for its one-shot");
        let waker_thread = thread::spawn(move || shot.fire());
        let aborter = thread::spawn(move || {
            handle.abort();
            handle
        });
        sched.shutdown();
        waker_thread.join().unwrap();
        let handle = aborter.join().unwrap();

        assert_eq!(sched.queued(), 0, "a permission was queued after the sweep");
        assert_eq!(sched.released(), 1, "the slot is released exactly once");
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert_eq!(completed.get(), 0, "nothing runs the task during shutdown");
        match expect_ready(handle) {
            Ok(_) => panic!("the task completed during shutdown"),
            Err(e) => assert!(e.is_cancelled(), "unexpected error {e:?}"),
        }
        assert_eq!(output_drops.get(), 0);
    });
}

/// (f) Two threads run tasks from the same queue while a third wakes the task: the run permission
/// is unique, so the future is never polled by two threads at once (loom would report the
/// concurrent access to the task's stage), a wake during a poll re-queues it once, and after
/// everyone is done the task has completed exactly once.
#[test]
fn two_runners_race_a_wake() {
    model(0, || {
        let sched = Arc::new(TestScheduler::new());
        let (handle, shot, future_drops, output_drops, completed) = spawn_wait_shot(&sched);
        let runner = {
            let sched = Arc::clone(&sched);
            thread::spawn(move || {
                sched.run_until_idle();
            })
        };
        let waker_thread = thread::spawn(move || shot.fire());
        sched.run_until_idle();
        runner.join().unwrap();
        waker_thread.join().unwrap();
        sched.run_until_idle();

        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.released(), 1, "the slot is released exactly once");
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert_eq!(completed.get(), 1, "the future completes exactly once");
        drop(expect_ready(handle).expect("the task completed normally"));
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
    });
}

/// (g) Shutdown's take-over races a runner and a wake. The task waits for its one-shot; one
/// thread fires it (a wake that queues the permission before shutdown, or gives it up after),
/// another runs whatever is queued, while the sweep takes over every task that is not running.
/// Whoever wins, the future is dropped exactly once, the slot released once, nothing stays queued,
/// and the handle resolves: `Ok` if the runner completed the task first, cancelled otherwise.
#[test]
fn shutdown_take_over_races_a_runner_and_a_wake() {
    model(0, || {
        let sched = Arc::new(TestScheduler::new());
        let (handle, shot, future_drops, output_drops, completed) = spawn_wait_shot(&sched);
        assert!(sched.run_one());
        let runner = {
            let sched = Arc::clone(&sched);
            thread::spawn(move || {
                sched.run_until_idle();
            })
        };
        let waker_thread = thread::spawn(move || shot.fire());
        sched.shutdown();
        waker_thread.join().unwrap();
        runner.join().unwrap();

        assert_eq!(
            sched.queued(),
            0,
            "a permission was queued after shutdown began"
        );
        assert_eq!(sched.released(), 1, "the slot is released exactly once");
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        match expect_ready(handle) {
            Ok(out) => {
                assert_eq!(completed.get(), 1);
                drop(out);
                assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected error {e:?}");
                assert_eq!(completed.get(), 0, "a cancelled task never completed");
            }
        }
    });
}
