//! Fairness under ping-pong saturation: a runnable task waits a bounded number of other polls,
//! whatever mix of LIFO hand-offs, local-queue displacement, tree spawns and yields keeps the
//! workers busy.
//!
//! Every task here counts its polls on one shared counter, so a task's *scheduling delay* is the
//! number of polls (by anyone) between the moment it became runnable and its first poll. The test
//! fails if some task's delay exceeds a bound proportional to the number of live tasks, or if the
//! pairs reach a poll budget without all of them having started (starvation, reported instead of
//! hanging).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use worker_runtime::Runtime;

/// Counts every poll of the wrapped future on a shared clock.
struct Counted<F> {
    clock: Arc<AtomicU64>,
    fut: F,
}

impl<F: Future + Unpin> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.clock.fetch_add(1, Ordering::Relaxed);
        Pin::new(&mut self.fut).poll(cx)
    }
}

struct Outcome {
    /// Largest clock distance between a pair's spawn and its first poll.
    worst_delay: u64,
    /// Whether every pair started before the poll budget ran out.
    all_started: bool,
    live_tasks: u64,
}

/// `idle` tasks that wait for the end, then `pairs` ping-pong pairs, all spawned from `block_on`;
/// returns the worst delay to first poll. The idle tasks shift the phase of the worker's search
/// (how many searches came before the first LIFO hand-off), so the runs cover every phase.
fn ping_pong_saturation(workers: usize, idle: usize, pairs: usize) -> Outcome {
    let rt = Runtime::builder().worker_threads(workers).build().unwrap();
    let clock = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let worst = Arc::new(AtomicU64::new(0));
    let live_tasks = 2 * pairs as u64;
    // Far more polls than a fair scheduler needs for every pair to start (it needs ~live_tasks).
    let budget = live_tasks * 20_000;
    let all_started = rt.block_on(async {
        let (started_tx, started_rx) = async_channel::unbounded::<()>();
        let (end_tx, end_rx) = async_channel::unbounded::<()>();
        let mut handles = Vec::new();
        for _ in 0..idle {
            let end = end_rx.clone();
            handles.push(worker_runtime::spawn(Counted {
                clock: Arc::clone(&clock),
                fut: Box::pin(async move {
                    let _ = end.recv().await;
                }),
            }));
        }
        for _ in 0..pairs {
            let (a_tx, a_rx) = async_channel::unbounded::<u64>();
            let (b_tx, b_rx) = async_channel::unbounded::<u64>();
            let spawned_at = clock.load(Ordering::Relaxed);
            let (c1, r1, w1, s1) = (
                Arc::clone(&clock),
                Arc::clone(&running),
                Arc::clone(&worst),
                started_tx.clone(),
            );
            let ping = async move {
                let delay = c1.load(Ordering::Relaxed).saturating_sub(spawned_at);
                w1.fetch_max(delay, Ordering::Relaxed);
                let _ = s1.send(()).await;
                let mut n = 0u64;
                while r1.load(Ordering::Relaxed) {
                    if a_tx.send(n).await.is_err() {
                        break;
                    }
                    match b_rx.recv().await {
                        Ok(m) => n = m + 1,
                        Err(_) => break,
                    }
                }
            };
            let (c2, r2) = (Arc::clone(&clock), Arc::clone(&running));
            let pong = async move {
                while r2.load(Ordering::Relaxed) {
                    match a_rx.recv().await {
                        Ok(m) => {
                            if b_tx.send(m).await.is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            };
            handles.push(worker_runtime::spawn(Counted {
                clock: Arc::clone(&clock),
                fut: Box::pin(ping),
            }));
            handles.push(worker_runtime::spawn(Counted {
                clock: c2,
                fut: Box::pin(pong),
            }));
        }
        drop(started_tx);
        let mut started = 0;
        while started < pairs {
            // Wait for the next report, but give up once the pairs have used the budget.
            let next = futures_lite::future::or(async { started_rx.recv().await.ok() }, async {
                while clock.load(Ordering::Relaxed) < budget {
                    futures_lite::future::yield_now().await;
                    std::thread::yield_now();
                }
                None
            })
            .await;
            match next {
                Some(()) => started += 1,
                None => break,
            }
        }
        running.store(false, Ordering::Relaxed);
        drop(end_tx);
        started == pairs
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(10));
    Outcome {
        worst_delay: worst.load(Ordering::Relaxed),
        all_started,
        live_tasks,
    }
}

/// `bound`: polls per live task that a runnable task may wait.
fn check(workers: usize, bound: u64) {
    let _dog = common::Watchdog::new("starvation");
    for run in 0..common::sized(1, 5, 20) {
        let out = ping_pong_saturation(workers, run % 4, common::sized(4, 100, 100));
        eprintln!(
            "workers {workers} run {run}: worst delay to first poll {} polls ({} live tasks)",
            out.worst_delay, out.live_tasks
        );
        assert!(
            out.all_started,
            "workers {workers} run {run}: some pairs were never polled (starved)"
        );
        // A fair scheduler reaches every runnable task within a constant number of rounds over
        // the live tasks; a starving one never does (or exceeds it by orders of magnitude).
        assert!(
            out.worst_delay <= bound * out.live_tasks,
            "workers {workers} run {run}: a task waited {} polls (bound {})",
            out.worst_delay,
            bound * out.live_tasks
        );
    }
}

#[test]
fn ping_pong_saturation_one_worker_starves_nobody() {
    // One worker: a partition task gets a turn every 2 × (MAX_LIFO_POLLS + 1) polls, so it waits
    // about 8 polls per task ahead of it.
    check(1, 16);
}

#[test]
fn ping_pong_saturation_four_workers_starves_nobody() {
    // The clock counts every worker's polls, and with more workers than CPUs the OS holds a worker
    // off its CPU for whole time slices while the others poll on: a generous bound.
    check(4, 256);
}
