//! A tour of `worker-runtime`'s public API, printing what each step does.
//!
//! ```text
//! cargo run -p worker-runtime --example tour
//! ```

use std::time::Duration;
use worker_runtime::{spawn, try_spawn, yield_now, Handle, JoinHandle, Runtime, SpawnError};

fn main() {
    // Panics inside tasks are caught and delivered to their JoinHandle; keep the default hook's
    // report (and backtrace) for them down to one line.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or("..");
        eprintln!("   [panic hook] {msg}");
    }));

    // 1. Building a runtime. Every setting is validated; a bad one is an error naming the field
    //    and its allowed range.
    let err = Runtime::builder().worker_threads(0).build().unwrap_err();
    println!("1. builder error: {err}  (field: {})", err.field());
    let err = Runtime::builder()
        .thread_stack_size(1024)
        .build()
        .unwrap_err();
    println!("   builder error: {err}");
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_name("tour-worker")
        .thread_stack_size(512 * 1024)
        .max_tasks(1 << 16)
        .build()
        .expect("a valid configuration");
    println!("   built {rt:?} with 2 workers named tour-worker-0 / tour-worker-1");

    // 2. block_on: run a future to completion on this thread.
    let answer = rt.block_on(async { 6 * 7 });
    println!("2. block_on(async {{ 6 * 7 }}) = {answer}");

    // 3. Runtime::spawn from a plain thread, awaited with block_on.
    let h: JoinHandle<u64> = rt.spawn(async { (1..=10u64).product() });
    println!("3. rt.spawn(10!) -> {}", rt.block_on(h).unwrap());

    // 4. Inside the runtime: the free `spawn`, `yield_now`, and `Handle::current()` from a task.
    let total = rt.block_on(async {
        let tasks: Vec<_> = (0..8u64)
            .map(|i| {
                spawn(async move {
                    // Give the worker to other tasks once: to the back of the yield queue.
                    yield_now().await;
                    // A task can find its runtime and spawn through it.
                    let inner = Handle::current().spawn(async move { i * i });
                    inner.await.unwrap()
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    println!("4. sum of squares 0..8 via nested spawns and yields = {total}");

    // 5. Handle: Clone + Send + Sync; spawn from any thread.
    let handle = rt.handle();
    let from_thread = {
        let handle = handle.clone();
        std::thread::spawn(move || handle.spawn(async { "spawned from another thread" }))
            .join()
            .unwrap()
    };
    println!("5. {}", rt.block_on(from_thread).unwrap());

    // 6. try_spawn: errors instead of panics.
    match try_spawn(async {}) {
        Err(SpawnError::NoRuntime) => println!("6. try_spawn outside a runtime: NoRuntime"),
        other => panic!("unexpected: {other:?}"),
    }
    assert!(Handle::try_current().is_err());
    println!(
        "   Handle::try_current() outside a runtime: {:?}",
        Handle::try_current().err()
    );
    let small = Runtime::builder()
        .worker_threads(1)
        .max_tasks(2)
        .build()
        .unwrap();
    let hold: Vec<_> = (0..2)
        .map(|_| small.spawn(std::future::pending::<()>()))
        .collect();
    match small.handle().try_spawn(async {}) {
        Err(e @ SpawnError::AtCapacity { .. }) => println!("   with max_tasks(2) full: {e}"),
        other => panic!("unexpected: {other:?}"),
    }
    for h in &hold {
        h.abort();
    }
    small.shutdown_timeout(Duration::from_secs(5));

    // 7. JoinHandle: abort, is_finished, a panic delivered as an error, detaching.
    let (tx, rx) = async_channel::bounded::<u32>(1);
    let waiting = rt.spawn(async move { rx.recv().await.unwrap() });
    println!(
        "7. a task waiting on a channel: is_finished = {}",
        waiting.is_finished()
    );
    waiting.abort();
    let err = rt.block_on(waiting).unwrap_err();
    println!("   after abort(): is_cancelled = {}", err.is_cancelled());
    drop(tx);

    let err = rt
        .block_on(rt.spawn(async { panic!("a task panicked (this is expected)") }))
        .unwrap_err();
    println!(
        "   panicking task: is_panic = {}, message = {:?}",
        err.is_panic(),
        { *err.into_panic().downcast::<&str>().unwrap() }
    );

    let (tx, rx) = async_channel::bounded::<&str>(1);
    drop(rt.spawn(async move { tx.send("a detached task still runs").await.unwrap() }));
    println!("   dropped handle: {}", rt.block_on(rx.recv()).unwrap());

    let done = rt.spawn(async { 1 });
    rt.block_on(async {
        while !done.is_finished() {
            yield_now().await;
        }
    });
    done.abort(); // too late: the output is kept
    println!(
        "   abort() after it finished keeps the output: {:?}",
        rt.block_on(done)
    );

    // 8. Shutdown: queued and idle tasks are cancelled, threads joined; later spawns are
    //    refused (try_spawn) or resolve cancelled at once (spawn).
    let stuck: Vec<_> = (0..3)
        .map(|_| rt.spawn(std::future::pending::<()>()))
        .collect();
    rt.shutdown_timeout(Duration::from_secs(5));
    let cancelled = stuck
        .into_iter()
        .map(|h| {
            assert!(h.is_finished(), "shutdown resolves every handle");
            futures_lite::future::block_on(h)
                .unwrap_err()
                .is_cancelled()
        })
        .filter(|&c| c)
        .count();
    assert_eq!(cancelled, 3);
    println!("8. shutdown_timeout: {cancelled} pending tasks cancelled");
    println!(
        "   try_spawn after shutdown: {:?}",
        handle.try_spawn(async {}).err()
    );
    let late = handle.spawn(async { 0 });
    println!(
        "   spawn after shutdown: finished at once = {}, cancelled = {}",
        late.is_finished(),
        futures_lite::future::block_on(late)
            .unwrap_err()
            .is_cancelled()
    );
    println!("tour complete");
}
