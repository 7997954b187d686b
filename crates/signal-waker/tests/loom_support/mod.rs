//! Shared by the `loom_*` test files: run a model with the crate's default bounds.
#![allow(dead_code)]

/// Runs `f` under loom. `LOOM_MAX_PREEMPTIONS` and `LOOM_MAX_BRANCHES` from the environment win;
/// without them the bound is 2 preemptions and 10,000 branches, so a plain
/// `cargo test --test loom_...` under `--cfg loom` stays short.
///
/// Counts the interleavings explored and prints the count (visible with `--nocapture`); a model
/// that explored only one has no concurrency in it and fails.
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;

    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = Some(2);
    }
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = 10_000;
    }
    // A plain std counter outside the model: loom runs the executions one after another on one
    // OS thread, so Relaxed is exact here.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        f();
    });
    let runs = runs.load(Relaxed);
    eprintln!(
        "loom: {} explored {runs} interleavings",
        std::thread::current().name().unwrap_or("model")
    );
    assert!(
        runs > 1,
        "the model explored a single interleaving: nothing ran concurrently"
    );
}

/// A loom `AtomicU64` for a model's own sources (queues, leaf words). Its initial value is
/// stored again with `SeqCst`: loom 0.7 does not count the initial value as a `SeqCst` store, so
/// without this a `SeqCst` load could return it after another thread's `SeqCst` read-modify-write
/// (a store-buffer outcome `SeqCst` forbids, tokio-rs/loom#180) and the models would report
/// false lost wakeups. The crate does the same for its own atomics (`src/sync.rs`).
pub fn atomic(value: u64) -> loom::sync::atomic::AtomicU64 {
    let a = loom::sync::atomic::AtomicU64::new(value);
    a.store(value, std::sync::atomic::Ordering::SeqCst);
    a
}
