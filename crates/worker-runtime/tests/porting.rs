//! What a tokio program needs to port by changing its imports, and the sharp edges: tokio's module
//! paths, `Builder::new_multi_thread`, `BuildError` into `io::Error` (so `Runtime::new()?` works in
//! an `io::Result` function), `Handle::try_current`'s own error, `Runtime::enter` /
//! `Handle::enter` / `Handle::block_on`, panics located at the caller's line (`#[track_caller]`),
//! and the builder errors that used to blame the wrong field or panic.

use std::panic::{self, Location};
use std::sync::{Arc, Mutex};
use worker_runtime::runtime::{self, Builder, Handle, Runtime};
use worker_runtime::task::{self, JoinHandle};
use worker_runtime::time;

fn io_main() -> std::io::Result<u32> {
    let rt = Runtime::new()?;
    let bad: std::io::Result<Runtime> = Builder::new_multi_thread()
        .worker_threads(0)
        .build()
        .map_err(Into::into);
    assert_eq!(bad.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    Ok(rt.block_on(async {
        let h: JoinHandle<u32> = task::spawn(async {
            task::yield_now().await;
            time::sleep(time::Duration::from_millis(1)).await;
            7
        });
        h.await.unwrap()
    }))
}

#[test]
fn tokio_paths_and_io_result_main() {
    assert_eq!(io_main().unwrap(), 7);
}

#[test]
fn try_current_says_there_is_no_runtime() {
    let err = Handle::try_current().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no worker-runtime on this thread"), "{text}");
    assert!(!text.contains("spawn"), "not a spawn error: {text}");
    assert!(
        !text.contains("  "),
        "a message with a run of spaces: {text:?}"
    );
    let _: &dyn std::error::Error = &err;
}

#[test]
fn enter_makes_spawn_and_current_work_on_this_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    {
        let _guard = rt.enter();
        let h = worker_runtime::spawn(async { 5 });
        assert_eq!(Handle::current().block_on(h).unwrap(), 5);
        let _sleep = time::sleep(time::Duration::from_secs(1)); // works after enter
    }
    assert!(
        Handle::try_current().is_err(),
        "the guard restored the previous state"
    );
    let handle = rt.handle();
    let inner = handle.enter();
    assert!(Handle::try_current().is_ok());
    drop(inner);
}

/// Runs `f`, which must panic, and returns the panic's location and message.
fn panic_site(f: impl FnOnce() + panic::UnwindSafe) -> (String, u32, String) {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    let prev = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let loc = info.location().unwrap();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        *hook_seen.lock().unwrap() = Some((loc.file().to_owned(), loc.line(), msg));
    }));
    let r = panic::catch_unwind(f);
    panic::set_hook(prev);
    assert!(r.is_err(), "did not panic");
    let got = seen.lock().unwrap().take().unwrap();
    got
}

/// One test (not several) because the panic hook is process-wide.
#[test]
fn misuse_panics_point_at_the_callers_line() {
    let here = Location::caller().file().to_owned();
    let (file, line, msg) = panic_site(|| {
        drop(task::spawn(async {}));
    });
    assert_eq!(file, here, "spawn outside a runtime: {msg}");
    assert!(line > 0);
    assert!(msg.contains("outside a runtime"), "{msg}");
    let (file, _, msg) = panic_site(|| {
        let _ = Handle::current();
    });
    assert_eq!(file, here, "Handle::current: {msg}");
    assert!(msg.contains("no worker-runtime on this thread"), "{msg}");
    let (file, _, msg) = panic_site(|| {
        drop(time::sleep(time::Duration::from_millis(1)));
    });
    assert_eq!(file, here, "sleep outside a runtime: {msg}");
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_tasks(1)
        .build()
        .unwrap();
    let _pending = rt.spawn(std::future::pending::<()>());
    let (file, _, msg) = panic_site(panic::AssertUnwindSafe(|| {
        drop(rt.spawn(async {}));
    }));
    assert_eq!(file, here, "spawn past max_tasks: {msg}");
    assert!(msg.contains("limit of 1 live task (max_tasks)"), "{msg}");
    // block_on on a worker thread is refused with a message (the task's JoinError carries it).
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle();
    let h = rt.spawn(async move { handle.block_on(async {}) });
    let err = rt.block_on(h).unwrap_err();
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        msg.contains("block_on called from a worker thread"),
        "{msg}"
    );
}

#[test]
fn builder_errors_name_the_right_field() {
    let err = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_stack_size(1 << 46)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "thread_stack_size", "{err}");
    let err = Builder::new_multi_thread()
        .thread_name("bad\0name")
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "thread_name", "{err}");
    let err = Builder::new_multi_thread()
        .thread_name("")
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "thread_name", "{err}");
    let _: runtime::BuildError = err;
}

#[test]
fn abort_handle_cancels_without_owning_the_output() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let probe = rt.debug_probe();
    // A pending task, aborted through a clone of its AbortHandle from another thread.
    let h = rt.spawn(std::future::pending::<u32>());
    let abort: task::AbortHandle = h.abort_handle();
    let again = abort.clone();
    assert!(!abort.is_finished());
    std::thread::spawn(move || again.abort()).join().unwrap();
    assert!(rt.block_on(h).unwrap_err().is_cancelled());
    assert!(abort.is_finished());
    // A finished task keeps its output; the AbortHandle outlives both it and its JoinHandle.
    let h = rt.spawn(async { 3 });
    let late = h.abort_handle();
    assert_eq!(rt.block_on(h).unwrap(), 3);
    late.abort();
    assert!(late.is_finished());
    drop((abort, late));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while probe.live_tasks() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "a task slot stayed in use"
        );
        std::thread::yield_now();
    }
    fn assert_clone_send_sync<T: Clone + Send + Sync + std::fmt::Debug>() {}
    assert_clone_send_sync::<task::AbortHandle>();
}

#[test]
fn task_ids_are_unique_and_seen_inside_the_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    assert!(task::try_id().is_none(), "no task on a plain thread");
    let handles: Vec<_> = (0..1000)
        .map(|_| rt.spawn(async { (task::id(), task::try_id()) }))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for h in handles {
        let (id, abort_id) = (h.id(), h.abort_handle().id());
        assert_eq!(id, abort_id);
        let (inside, tried) = rt.block_on(h).unwrap();
        assert_eq!(inside, id, "task::id() inside the task is its handle's id");
        assert_eq!(tried, Some(id));
        assert!(seen.insert(id), "duplicate id {id}");
    }
    // Ids from another thread never collide with these.
    let other: Vec<task::Id> = std::thread::spawn({
        let handle = rt.handle();
        move || (0..100).map(|_| handle.spawn(async {}).id()).collect()
    })
    .join()
    .unwrap();
    assert!(other.iter().all(|id| !seen.contains(id)));
    let failing = rt.spawn(async { panic!("boom") });
    let fid = failing.id();
    let err: worker_runtime::JoinError = rt.block_on(failing).unwrap_err();
    assert_eq!(err.id(), fid);
    let r = std::panic::catch_unwind(task::id);
    assert!(r.is_err(), "task::id() outside a task panics");
}
