//! Loom models of a spawn racing a worker that goes to sleep, on the runtime's real parking code
//! (`idle::park_protocol` and `idle::notify_one`, through the harness's `ParkModel`) and a real
//! loom-built `SummaryTree` whose wakers are the workers' `SignalWaker`s (their futex is a loom
//! mutex + condvar under `--cfg loom`, so a lost wakeup shows up as a deadlock: "all threads
//! blocked").
//!
//! A model worker runs the run loop cut down to the tree: claim in its own partition, else steal,
//! else park (the runtime's park: stop searching, drop stale permits, announce, final check,
//! sleep, unpark). LIFO slots and yield queues are not modelled.
//!
//! `NEGATIVE_CONTROL=park_final_check` (in the environment of a loom run) removes the final check from `park_protocol`;
//! these models must then fail (the xtask's loom-neg row checks that they do).
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_remote_spawn`.
#![cfg(loom)]

use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
// `std`'s `Arc`, not loom's: when loom reports a deadlock it unwinds the model threads, and
// dropping a loom `Arc` then calls back into the finished execution and panics again, which
// aborts the test binary instead of failing the test (see signal-waker's negative control).
use std::sync::Arc;
use summary_tree::{SlotId, SummaryTree, SummaryTreeConfig, SLOTS_PER_LEAF};
use worker_runtime::loom_harness::{model, ParkModel};

/// More rounds than any correct interleaving needs: a park returns only for a permit or visible
/// work, and each of those stands for the one task.
const MAX_ROUNDS: usize = 4;

/// A tree of `workers` partitions of one leaf each (128 slots per leaf under loom).
fn park_model(workers: usize) -> Arc<ParkModel> {
    let config = SummaryTreeConfig::new(workers).max_tasks(workers * SLOTS_PER_LEAF);
    Arc::new(ParkModel::new(SummaryTree::new(config).unwrap()))
}

/// Worker `w`'s search: its own partition first, then the others'.
fn find(pm: &ParkModel, w: usize) -> Option<SlotId> {
    let tree = pm.tree();
    let workers = tree.assignment().workers();
    tree.claim_in_partition(w).or_else(|| {
        if workers > 1 {
            tree.steal(w, (w + 1) % workers)
        } else {
            None
        }
    })
}

/// Worker `w` runs until it has claimed one task, parking whenever it finds none; it starts as a
/// searcher if `searching`. Mirrors `Worker::run`: a searcher that finds work stops searching and,
/// if it was the last one, notifies another worker.
fn run_until_claimed(pm: &ParkModel, w: usize, mut searching: bool) -> SlotId {
    for _ in 0..MAX_ROUNDS {
        if let Some(slot) = find(pm, w) {
            if searching && pm.end_search() {
                pm.notify();
            }
            return slot;
        }
        searching = pm.park(w, searching);
    }
    panic!("worker {w} parked {MAX_ROUNDS} times without finding the task");
}

/// The remote spawn: reserve a slot near `hint_leaf`, set its task bit (which notifies the
/// leaf's owner through the tree), then wake an idle worker (`Shared::push_remote`'s order).
fn remote_spawn(pm: &ParkModel, hint_leaf: usize) -> SlotId {
    let slot = pm.tree().reserve_task(hint_leaf).unwrap();
    assert!(pm.tree().schedule(slot));
    pm.notify();
    slot
}

/// The end state of every model (after checking that each task was claimed once): nothing is left
/// scheduled, nobody is parked or searching, the claimed slots can be released.
fn check_end(pm: &ParkModel, claimed: &[SlotId]) {
    let tree = pm.tree();
    assert_eq!(tree.scheduled_count(), 0, "a task is still scheduled");
    assert_eq!(
        pm.parked_mask(),
        0,
        "a worker that finished is still in the parked set"
    );
    assert_eq!(pm.searching(), 0, "the searching count leaked");
    for &slot in claimed {
        tree.release_task(slot);
    }
    assert_eq!(tree.reserved_count(), 0);
}

/// One worker, one remote spawn into its partition, racing the worker's search and park. The
/// worker must claim the task: either its search or its final check sees it, or the producer's
/// permits (the tree's partition bit for the owner, and the idle notify) wake it.
#[test]
fn remote_spawn_races_park() {
    model(0, || {
        let pm = park_model(1);
        let producer = {
            let pm = Arc::clone(&pm);
            thread::spawn(move || remote_spawn(&pm, 0))
        };
        let claimed = run_until_claimed(&pm, 0, false);
        let spawned = producer.join().unwrap();
        assert_eq!(
            claimed, spawned,
            "the worker claimed a slot nobody scheduled"
        );
        check_end(&pm, &[claimed]);
    });
}

/// Two partitions; only worker 1 is modelled (worker 0 is busy in a long poll and never looks),
/// and the spawn lands in worker 0's partition. So the tree's own notification goes to worker 0,
/// and worker 1 must get the task through the idle protocol alone: the producer's notify (if it
/// sees worker 1 parked) or worker 1's final check (which scans the other partitions). With
/// `searcher`, worker 1 starts as the searcher, so a notify that sees it searching does nothing and
/// its park (stop searching, then announce and check) must see the task.
fn spawn_elsewhere_races_park(searcher: bool) {
    model(0, move || {
        let pm = park_model(2);
        if searcher {
            pm.make_searcher(1);
        }
        let producer = {
            let pm = Arc::clone(&pm);
            thread::spawn(move || remote_spawn(&pm, 0))
        };
        let claimed = run_until_claimed(&pm, 1, searcher);
        let spawned = producer.join().unwrap();
        assert_eq!(
            spawned.leaf(),
            0,
            "the spawn was meant for worker 0's partition"
        );
        // Worker 0 is not modelled: drop the permit the tree gave it.
        assert_eq!(
            claimed, spawned,
            "the worker claimed a slot nobody scheduled"
        );
        pm.tree().waker(0).drain_permits();
        check_end(&pm, &[claimed]);
    });
}

#[test]
fn spawn_elsewhere_races_park_idle() {
    spawn_elsewhere_races_park(false);
}

#[test]
fn spawn_elsewhere_races_park_searcher() {
    spawn_elsewhere_races_park(true);
}

/// A notified worker never sleeps counted as searching. Worker 0 (the model's main thread, busy:
/// it never parks) spawns task A into its own partition and notifies, then claims A back itself as
/// an owner that gets to its work first does (worker 1 may steal it first); then it spawns task B
/// into its partition, notifies, and leaves B alone. Worker 1 searches and parks meanwhile and must
/// end up claiming B. The trap: if A's notify picks worker 1 and worker 1 then loses that permit
/// (drains it) and sleeps, it sleeps counted as searching, so B's notify sees "somebody is
/// searching" and wakes nobody, and B's only other wake goes to its owner, worker 0: a deadlock.
///
/// The losing interleaving needs three preemptions (worker 1 to its announcement, worker 0 through
/// A's spawn, notify and claim, worker 1 through its drain and check), so this model runs with a
/// bound of at least 3 whatever `LOOM_MAX_PREEMPTIONS` says; it stays small (about 1,500
/// interleavings at that bound).
#[test]
fn notified_worker_does_not_sleep_as_searcher() {
    model(3, || {
        let pm = park_model(2);
        let remaining = Arc::new(loom::sync::atomic::AtomicUsize::new(2));
        remaining.store(2, SeqCst); // the initial value as a SeqCst store (see `sync.rs`)
        let worker1 = {
            let (pm, remaining) = (Arc::clone(&pm), Arc::clone(&remaining));
            thread::spawn(move || {
                let mut searching = false;
                let mut claimed = Vec::new();
                let mut parks = 0;
                while remaining.load(SeqCst) != 0 {
                    if let Some(slot) = find(&pm, 1) {
                        claimed.push(slot);
                        remaining.fetch_sub(1, SeqCst);
                        if std::mem::take(&mut searching) && pm.end_search() {
                            pm.notify();
                        }
                        continue;
                    }
                    parks += 1;
                    assert!(parks <= MAX_ROUNDS, "worker 1 keeps waking without work");
                    searching = pm.park(1, searching);
                }
                if searching {
                    pm.end_search();
                }
                claimed
            })
        };
        let a = remote_spawn(&pm, 0);
        let by_owner = pm.tree().claim_in_partition(0);
        if let Some(slot) = by_owner {
            assert_eq!(slot, a);
            remaining.fetch_sub(1, SeqCst);
        }
        let b = remote_spawn(&pm, 0);
        assert_eq!(b.leaf(), 0);
        let by_worker1 = worker1.join().unwrap();

        let mut all: Vec<SlotId> = by_worker1.iter().copied().chain(by_owner).collect();
        all.sort_by_key(|s| s.index());
        let mut spawned = vec![a, b];
        spawned.sort_by_key(|s| s.index());
        assert_eq!(all, spawned, "each task is claimed exactly once");
        assert!(by_worker1.contains(&b), "worker 0 never claims B");
        pm.tree().waker(0).drain_permits();
        check_end(&pm, &spawned);
    });
}
