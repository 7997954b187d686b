//! `docs/testing.md` §3.1, single-worker lifecycle: tasks spawned from outside and from inside run
//! to completion; the idle worker parks with a clean `SignalWaker`; a parked worker is woken by new
//! work; shutdown cancels what is left and leaves every signal clear and no permit.

mod common;

use common::{
    assert_idle_clean, assert_shut_down_clean, block_on, wait_all_parked, wait_idle_clean,
    DropCounter, Watchdog, HANG,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use worker_runtime::{spawn, yield_now, Handle, Runtime};

#[test]
fn single_worker_lifecycle_parks_clean_and_shuts_down_clean() {
    let _watchdog = Watchdog::new("single_worker_lifecycle_parks_clean_and_shuts_down_clean");
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_name("lifecycle")
        .build()
        .unwrap();
    let probe = rt.debug_probe();
    assert_eq!(probe.active_workers(), 1);

    // A fresh runtime's worker parks at once, clean.
    wait_all_parked(&probe);
    assert_idle_clean(&probe);
    assert_eq!(probe.live_tasks(), 0);

    let ran = Arc::new(AtomicUsize::new(0));
    let drops = DropCounter::new();

    // From outside: Runtime::spawn and a Handle on another plain thread.
    let mut outside: Vec<_> = (0..50u64)
        .map(|i| {
            let (ran, g) = (Arc::clone(&ran), drops.guard());
            rt.spawn(async move {
                let _g = g;
                if i % 3 == 0 {
                    yield_now().await;
                }
                ran.fetch_add(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let handle = rt.handle();
    let (ran2, drops2) = (Arc::clone(&ran), Arc::clone(&drops));
    outside.extend(
        std::thread::spawn(move || {
            (50..100u64)
                .map(|i| {
                    let (ran, g) = (Arc::clone(&ran2), drops2.guard());
                    handle.spawn(async move {
                        let _g = g;
                        ran.fetch_add(1, Ordering::SeqCst);
                        i
                    })
                })
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap(),
    );

    // From inside: block_on spawns, tasks spawn children (nested), and a task finds its runtime.
    let (ran3, drops3) = (Arc::clone(&ran), Arc::clone(&drops));
    let inside_sum = rt.block_on(async move {
        let hs: Vec<_> = (0..50u64)
            .map(|i| {
                let (ran, drops, g) = (Arc::clone(&ran3), Arc::clone(&drops3), drops3.guard());
                spawn(async move {
                    let _g = g;
                    let g2 = drops.guard();
                    let ran2 = Arc::clone(&ran);
                    let child = spawn(async move {
                        let _g = g2;
                        yield_now().await;
                        ran2.fetch_add(1, Ordering::SeqCst);
                        i * 10
                    });
                    let from_here = Handle::try_current()
                        .expect("a task runs inside its runtime")
                        .spawn(async { 1u64 })
                        .await
                        .unwrap();
                    ran.fetch_add(1, Ordering::SeqCst);
                    child.await.unwrap() + from_here
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(inside_sum, (0..50u64).map(|i| i * 10 + 1).sum::<u64>());
    let outside_sum: u64 = outside.into_iter().map(|h| block_on(h).unwrap()).sum();
    assert_eq!(outside_sum, (0..100u64).sum::<u64>());
    assert_eq!(ran.load(Ordering::SeqCst), 100 + 50 + 50);

    // All done: the worker parks, with no status bit, summary bit or permit left over.
    wait_all_parked(&probe);
    assert_idle_clean(&probe);
    assert_eq!(probe.live_tasks(), 0);
    assert_eq!(drops.created(), 200);
    assert_eq!(drops.dropped(), 200);

    // A parked worker wakes for new work, several times over.
    for i in 0..common::reps(20) as u32 {
        assert_eq!(block_on(rt.spawn(async move { i + 1 })).unwrap(), i + 1);
        wait_all_parked(&probe);
        assert_idle_clean(&probe);
    }

    // Some tasks that never finish, then shutdown: they are cancelled, their futures dropped.
    let pending: Vec<_> = (0..30)
        .map(|_| {
            let g = drops.guard();
            rt.spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            })
        })
        .collect();
    let late = rt.handle();
    rt.shutdown_timeout(HANG);
    assert_shut_down_clean(&probe);
    for h in pending {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!(drops.created(), 230);
    assert_eq!(drops.dropped(), 230);
    // Still clean after the handles resolved and a late spawn was refused.
    assert!(block_on(late.spawn(async {})).unwrap_err().is_cancelled());
    assert_shut_down_clean(&probe);
}

#[test]
fn idle_multi_worker_runtime_parks_every_worker_clean() {
    let _watchdog = Watchdog::new("idle_multi_worker_runtime_parks_every_worker_clean");
    let rt = Runtime::builder().worker_threads(3).build().unwrap();
    let probe = rt.debug_probe();
    for round in 0..common::reps(10) as u64 {
        let hs: Vec<_> = (0..200u64)
            .map(|i| {
                rt.spawn(async move {
                    for _ in 0..(i % 4) {
                        yield_now().await;
                    }
                    i + round
                })
            })
            .collect();
        let sum: u64 = hs.into_iter().map(|h| block_on(h).unwrap()).sum();
        assert_eq!(sum, (0..200u64).sum::<u64>() + 200 * round);
        // Several workers: a parked one may still be on its way to consume a permit.
        wait_idle_clean(&probe);
        assert_eq!(probe.live_tasks(), 0);
    }
    rt.shutdown_timeout(HANG);
    assert_shut_down_clean(&probe);
}

#[test]
fn dropping_the_runtime_shuts_down_like_shutdown_timeout() {
    let _watchdog = Watchdog::new("dropping_the_runtime_shuts_down_like_shutdown_timeout");
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let probe = rt.debug_probe();
    let drops = DropCounter::new();
    let hs: Vec<_> = (0..40)
        .map(|_| {
            let g = drops.guard();
            rt.spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            })
        })
        .collect();
    drop(rt);
    assert_shut_down_clean(&probe);
    for h in hs {
        assert!(block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!((drops.created(), drops.dropped()), (40, 40));
}
