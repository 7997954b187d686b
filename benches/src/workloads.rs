//! The workloads, each defined once and generic over [`BenchRuntime`].
//!
//! `docs/race.md` describes each workload in prose. Every function is
//! called from a plain (non-worker) thread, waits with
//! [`futures_lite::future::block_on`] (so that thread parks instead of
//! helping), returns the measured [`Duration`] and panics if its correctness
//! check fails. Sizes are parameters so tests can run them small; the
//! [`Workload`] enum carries the full sizes the harnesses use.

use std::time::{Duration, Instant};

use futures_channel::oneshot;
use futures_lite::future::block_on;

use crate::runtime::BenchRuntime;

/// Tasks spawned by [`spawn_many`] and [`spawn_remote`] at full size.
pub const SPAWN_TASKS: usize = 100_000;
/// Tasks in [`yield_many`] at full size.
pub const YIELD_TASKS: usize = 200;
/// Yields per task in [`yield_many`] at full size.
pub const YIELDS_PER_TASK: usize = 1_000;
/// Round trips in [`ping_pong_seq`] at full size.
pub const PING_PONG_ROUND_TRIPS: usize = 1_000;
/// Pair tasks in [`ping_pong_pairs`] at full size.
pub const PING_PONG_PAIRS: usize = 1_000;
/// Links in [`chained_spawn`] at full size.
pub const CHAIN_LINKS: usize = 1_000;

/// (a) A root task on a worker starts a clock, spawns `tasks` empty tasks
/// locally (keeping the handles) and awaits them in order; the clock is read
/// inside the root.
///
/// Each task returns its index (one word, instead of an empty `async {}`)
/// so the root can check that handle `k` delivered task `k`'s output.
pub fn spawn_many<R: BenchRuntime>(rt: &R, tasks: usize) -> Duration {
    let root = rt.spawn(async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for i in 0..tasks {
            handles.push(R::spawn_local(async move { i }));
        }
        let mut done = 0;
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(
                handle.await,
                i,
                "spawn_many: handle {i} got another task's output"
            );
            done += 1;
        }
        (start.elapsed(), done)
    });
    let (elapsed, done) = block_on(root);
    assert_eq!(done, tasks, "spawn_many: completed count");
    elapsed
}

/// (b) The plain thread spawns `tasks` empty tasks remotely, then awaits
/// every handle in order (one `block_on` over all of them). The time covers
/// spawning plus completion.
pub fn spawn_remote<R: BenchRuntime>(rt: &R, tasks: usize) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks).map(|i| rt.spawn(async move { i })).collect();
    let done = block_on(async move {
        let mut done = 0;
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(
                handle.await,
                i,
                "spawn_remote: handle {i} got another task's output"
            );
            done += 1;
        }
        done
    });
    let elapsed = start.elapsed();
    assert_eq!(done, tasks, "spawn_remote: completed count");
    elapsed
}

/// (c) The plain thread spawns `tasks` tasks that each call the runtime's
/// native yield `yields` times, and awaits them all. Units: yields
/// (`tasks * yields`), i.e. reschedule plus poll.
pub fn yield_many<R: BenchRuntime>(rt: &R, tasks: usize, yields: usize) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            rt.spawn(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
                yields
            })
        })
        .collect();
    let total = block_on(async move {
        let mut total = 0;
        for handle in handles {
            total += handle.await;
        }
        total
    });
    let elapsed = start.elapsed();
    assert_eq!(total, tasks * yields, "yield_many: yield count");
    elapsed
}

/// (d1) A root task and a responder task bounce a counter `round_trips`
/// times over two `async_channel::bounded(1)` channels; each round trip waits
/// for the previous one. The clock runs inside the root, after the responder
/// is spawned. Units: round trips.
pub fn ping_pong_seq<R: BenchRuntime>(rt: &R, round_trips: usize) -> Duration {
    let root = rt.spawn(async move {
        let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
        let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
        let responder = R::spawn_local(async move {
            let mut answered = 0;
            while let Ok(v) = ping_rx.recv().await {
                pong_tx
                    .send(v + 1)
                    .await
                    .expect("ping_pong_seq: root hung up");
                answered += 1;
            }
            answered
        });
        let start = Instant::now();
        for i in 0..round_trips {
            ping_tx
                .send(i)
                .await
                .expect("ping_pong_seq: responder hung up");
            let got = pong_rx
                .recv()
                .await
                .expect("ping_pong_seq: responder hung up");
            assert_eq!(got, i + 1, "ping_pong_seq: wrong reply");
        }
        let elapsed = start.elapsed();
        drop(ping_tx);
        (elapsed, responder.await)
    });
    let (elapsed, answered) = block_on(root);
    assert_eq!(answered, round_trips, "ping_pong_seq: responder's count");
    elapsed
}

/// (d2) tokio's `ping_pong` shape: a root task starts a clock and spawns
/// `pairs` pair tasks. Each makes two `futures_channel::oneshot`s, spawns a
/// detached responder (waits on the first, answers on the second), sends and
/// awaits the answer. The root awaits all pair tasks. Units: pairs.
pub fn ping_pong_pairs<R: BenchRuntime>(rt: &R, pairs: usize) -> Duration {
    let root = rt.spawn(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..pairs)
            .map(|i| {
                R::spawn_local(async move {
                    let (ask_tx, ask_rx) = oneshot::channel::<usize>();
                    let (answer_tx, answer_rx) = oneshot::channel::<usize>();
                    R::spawn_detached(async move {
                        let v = ask_rx.await.expect("ping_pong_pairs: asker hung up");
                        // The asker awaits the answer, so it cannot be gone.
                        answer_tx.send(v + 1).expect("ping_pong_pairs: asker gone");
                    });
                    ask_tx.send(i).expect("ping_pong_pairs: responder gone");
                    let got = answer_rx.await.expect("ping_pong_pairs: responder hung up");
                    assert_eq!(got, i + 1, "ping_pong_pairs: wrong reply");
                    1usize
                })
            })
            .collect();
        let mut done = 0;
        for handle in handles {
            done += handle.await;
        }
        (start.elapsed(), done)
    });
    let (elapsed, done) = block_on(root);
    assert_eq!(done, pairs, "ping_pong_pairs: completed pairs");
    elapsed
}

/// (e) A root task starts a clock and spawns task 1 (detached); task k spawns
/// task k+1 (detached), `links` deep. The last task completes a oneshot the
/// root awaits. Units: links.
pub fn chained_spawn<R: BenchRuntime>(rt: &R, links: usize) -> Duration {
    assert!(
        links >= 1,
        "chained_spawn: links must be at least 1, got {links}"
    );
    let root = rt.spawn(async move {
        let (done_tx, done_rx) = oneshot::channel::<usize>();
        let start = Instant::now();
        chain_link::<R>(1, links, done_tx);
        let reached = done_rx.await.expect("chained_spawn: chain broke");
        (start.elapsed(), reached)
    });
    let (elapsed, reached) = block_on(root);
    assert_eq!(reached, links, "chained_spawn: depth reached");
    elapsed
}

/// Spawns link `depth` of [`chained_spawn`]'s chain (a plain fn, like tokio's
/// bench, so the future type is not recursive).
fn chain_link<R: BenchRuntime>(depth: usize, links: usize, done: oneshot::Sender<usize>) {
    R::spawn_detached(async move {
        if depth == links {
            // The root awaits the receiver, so it cannot be gone.
            done.send(depth).expect("chained_spawn: root gone");
        } else {
            chain_link::<R>(depth + 1, links, done);
        }
    });
}

/// The workloads of the race, at their full sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// [`spawn_many`] of [`SPAWN_TASKS`].
    SpawnMany,
    /// [`spawn_remote`] of [`SPAWN_TASKS`].
    SpawnRemote,
    /// [`yield_many`] of [`YIELD_TASKS`] x [`YIELDS_PER_TASK`].
    YieldMany,
    /// [`ping_pong_seq`] of [`PING_PONG_ROUND_TRIPS`].
    PingPongSeq,
    /// [`ping_pong_pairs`] of [`PING_PONG_PAIRS`].
    PingPongPairs,
    /// [`chained_spawn`] of [`CHAIN_LINKS`].
    ChainedSpawn,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 6] = [
        Workload::SpawnMany,
        Workload::SpawnRemote,
        Workload::YieldMany,
        Workload::PingPongSeq,
        Workload::PingPongPairs,
        Workload::ChainedSpawn,
    ];

    /// The name used in tables, criterion groups and `--only`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnMany => "spawn_many",
            Workload::SpawnRemote => "spawn_remote",
            Workload::YieldMany => "yield_many",
            Workload::PingPongSeq => "ping_pong_seq",
            Workload::PingPongPairs => "ping_pong_pairs",
            Workload::ChainedSpawn => "chained_spawn",
        }
    }

    /// Looks a workload up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// What one unit of work is (the table shows ns per unit).
    pub fn unit(self) -> &'static str {
        match self {
            Workload::SpawnMany | Workload::SpawnRemote => "task",
            Workload::YieldMany => "yield",
            Workload::PingPongSeq => "RT",
            Workload::PingPongPairs => "pair",
            Workload::ChainedSpawn => "link",
        }
    }

    /// How many units one full-size run performs.
    pub fn units(self) -> usize {
        match self {
            Workload::SpawnMany | Workload::SpawnRemote => SPAWN_TASKS,
            Workload::YieldMany => YIELD_TASKS * YIELDS_PER_TASK,
            Workload::PingPongSeq => PING_PONG_ROUND_TRIPS,
            Workload::PingPongPairs => PING_PONG_PAIRS,
            Workload::ChainedSpawn => CHAIN_LINKS,
        }
    }

    /// Runs the workload once at full size on `rt` and returns the measured
    /// time; panics if its correctness check fails.
    pub fn run<R: BenchRuntime>(self, rt: &R) -> Duration {
        match self {
            Workload::SpawnMany => spawn_many(rt, SPAWN_TASKS),
            Workload::SpawnRemote => spawn_remote(rt, SPAWN_TASKS),
            Workload::YieldMany => yield_many(rt, YIELD_TASKS, YIELDS_PER_TASK),
            Workload::PingPongSeq => ping_pong_seq(rt, PING_PONG_ROUND_TRIPS),
            Workload::PingPongPairs => ping_pong_pairs(rt, PING_PONG_PAIRS),
            Workload::ChainedSpawn => chained_spawn(rt, CHAIN_LINKS),
        }
    }
}
