//! `docs/testing.md` §3.3 and §3.5 with time: timers firing at a high rate while tasks yield
//! (neither starves the other), and `shutdown_timeout` with a task that blocks its worker (the
//! call returns at its timeout, leaves that thread detached and says so; the thread exits once the
//! poll returns).

mod common;

use common::{wait_until, Watchdog};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use worker_runtime::time::{interval, sleep};
use worker_runtime::{yield_now, Runtime};

#[test]
fn high_frequency_timers_and_yields_do_not_starve_each_other() {
    let _w = Watchdog::new("high_frequency_timers_and_yields_do_not_starve_each_other");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let yields = Arc::new(AtomicUsize::new(0));
    // Yielders: always runnable, through the yield queues, until the timers are done.
    let yielders: Vec<_> = (0..8)
        .map(|_| {
            let (stop, yields) = (Arc::clone(&stop), Arc::clone(&yields));
            rt.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    yields.fetch_add(1, Ordering::Relaxed);
                    yield_now().await;
                }
            })
        })
        .collect();
    // Timers: 64 tasks, each ticking a 200 µs interval 50 times, and 64 more sleeping 100 µs
    // in a loop.
    let ticks = Arc::new(AtomicUsize::new(0));
    let mut timers = Vec::new();
    for k in 0..128 {
        let (ticks, yields) = (Arc::clone(&ticks), Arc::clone(&yields));
        timers.push(rt.spawn(async move {
            let yields_at_start = yields.load(Ordering::Relaxed);
            let mut iv = interval(Duration::from_micros(200));
            for _ in 0..50 {
                if k % 2 == 0 {
                    iv.tick().await;
                } else {
                    sleep(Duration::from_micros(100)).await;
                }
                ticks.fetch_add(1, Ordering::Relaxed);
            }
            // The yielders ran meanwhile: the timers did not starve them either.
            yields.load(Ordering::Relaxed) > yields_at_start
        }));
    }
    let all_saw_yields = common::block_on(async {
        let mut all = true;
        for h in timers {
            all &= h.await.unwrap();
        }
        all
    });
    // Every timer task finished while the yielders were still running (they stop only now).
    stop.store(true, Ordering::SeqCst);
    for h in yielders {
        common::block_on(h).unwrap();
    }
    assert_eq!(ticks.load(Ordering::Relaxed), 128 * 50);
    assert!(all_saw_yields, "a timer task saw no yield while it ran");
}

#[test]
fn shutdown_timeout_with_a_blocked_worker_detaches_it_and_says_so() {
    let _w = Watchdog::new("shutdown_timeout_with_a_blocked_worker_detaches_it_and_says_so");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let probe = rt.debug_probe();
    let (started, release) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let blocked = {
        let (started, release) = (Arc::clone(&started), Arc::clone(&release));
        rt.spawn(async move {
            started.store(true, Ordering::SeqCst);
            // Blocks its worker until the test releases it (after shutdown_timeout returned).
            while !release.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            // The poll returns pending: after shutdown the task is not run again.
            yield_now().await;
            1
        })
    };
    let sleeper = rt.spawn(async { sleep(Duration::from_secs(3600)).await });
    wait_until(|| started.load(Ordering::SeqCst));
    let outcome = rt.shutdown_timeout(Duration::from_millis(20));
    assert!(!outcome.is_complete(), "{outcome:?}");
    assert_eq!(outcome.threads_left_running(), 1, "{outcome:?}");
    // Not running: cancelled at once, its timer with it.
    assert!(common::block_on(sleeper).unwrap_err().is_cancelled());
    release.store(true, Ordering::SeqCst);
    // The poll returns (pending), its worker finishes the task as cancelled and exits.
    assert!(common::block_on(blocked).unwrap_err().is_cancelled());
    wait_until(|| probe.live_threads() == 0);
    wait_until(|| probe.timers() == (0, 0));
}

#[test]
fn shutdown_timeout_returns_once_work_drains() {
    let _w = Watchdog::new("shutdown_timeout_returns_once_work_drains");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let h = rt.spawn(async {
        sleep(Duration::from_millis(2)).await;
        5
    });
    assert_eq!(common::block_on(h).unwrap(), 5);
    // Returns as soon as the threads have left: an hour-long timeout must not be waited out.
    let outcome = rt.shutdown_timeout(Duration::from_secs(3600));
    assert!(outcome.is_complete());
    assert_eq!(outcome.threads_left_running(), 0);
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let probe = rt.debug_probe();
    // `shutdown_background` waits for no thread; they all leave on their own.
    let _ = rt.shutdown_background();
    assert!(probe.is_shutdown());
    wait_until(|| probe.live_threads() == 0);
}
