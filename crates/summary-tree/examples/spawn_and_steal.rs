//! A tiny executor loop on the summary tree: two workers claim from their partitions, steal from
//! each other, sync their summaries and park on their wakers; a third thread spawns tasks
//! (reserve + schedule). Each "task" runs three times (it reschedules itself twice) and is then
//! released. Halfway through, the worker count drops to one and then comes back (a rebalance).
//!
//! Run: `cargo run -p summary-tree --example spawn_and_steal`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;
use summary_tree::{SummaryTree, SummaryTreeConfig};

const TASKS: usize = 10_000;
const RUNS_PER_TASK: usize = 3;

fn main() {
    let workers = 2;
    let tree = SummaryTree::new(SummaryTreeConfig::new(workers).max_tasks(1 << 16)).unwrap();
    // What the runtime keeps per slot (indexed by `SlotId::index`): here, how often it ran.
    let runs: Vec<AtomicUsize> = (0..tree.max_tasks()).map(|_| AtomicUsize::new(0)).collect();
    let finished = AtomicUsize::new(0);
    let per_worker: Vec<AtomicUsize> = (0..workers).map(|_| AtomicUsize::new(0)).collect();

    thread::scope(|s| {
        for w in 0..workers {
            let (tree, runs, finished, per_worker) = (&tree, &runs, &finished, &per_worker);
            s.spawn(move || {
                let waker = tree.waker(w);
                let mut victim = w + 1;
                while finished.load(Ordering::SeqCst) < TASKS {
                    victim += 1;
                    let slot = tree.claim_in_partition(w).or_else(|| tree.steal(w, victim));
                    if let Some(slot) = slot {
                        per_worker[w].fetch_add(1, Ordering::Relaxed);
                        // "Poll" the task.
                        if runs[slot.index()].fetch_add(1, Ordering::SeqCst) + 1 < RUNS_PER_TASK {
                            tree.schedule(slot); // it woke itself
                        } else {
                            runs[slot.index()].store(0, Ordering::SeqCst);
                            tree.release_task(slot); // complete: the slot can be reused
                            if finished.fetch_add(1, Ordering::SeqCst) + 1 == TASKS {
                                (0..workers).for_each(|v| tree.waker(v).release_permit());
                            }
                        }
                        continue;
                    }
                    // Nothing found: re-derive the summary and park unless work showed up.
                    if !tree.sync_partition_summary(w) {
                        waker.acquire_timeout(Duration::from_millis(100));
                    }
                }
            });
        }
        let tree = &tree;
        s.spawn(move || {
            for i in 0..TASKS {
                if i == TASKS / 2 {
                    tree.set_active_workers(1).unwrap();
                }
                if i == 3 * TASKS / 4 {
                    tree.set_active_workers(2).unwrap();
                }
                // Spread spawns over the partitions, as a runtime's remote spawn would.
                let hint = tree.partition_range(i % workers).start;
                let slot = tree.reserve_task(hint).expect("capacity");
                tree.schedule(slot);
            }
        });
    });

    println!(
        "{TASKS} tasks x {RUNS_PER_TASK} runs; polls per worker: {:?}; epoch {}; reserved now: {}; leaves allocated: {}",
        per_worker.iter().map(|c| c.load(Ordering::Relaxed)).collect::<Vec<_>>(),
        tree.assignment().epoch(),
        tree.reserved_count(),
        tree.allocated_leaves(),
    );
    assert_eq!(tree.reserved_count(), 0);
    assert_eq!(tree.scheduled_count(), 0);
}
