//! Races between plain threads on the real task code (`raw.rs`, `join.rs`, `waker.rs`), written
//! for Miri with preemption on (the xtask's `miri-preempt` row).
//!
//! The crate's other Miri rows run with `-Zmiri-preemption-rate=0` because crossbeam-deque (the
//! workers' queues) has a deliberate racy read that Miri flags under preemption. These tests use
//! no `Runtime` and no crossbeam: the scheduler is a `Mutex<VecDeque<Notified>>` with a condvar,
//! and each test starts its own `std::thread`s. Threads meet through handshakes (condvars,
//! barriers, thread parking), never sleeps, so a lost wakeup shows up as a deadlock Miri reports.
//!
//! Every test checks, besides the outcome it is about, that the task allocation was freed (the
//! scheduler `Arc` the task holds is the last strong count) and that the scheduler's `release`
//! ran exactly once.

use super::{new_task, Header, JoinHandle, Notified, RunOutcome, Schedule};
use crate::sync::{AtomicUsize, Ordering};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

/// Rounds per test: small under Miri (each round is a fresh interleaving), larger natively.
const ROUNDS: usize = if cfg!(miri) { 2 } else { 200 };

/// The run queue and the bookkeeping the tests assert on.
#[derive(Default)]
struct Queue {
    tasks: Mutex<VecDeque<Notified>>,
    ready: Condvar,
    /// `Schedule::release` calls.
    released: AtomicUsize,
}

impl Queue {
    fn push(&self, task: Notified) {
        self.tasks.lock().unwrap().push_back(task);
        self.ready.notify_all();
    }

    /// Waits for a queued run permission and takes it.
    fn pop(&self) -> Notified {
        let mut tasks = self.tasks.lock().unwrap();
        loop {
            if let Some(task) = tasks.pop_front() {
                return task;
            }
            tasks = self.ready.wait(tasks).unwrap();
        }
    }

    fn len(&self) -> usize {
        self.tasks.lock().unwrap().len()
    }

    /// Runs queued tasks on this thread, re-queuing a task woken while it ran, until one run
    /// finishes a task (each test spawns a single task). Returns the number of runs.
    fn run_until_done(&self) -> usize {
        let mut runs = 0;
        loop {
            let (outcome, again) = self.pop().run();
            runs += 1;
            if let Some(task) = again {
                self.push(task);
            }
            if outcome == RunOutcome::Done {
                return runs;
            }
        }
    }
}

/// The test scheduler: queues run permissions and keeps no slot table, so `release` hands the
/// table's reference back to the task to drop.
struct Sched(Arc<Queue>);

impl Schedule for Sched {
    fn schedule(&self, task: Notified) {
        self.0.push(task);
    }

    fn release(&self, _task: &Header) -> bool {
        // Relaxed: a counter read after the threads are joined.
        self.0.released.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Spawns `future` on a fresh queue: its run permission is queued, its handle returned.
fn spawn<F>(future: F) -> (Arc<Queue>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let queue = Arc::new(Queue::default());
    let (notified, handle, _table_ref) = new_task(future, Sched(Arc::clone(&queue)), 0);
    queue.push(notified);
    (queue, handle)
}

/// The task was freed (it held the only other `Arc` of its queue), nothing is left queued, and
/// the scheduler released the task exactly once.
fn assert_task_gone(queue: &Arc<Queue>) {
    assert_eq!(queue.len(), 0, "a run permission was left in the queue");
    assert_eq!(
        Arc::strong_count(queue),
        1,
        "the task allocation was not freed"
    );
    assert_eq!(queue.released.load(Ordering::Relaxed), 1, "release calls");
}

/// Counts drops of whatever holds it (a future's state or a task output).
#[derive(Clone)]
struct DropCount(Arc<AtomicUsize>);

impl DropCount {
    fn new() -> Self {
        DropCount(Arc::new(AtomicUsize::new(0)))
    }

    fn get(&self) -> usize {
        // Relaxed: read after the dropping threads are joined.
        self.0.load(Ordering::Relaxed)
    }
}

/// A task output whose drops are counted.
struct Output {
    value: u64,
    drops: DropCount,
}

impl Drop for Output {
    fn drop(&mut self) {
        // Relaxed: read after the threads are joined.
        self.drops.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts the drop of the future that captures it.
struct FutureGuard(DropCount);

impl Drop for FutureGuard {
    fn drop(&mut self) {
        // Relaxed: read after the threads are joined.
        (self.0).0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A one-way handshake: `open` once, `wait` until it was.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
    }
}

/// Wakes the thread that created it.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` to completion on this thread, parking between polls.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// A future that parks its waker in `slot` at its first poll and returns `Pending` (after
/// `on_first`), then `Ready(Output)` at the next poll. `polls` counts polls.
fn wake_me_once(
    slot: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    on_first: impl Fn() + Send + 'static,
    value: u64,
    drops: DropCount,
    guard: FutureGuard,
) -> impl Future<Output = Output> + Send + 'static {
    poll_fn(move |cx| {
        let _alive = &guard;
        // Relaxed: the task's state transitions order the polls.
        if polls.fetch_add(1, Ordering::Relaxed) == 0 {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            on_first();
            Poll::Pending
        } else {
            Poll::Ready(Output {
                value,
                drops: drops.clone(),
            })
        }
    })
}

/// A [`wake_me_once`] task whose first poll ran on a worker thread (which keeps running the
/// queue until the task is done), with the waker it parked.
struct ParkedOnWorker {
    polls: Arc<AtomicUsize>,
    outputs: DropCount,
    future_drops: DropCount,
    queue: Arc<Queue>,
    handle: JoinHandle<Output>,
    worker: thread::JoinHandle<usize>,
    waker: Waker,
}

fn park_on_worker(round: usize) -> ParkedOnWorker {
    let slot = Arc::new(Mutex::new(None));
    let polls = Arc::new(AtomicUsize::new(0));
    let parked = Arc::new(Gate::default());
    let (outputs, future_drops) = (DropCount::new(), DropCount::new());
    let p = Arc::clone(&parked);
    let future = wake_me_once(
        Arc::clone(&slot),
        Arc::clone(&polls),
        move || p.open(),
        round as u64,
        outputs.clone(),
        FutureGuard(future_drops.clone()),
    );
    let (queue, handle) = spawn(future);
    let worker = thread::spawn({
        let queue = Arc::clone(&queue);
        move || queue.run_until_done()
    });
    parked.wait();
    let waker = slot.lock().unwrap().take().expect("waker parked");
    ParkedOnWorker {
        polls,
        outputs,
        future_drops,
        queue,
        handle,
        worker,
        waker,
    }
}

/// A wake from another thread while the task is being polled: the run must come back
/// `Rescheduled` with the permission (and nothing queued twice), and the next run finishes it.
#[test]
fn wake_during_poll_reschedules_once() {
    for round in 0..ROUNDS {
        let slot = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let (in_poll, woken) = (Arc::new(Gate::default()), Arc::new(Gate::default()));
        let (outputs, future_drops) = (DropCount::new(), DropCount::new());
        let (i, w) = (Arc::clone(&in_poll), Arc::clone(&woken));
        let on_first = move || {
            i.open();
            w.wait();
        };
        let future = wake_me_once(
            Arc::clone(&slot),
            Arc::clone(&polls),
            on_first,
            round as u64,
            outputs.clone(),
            FutureGuard(future_drops.clone()),
        );
        let (queue, handle) = spawn(future);
        let waker_thread = thread::spawn({
            let slot = Arc::clone(&slot);
            move || {
                in_poll.wait();
                let waker = slot.lock().unwrap().take().expect("waker parked");
                waker.wake();
                woken.open();
            }
        });
        let (outcome, again) = queue.pop().run();
        waker_thread.join().unwrap();
        assert_eq!(outcome, RunOutcome::Rescheduled);
        assert_eq!(queue.len(), 0, "a wake during the poll queued the task");
        let (outcome, again) = again.expect("the permission comes back").run();
        assert_eq!((outcome, again.is_none()), (RunOutcome::Done, true));
        let out = block_on(handle).expect("task output");
        assert_eq!(out.value, round as u64);
        drop(out);
        // Relaxed: single-threaded now.
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// A wake from another thread racing the end of the first poll: whether it lands while the task
/// is `RUNNING` (rescheduled by the worker) or after (queued by the waker), the task runs exactly
/// once more and the output reaches the handle once.
#[test]
fn wake_racing_end_of_poll_runs_task_again() {
    for round in 0..ROUNDS {
        let ParkedOnWorker {
            polls,
            outputs,
            future_drops,
            queue,
            handle,
            worker,
            waker,
        } = park_on_worker(round);
        waker.wake();
        let out = block_on(handle).expect("task output");
        assert_eq!(worker.join().unwrap(), 2, "runs");
        assert_eq!(out.value, round as u64);
        drop(out);
        // Relaxed: the worker is joined.
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// A task that completes in its first poll with `Output { value: round }` (its future counted in
/// `future_drops`, its output in `outputs`), and a worker thread that runs it once `start` opens.
fn ready_task_on_worker(
    round: usize,
    outputs: &DropCount,
    future_drops: &DropCount,
    start: &Arc<Barrier>,
) -> (Arc<Queue>, JoinHandle<Output>, thread::JoinHandle<usize>) {
    let (o, guard) = (outputs.clone(), FutureGuard(future_drops.clone()));
    let (queue, handle) = spawn(async move {
        let _alive = &guard;
        Output {
            value: round as u64,
            drops: o,
        }
    });
    let worker = thread::spawn({
        let (queue, start) = (Arc::clone(&queue), Arc::clone(start));
        move || {
            start.wait();
            queue.run_until_done()
        }
    });
    (queue, handle, worker)
}

/// The handle is awaited on one thread (registering its waker, parking) while the task
/// completes on another: the awaiter must be woken and get the output exactly once.
#[test]
fn join_handle_awaited_while_task_completes() {
    for round in 0..ROUNDS {
        let (outputs, future_drops) = (DropCount::new(), DropCount::new());
        let start = Arc::new(Barrier::new(2));
        let (queue, handle, worker) = ready_task_on_worker(round, &outputs, &future_drops, &start);
        let awaiter = thread::spawn(move || {
            start.wait();
            block_on(handle).expect("task output")
        });
        assert_eq!(worker.join().unwrap(), 1, "runs");
        let out = awaiter.join().unwrap();
        assert_eq!(out.value, round as u64);
        assert_eq!(
            outputs.get(),
            0,
            "the output was dropped before the handle read it"
        );
        drop(out);
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// The handle is polled repeatedly (re-registering the same and then a different waker) while
/// the task completes on another thread.
#[test]
fn join_handle_repolled_while_task_completes() {
    for round in 0..ROUNDS {
        let outputs = DropCount::new();
        let polled = Arc::new(Gate::default());
        let (o, p) = (outputs.clone(), Arc::clone(&polled));
        let (queue, handle) = spawn(async move {
            Output {
                value: round as u64,
                drops: o,
            }
        });
        let worker = thread::spawn({
            let queue = Arc::clone(&queue);
            move || {
                p.wait();
                queue.run_until_done()
            }
        });
        let mut handle = handle;
        let first = Waker::from(Arc::new(Unpark(thread::current())));
        let second = Waker::from(Arc::new(Unpark(thread::current())));
        let mut result = None;
        for i in 0.. {
            let waker = if i % 3 == 2 { &second } else { &first };
            if let Poll::Ready(out) = Pin::new(&mut handle).poll(&mut Context::from_waker(waker)) {
                result = Some(out);
                break;
            }
            if i == 0 {
                polled.open();
            }
            if i >= 3 {
                thread::park();
            }
        }
        drop(handle);
        let out = result.unwrap().expect("task output");
        assert_eq!(worker.join().unwrap(), 1, "runs");
        assert_eq!(out.value, round as u64);
        drop(out);
        assert_eq!(outputs.get(), 1);
        assert_task_gone(&queue);
    }
}

/// `abort` from another thread racing a task that wakes itself and runs several times: the
/// handle gets either the output (the task finished first) or a cancellation, the future is
/// dropped exactly once, and a cancelled task is not polled again.
#[test]
fn abort_races_run() {
    const POLLS: usize = 3;
    for round in 0..ROUNDS {
        let (outputs, future_drops) = (DropCount::new(), DropCount::new());
        let polls = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(2));
        let (o, pc, guard) = (
            outputs.clone(),
            Arc::clone(&polls),
            FutureGuard(future_drops.clone()),
        );
        let (queue, handle) = spawn(poll_fn(move |cx| {
            let _alive = &guard;
            // Relaxed: the task's state transitions order the polls.
            if pc.fetch_add(1, Ordering::Relaxed) + 1 < POLLS {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(Output {
                    value: round as u64,
                    drops: o.clone(),
                })
            }
        }));
        let worker = thread::spawn({
            let (queue, start) = (Arc::clone(&queue), Arc::clone(&start));
            move || {
                start.wait();
                queue.run_until_done()
            }
        });
        start.wait();
        handle.abort();
        let result = block_on(handle);
        let runs = worker.join().unwrap();
        // Relaxed: the worker is joined.
        let polled = polls.load(Ordering::Relaxed);
        match result {
            Ok(out) => {
                assert_eq!(out.value, round as u64);
                assert_eq!((polled, runs), (POLLS, POLLS));
                drop(out);
                assert_eq!(outputs.get(), 1);
            }
            Err(err) => {
                assert!(err.is_cancelled(), "{err:?}");
                assert!(polled < POLLS, "a cancelled task completed its future");
                // One run per poll; the future is dropped either by the run that polled it last
                // (it saw the abort after its poll) or by one more run.
                assert!(
                    runs == polled || runs == polled + 1,
                    "{runs} runs, {polled} polls"
                );
                assert_eq!(outputs.get(), 0);
            }
        }
        assert_eq!(future_drops.get(), 1);
        assert_task_gone(&queue);
    }
}

/// The task's waker is cloned, woken (by reference and by value) and dropped on several threads
/// while the task completes: the task is polled exactly twice (the first wake schedules it, the
/// rest find it scheduled, running or complete), and every waker reference is released.
#[test]
fn wakers_shared_across_threads_while_task_completes() {
    const WAKERS: usize = 3;
    for round in 0..ROUNDS {
        let ParkedOnWorker {
            polls,
            outputs,
            future_drops,
            queue,
            handle,
            worker,
            waker,
        } = park_on_worker(round);
        let wakers: Vec<_> = (0..WAKERS)
            .map(|i| {
                let waker = waker.clone();
                thread::spawn(move || {
                    let extra = waker.clone();
                    if i % 2 == 0 {
                        waker.wake_by_ref();
                        drop(waker);
                        extra.wake();
                    } else {
                        extra.wake_by_ref();
                        drop(extra);
                        waker.wake();
                    }
                })
            })
            .collect();
        drop(waker);
        let out = block_on(handle).expect("task output");
        for w in wakers {
            w.join().unwrap();
        }
        assert_eq!(worker.join().unwrap(), 2, "runs");
        assert_eq!(out.value, round as u64);
        drop(out);
        // Relaxed: every thread is joined.
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// The handle is dropped on one thread while the task completes on another: the output is
/// dropped exactly once, by whichever side comes second.
#[test]
fn join_handle_dropped_while_task_completes() {
    for round in 0..ROUNDS {
        let (outputs, future_drops) = (DropCount::new(), DropCount::new());
        let start = Arc::new(Barrier::new(2));
        let (queue, handle, worker) = ready_task_on_worker(round, &outputs, &future_drops, &start);
        let dropper = thread::spawn(move || {
            start.wait();
            drop(handle);
        });
        assert_eq!(worker.join().unwrap(), 1, "runs");
        dropper.join().unwrap();
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// The handle is dropped while the task is parked (pending) and a wake from another thread
/// completes it: the output is dropped by the worker, once.
#[test]
fn detached_task_completes_after_wake() {
    for round in 0..ROUNDS {
        let ParkedOnWorker {
            polls,
            outputs,
            future_drops,
            queue,
            handle,
            worker,
            waker,
        } = park_on_worker(round);
        let waker_thread = thread::spawn(move || waker.wake());
        drop(handle);
        waker_thread.join().unwrap();
        assert_eq!(worker.join().unwrap(), 2, "runs");
        // Relaxed: every thread is joined.
        assert_eq!(polls.load(Ordering::Relaxed), 2);
        assert_eq!((outputs.get(), future_drops.get()), (1, 1));
        assert_task_gone(&queue);
    }
}

/// `abort` and a wake from two threads racing for a parked (idle) task's run permission: exactly
/// one of them takes it, and the task is either cancelled without another poll or (if the wake
/// won and the run beat the abort) completes; either way the future is dropped once.
#[test]
fn abort_races_wake_of_idle_task() {
    for round in 0..ROUNDS {
        let slot = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let (outputs, future_drops) = (DropCount::new(), DropCount::new());
        let future = wake_me_once(
            Arc::clone(&slot),
            Arc::clone(&polls),
            || {},
            round as u64,
            outputs.clone(),
            FutureGuard(future_drops.clone()),
        );
        let (queue, handle) = spawn(future);
        let (outcome, again) = queue.pop().run();
        assert_eq!((outcome, again.is_none()), (RunOutcome::Pending, true));
        let waker = slot.lock().unwrap().take().expect("waker parked");
        let start = Arc::new(Barrier::new(2));
        let worker = thread::spawn({
            let queue = Arc::clone(&queue);
            move || queue.run_until_done()
        });
        let waker_thread = thread::spawn({
            let start = Arc::clone(&start);
            move || {
                start.wait();
                waker.wake();
            }
        });
        start.wait();
        handle.abort();
        let result = block_on(handle);
        waker_thread.join().unwrap();
        assert_eq!(worker.join().unwrap(), 1, "runs after the first");
        // Relaxed: every thread is joined.
        let polled = polls.load(Ordering::Relaxed);
        match result {
            Ok(out) => {
                assert_eq!((out.value, polled), (round as u64, 2));
                drop(out);
                assert_eq!(outputs.get(), 1);
            }
            Err(err) => {
                assert!(err.is_cancelled(), "{err:?}");
                assert_eq!(polled, 1, "a cancelled task was polled again");
                assert_eq!(outputs.get(), 0);
            }
        }
        assert_eq!(future_drops.get(), 1);
        assert_task_gone(&queue);
    }
}
