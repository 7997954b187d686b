//! Loom models of the worker count changing under the runtime's own code: the harness's
//! `RunLoopModel` (a real `Shared`, real `Worker`s played by model threads), its
//! `set_active_workers` (the rebalance step of `Pool::scale_to`: publish the new assignment,
//! which re-syncs every partition summary, then ask the workers beyond it to retire) and
//! `ModelWorker::retire_if_asked` (the worker's real `retiring` + `leave`).
//!
//! * `rebalance_races_notify_and_park`: a remote spawn aimed at worker 1's partition races the
//!   rebalance that takes worker 1 away and worker 0 parking; worker 0 must run the task. Planted
//!   bug `NEGATIVE_CONTROL=park_final_check` (no final check before parking) must fail it.
//! * `retire_races_remote_spawn`: worker 1 retires with a task in its LIFO slot while a remote
//!   spawn targets its partition; worker 0 must run both. Planted bug
//!   `NEGATIVE_CONTROL=retire_skips_handoff` (the retiring worker forgets its local tasks) must
//!   fail it.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug_assertions" LOOM_MAX_PREEMPTIONS=2 \
//! LOOM_MAX_BRANCHES=10000 cargo test --release -p worker-runtime --test loom_scaling`.
#![cfg(loom)]

use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
// `std`'s `Arc`: see `loom_run_loop.rs`.
use std::sync::Arc;
use worker_runtime::loom_harness::{flag, model, set_flag, RunLoopModel};

/// More turns than a correct interleaving needs (each park returns for a permit or for visible
/// work, and the models have at most two tasks).
const MAX_TURNS: usize = 8;

#[test]
fn rebalance_races_notify_and_park() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(2);
        let mut w0 = workers.remove(0);
        let ran = flag();
        rt.aim_remote_spawns_at(1);
        let rebalance = {
            let rt = rt.handle();
            thread::spawn(move || rt.set_active_workers(1))
        };
        let spawner = {
            let (rt, ran) = (rt.handle(), Arc::clone(&ran));
            thread::spawn(move || rt.spawn_detached(set_flag(&ran)))
        };
        w0.run_until(MAX_TURNS, || ran.load(SeqCst));
        rebalance.join().unwrap();
        spawner.join().unwrap();
    });
}

#[test]
fn retire_races_remote_spawn() {
    model(0, || {
        let (rt, mut workers) = RunLoopModel::new(2);
        let mut w1 = workers.remove(1);
        let mut w0 = workers.remove(0);
        let (local, remote) = (flag(), flag());
        // Worker 1 spawned a task into its own LIFO slot, then is asked to retire.
        w1.with_context(|| rt.spawn_detached(set_flag(&local)));
        rt.set_active_workers(1);
        rt.aim_remote_spawns_at(1);
        let retiring = thread::spawn(move || assert!(w1.retire_if_asked()));
        let spawner = {
            let (rt, remote) = (rt.handle(), Arc::clone(&remote));
            thread::spawn(move || rt.spawn_detached(set_flag(&remote)))
        };
        w0.run_until(MAX_TURNS, || local.load(SeqCst) && remote.load(SeqCst));
        retiring.join().unwrap();
        spawner.join().unwrap();
    });
}
