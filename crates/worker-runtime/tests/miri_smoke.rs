//! A small end-to-end run of the runtime, sized for Miri (each test builds a 2-worker runtime and
//! runs a handful of tasks): spawns from `block_on` and from a plain thread, yields, an abort, a
//! panic and shutdown. Under Miri this interprets the real worker threads, futex parking, the
//! task state machine, the summary tree and the slot table with strict provenance, so it is the
//! crate's Miri smoke test (`[package.metadata.verify] miri-args`); it also runs as a plain test.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use worker_runtime::{spawn, yield_now, Runtime};

/// Long enough never to cut a healthy shutdown short, even under Miri; it only bounds a hang.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(600);

fn runtime() -> Runtime {
    Runtime::builder()
        .worker_threads(2)
        .max_tasks(256)
        .build()
        .unwrap()
}

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Never ready (until dropped); holds a [`DropCount`].
struct Forever(#[allow(dead_code)] DropCount);

impl Future for Forever {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[test]
fn smoke_spawn_yield_and_await() {
    let rt = runtime();
    let total = rt.block_on(async {
        let handles: Vec<_> = (0..4u64)
            .map(|i| {
                spawn(async move {
                    for _ in 0..2 {
                        yield_now().await;
                    }
                    // A nested spawn from a worker (the LIFO slot path).
                    spawn(async move { i * 10 }).await.unwrap() + i
                })
            })
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..4).map(|i| i * 11).sum::<u64>());

    // A remote spawn from a thread that is not in the runtime, awaited there.
    let handle = rt.handle();
    let from_thread = std::thread::spawn(move || {
        let h = handle.spawn(async { 7u32 });
        futures_lite::future::block_on(h).unwrap()
    });
    assert_eq!(from_thread.join().unwrap(), 7);
    rt.shutdown_timeout(SHUTDOWN_LIMIT);
}

#[test]
fn smoke_abort_and_panic() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let pending = rt.spawn(Forever(DropCount(Arc::clone(&drops))));
    pending.abort();
    let err = rt.block_on(pending).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "abort drops the future");

    let panicked = rt.spawn(async {
        if true {
            panic!("smoke-test panic");
        }
    });
    let err = rt.block_on(panicked).unwrap_err();
    assert!(err.is_panic());
    // The workers survived the panic.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
    rt.shutdown_timeout(SHUTDOWN_LIMIT);
}

#[test]
fn smoke_shutdown_cancels_pending_tasks() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..3)
        .map(|_| rt.spawn(Forever(DropCount(Arc::clone(&drops)))))
        .collect();
    // Give the workers a chance to poll them first: shutdown cancels queued and idle tasks alike.
    rt.block_on(async {
        for _ in 0..3 {
            yield_now().await;
        }
    });
    rt.shutdown_timeout(SHUTDOWN_LIMIT);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "shutdown drops every future"
    );
    for h in handles {
        let err = futures_lite::future::block_on(h).unwrap_err();
        assert!(err.is_cancelled());
    }
}
