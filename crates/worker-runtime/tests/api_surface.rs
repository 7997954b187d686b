//! The public API exactly as documented, used the way a program outside the workspace
//! uses it (only public paths, no debug accessors). The same program was built and run as a
//! separate crate depending on `worker-runtime` by path; this copy keeps it checked.

use std::future::Future;
use std::time::Duration;
use worker_runtime::{
    spawn, spawn_blocking, try_spawn, try_spawn_blocking, yield_now, BuildError, Builder, Handle,
    JoinError, JoinHandle, Runtime, SpawnError,
};

fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
fn assert_send_sync<T: Send + Sync>() {}
fn assert_join_future<T, F: Future<Output = Result<T, JoinError>>>(f: F) -> F {
    f
}

#[test]
fn public_api_compiles_and_works_as_written() {
    // Static assertions.
    assert_clone_send_sync::<Handle>();
    assert_send_sync::<JoinHandle<u32>>();
    assert_send_sync::<Runtime>();
    assert_send_sync::<JoinError>();
    assert_send_sync::<SpawnError>();
    assert_send_sync::<BuildError>();

    // Builder: every setter, then build() -> Result<Runtime, BuildError>.
    let builder: Builder = Runtime::builder();
    let mut builder = builder;
    let built: Result<Runtime, BuildError> = builder
        .worker_threads(2)
        .thread_name(String::from("api-check"))
        .thread_name("api-check")
        .thread_stack_size(256 * 1024)
        .max_tasks(4)
        .max_blocking_threads(8)
        .thread_keep_alive(Duration::from_secs(1))
        .build();
    let rt: Runtime = built.expect("valid configuration");
    let bad: BuildError = Runtime::builder().worker_threads(0).build().unwrap_err();
    println!("bad config: {bad}");

    // Runtime::new().
    let default_rt: Result<Runtime, BuildError> = Runtime::new();
    default_rt
        .expect("default runtime")
        .shutdown_timeout(Duration::from_secs(5));

    // Runtime::spawn, Runtime::block_on, free spawn / yield_now / Handle::current / try_current.
    let h: JoinHandle<u32> = rt.spawn(async { 20 });
    let h = assert_join_future(h);
    let total: u32 = rt.block_on(async move {
        let inner: JoinHandle<u32> = spawn(async {
            yield_now().await;
            1
        });
        let current: Handle = Handle::current();
        let tried: Result<Handle, worker_runtime::TryCurrentError> = Handle::try_current();
        let via_handle = current.spawn(async { 10 });
        let via_try: Result<JoinHandle<u32>, SpawnError> = try_spawn(async { 11 });
        assert!(tried.is_ok());
        h.await.unwrap()
            + inner.await.unwrap()
            + via_handle.await.unwrap()
            + via_try.unwrap().await.unwrap()
    });
    assert_eq!(total, 42);
    println!("total = {total}");

    // Runtime::handle(): Clone + Send + Sync, spawns from another thread.
    let handle: Handle = rt.handle();
    let h2 = handle.clone();
    let from_thread = std::thread::spawn(move || h2.spawn(async { 5u8 }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(from_thread).unwrap(), 5);

    // spawn_blocking (free, through the handle, try_) on the blocking pool; its thread count.
    let blocking: JoinHandle<u32> = handle.spawn_blocking(|| 6);
    let free: u32 = rt.block_on(async {
        let tried: Result<JoinHandle<u32>, SpawnError> = try_spawn_blocking(|| 7);
        spawn_blocking(|| 8).await.unwrap() + tried.unwrap().await.unwrap()
    });
    assert_eq!(rt.block_on(blocking).unwrap() + free, 21);
    assert!(handle.num_blocking_threads() >= 1);

    // JoinHandle::abort / is_finished; JoinError::is_cancelled / is_panic / into_panic.
    let pending: JoinHandle<()> = rt.spawn(std::future::pending());
    assert!(!pending.is_finished());
    pending.abort();
    let cancelled: JoinError = rt.block_on(pending).unwrap_err();
    assert!(cancelled.is_cancelled() && !cancelled.is_panic());
    let panicked: JoinError = rt
        .block_on(rt.spawn(async { panic!("expected panic") }))
        .unwrap_err();
    assert!(panicked.is_panic());
    let payload: Box<dyn std::any::Any + Send + 'static> = panicked.into_panic();
    assert_eq!(*payload.downcast::<&str>().unwrap(), "expected panic");

    // SpawnError::AtCapacity { .. } (max_tasks(4)) and SpawnError::Shutdown.
    let holders: Vec<JoinHandle<()>> = (0..4)
        .map(|_| handle.spawn(std::future::pending()))
        .collect();
    match handle.try_spawn(async {}) {
        Err(SpawnError::AtCapacity { .. }) => println!("at capacity, as expected"),
        other => panic!("expected AtCapacity, got {other:?}"),
    }
    drop(holders);
    try_spawn(async {}).map(drop).unwrap_err();
    let outcome: worker_runtime::ShutdownOutcome = rt.shutdown_timeout(Duration::from_secs(5));
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(outcome.blocking_tasks_left_running(), 0);
    match handle.try_spawn(async {}) {
        Err(SpawnError::Shutdown) => println!("shut down, as expected"),
        other => panic!("expected Shutdown, got {other:?}"),
    }
    match handle.try_spawn_blocking(|| ()) {
        Err(SpawnError::Shutdown) => println!("blocking pool shut down, as expected"),
        other => panic!("expected Shutdown, got {other:?}"),
    }
    assert!(Handle::try_current().is_err());
    println!("api-check: ok");
}

/// tokio's `JoinError` is `Send + Sync` (tokio-rs/tokio#1883, fixed by #1888), so `h.await?`
/// converts into `Box<dyn Error + Send + Sync>` or `anyhow::Error`. A port that relies on it
/// stops compiling if ours is not. Checked at run time so that the rest of this file still
/// builds and runs while it fails.
#[test]
fn join_error_is_send_and_sync_like_tokios() {
    // `h.await?` into `Box<dyn Error + Send + Sync>` (or anyhow) must compile, as with tokio.
    fn into_boxed(e: JoinError) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
    assert_send_sync::<JoinError>();
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let err = rt
        .block_on(rt.spawn(async { panic!("payload") }))
        .unwrap_err();
    assert!(into_boxed(err).to_string().contains("payload"));
}
