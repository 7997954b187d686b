//! Loom models of the workers' run loop on the runtime's own code: a real `Shared` and real
//! `Worker`s built by the harness's `RunLoopModel` (no worker threads; each model thread plays one
//! worker through `ModelWorker::turn`, which is the run loop's real `find_task` / `run_task` /
//! `park`, with the real final check `Worker::work_visible`). Spawns are the real `Shared::spawn`
//! (remote from a plain thread, local into the LIFO slot inside a worker's context), wakes the
//! tasks' real wakers (so `Schedule::schedule`, `push_local` / `push_remote` and the thread-local
//! context decide where a task goes). Only the yield queues are a stand-in (a loom mutex around a
//! `VecDeque`, see `src/scheduler/queue.rs`), because loom cannot see into crossbeam's deque.
//!
//! A lost wakeup is a worker asleep on its `SignalWaker` (a loom mutex + condvar) that nobody
//! wakes: loom reports a deadlock. Each model has a planted bug in `work_visible` that it must
//! catch (`NEGATIVE_CONTROL=<name>` in the environment):
//! * `final_check_other_partitions`: `remote_spawn_into_busy_partition_races_park`;
//! * `final_check_other_yield_queues`: `yield_queue_task_races_park`;
//! * `final_check_own_partition`: `remote_wake_races_park`.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_run_loop`.
#![cfg(loom)]

use loom::sync::atomic::AtomicBool;
use loom::sync::Mutex;
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
// `std`'s `Arc`, not loom's: when loom reports a deadlock it unwinds the model threads, and
// dropping a loom `Arc` then calls back into the finished execution and aborts the test binary.
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use worker_runtime::loom_harness::{flag, model, set_flag, RunLoopModel};

/// More turns than any correct interleaving needs: a park returns only for a permit or visible
/// work, and each of those stands for one of the model's few tasks.
const MAX_TURNS: usize = 6;

/// Two workers; worker 0 is busy in a long poll and not modelled. A plain thread spawns a task,
/// which the remote spawn puts in worker 0's partition (its first remote run of spawns goes
/// there), so the tree's own notification goes to worker 0 and worker 1 gets the task only
/// through the idle protocol: the spawn's notify (if it sees worker 1 parked) or worker 1's final
/// check of the other partitions. Fails with `final_check_other_partitions`.
#[test]
fn remote_spawn_into_busy_partition_races_park() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(2);
        let mut w1 = workers.pop().unwrap();
        drop(workers);
        let ran = flag();
        let producer = {
            let (rt, task) = (rt.handle(), set_flag(&ran));
            thread::spawn(move || rt.spawn_detached(task))
        };
        w1.run_until(MAX_TURNS, || ran.load(SeqCst));
        producer.join().unwrap();
        assert!(!w1.is_searching());
        drop(w1);
        rt.check_quiescent();
    });
}

/// Two workers. Worker 0 (a model thread) spawns task A and then task B from inside its context:
/// A goes to its LIFO slot and is displaced to its yield queue by B (which notifies an idle
/// worker); then worker 0 only runs its LIFO task, if still there, and never looks at its yield
/// queue again (busy). Worker 1 searches and parks meanwhile and must run A. Other workers' LIFO
/// tasks are not part of the final check (their owner runs them next), their yield queues are:
/// this model checks exactly that promise. Fails with `final_check_other_yield_queues`.
#[test]
fn yield_queue_task_races_park() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(2);
        let mut w1 = workers.pop().unwrap();
        let w0 = workers.pop().unwrap();
        let (a_ran, b_ran) = (flag(), flag());
        let worker0 = {
            let rt = rt.handle();
            let (a, b) = (set_flag(&a_ran), set_flag(&b_ran));
            thread::spawn(move || {
                w0.with_context(|| {
                    rt.spawn_detached(a);
                    rt.spawn_detached(b);
                });
                w0.run_lifo_task();
            })
        };
        w1.run_until(MAX_TURNS, || a_ran.load(SeqCst));
        worker0.join().unwrap();
        // B ran on worker 0, or on worker 1 as a stuck owner's LIFO task.
        assert!(b_ran.load(SeqCst), "nobody ran B");
        assert!(!w1.is_searching());
        drop(w1);
        rt.check_quiescent();
    });
}

/// A one-shot event: a flag and the waker of the task waiting for it, under one mutex.
#[derive(Default)]
struct OneShot {
    state: Mutex<(bool, Option<Waker>)>,
}

impl OneShot {
    /// Sets the flag, then wakes (by value) the waker of the waiting task's latest poll, if any.
    fn fire(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Waits for its one-shot, then sets `done`.
struct WaitShot {
    shot: Arc<OneShot>,
    done: Arc<AtomicBool>,
}

impl Future for WaitShot {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.shot.state.lock().unwrap();
        if state.0 {
            self.done.store(true, SeqCst);
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// One worker (the model's main thread) spawns a task from its context (into its LIFO slot) and
/// runs it; the task waits for a one-shot that a plain thread fires. That wake is a remote
/// schedule (`push_remote`: the task's tree bit, in the worker's own partition, then a notify), or
/// if it lands during the poll a reschedule into the worker's yield queue; either way it races the
/// worker's next search and park, whose final check must re-sync the worker's own partition
/// (the tree's permit may have been drained just before). Fails with `final_check_own_partition`.
#[test]
fn remote_wake_races_park() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(1);
        let mut w0 = workers.pop().unwrap();
        let shot = Arc::new(OneShot::default());
        let done = flag();
        let task = WaitShot {
            shot: Arc::clone(&shot),
            done: Arc::clone(&done),
        };
        w0.with_context(|| rt.spawn_detached(task));
        let waker = thread::spawn(move || shot.fire());
        w0.run_until(MAX_TURNS, || done.load(SeqCst));
        waker.join().unwrap();
        drop(w0);
        rt.check_quiescent();
    });
}
