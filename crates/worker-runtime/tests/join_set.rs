//! `task::JoinSet`, as tokio's: results in completion order, `try_join_next`, `join_all`,
//! `abort_all`, `shutdown`, `spawn_on`, `len` / `is_empty`, and dropping the set aborts its tasks.

mod common;

use common::{DropCounter, Watchdog};
use std::time::Duration;
use worker_runtime::task::{yield_now, JoinSet};
use worker_runtime::time::sleep;
use worker_runtime::Runtime;

fn runtime() -> Runtime {
    Runtime::builder().worker_threads(2).build().unwrap()
}

#[test]
fn results_come_in_completion_order() {
    let _w = Watchdog::new("results_come_in_completion_order");
    let rt = runtime();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for (i, ms) in [30u64, 10, 20].into_iter().enumerate() {
            set.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                i
            });
        }
        assert_eq!(set.len(), 3);
        let mut order = Vec::new();
        while let Some(r) = set.join_next().await {
            order.push(r.unwrap());
        }
        assert_eq!(order, [1, 2, 0]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn many_tasks_drain_and_panics_are_errors() {
    let _w = Watchdog::new("many_tasks_drain_and_panics_are_errors");
    let rt = runtime();
    let n = common::sized(50, 10_000, 100_000);
    rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..n {
            set.spawn(async move {
                if i % 3 == 0 {
                    yield_now().await;
                }
                if i == 7 {
                    panic!("task 7");
                }
                i
            });
        }
        let (mut sum, mut panics) = (0usize, 0);
        while let Some(r) = set.join_next().await {
            match r {
                Ok(v) => sum += v,
                Err(e) => {
                    assert!(e.is_panic());
                    panics += 1;
                }
            }
        }
        assert_eq!(panics, 1);
        assert_eq!(sum, (0..n).sum::<usize>() - 7);
    });
}

#[test]
fn try_join_next_join_all_and_spawn_on() {
    let rt = runtime();
    let handle = rt.handle();
    let mut set = JoinSet::new();
    // From a plain thread, through a Handle.
    for i in 0..4u32 {
        set.spawn_on(async move { i }, &handle);
    }
    let mut got = Vec::new();
    while got.len() < 4 {
        if let Some(r) = set.try_join_next() {
            got.push(r.unwrap());
        } else {
            std::thread::yield_now();
        }
    }
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
    assert!(set.try_join_next().is_none());
    let mut set = JoinSet::new();
    for i in 0..5u32 {
        set.spawn_on(async move { i * i }, &handle);
    }
    let mut all = rt.block_on(set.join_all());
    all.sort_unstable();
    assert_eq!(all, [0, 1, 4, 9, 16]);
}

#[test]
fn abort_all_shutdown_and_drop_cancel_the_tasks() {
    let _w = Watchdog::new("abort_all_shutdown_and_drop_cancel_the_tasks");
    let rt = runtime();
    let drops = DropCounter::new();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..10 {
            let g = drops.guard();
            set.spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            });
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            assert!(r.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 10);
        for _ in 0..10 {
            let g = drops.guard();
            set.spawn(async move {
                let _g = g;
                sleep(Duration::from_secs(3600)).await;
            });
        }
        set.shutdown().await;
        assert!(set.is_empty());
        // Dropping a set with tasks in it aborts them.
        let mut set = JoinSet::new();
        let g = drops.guard();
        let abort = set.spawn(async move {
            let _g = g;
            std::future::pending::<()>().await;
        });
        drop(set);
        while !abort.is_finished() {
            yield_now().await;
        }
    });
    assert_eq!(drops.dropped(), drops.created());
}
