//! `#[worker_runtime::main]` and `#[worker_runtime::test]`: tests written with the attribute (the
//! positive side) and the compile errors of its misuses, each checked against its expected
//! message and span in `tests/ui/*.stderr`.
// The compile-fail check runs rustc on each `tests/ui` file; that is neither possible under Miri
// nor a concurrency test for loom or ThreadSanitizer.
#![cfg(not(any(miri, loom, worker_runtime_tsan)))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[worker_runtime::test]
async fn test_attribute_runs_spawned_tasks() {
    let done = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let done = Arc::clone(&done);
            worker_runtime::spawn(async move {
                worker_runtime::yield_now().await;
                done.fetch_add(1, Ordering::SeqCst);
                i * 2
            })
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    assert_eq!(sum, 56);
    assert_eq!(done.load(Ordering::SeqCst), 8);
}

#[worker_runtime::test(worker_threads = 3)]
async fn test_attribute_sets_the_worker_count() {
    assert_eq!(worker_runtime::Handle::current().worker_count(), 3);
}

#[worker_runtime::test]
async fn test_attribute_defaults_to_one_worker() {
    assert_eq!(worker_runtime::Handle::current().worker_count(), 1);
}

#[worker_runtime::test(flavor = "current_thread")]
async fn current_thread_flavor_is_one_worker() {
    assert_eq!(worker_runtime::Handle::current().worker_count(), 1);
}

#[worker_runtime::test(crate = "worker_runtime")]
async fn test_attribute_returns_a_result() -> Result<(), worker_runtime::JoinError> {
    let n = worker_runtime::spawn(async { 5 }).await?;
    assert_eq!(n, 5);
    Ok(())
}

#[test]
fn misuses_are_compile_errors_with_their_messages() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
