//! The public API end to end: spawn, block_on, JoinHandle output / panic / abort / detach, errors.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use worker_runtime::{spawn, try_spawn, yield_now, Handle, Runtime, SpawnError};

fn rt(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

#[test]
fn block_on_returns_the_output() {
    let rt = rt(2);
    assert_eq!(rt.block_on(async { 40 + 2 }), 42);
}

#[test]
fn spawn_from_block_on_and_await() {
    let rt = rt(2);
    let v = rt.block_on(async {
        let hs: Vec<_> = (0..100u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(v, (0..100u64).map(|i| i * 2).sum::<u64>());
}

#[test]
fn remote_spawn_and_await_from_plain_thread() {
    let rt = rt(2);
    let hs: Vec<_> = (0..1000u64).map(|i| rt.spawn(async move { i })).collect();
    let sum: u64 = hs
        .into_iter()
        .map(|h| futures_lite::future::block_on(h).unwrap())
        .sum();
    assert_eq!(sum, (0..1000u64).sum::<u64>());
}

#[test]
fn nested_spawn_from_task_spawned_by_block_on() {
    let rt = rt(2);
    let v = rt.block_on(async {
        spawn(async {
            spawn(async { spawn(async { 7 }).await.unwrap() })
                .await
                .unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 7);
}

#[test]
fn yields_complete() {
    let rt = rt(2);
    let count = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..20)
        .map(|_| {
            let count = Arc::clone(&count);
            rt.spawn(async move {
                for _ in 0..100 {
                    yield_now().await;
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in hs {
        futures_lite::future::block_on(h).unwrap();
    }
    assert_eq!(count.load(Ordering::Relaxed), 2000);
}

#[test]
fn panic_is_delivered_to_the_handle_and_the_worker_survives() {
    let rt = rt(1);
    let err = rt.block_on(rt.spawn(async { panic!("boom") })).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
    // The single worker still runs tasks.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    struct SetOnDrop(Arc<AtomicUsize>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rt = rt(2);
    let dropped = Arc::new(AtomicUsize::new(0));
    let guard = SetOnDrop(Arc::clone(&dropped));
    let h = rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    h.abort();
    let err = futures_lite::future::block_on(h).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    let rt = rt(2);
    let (tx, rx) = async_channel::bounded(1);
    drop(rt.spawn(async move {
        yield_now().await;
        tx.send(9).await.unwrap();
    }));
    assert_eq!(futures_lite::future::block_on(rx.recv()).unwrap(), 9);
}

#[test]
fn is_finished_after_completion() {
    let rt = rt(1);
    let h = rt.spawn(async { 1 });
    let h2 = rt.spawn(async { 2 });
    assert_eq!(futures_lite::future::block_on(h2).unwrap(), 2);
    // Same worker, FIFO-ish: by the time we look again the first is done or finishing.
    let v = futures_lite::future::block_on(async {
        while !h.is_finished() {
            yield_now().await;
        }
        h.await.unwrap()
    });
    assert_eq!(v, 1);
}

#[test]
fn spawn_after_shutdown_is_an_error_not_a_hang() {
    let rt = rt(2);
    let handle = rt.handle();
    rt.shutdown_timeout(Duration::from_secs(10));
    assert_eq!(
        handle.try_spawn(async {}).unwrap_err(),
        SpawnError::Shutdown
    );
    let h = handle.spawn(async { 1 });
    assert!(h.is_finished());
    assert!(futures_lite::future::block_on(h)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn shutdown_cancels_pending_tasks() {
    let rt = rt(2);
    let hs: Vec<_> = (0..50)
        .map(|_| rt.spawn(std::future::pending::<()>()))
        .collect();
    rt.shutdown_timeout(Duration::from_secs(10));
    for h in hs {
        assert!(futures_lite::future::block_on(h)
            .unwrap_err()
            .is_cancelled());
    }
}

#[test]
fn try_spawn_outside_a_runtime_is_no_runtime() {
    assert_eq!(try_spawn(async {}).unwrap_err(), SpawnError::NoRuntime);
    assert!(Handle::try_current().is_err());
}

#[test]
#[should_panic(expected = "outside a runtime")]
fn spawn_outside_a_runtime_panics_with_a_message() {
    drop(spawn(async {}));
}

#[test]
fn at_capacity_is_an_error() {
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_tasks(3)
        .build()
        .unwrap();
    let handle = rt.handle();
    let hs: Vec<_> = (0..3)
        .map(|_| handle.try_spawn(std::future::pending::<()>()).unwrap())
        .collect();
    assert_eq!(
        handle.try_spawn(async {}).unwrap_err(),
        SpawnError::AtCapacity { max_tasks: 3 }
    );
    for h in &hs {
        h.abort();
    }
    for h in hs {
        assert!(futures_lite::future::block_on(h)
            .unwrap_err()
            .is_cancelled());
    }
    // Capacity is back.
    let h = handle.try_spawn(async { 3 }).unwrap();
    assert_eq!(futures_lite::future::block_on(h).unwrap(), 3);
}

#[test]
fn bad_config_names_the_field() {
    for (b, field) in [
        (
            Runtime::builder().worker_threads(0).build(),
            "worker_threads",
        ),
        (
            Runtime::builder().worker_threads(65).build(),
            "worker_threads",
        ),
        (
            Runtime::builder().thread_stack_size(100).build(),
            "thread_stack_size",
        ),
        (Runtime::builder().max_tasks(0).build(), "max_tasks"),
    ] {
        let e = b.unwrap_err();
        assert_eq!(e.field(), field);
        assert!(e.to_string().contains(field), "{e}");
    }
}

#[test]
#[should_panic(expected = "worker thread")]
fn block_on_inside_a_worker_panics_with_a_message() {
    let outer = rt(1);
    let rt2 = rt(1);
    let err = outer
        .block_on(outer.spawn(async move {
            rt2.block_on(async {});
        }))
        .unwrap_err();
    std::panic::resume_unwind(err.into_panic());
}

#[test]
fn stale_waker_after_completion_is_harmless() {
    let rt = rt(2);
    let stash = Arc::new(std::sync::Mutex::new(None));
    let s2 = Arc::clone(&stash);
    let h = rt.spawn(std::future::poll_fn(move |cx| {
        *s2.lock().unwrap() = Some(cx.waker().clone());
        std::task::Poll::Ready(5)
    }));
    assert_eq!(futures_lite::future::block_on(h).unwrap(), 5);
    let w = stash.lock().unwrap().take().unwrap();
    w.wake_by_ref();
    w.wake();
    assert_eq!(rt.block_on(rt.spawn(async { 6 })).unwrap(), 6);
}
