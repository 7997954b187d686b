//! Worker internals (`docs/testing.md` §2): the yield-queue bit, the LIFO slot, the partition claim
//! guided by `partition_summary`, and what a parked worker leaves in its `SignalWaker`.
//!
//! These tests drive the real run loop ([`Worker::run`](crate::scheduler::worker::Worker) on the runtime's own
//! threads) and look at the crate-private state it maintains. To make an interleaving
//! deterministic they *block the only worker* inside a task poll (a `std::sync::mpsc` handshake),
//! arrange queues, tree bits and summary bits from the test thread while it cannot move, then let
//! it go. A worker that has gone idle is detected by its `SignalWaker` sleeper count, a state
//! handshake, never by sleeping.

use crate::runtime::Runtime;
use crate::scheduler::shared::Shared;
use crate::scheduler::worker::MAX_LIFO_POLLS;
use crate::task::{self, JoinHandle};
use signal_waker::{STATUS_BIT_PARTITION, STATUS_BIT_YIELD};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any handshake may take before the test gives up with a message (a hang guard, not
/// a timing assertion: every wait below ends as soon as its condition holds).
const HANG: Duration = if cfg!(miri) {
    Duration::from_secs(3600)
} else {
    Duration::from_secs(60)
};

/// Leaves of the test runtimes' trees: one summary bit per leaf for a single worker.
const LEAVES: usize = 64;

fn one_worker() -> Runtime {
    Runtime::builder()
        .worker_threads(1)
        .max_tasks(LEAVES * summary_tree::SLOTS_PER_LEAF)
        .build()
        .unwrap()
}

/// Creates a task for `future` in a slot of `leaf` and schedules it in the summary tree (as a
/// remote spawn does, but in a leaf of our choosing).
fn place_in_leaf<F>(shared: &Arc<Shared>, leaf: usize, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let slot = shared
        .tree
        .reserve_task_in_leaf(leaf)
        .expect("test leaf has a free slot");
    assert_eq!(slot.leaf(), leaf);
    let (notified, handle, raw) = task::new_task(future, Arc::clone(shared), slot.index());
    shared.table.insert(slot.index(), raw);
    shared.push_tree(notified);
    handle
}

/// A future that, when polled, reports that it runs and then blocks its worker thread until
/// [`Blocker::release`].
struct Blocker {
    started: mpsc::Receiver<()>,
    go: mpsc::Sender<()>,
}

fn blocker() -> (Blocker, impl Future<Output = ()> + Send + 'static) {
    let (started_tx, started) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let fut = async move {
        started_tx.send(()).unwrap();
        go_rx
            .recv_timeout(HANG)
            .expect("blocker was never released");
    };
    (Blocker { started, go }, fut)
}

impl Blocker {
    /// Waits until the blocking task runs (so its worker cannot move).
    fn wait_started(&self) {
        self.started
            .recv_timeout(HANG)
            .expect("the blocking task never ran");
    }

    fn release(self) {
        self.go.send(()).unwrap();
    }
}

/// Waits until worker `w` sleeps on its `SignalWaker` (it found nothing anywhere and parked).
fn wait_parked(shared: &Shared, w: usize) {
    // Half the watchdog's limit, so this reports the state before the watchdog aborts.
    let deadline = Instant::now() + HANG / 2;
    while shared.tree.waker(w).sleepers() == 0 || shared.idle.parked_mask() & (1 << w) == 0 {
        assert!(
            Instant::now() < deadline,
            "worker {w} never parked: {:?}",
            shared.tree.waker(w)
        );
        std::thread::yield_now();
    }
}

/// The state a worker with nothing to do must leave behind when it parks: no status bit, no
/// summary bit, no permit (a permit would have woken it).
fn assert_parked_clean(shared: &Shared, w: usize) {
    let waker = shared.tree.waker(w);
    assert_eq!(waker.status(), 0, "parked worker {w}: {waker:?}");
    assert_eq!(waker.partition_summary(), 0, "parked worker {w}: {waker:?}");
    assert_eq!(waker.permits(), 0, "parked worker {w}: {waker:?}");
    assert_eq!(shared.tree.scheduled_count(), 0);
}

fn block_on<F: Future>(f: F) -> F::Output {
    futures_lite::future::block_on(f)
}

type BoxFuture = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Aborts the test process with a message if the test it guards runs longer than [`HANG`] (a
/// lost wakeup shows up as a hang; this turns it into a clear failure instead of a stuck run).
struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn new(what: &'static str) -> Watchdog {
        let (done, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(HANG) {
                eprintln!("watchdog: `{what}` still running after {HANG:?} (a hang or lost wakeup); aborting");
                std::process::abort();
            }
        });
        Watchdog {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn yield_bit_is_set_while_the_yield_queue_holds_a_task_and_cleared_once_drained() {
    let _watchdog = Watchdog::new(
        "yield_bit_is_set_while_the_yield_queue_holds_a_task_and_cleared_once_drained",
    );
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);

    let (blk, blocker_fut) = blocker();
    let blocker_fut = Mutex::new(Some(blocker_fut));
    let seen_after_yield = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&seen_after_yield);
    let probe = Arc::clone(&shared);
    // Y: spawns the blocker into the worker's LIFO slot, then yields. The worker queues Y in its
    // yield queue (marking the yield bit) and runs the blocker next, which holds it still.
    let y = rt.spawn(async move {
        let b = crate::spawn(blocker_fut.lock().unwrap().take().unwrap());
        crate::yield_now().await;
        // Back from the yield queue: the bit is cleared only once the queue is seen empty, so it
        // is still set now.
        let status = probe.tree.waker(0).status();
        seen.store(
            if status & STATUS_BIT_YIELD != 0 { 1 } else { 2 },
            Ordering::SeqCst,
        );
        b.await.unwrap();
    });
    blk.wait_started();
    // The worker is inside the blocker; Y waits in its yield queue.
    assert_eq!(
        shared.yield_stealers[0].len(),
        1,
        "the yielded task is not in the yield queue"
    );
    let waker = shared.tree.waker(0);
    assert_ne!(
        waker.status() & STATUS_BIT_YIELD,
        0,
        "yield queue holds a task but STATUS_BIT_YIELD is clear: {waker:?}"
    );
    blk.release();
    block_on(y).unwrap();
    assert_eq!(
        seen_after_yield.load(Ordering::SeqCst),
        1,
        "STATUS_BIT_YIELD was clear when the yielded task was polled again"
    );
    // Drained: the worker sees the empty queue, clears the bit (try_unmark_yield) and parks.
    wait_parked(&shared, 0);
    assert_eq!(waker.status() & STATUS_BIT_YIELD, 0, "{waker:?}");
    assert_parked_clean(&shared, 0);
}

#[test]
fn yield_queue_and_partition_alternate_so_neither_starves() {
    let _watchdog = Watchdog::new("yield_queue_and_partition_alternate_so_neither_starves");
    const N: usize = 6;
    const CAP: usize = 10_000;
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);

    // 1. A task that yields until N partition tasks have run: the partition must not starve.
    let done = Arc::new(AtomicUsize::new(0));
    let (blk, bf) = blocker();
    let b = rt.spawn(bf);
    blk.wait_started();
    let d = Arc::clone(&done);
    let yielder = place_in_leaf(&shared, 0, async move {
        let mut yields = 0;
        while d.load(Ordering::SeqCst) < N && yields < CAP {
            crate::yield_now().await;
            yields += 1;
        }
        yields
    });
    let parts: Vec<_> = (0..N)
        .map(|i| {
            let d = Arc::clone(&done);
            place_in_leaf(&shared, 1 + i, async move {
                d.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    blk.release();
    block_on(b).unwrap();
    let yields = block_on(yielder).unwrap();
    for p in parts {
        block_on(p).unwrap();
    }
    assert!(
        yields <= 2 * N + 2,
        "a yielding task yielded {yields} times before {N} partition tasks ran: the partition \
         is starved by the yield queue"
    );

    // 2. A stream of partition tasks (each schedules the next in the tree) while a task yields
    //    5 times: the yield queue must not starve.
    let stream_runs = Arc::new(AtomicUsize::new(0));
    let yielder_done = Arc::new(AtomicBool::new(false));
    fn stream(
        shared: Arc<Shared>,
        runs: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
        leaf: usize,
    ) -> BoxFuture {
        Box::pin(async move {
            let n = runs.fetch_add(1, Ordering::SeqCst);
            if !stop.load(Ordering::SeqCst) && n < CAP {
                let next = stream(
                    Arc::clone(&shared),
                    Arc::clone(&runs),
                    Arc::clone(&stop),
                    (leaf + 1) % LEAVES,
                );
                drop(place_in_leaf(&shared, (leaf + 1) % LEAVES, next));
            }
        })
    }
    let (blk, bf) = blocker();
    let b = rt.spawn(bf);
    blk.wait_started();
    let (runs, stop) = (Arc::clone(&stream_runs), Arc::clone(&yielder_done));
    let yielder = place_in_leaf(&shared, 0, async move {
        for _ in 0..5 {
            crate::yield_now().await;
        }
        let seen = runs.load(Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        seen
    });
    drop(place_in_leaf(
        &shared,
        1,
        stream(
            Arc::clone(&shared),
            Arc::clone(&stream_runs),
            Arc::clone(&yielder_done),
            1,
        ),
    ));
    blk.release();
    block_on(b).unwrap();
    let stream_seen = block_on(yielder).unwrap();
    assert!(
        stream_seen <= 2 * 5 + 2,
        "{stream_seen} partition tasks ran while a task yielded 5 times: the yield queue is \
         starved by the partition"
    );
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

#[test]
fn lifo_slot_runs_a_just_spawned_task_first_but_at_most_max_lifo_polls_in_a_row() {
    let _watchdog = Watchdog::new(
        "lifo_slot_runs_a_just_spawned_task_first_but_at_most_max_lifo_polls_in_a_row",
    );
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));

    fn chain(i: usize, log: Arc<Mutex<Vec<String>>>) -> BoxFuture {
        Box::pin(async move {
            log.lock().unwrap().push(format!("C{i}"));
            if i < 9 {
                drop(crate::spawn(chain(i + 1, Arc::clone(&log))));
            }
        })
    }

    let (l, s) = (Arc::clone(&log), Arc::clone(&shared));
    // P puts T in the tree, then spawns C0 (into its worker's LIFO slot); every C spawns the next.
    let p = rt.spawn(async move {
        let l2 = Arc::clone(&l);
        let t = place_in_leaf(&s, 5, async move {
            l2.lock().unwrap().push("T".to_owned());
        });
        drop(crate::spawn(chain(0, Arc::clone(&l))));
        Some(t) // (a handle, passed out of the task)
    });
    let t = block_on(p).unwrap().unwrap();
    block_on(t).unwrap();
    wait_parked(&shared, 0);
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 11, "{log:?}");
    let t_pos = log.iter().position(|e| e == "T").unwrap();
    assert!(
        t_pos >= 1,
        "the task in the tree ran before the one just spawned into the LIFO slot: {log:?}"
    );
    assert!(
        t_pos <= MAX_LIFO_POLLS as usize,
        "{t_pos} LIFO-slot tasks ran before the task in the tree (limit {MAX_LIFO_POLLS}): {log:?}"
    );
    let chain_order: Vec<_> = log.iter().filter(|e| *e != "T").cloned().collect();
    let expected: Vec<_> = (0..10).map(|i| format!("C{i}")).collect();
    assert_eq!(chain_order, expected);
    assert_parked_clean(&shared, 0);
}

#[test]
fn partition_claim_takes_the_summary_marked_leaf_before_an_unmarked_one() {
    let _watchdog =
        Watchdog::new("partition_claim_takes_the_summary_marked_leaf_before_an_unmarked_one");
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    let (blk, bf) = blocker();
    let b = rt.spawn(bf);
    blk.wait_started();

    let log = Arc::new(Mutex::new(Vec::new()));
    let (la, lb) = (Arc::clone(&log), Arc::clone(&log));
    // A sits in leaf 0 (where a plain scan from the start of the partition looks first), B in
    // leaf 5. Both announced themselves: summary bits 0 and 5.
    let a = place_in_leaf(&shared, 0, async move { la.lock().unwrap().push('A') });
    let bt = place_in_leaf(&shared, 5, async move { lb.lock().unwrap().push('B') });
    let waker = shared.tree.waker(0);
    assert_eq!(waker.partition_summary(), (1 << 0) | (1 << 5), "{waker:?}");
    assert_ne!(waker.status() & STATUS_BIT_PARTITION, 0, "{waker:?}");
    // Hide leaf 0 from the summary (a stale-negative hint): the owner must follow the summary
    // first and so claim B first, then still find A (by a scan, or its re-sync before parking).
    assert!(waker.clear_partition_leaf(0, || true));
    assert_eq!(waker.partition_summary(), 1 << 5);

    blk.release();
    block_on(b).unwrap();
    block_on(a).unwrap();
    block_on(bt).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec!['B', 'A'],
        "the worker did not honour its partition summary first"
    );
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

#[test]
fn a_failed_claim_clears_a_stale_summary_bit_and_the_parked_worker_keeps_none() {
    let _watchdog =
        Watchdog::new("a_failed_claim_clears_a_stale_summary_bit_and_the_parked_worker_keeps_none");
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    let (blk, bf) = blocker();
    let b = rt.spawn(bf);
    blk.wait_started();

    let waker = shared.tree.waker(0);
    // A stale-positive hint: leaf 9 announced, but it holds no task.
    assert!(waker.mark_partition_leaf_active(9));
    assert_eq!(waker.partition_summary(), 1 << 9);
    assert_ne!(waker.status() & STATUS_BIT_PARTITION, 0);
    assert!(!shared.partition_has_work(0));
    // The claim searches the marked group, finds it empty, and clears the bit (and with the
    // summary at zero, STATUS_BIT_PARTITION) with clear-then-recheck.
    assert_eq!(shared.tree.claim_in_partition(0), None);
    assert_eq!(waker.partition_summary(), 0, "{waker:?}");
    assert_eq!(waker.status() & STATUS_BIT_PARTITION, 0, "{waker:?}");

    // The same with a live task next to the stale bit: the claim takes the task and clears only
    // the stale bit.
    assert!(waker.mark_partition_leaf_active(9));
    let t = place_in_leaf(&shared, 3, async { 7 });
    assert_eq!(waker.partition_summary(), (1 << 9) | (1 << 3));
    let slot = shared
        .tree
        .claim_in_partition(0)
        .expect("the task in leaf 3");
    assert_eq!(slot.leaf(), 3);
    shared.task_for_slot(slot).run();
    assert_eq!(block_on(t).unwrap(), 7);
    // Leaf 3 emptied (its bit cleared by the claim); leaf 9 stays a stale mark until a claim
    // looks at it or the owner re-syncs before parking.
    assert_eq!(waker.partition_summary() & (1 << 3), 0, "{waker:?}");

    blk.release();
    block_on(b).unwrap();
    // The worker must not keep the stale bit (nor STATUS_BIT_PARTITION) once it parks.
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

#[test]
fn sync_partition_summary_rederives_a_lost_bit_and_the_task_runs() {
    let _watchdog = Watchdog::new("sync_partition_summary_rederives_a_lost_bit_and_the_task_runs");
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    let (blk, bf) = blocker();
    let b = rt.spawn(bf);
    blk.wait_started();

    let waker = shared.tree.waker(0);
    let t = place_in_leaf(&shared, 7, async { "ran" });
    assert_eq!(waker.partition_summary(), 1 << 7);
    // Lose the bit (as an out-of-date clear would) and the PARTITION status bit with it.
    assert!(waker.clear_partition_leaf(7, || true));
    assert_eq!(waker.partition_summary(), 0);
    assert_eq!(waker.status() & STATUS_BIT_PARTITION, 0, "{waker:?}");
    assert!(shared.partition_has_work(0));
    let permits_before = waker.permits();

    // The re-sync re-derives the summary from the leaf words, re-arms STATUS_BIT_PARTITION and
    // with it releases a permit.
    assert!(shared.tree.sync_partition_summary(0));
    assert_eq!(waker.partition_summary(), 1 << 7, "{waker:?}");
    assert_ne!(waker.status() & STATUS_BIT_PARTITION, 0, "{waker:?}");
    assert!(
        waker.permits() > permits_before || permits_before == signal_waker::MAX_PERMITS,
        "re-arming STATUS_BIT_PARTITION released no permit: {waker:?}"
    );
    // A second sync changes nothing.
    assert!(shared.tree.sync_partition_summary(0));
    assert_eq!(waker.partition_summary(), 1 << 7);

    blk.release();
    block_on(b).unwrap();
    assert_eq!(block_on(t).unwrap(), "ran");
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

#[test]
fn a_parked_worker_with_a_lost_summary_bit_still_finds_the_task_before_sleeping() {
    let _watchdog = Watchdog::new(
        "a_parked_worker_with_a_lost_summary_bit_still_finds_the_task_before_sleeping",
    );
    // The final check before parking re-syncs the summary: a task whose bit was lost while the
    // worker was busy is found, not slept on.
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    for round in 0..if cfg!(miri) { 3 } else { 20 } {
        let (blk, bf) = blocker();
        let b = rt.spawn(bf);
        blk.wait_started();
        let waker = shared.tree.waker(0);
        let t = place_in_leaf(&shared, 1 + round % 40, async move { round });
        let bit = (1 + round % 40) as u32;
        assert!(waker.clear_partition_leaf(bit, || true));
        // Leave no trace of the notification: no status bit, no permit.
        waker.try_unmark_tasks();
        waker.drain_permits();
        assert_eq!(waker.status() & STATUS_BIT_PARTITION, 0);
        blk.release();
        block_on(b).unwrap();
        assert_eq!(block_on(t).unwrap(), round);
    }
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

#[test]
fn shutdown_leaves_every_signal_clear_and_no_permit() {
    let _watchdog = Watchdog::new("shutdown_leaves_every_signal_clear_and_no_permit");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let shared = Arc::clone(&rt.shared);
    let pending: Vec<_> = (0..100)
        .map(|_| rt.spawn(std::future::pending::<()>()))
        .collect();
    let yielding: Vec<_> = (0..4)
        .map(|_| {
            rt.spawn(async {
                loop {
                    crate::yield_now().await;
                }
            })
        })
        .collect();
    rt.shutdown_timeout(HANG);
    for h in pending.into_iter().chain(yielding) {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    for w in 0..shared.slots {
        let waker = shared.tree.waker(w);
        assert_eq!(waker.status(), 0, "worker {w}: {waker:?}");
        assert_eq!(waker.partition_summary(), 0, "worker {w}: {waker:?}");
        assert_eq!(waker.permits(), 0, "worker {w}: {waker:?}");
        assert_eq!(waker.sleepers(), 0, "worker {w}: {waker:?}");
        assert!(shared.lifo[w].load(Ordering::SeqCst).is_null());
        assert!(shared.yield_stealers[w].is_empty());
    }
    assert_eq!(shared.tree.reserved_count(), 0);
    assert_eq!(shared.tree.scheduled_count(), 0);
}

/// A timer registered from a thread that is not a worker reaches its owner through the owner's
/// status word: the message sets the timer-inbox queue group (its 0→1 released a permit) while the
/// owner is busy; once free the owner applies it (the timer is filed), clears the group, and parks
/// clean with the timer as its timeout. Dropping the sleep from here sends a cancel the same way.
#[test]
fn timer_messages_reach_the_owner_through_its_status_word() {
    use crate::time::driver::TIMER_INBOX_GROUP;
    let rt = one_worker();
    let shared = Arc::clone(&rt.shared);
    wait_parked(&shared, 0);
    let (b, fut) = blocker();
    rt.spawn(fut);
    b.wait_started();
    let mut sleep = {
        let _in_runtime = crate::context::enter(&shared, None);
        crate::time::sleep(Duration::from_secs(3600))
    };
    let waker = futures_lite::future::block_on(futures_lite::future::poll_fn(|cx| {
        std::task::Poll::Ready(cx.waker().clone())
    }));
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut sleep).poll(&mut cx).is_pending());
    let status = shared.tree.waker(0).status();
    assert_ne!(status & (1 << TIMER_INBOX_GROUP), 0, "{status:#x}");
    assert!(shared.tree.waker(0).permits() >= 1);
    assert_eq!(shared.timers.counts(), (0, 1));
    b.release();
    let deadline = Instant::now() + HANG / 2;
    while shared.timers.counts() != (1, 0) {
        assert!(Instant::now() < deadline, "the owner never filed the timer");
        std::thread::yield_now();
    }
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
    drop(sleep);
    while shared.timers.counts() != (0, 0) {
        assert!(
            Instant::now() < deadline,
            "the owner never applied the cancel"
        );
        std::thread::yield_now();
    }
    wait_parked(&shared, 0);
    assert_parked_clean(&shared, 0);
}

/// Steal fairness at runtime level (the tree's own property is
/// `property_summary_tree_reserve_fairness`): whatever leaves the runnable tasks sit in, no leaf
/// is starved while work exists, even while the owner of half of them is stuck in a long poll.
/// Each case blocks one of two workers and places tasks in random leaves of both partitions;
/// every task must run (the free worker takes them from the stuck owner's announced partition).
#[cfg(not(miri))]
mod steal_fairness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn property_no_leaf_starves_while_work_exists(
            leaves in proptest::collection::vec(0..LEAVES, 1..48),
        ) {
            let rt = Runtime::builder()
                .worker_threads(2)
                .max_tasks(LEAVES * summary_tree::SLOTS_PER_LEAF)
                .build()
                .unwrap();
            let shared = Arc::clone(&rt.shared);
            let (b, fut) = blocker();
            rt.spawn(fut);
            b.wait_started();
            let (tx, rx) = mpsc::channel();
            for (i, &leaf) in leaves.iter().enumerate() {
                let tx = tx.clone();
                drop(place_in_leaf(&shared, leaf, async move {
                    tx.send(i).unwrap();
                }));
                // As a remote spawn does after its push: wake a parked worker if nobody searches.
                shared.notify_idle();
            }
            let mut ran = vec![false; leaves.len()];
            for _ in 0..leaves.len() {
                let i = rx.recv_timeout(HANG).expect("a task in some leaf never ran");
                ran[i] = true;
            }
            prop_assert!(ran.iter().all(|&r| r));
            b.release();
        }
    }
}
