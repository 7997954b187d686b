//! `docs/testing.md` §4, load generator: seeded random operations against a real runtime (spawn,
//! nested spawn, yield, abort, detach, `block_on` from outside, spawn from another plain thread,
//! tasks waiting on an event, `sleep`, `timeout`, and rebalancing with `set_worker_count`),
//! checking that every submitted future is accounted for exactly once —
//! `completions + cancellations == submissions` — and that the drained runtime keeps no stale
//! summary bit, status bit or permit. Sized by `VERIFY_THOROUGH` and `cfg!(miri)`; a failure prints
//! its seed.

mod common;

use common::{
    assert_shut_down_clean, block_on, sized, wait_idle_clean, wait_until, Rng, Watchdog, HANG,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use worker_runtime::time::{sleep, timeout};
use worker_runtime::{spawn, yield_now, Handle, JoinHandle, Runtime};

#[derive(Default, Debug)]
struct Tracker {
    submitted: AtomicUsize,
    completed: AtomicUsize,
    cancelled: AtomicUsize,
    dropped: AtomicUsize,
    /// Futures that are meant to finish on their own and have not been dropped yet.
    finite_live: AtomicUsize,
}

/// Owned by every submitted future: counts it once as completed (the body reached its end) or,
/// if dropped before that, as cancelled.
struct Guard {
    tracker: Arc<Tracker>,
    finite: bool,
    done: bool,
}

impl Tracker {
    fn guard(self: &Arc<Self>, finite: bool) -> Guard {
        self.submitted.fetch_add(1, Ordering::SeqCst);
        if finite {
            self.finite_live.fetch_add(1, Ordering::SeqCst);
        }
        Guard {
            tracker: Arc::clone(self),
            finite,
            done: false,
        }
    }
}

impl Guard {
    fn complete(mut self) {
        self.done = true;
        self.tracker.completed.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            self.tracker.cancelled.fetch_add(1, Ordering::SeqCst);
        }
        if self.finite {
            self.tracker.finite_live.fetch_sub(1, Ordering::SeqCst);
        }
        self.tracker.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A finite task: yields `yields` times, then returns `id`.
fn finite(t: &Arc<Tracker>, id: u64, yields: u32) -> impl std::future::Future<Output = u64> {
    let g = t.guard(true);
    async move {
        for _ in 0..yields {
            yield_now().await;
        }
        g.complete();
        id
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Finishes by itself: `Ok(id)` unless aborted.
    Finite,
    /// Waits for the gate to open (at the end): `Ok(id)` unless aborted.
    Gated,
    /// Never finishes: cancelled (by abort or by the shutdown).
    Forever,
}

struct Kept {
    id: u64,
    kind: Kind,
    aborted: bool,
    handle: JoinHandle<u64>,
}

impl Kept {
    fn new(id: u64, kind: Kind, handle: JoinHandle<u64>) -> Kept {
        Kept {
            id,
            kind,
            aborted: false,
            handle,
        }
    }
}

fn run_seed(seed: u64, ops: usize, watchdog: &Watchdog) {
    let mut rng = Rng::new(seed);
    let workers = 1 + rng.below(4);
    // Up to four workers, starting with `workers`; `set_worker_count` moves it at random.
    let rt = Runtime::builder().worker_threads(4).build().unwrap();
    rt.set_worker_count(workers).unwrap();
    let probe = rt.debug_probe();
    let t = Arc::new(Tracker::default());
    let (gate_tx, gate_rx) = async_channel::bounded::<()>(1);
    let mut kept: Vec<Kept> = Vec::new();
    let mut next_id = 0u64;
    let mut id = || {
        next_id += 1;
        next_id
    };

    for op in 0..ops {
        if op % 256 == 0 {
            watchdog.pet();
        }
        match rng.below(120) {
            // Spawn from outside, keep the handle.
            0..=24 => {
                let i = id();
                let h = rt.spawn(finite(&t, i, rng.below(3) as u32));
                kept.push(Kept::new(i, Kind::Finite, h));
            }
            // Spawn and drop the handle (detach).
            25..=37 => drop(rt.spawn(finite(&t, id(), rng.below(3) as u32))),
            // Nested: a task spawns children, awaits some and detaches the others.
            38..=49 => {
                let i = id();
                let children: Vec<(u64, u32, bool)> = (0..rng.below(4))
                    .map(|_| (id(), rng.below(3) as u32, rng.chance(50)))
                    .collect();
                let g = t.guard(true);
                let t2 = Arc::clone(&t);
                let h = rt.spawn(async move {
                    let mut sum = 0;
                    for (cid, yields, await_it) in children {
                        let h = spawn(finite(&t2, cid, yields));
                        if await_it {
                            sum += h.await.unwrap();
                        }
                    }
                    let _ = sum;
                    g.complete();
                    i
                });
                kept.push(Kept::new(i, Kind::Finite, h));
            }
            // A task that never finishes.
            50..=56 => {
                let i = id();
                let g = t.guard(false);
                let h = rt.spawn(async move {
                    let _g = g;
                    std::future::pending::<u64>().await
                });
                kept.push(Kept::new(i, Kind::Forever, h));
            }
            // A task waiting for the gate (an event released at the end).
            57..=64 => {
                let i = id();
                let g = t.guard(true);
                let rx = gate_rx.clone();
                let h = rt.spawn(async move {
                    // The gate never carries a message: `recv` fails when it is closed.
                    assert!(rx.recv().await.is_err());
                    g.complete();
                    i
                });
                kept.push(Kept::new(i, Kind::Gated, h));
            }
            // Abort a kept handle: idle, queued, running or finished, whatever it is now.
            65..=76 => {
                if !kept.is_empty() {
                    let k = rng.below(kept.len());
                    kept[k].handle.abort();
                    kept[k].aborted = true;
                }
            }
            // block_on from outside: spawn from inside it and await.
            77..=86 => {
                let (i, yields) = (id(), rng.below(3) as u32);
                let t2 = Arc::clone(&t);
                let v = rt.block_on(async move {
                    let h = spawn(finite(&t2, i, yields));
                    yield_now().await;
                    h.await.unwrap()
                });
                assert_eq!(v, i, "seed {seed}");
            }
            // Await a kept finite, never-aborted handle now, from this plain thread.
            87..=93 => {
                if let Some(pos) = kept
                    .iter()
                    .position(|k| k.kind == Kind::Finite && !k.aborted)
                {
                    let k = kept.swap_remove(pos);
                    assert_eq!(block_on(k.handle).unwrap(), k.id, "seed {seed}");
                }
            }
            // A task that sleeps a little (0-2 ms), kept or detached.
            100..=106 => {
                let (i, us) = (id(), rng.below(2_000) as u64);
                let g = t.guard(true);
                let h = rt.spawn(async move {
                    let start = std::time::Instant::now();
                    sleep(Duration::from_micros(us)).await;
                    assert!(start.elapsed() >= Duration::from_micros(us));
                    g.complete();
                    i
                });
                if rng.chance(50) {
                    kept.push(Kept::new(i, Kind::Finite, h));
                }
            }
            // A timeout around a sleep that may or may not finish first.
            107..=112 => {
                let (i, limit, inner) = (id(), rng.below(1_500) as u64, rng.below(1_500) as u64);
                let g = t.guard(true);
                let h = rt.spawn(async move {
                    let start = std::time::Instant::now();
                    let r = timeout(
                        Duration::from_micros(limit),
                        sleep(Duration::from_micros(inner)),
                    )
                    .await;
                    // Either way, never early: the sleep completed after its deadline (it may
                    // beat a shorter limit when the task first ran late), or the limit passed.
                    let waited = start.elapsed();
                    match r {
                        Ok(()) => assert!(waited >= Duration::from_micros(inner)),
                        Err(_) => assert!(waited >= Duration::from_micros(limit)),
                    }
                    g.complete();
                    i
                });
                kept.push(Kept::new(i, Kind::Finite, h));
            }
            // Rebalance: move the worker count (1..=4) while all of the above is in flight.
            113..=116 => rt.set_worker_count(1 + rng.below(4)).unwrap(),
            // Spawn from another plain thread through a Handle.
            _ => {
                let handle: Handle = rt.handle();
                let ids: Vec<u64> = (0..1 + rng.below(8)).map(|_| id()).collect();
                let t2 = Arc::clone(&t);
                let hs = std::thread::spawn(move || {
                    ids.into_iter()
                        .map(|i| (i, handle.spawn(finite(&t2, i, (i % 2) as u32))))
                        .collect::<Vec<_>>()
                })
                .join()
                .unwrap();
                kept.extend(hs.into_iter().map(|(i, h)| Kept::new(i, Kind::Finite, h)));
            }
        }
    }

    // Open the gate, await everything that must finish, and check the aborted ones.
    drop(gate_tx);
    let mut cancelled_seen = 0;
    let mut forever = Vec::new();
    for k in kept {
        match (k.kind, k.aborted) {
            (Kind::Forever, false) => forever.push(k),
            (Kind::Forever, true) => {
                assert!(
                    block_on(k.handle).unwrap_err().is_cancelled(),
                    "seed {seed}"
                );
                cancelled_seen += 1;
            }
            (_, false) => assert_eq!(block_on(k.handle).unwrap(), k.id, "seed {seed}"),
            (_, true) => match block_on(k.handle) {
                // Aborted after it finished: the output is kept.
                Ok(v) => assert_eq!(v, k.id, "seed {seed}"),
                Err(e) => {
                    assert!(e.is_cancelled(), "seed {seed}: {e:?}");
                    cancelled_seen += 1;
                }
            },
        }
    }
    watchdog.pet();
    // Detached tasks and children finish on their own: wait for them (a handshake on the live
    // count), then the drained runtime must be quiescent with no stale bit or permit.
    wait_until(|| t.finite_live.load(Ordering::SeqCst) == 0);
    wait_idle_clean(&probe);
    assert_eq!(
        t.completed.load(Ordering::SeqCst) + t.cancelled.load(Ordering::SeqCst),
        t.submitted.load(Ordering::SeqCst) - forever.len(),
        "seed {seed}: before shutdown, {t:?}"
    );

    rt.shutdown_timeout(HANG);
    for k in forever {
        assert!(
            block_on(k.handle).unwrap_err().is_cancelled(),
            "seed {seed}"
        );
        cancelled_seen += 1;
    }
    assert_shut_down_clean(&probe);
    let (submitted, completed, cancelled, dropped) = (
        t.submitted.load(Ordering::SeqCst),
        t.completed.load(Ordering::SeqCst),
        t.cancelled.load(Ordering::SeqCst),
        t.dropped.load(Ordering::SeqCst),
    );
    assert_eq!(completed + cancelled, submitted, "seed {seed}: {t:?}");
    assert_eq!(dropped, submitted, "seed {seed}: {t:?}");
    assert_eq!(
        cancelled, cancelled_seen,
        "seed {seed}: cancellations counted by the futures vs resolved handles: {t:?}"
    );
}

#[test]
fn integration_runtime_randomized_load() {
    let watchdog = Watchdog::new("integration_runtime_randomized_load");
    let seeds = sized(1, 8, 64) as u64;
    let ops = sized(40, 5_000, 20_000);
    let base = std::env::var("WORKER_RUNTIME_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0x5EED);
    for seed in base..base + seeds {
        run_seed(seed, ops, &watchdog);
        watchdog.pet();
    }
}
