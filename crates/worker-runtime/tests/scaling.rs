//! `docs/testing.md` §3.2 and §3.4: the worker count at run time. Manual changes with
//! `set_worker_count` (range errors, rebalance with no task lost, remote spawns reaching the new
//! owners, no phantom worker after a scale-down, a retired worker's timers still firing), the
//! builder's bounds, and automatic scaling under a load step up and down.

mod common;

use common::{wait_idle_clean, wait_until, Watchdog};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use worker_runtime::time::sleep;
use worker_runtime::{yield_now, Runtime, WorkerCountError};

/// A runtime with a fixed count (no automatic scaling) of at most `max` workers, moved by hand
/// to `start`.
fn runtime(start: usize, max: usize) -> Runtime {
    let rt = Runtime::builder().worker_threads(max).build().unwrap();
    rt.set_worker_count(start).unwrap();
    rt
}

/// After a change to `n` workers: exactly `n` threads run (plus the service), every slot beyond
/// `n` is clean (no status bit, permit, sleeper or summary bit, not parked), and the idle runtime
/// is quiescent.
fn assert_settled(rt: &Runtime, n: usize) {
    let probe = rt.debug_probe();
    assert_eq!(rt.worker_count(), n);
    wait_until(|| probe.running_workers() == n && probe.live_threads() == n + 1);
    wait_idle_clean(&probe);
    for (w, s) in probe.signal_state().iter().enumerate().skip(n) {
        assert_eq!(*s, (0, 0, 0, 0), "phantom state in retired slot {w}");
        assert_eq!(probe.parked_mask() & (1 << w), 0, "retired slot {w} parked");
    }
}

#[test]
fn set_worker_count_checks_its_range() {
    let fixed = Runtime::builder().worker_threads(2).max_workers(3).build();
    // `max_workers` alone turns on automatic scaling, from 1 (the default minimum).
    let rt = fixed.unwrap();
    assert_eq!(
        rt.set_worker_count(0).unwrap_err(),
        WorkerCountError::OutOfRange {
            requested: 0,
            allowed: 1..=3
        }
    );
    assert_eq!(
        rt.handle().set_worker_count(4).unwrap_err().to_string(),
        "worker count 4 is out of range: allowed 1..=3"
    );
    let scaled = Runtime::builder()
        .worker_threads(2)
        .min_workers(2)
        .max_workers(3)
        .build()
        .unwrap();
    assert!(scaled.set_worker_count(1).is_err(), "below min_workers");
    scaled.set_worker_count(3).unwrap();
    assert_settled(&scaled, 3);
}

#[test]
fn worker_threads_alone_is_a_fixed_count_that_can_move_by_hand() {
    let _w = Watchdog::new("worker_threads_alone_is_a_fixed_count_that_can_move_by_hand");
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    assert_settled(&rt, 1);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cpus.max(1);
    rt.set_worker_count(max).unwrap();
    assert_settled(&rt, max);
    rt.set_worker_count(1).unwrap();
    assert_settled(&rt, 1);
    assert!(rt.set_worker_count(max + 1).is_err());
}

#[test]
fn builder_bounds_are_validated() {
    let err = Runtime::builder()
        .min_workers(3)
        .max_workers(2)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "min_workers");
    let err = Runtime::builder()
        .worker_threads(5)
        .min_workers(1)
        .max_workers(4)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "worker_threads");
    assert!(err.to_string().contains("1..=4"), "{err}");
    let err = Runtime::builder().max_workers(65).build().unwrap_err();
    assert_eq!(err.field(), "max_workers");
    let err = Runtime::builder()
        .min_workers(1)
        .worker_keep_alive(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "worker_keep_alive");
}

/// Remove and add workers repeatedly while tasks aimed at every partition run: no task is lost,
/// and after each change remote spawns (whose tree notification goes to the new owner of their
/// leaf, `mark_partition_leaf_active`) reach a worker.
#[test]
fn rebalance_under_load_loses_no_task() {
    let _w = Watchdog::new("rebalance_under_load_loses_no_task");
    let rt = runtime(2, 4);
    let done = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    let counts = [4, 1, 3, 2, 4, 1, 2];
    for (round, &n) in counts.iter().enumerate() {
        for i in 0..300 {
            let done = Arc::clone(&done);
            handles.push(rt.spawn(async move {
                for _ in 0..(i % 4) {
                    yield_now().await;
                }
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        rt.set_worker_count(n).unwrap();
        // A parked runtime with the new assignment must still see remote spawns.
        assert_settled(&rt, n);
        let before = done.load(Ordering::SeqCst);
        let probe_tasks: Vec<_> = (0..4 * n).map(|_| rt.spawn(async { 1 })).collect();
        let got: usize = common::block_on(async {
            let mut sum = 0;
            for h in probe_tasks {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(got, 4 * n, "round {round}");
        assert!(done.load(Ordering::SeqCst) >= before);
    }
    common::block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 300 * counts.len());
}

/// A worker that retires while its wheel holds timers: they still fire (the service serves a
/// vacant slot's wheel), and a sleep dropped after the retirement is cancelled there.
#[test]
fn a_retired_workers_timers_still_fire() {
    let _w = Watchdog::new("a_retired_workers_timers_still_fire");
    let rt = runtime(4, 4);
    let probe = rt.debug_probe();
    let sleepers: Vec<_> = (0..64)
        .map(|i| {
            rt.spawn(async move {
                let start = Instant::now();
                sleep(Duration::from_millis(30 + i % 7)).await;
                start.elapsed()
            })
        })
        .collect();
    let far: Vec<_> = (0..16)
        .map(|_| rt.spawn(async { sleep(Duration::from_secs(3600)).await }))
        .collect();
    wait_until(|| probe.timers().0 == 80);
    rt.set_worker_count(1).unwrap();
    for h in sleepers {
        let took = common::block_on(h).unwrap();
        assert!(took >= Duration::from_millis(30));
    }
    for h in &far {
        h.abort();
    }
    for h in far {
        assert!(common::block_on(h).unwrap_err().is_cancelled());
    }
    wait_until(|| probe.timers() == (0, 0));
    assert_settled(&rt, 1);
}

#[test]
fn shutdown_while_workers_retire_does_not_hang() {
    let _w = Watchdog::new("shutdown_while_workers_retire_does_not_hang");
    for _ in 0..common::reps(20) {
        let rt = runtime(4, 4);
        for _ in 0..100 {
            rt.spawn(async {
                yield_now().await;
            });
        }
        rt.set_worker_count(1).unwrap();
        let out = rt.shutdown_timeout(Duration::from_secs(3600));
        assert!(out.is_complete());
    }
}

/// §3.4: a load step up makes the service add workers (work waits while every worker is busy),
/// and once the load is gone it retires them one by one after `worker_keep_alive`, never below
/// `min_workers` or above `max_workers`. Prints the trace (worker count over time).
#[test]
fn automatic_scaling_follows_a_load_step() {
    let _w = Watchdog::new("automatic_scaling_follows_a_load_step");
    let rt = Runtime::builder()
        .min_workers(1)
        .max_workers(3)
        .worker_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    assert_eq!(rt.worker_count(), 1);
    let start = Instant::now();
    let mut trace = vec![(Duration::ZERO, 1)];
    let stop = Arc::new(AtomicBool::new(false));
    // The step up: more busy tasks than workers, each yielding often.
    let busy: Vec<_> = (0..6)
        .map(|_| {
            let stop = Arc::clone(&stop);
            rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(200) {
                        std::hint::spin_loop();
                    }
                    yield_now().await;
                }
            })
        })
        .collect();
    let mut peak = 1;
    let record = |trace: &mut Vec<(Duration, usize)>| {
        let n = rt.worker_count();
        if trace.last().map(|&(_, m)| m) != Some(n) {
            trace.push((start.elapsed(), n));
        }
        n
    };
    while peak < 3 {
        peak = peak.max(record(&mut trace));
        std::thread::yield_now();
    }
    let step_down = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for h in busy {
        common::block_on(h).unwrap();
    }
    // The step down: idle, so the workers retire one by one.
    while record(&mut trace) > 1 {
        std::thread::yield_now();
    }
    println!("worker count over time (load stops at {step_down:?}): {trace:?}");
    assert!(trace.iter().all(|&(_, n)| (1..=3).contains(&n)));
    assert_eq!(peak, 3);
    assert_settled(&rt, 1);
}
