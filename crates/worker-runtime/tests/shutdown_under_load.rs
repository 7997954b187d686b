//! `docs/testing.md` §3.5, shutdown under load with parked sleepers and pending timers, repeated (200 runs by default,
//! 2000 with `VERIFY_THOROUGH=1`): `shutdown_timeout` returns (a watchdog aborts the process after
//! 60 s without progress), every `JoinHandle` resolves (`Ok` or cancelled, never a panic or a
//! hang), every future is dropped exactly once, and afterwards every signal is clear, no permit
//! is left and no timer stays filed.

mod common;

use common::{
    assert_shut_down_clean, block_on, sized, wait_all_parked, wait_until, DropCounter, Rng,
    Watchdog, HANG,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use worker_runtime::time::sleep;
use worker_runtime::{spawn, yield_now, JoinHandle, Runtime, SpawnError};

/// What a task does, and so which outcomes its handle may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Never finishes: must be cancelled.
    Pending,
    /// Finishes in its first poll (after spawning a detached child): must be `Ok`.
    Quick,
    /// Yields a few times, then finishes: `Ok` or cancelled.
    Yielding,
    /// Yields until shutdown: must be cancelled.
    YieldForever,
    /// Waits for a channel message: `Ok` or cancelled.
    Channel,
    /// Spawned by a plain thread racing the shutdown: `Ok` or cancelled.
    Racing,
    /// Sleeps for an hour (a pending timer): must be cancelled.
    LongSleep,
    /// Sleeps up to 2 ms, twice: `Ok` or cancelled.
    ShortSleep,
}

struct Iteration {
    rt: Runtime,
    drops: Arc<DropCounter>,
    started: Arc<AtomicUsize>,
    handles: Vec<(Kind, JoinHandle<u32>)>,
}

impl Iteration {
    fn spawn(&mut self, kind: Kind, rx: &async_channel::Receiver<u32>, rng: &mut Rng) {
        let g = self.drops.guard();
        let started = Arc::clone(&self.started);
        let rx = rx.clone();
        let drops = Arc::clone(&self.drops);
        let yields = rng.below(5) as u32;
        let h = self.rt.spawn(async move {
            let _g = g;
            started.fetch_add(1, Ordering::SeqCst);
            match kind {
                Kind::Pending => std::future::pending::<u32>().await,
                Kind::Quick => {
                    // A detached child that never finishes: shutdown must drop it too.
                    let g = drops.guard();
                    drop(spawn(async move {
                        let _g = g;
                        std::future::pending::<()>().await;
                    }));
                    1
                }
                Kind::Yielding => {
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    2
                }
                Kind::YieldForever => loop {
                    yield_now().await;
                },
                Kind::Channel => rx.recv().await.unwrap_or(0),
                Kind::LongSleep => {
                    sleep(Duration::from_secs(3600)).await;
                    unreachable!("an hour-long sleep ended")
                }
                Kind::ShortSleep => {
                    for _ in 0..2 {
                        sleep(Duration::from_micros(u64::from(yields) * 400)).await;
                    }
                    4
                }
                Kind::Racing => unreachable!(),
            }
        });
        self.handles.push((kind, h));
    }
}

fn run_once(seed: u64, watchdog: &Watchdog) {
    let mut rng = Rng::new(seed);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let probe = rt.debug_probe();
    let mut it = Iteration {
        rt,
        drops: DropCounter::new(),
        started: Arc::new(AtomicUsize::new(0)),
        handles: Vec::new(),
    };
    let (tx, rx) = async_channel::unbounded::<u32>();
    // 0: everything parks before shutdown; 1: workers busy with endless yielders; 2: parked,
    // then woken by messages and a spawning thread while shutdown begins.
    let mode = seed % 3;
    let mut kinds = Vec::new();
    kinds.extend(std::iter::repeat_n(Kind::Pending, rng.below(30)));
    kinds.extend(std::iter::repeat_n(Kind::Quick, rng.below(30)));
    kinds.extend(std::iter::repeat_n(Kind::Yielding, rng.below(10)));
    kinds.extend(std::iter::repeat_n(Kind::Channel, 1 + rng.below(15)));
    kinds.extend(std::iter::repeat_n(Kind::LongSleep, 1 + rng.below(10)));
    if mode == 1 {
        kinds.extend(std::iter::repeat_n(Kind::ShortSleep, rng.below(10)));
    }
    if mode == 1 {
        kinds.extend(std::iter::repeat_n(Kind::YieldForever, 1 + rng.below(4)));
    }
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i + 1));
    }
    for &k in &kinds {
        it.spawn(k, &rx, &mut rng);
    }
    // Handshake: every task has been polled at least once.
    wait_until(|| it.started.load(Ordering::SeqCst) == kinds.len());
    if mode != 1 {
        // Nothing is runnable any more: both workers go to sleep (with their next timer as the
        // timeout).
        wait_all_parked(&probe);
    }

    // A plain thread that keeps spawning until it is refused, racing the shutdown.
    let racing_started = Arc::new(AtomicBool::new(false));
    let racer = (mode == 2).then(|| {
        let (handle, drops, started) = (
            it.rt.handle(),
            Arc::clone(&it.drops),
            Arc::clone(&racing_started),
        );
        std::thread::spawn(move || {
            let mut hs = Vec::new();
            loop {
                let g = drops.guard();
                match handle.try_spawn(async move {
                    let _g = g;
                    yield_now().await;
                    3u32
                }) {
                    Ok(h) => hs.push(h),
                    Err(SpawnError::Shutdown) => break,
                    Err(e) => panic!("unexpected spawn error while racing shutdown: {e}"),
                }
                started.store(true, Ordering::SeqCst);
            }
            hs
        })
    });
    if mode == 2 {
        wait_until(|| racing_started.load(Ordering::SeqCst));
        // Wake some channel waiters right before the shutdown.
        for v in 0..rng.below(8) as u32 {
            tx.try_send(10 + v).unwrap();
        }
    }

    let Iteration {
        rt,
        drops,
        handles,
        started: _,
    } = it;
    rt.shutdown_timeout(HANG);
    watchdog.pet();

    let racing = racer.map_or_else(Vec::new, |t| t.join().unwrap());
    assert_shut_down_clean(&probe);
    assert_eq!(
        probe.timers(),
        (0, 0),
        "seed {seed}: timers left after shutdown"
    );
    for (kind, h) in handles
        .into_iter()
        .chain(racing.into_iter().map(|h| (Kind::Racing, h)))
    {
        let r = block_on(h);
        match (&r, kind) {
            (Ok(1), Kind::Quick) => {}
            (Err(e), Kind::Pending | Kind::YieldForever | Kind::LongSleep) if e.is_cancelled() => {}
            (Ok(2), Kind::Yielding) | (Ok(3), Kind::Racing) | (Ok(4), Kind::ShortSleep) => {}
            (Ok(v), Kind::Channel) if *v >= 10 => {}
            (Err(e), Kind::Yielding | Kind::Channel | Kind::Racing | Kind::ShortSleep)
                if e.is_cancelled() => {}
            _ => panic!("seed {seed}: a {kind:?} task resolved to {r:?}"),
        }
    }
    drop((tx, rx));
    assert_eq!(
        drops.created(),
        drops.dropped(),
        "seed {seed}: futures created vs dropped"
    );
    // Nothing changed after the handles were consumed.
    assert_shut_down_clean(&probe);
}

#[test]
fn shutdown_under_load_with_parked_sleepers_repeated() {
    let watchdog = Watchdog::new("shutdown_under_load_with_parked_sleepers_repeated");
    let runs = sized(3, 200, 2000);
    for seed in 0..runs as u64 {
        run_once(seed, &watchdog);
        watchdog.pet();
    }
}
