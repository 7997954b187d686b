//! Loom models of a wake racing a worker that parks in the IO driver, on the runtime's real
//! parking code: `idle::park_protocol` with the driver sleep `idle::driver_sleep` (the worker
//! announced on its `SignalWaker` as an external sleeper, `SignalWaker::park_external`), and the
//! driver's wake-up hook installed by the driver's own `io::driver::install_unpark`. The driver's
//! poll is stood for by a loom mutex + condvar event that the hook sets (a real epoll cannot run
//! inside a model), so a wake that neither the worker's checks see nor the hook reaches leaves the
//! worker blocked and loom reports a deadlock.
//!
//! Negative control: `NEGATIVE_CONTROL=driver_sleep_unannounced` makes the worker wait in the
//! driver without announcing itself; these models must then fail.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" cargo test --release -p worker-runtime
//! --test loom_io_park`.
#![cfg(loom)]

use loom::sync::{Condvar, Mutex};
use loom::thread;
// `std`'s `Arc` (a loom `Arc` dropped during a deadlock's unwind aborts the test binary).
use std::sync::Arc;
use summary_tree::{SlotId, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};
use worker_runtime::loom_harness::{model, ParkModel};

/// More parks than any correct interleaving needs (each return stands for a permit or the task).
const MAX_ROUNDS: usize = 4;

/// The driver's poll: returns once the wake-up hook ran (and consumes that wake-up).
struct PollStandIn {
    woken: Mutex<bool>,
    cond: Condvar,
}

impl PollStandIn {
    fn new() -> Arc<Self> {
        Arc::new(PollStandIn {
            woken: Mutex::new(false),
            cond: Condvar::new(),
        })
    }

    fn wait(&self) {
        let mut woken = self.woken.lock().unwrap();
        while !*woken {
            woken = self.cond.wait(woken).unwrap();
        }
        *woken = false;
    }

    fn wake(&self) {
        *self.woken.lock().unwrap() = true;
        self.cond.notify_one();
    }
}

/// `workers` partitions of one leaf each, with the driver's wake-up hook installed.
fn driver_model(workers: usize) -> (Arc<ParkModel>, Arc<PollStandIn>) {
    let config = SummaryTreeConfig::new(workers).max_tasks(workers * SLOTS_PER_LEAF);
    let pm = Arc::new(ParkModel::new(SummaryTree::new(config).unwrap()));
    let poll = PollStandIn::new();
    let hook = Arc::clone(&poll);
    pm.install_driver_unpark(Arc::new(move || hook.wake()));
    (pm, poll)
}

/// The remote spawn: reserve, set the task bit (notifies the leaf's owner), wake an idle worker.
fn remote_spawn(pm: &ParkModel, leaf: usize) -> SlotId {
    let slot = pm.tree().reserve_task(leaf).unwrap();
    assert!(pm.tree().schedule(slot));
    pm.notify();
    slot
}

/// Worker `w` searches (own partition, then the others) and parks, in the driver when
/// `in_driver`, until it has claimed one task.
fn run_until_claimed(pm: &ParkModel, poll: &PollStandIn, w: usize, in_driver: bool) -> SlotId {
    let mut searching = false;
    for _ in 0..MAX_ROUNDS {
        let tree = pm.tree();
        let found = tree.claim_in_partition(w).or_else(|| {
            let workers = tree.assignment().workers();
            (workers > 1)
                .then(|| tree.steal(w, (w + 1) % workers))
                .flatten()
        });
        if let Some(slot) = found {
            if searching && pm.end_search() {
                pm.notify();
            }
            return slot;
        }
        searching = if in_driver {
            pm.park_in_driver(w, searching, || poll.wait())
        } else {
            pm.park(w, searching)
        };
    }
    panic!("worker {w} parked {MAX_ROUNDS} times without finding the task");
}

/// One worker, parked in the driver, and one remote spawn into its partition: the worker claims
/// the task (its final check saw it, or the release reached it through the driver's wake-up).
#[test]
fn remote_spawn_races_park_in_driver() {
    model(0, || {
        let (pm, poll) = driver_model(1);
        let producer = {
            let pm = Arc::clone(&pm);
            thread::spawn(move || remote_spawn(&pm, 0))
        };
        let claimed = run_until_claimed(&pm, &poll, 0, true);
        assert_eq!(claimed, producer.join().unwrap());
        assert_eq!(pm.parked_mask(), 0, "the worker is still in the parked set");
        pm.tree().release_task(claimed);
    });
}

/// Two workers, one parking in the driver and one on its futex, and a producer spawning one task
/// into each partition while they search and park: each worker claims one of the two (either may
/// steal the other's), so neither sleeps through the task meant for it.
#[test]
fn spawns_race_a_driver_sleeper_and_a_futex_sleeper() {
    model(0, || {
        let (pm, poll) = driver_model(2);
        let futex_worker = {
            let (pm, poll) = (Arc::clone(&pm), Arc::clone(&poll));
            thread::spawn(move || run_until_claimed(&pm, &poll, 1, false))
        };
        let producer = {
            let pm = Arc::clone(&pm);
            thread::spawn(move || (remote_spawn(&pm, 0), remote_spawn(&pm, 1)))
        };
        let by_driver_worker = run_until_claimed(&pm, &poll, 0, true);
        let by_futex_worker = futex_worker.join().unwrap();
        let (a, b) = producer.join().unwrap();
        let mut claimed = [by_driver_worker, by_futex_worker];
        claimed.sort_by_key(|s| s.index());
        let mut spawned = [a, b];
        spawned.sort_by_key(|s| s.index());
        assert_eq!(claimed, spawned, "each task claimed exactly once");
        // A permit left for a worker that has finished is not a lost wakeup; drop them.
        for w in 0..2 {
            pm.tree().waker(w).drain_permits();
        }
        for slot in claimed {
            pm.tree().release_task(slot);
        }
    });
}
