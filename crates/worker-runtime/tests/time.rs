//! Timers through the public API: `sleep`, `sleep_until`, `Sleep::reset`, `timeout`, `interval`;
//! order and never-early firing, cancellation (also from other threads), registration from a plain
//! thread, far deadlines, shutdown with pending timers, and a blocked worker that must not freeze
//! other tasks' timers. No assertion here is about speed: where a bound is checked it is an
//! ordering ("before the blocking task returned"), never a duration.

mod common;

use common::{Rng, Watchdog};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};
use worker_runtime::time::{
    interval, interval_at, sleep, sleep_until, timeout, MissedTickBehavior, Sleep,
};
use worker_runtime::{spawn, yield_now, Runtime};

fn runtime(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn sleep_never_ends_early() {
    let _w = Watchdog::new("sleep_never_ends_early");
    let rt = runtime(2);
    let mut rng = Rng::new(7);
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let d = Duration::from_micros(rng.below(20_000) as u64);
            rt.spawn(async move {
                let start = Instant::now();
                sleep(d).await;
                (start.elapsed(), d)
            })
        })
        .collect();
    rt.block_on(async {
        for h in handles {
            let (took, asked) = h.await.unwrap();
            assert!(took >= asked, "slept {took:?}, asked for {asked:?}");
        }
    });
}

#[test]
fn timers_fire_in_deadline_order_on_one_worker() {
    let _w = Watchdog::new("timers_fire_in_deadline_order_on_one_worker");
    let rt = runtime(1);
    let order = Arc::new(Mutex::new(Vec::new()));
    let base = Instant::now() + ms(20);
    // Deadlines 3 ms apart (more than two ticks), spawned in a shuffled order.
    let mut ks: Vec<u64> = (0..30).collect();
    let mut rng = Rng::new(11);
    for i in (1..ks.len()).rev() {
        ks.swap(i, rng.below(i + 1));
    }
    let handles: Vec<_> = ks
        .iter()
        .map(|&k| {
            let order = Arc::clone(&order);
            rt.spawn(async move {
                let deadline = base + ms(3 * k);
                sleep_until(deadline).await;
                assert!(Instant::now() >= deadline, "timer {k} fired early");
                order.lock().unwrap().push(k);
            })
        })
        .collect();
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
    let order = order.lock().unwrap().clone();
    let sorted: Vec<u64> = (0..30).collect();
    assert_eq!(order, sorted);
}

/// 10^5 timers with random deadlines and random cancels (by aborting the sleeping task, from the
/// test thread), against a model: the `BTreeMap` of the deadlines that were not cancelled. Every
/// timer in the model fires, exactly once, none outside it, none early. (The order in which the
/// woken tasks then run is the scheduler's business; `timers_fire_in_deadline_order_on_one_worker`
/// checks the order of timers a few ticks apart.)
#[test]
fn random_timers_and_cancels_match_a_model() {
    let _w = Watchdog::new("random_timers_and_cancels_match_a_model");
    let n = common::sized(300, 100_000, 100_000);
    let rt = runtime(1);
    let mut rng = Rng::new(99);
    let fired = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let base = Instant::now() + ms(50);
    let mut handles = Vec::with_capacity(n);
    let mut deadlines = Vec::with_capacity(n);
    for i in 0..n {
        let deadline = base + Duration::from_micros(rng.below(200_000) as u64);
        deadlines.push(deadline);
        let fired = Arc::clone(&fired);
        handles.push(rt.spawn(async move {
            sleep_until(deadline).await;
            let now = Instant::now();
            fired.lock().unwrap().push((i, now));
        }));
    }
    // The model: every timer not cancelled before its deadline. One aborted after its deadline
    // (spawning 10^5 tasks can outlast the 50 ms head start) may or may not have fired.
    let mut model = std::collections::BTreeMap::new();
    let mut either = std::collections::BTreeSet::new();
    for (i, h) in handles.iter().enumerate() {
        if rng.chance(30) {
            h.abort();
            if Instant::now() >= deadlines[i] {
                either.insert(i);
            }
        } else {
            model.insert((deadlines[i], i), ());
        }
    }
    rt.block_on(async {
        for h in handles {
            let _ = h.await;
        }
    });
    let fired = fired.lock().unwrap().clone();
    let got: std::collections::BTreeSet<usize> = fired.iter().map(|&(i, _)| i).collect();
    assert_eq!(got.len(), fired.len(), "a timer fired twice");
    let expect: std::collections::BTreeSet<usize> = model.keys().map(|&(_, i)| i).collect();
    let missing: Vec<_> = expect.difference(&got).take(10).collect();
    let extra: Vec<_> = got
        .difference(&expect)
        .filter(|i| !either.contains(i))
        .take(10)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "fired set differs from the model: missing {missing:?}, cancelled but fired {extra:?}"
    );
    for &(i, at) in &fired {
        assert!(at >= deadlines[i], "timer {i} fired early");
    }
}

#[test]
fn reset_earlier_and_later() {
    let _w = Watchdog::new("reset_earlier_and_later");
    let rt = runtime(2);
    rt.block_on(async {
        // Later: from 5 ms to 30 ms; it must not complete before the new deadline.
        let start = Instant::now();
        let mut s = Box::pin(sleep(ms(5)));
        assert!(futures_lite::future::poll_once(s.as_mut()).await.is_none());
        s.as_mut().reset(start + ms(30));
        s.as_mut().await;
        assert!(start.elapsed() >= ms(30));
        assert!(s.is_elapsed());
        // Earlier: from an hour to 5 ms, after it was registered.
        let start = Instant::now();
        let mut s = Box::pin(sleep(Duration::from_secs(3600)));
        assert!(futures_lite::future::poll_once(s.as_mut()).await.is_none());
        s.as_mut().reset(start + ms(5));
        assert_eq!(s.deadline(), start + ms(5));
        s.as_mut().await;
        assert!(start.elapsed() >= ms(5));
        // A completed sleep can be reset and awaited again.
        let again = Instant::now() + ms(3);
        s.as_mut().reset(again);
        assert!(!s.is_elapsed());
        s.as_mut().await;
        assert!(Instant::now() >= again);
    });
}

#[test]
fn a_sleep_dropped_before_its_first_poll_registers_nothing() {
    let rt = runtime(1);
    let probe = rt.debug_probe();
    rt.block_on(async {
        let unpolled: Vec<Sleep> = (0..100).map(|_| sleep(ms(50))).collect();
        assert_eq!(probe.timers(), (0, 0));
        drop(unpolled);
        let mut polled = Box::pin(sleep(Duration::from_secs(3600)));
        assert!(futures_lite::future::poll_once(polled.as_mut())
            .await
            .is_none());
        // Registered from the block_on thread: a message to a worker, filed once it is applied.
        common::wait_until(|| probe.timers() == (1, 0));
        drop(polled);
        common::wait_until(|| probe.timers() == (0, 0));
    });
}

#[test]
fn a_far_timer_waits_on_the_overflow_list_and_cancels() {
    let rt = runtime(2);
    let probe = rt.debug_probe();
    let far = rt.spawn(async {
        // 20 days: beyond the wheel's span at the default tick (2^30 ticks, about 19.5 hours).
        sleep(Duration::from_secs(20 * 86_400)).await;
    });
    common::wait_until(|| probe.timers() == (1, 0));
    // Handshake instead of a pause: a 20 ms timer fires, so the wheels have advanced past it.
    rt.block_on(rt.spawn(async { sleep(ms(20)).await }))
        .unwrap();
    assert!(!far.is_finished(), "a 20-day timer fired");
    far.abort();
    rt.block_on(async { assert!(far.await.unwrap_err().is_cancelled()) });
    common::wait_until(|| probe.timers() == (0, 0));
}

#[test]
fn a_sleep_polled_on_a_plain_thread_fires() {
    let rt = runtime(2);
    // Made inside the runtime, polled by another executor on a thread that is not a worker.
    #[allow(clippy::async_yields_async)] // the sleep is handed out on purpose
    let s = rt.block_on(async { sleep(ms(10)) });
    let deadline = s.deadline();
    common::block_on(s);
    assert!(Instant::now() >= deadline);
    // And from inside block_on (also not a worker thread).
    rt.block_on(async {
        let start = Instant::now();
        sleep(ms(10)).await;
        assert!(start.elapsed() >= ms(10));
    });
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A sleep registered on one worker, then dropped on another thread right around its deadline
/// (the owner may be firing it at that moment): its waker is called at most once, and once the
/// owners have applied the cancels nothing stays filed. (A fire that passed its generation check
/// before the drop may still be delivering its wake when `drop` returns, as in tokio; that a fire
/// *after* a reset or drop never completes the sleep is `loom_timers::reset_by_message_races_fire`.)
#[test]
fn cancel_from_another_thread_while_the_owner_fires() {
    let _w = Watchdog::new("cancel_from_another_thread_while_the_owner_fires");
    let rt = runtime(2);
    let probe = rt.debug_probe();
    let rounds = common::sized(20, 300, 3000);
    let counters: Vec<_> = (0..rounds)
        .map(|_| Arc::new(CountingWaker(AtomicUsize::new(0))))
        .collect();
    let sleeps: Vec<Sleep> = rt.block_on(async {
        let mut out = Vec::new();
        for (k, c) in counters.iter().enumerate() {
            let c = Arc::clone(c);
            // Register on a worker with a counting waker, hand the sleep back.
            #[allow(clippy::async_yields_async)] // the sleep is handed out on purpose
            let s = spawn(async move {
                let mut s = sleep(Duration::from_micros(200 + 10 * k as u64));
                let waker = Waker::from(c);
                let mut cx = Context::from_waker(&waker);
                assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
                s
            })
            .await
            .unwrap();
            out.push(s);
        }
        out
    });
    // Drop them from this thread while the owners fire them.
    for s in sleeps {
        drop(s);
    }
    // Handshake: every cancel has been applied (or its timer fired) in every wheel.
    common::wait_until(|| probe.timers() == (0, 0));
    for (k, c) in counters.iter().enumerate() {
        let wakes = c.0.load(Ordering::SeqCst);
        assert!(wakes <= 1, "sleep {k} woke {wakes} times");
    }
}

#[test]
fn timeout_both_ways() {
    let rt = runtime(2);
    rt.block_on(async {
        assert_eq!(timeout(ms(100), async { 5 }).await, Ok(5));
        let start = Instant::now();
        let r = timeout(ms(5), sleep(Duration::from_secs(3600))).await;
        assert!(r.is_err());
        assert!(start.elapsed() >= ms(5));
        assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
        // The inner future is polled first: ready at the same poll as the deadline still wins.
        let r = timeout(Duration::ZERO, async { 9 }).await;
        assert_eq!(r, Ok(9));
        let e: std::io::Error = timeout(Duration::ZERO, std::future::pending::<()>())
            .await
            .unwrap_err()
            .into();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    });
}

/// Blocks the worker for `late` right after the first tick, then returns the scheduled instants
/// of the next four ticks.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> (Instant, Vec<Instant>) {
    let rt = runtime(1);
    rt.block_on(async move {
        let start = Instant::now() + ms(5);
        let mut iv = interval_at(start, ms(10));
        iv.set_missed_tick_behavior(behavior);
        assert_eq!(iv.tick().await, start);
        // The stall under test (this task blocks its worker), not a wait for another thread:
        // the ticks at +10, +20 and +30 are missed.
        std::thread::sleep(ms(35));
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(iv.tick().await);
        }
        (start, out)
    })
}

#[test]
fn interval_burst_catches_up() {
    let (start, ticks) = ticks_after_a_stall(MissedTickBehavior::Burst);
    let want: Vec<Instant> = (1..=4).map(|k| start + ms(10 * k)).collect();
    assert_eq!(ticks, want);
}

#[test]
fn interval_delay_restarts_from_the_late_tick() {
    let (start, ticks) = ticks_after_a_stall(MissedTickBehavior::Delay);
    assert_eq!(ticks[0], start + ms(10));
    assert!(ticks[1] >= start + ms(40), "{:?}", ticks[1] - start);
    for pair in ticks[1..].windows(2) {
        assert_eq!(pair[1] - pair[0], ms(10));
    }
}

#[test]
fn interval_skip_stays_on_the_grid() {
    let (start, ticks) = ticks_after_a_stall(MissedTickBehavior::Skip);
    assert_eq!(ticks[0], start + ms(10));
    for t in &ticks[1..] {
        let off = *t - start;
        assert_eq!(
            off.as_nanos() % ms(10).as_nanos(),
            0,
            "{off:?} off the grid"
        );
    }
    assert!(ticks[1] >= start + ms(40));
}

#[test]
fn interval_ticks_at_once_then_every_period() {
    let rt = runtime(1);
    rt.block_on(async {
        let before = Instant::now();
        let mut iv = interval(ms(3));
        assert_eq!(iv.period(), ms(3));
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
        let first = iv.tick().await;
        assert!(first >= before && first <= Instant::now());
        let second = iv.tick().await;
        assert_eq!(second - first, ms(3));
        assert!(Instant::now() >= second);
    });
}

/// The scenario tokio's per-worker timers cannot serve: a task blocks the worker whose wheel
/// holds another task's 10 ms timer, for 1 s. The service thread fires it and another worker runs
/// the woken task, long before the blocking task returns.
#[test]
fn a_blocked_worker_does_not_freeze_other_timers() {
    let _w = Watchdog::new("a_blocked_worker_does_not_freeze_other_timers");
    let rt = runtime(2);
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(
            attempts <= 50,
            "never got the sleeper and the blocker onto one worker"
        );
        if let Some(delay) = rt.block_on(spawn_pair()) {
            println!("10 ms sleep behind a blocked owner completed after {delay:?}");
            break;
        }
    }
}

/// Spawns, from one task, a sleeper (run first on the same worker, through the LIFO slot), then
/// blocks that worker until the sleeper reports that its 10 ms sleep ended: a handshake, bounded
/// by 1 s, after which the timer counts as frozen behind the blocked owner. Returns `None` if the
/// two did not share a thread.
async fn spawn_pair() -> Option<Duration> {
    spawn(async move {
        let me = std::thread::current().id();
        let (tx, rx) = std::sync::mpsc::channel();
        let sleeper = spawn(async move {
            let thread = std::thread::current().id();
            let start = Instant::now();
            sleep(ms(10)).await;
            tx.send(start.elapsed()).unwrap();
            thread
        });
        // Let the sleeper run (and register) on this worker first.
        yield_now().await;
        yield_now().await;
        // Block this worker (no `.await`) until the sleeper's timer fired and it ran elsewhere.
        let delay = rx.recv_timeout(Duration::from_secs(1));
        let thread = sleeper.await.unwrap();
        if thread != me {
            return None;
        }
        Some(delay.expect("the 10 ms sleep waited for the blocked worker"))
    })
    .await
    .unwrap()
}

#[test]
fn shutdown_drops_pending_sleeps_and_resolves_their_tasks() {
    let _w = Watchdog::new("shutdown_drops_pending_sleeps_and_resolves_their_tasks");
    let rt = runtime(2);
    let probe = rt.debug_probe();
    let drops = common::DropCounter::new();
    let handles: Vec<_> = (0..500)
        .map(|i| {
            let guard = drops.guard();
            rt.spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600 + i)).await;
            })
        })
        .collect();
    common::wait_until(|| probe.timers().0 == 500);
    // Returns once every thread has left, long before its timeout.
    rt.shutdown_timeout(Duration::from_secs(3600));
    assert_eq!(drops.dropped(), 500);
    for h in handles {
        assert!(common::block_on(h).unwrap_err().is_cancelled());
    }
    assert_eq!(probe.timers(), (0, 0));
}

#[test]
#[should_panic(expected = "called outside a runtime")]
fn sleep_outside_a_runtime_panics() {
    drop(sleep(ms(1)));
}

#[test]
fn tick_duration_is_validated() {
    let err = Runtime::builder()
        .tick_duration(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "tick_duration");
    let err = Runtime::builder()
        .tick_duration(Duration::from_secs(2))
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "tick_duration");
    let rt = Runtime::builder()
        .worker_threads(1)
        .tick_duration(Duration::from_micros(100))
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_micros(300)).await;
        assert!(start.elapsed() >= Duration::from_micros(300));
    });
}

/// §4: rapid register / cancel loops on every kind of thread at once (workers filing directly,
/// plain threads by message), racing the owners' timer checks: every sleep ends up cancelled and
/// nothing stays filed or queued.
#[test]
fn rapid_register_and_cancel_loops_leave_nothing_behind() {
    let _w = Watchdog::new("rapid_register_and_cancel_loops_leave_nothing_behind");
    let rt = runtime(2);
    let probe = rt.debug_probe();
    let n = common::sized(50, 5_000, 50_000);
    let noop = Waker::noop();
    let poll_once_and_drop = move || {
        let mut s = sleep(Duration::from_micros(50));
        let mut cx = Context::from_waker(noop);
        let _ = Pin::new(&mut s).poll(&mut cx);
        // Dropped right away: mostly before it fires, sometimes just after.
    };
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            rt.spawn(async move {
                for i in 0..n {
                    poll_once_and_drop();
                    if i % 64 == 0 {
                        yield_now().await;
                    }
                }
            })
        })
        .collect();
    // Two plain threads inside `block_on`: their sleeps go to the workers by message.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                rt.block_on(async {
                    for _ in 0..n / 4 {
                        poll_once_and_drop();
                    }
                })
            });
        }
    });
    for h in tasks {
        common::block_on(h).unwrap();
    }
    common::wait_until(|| probe.timers() == (0, 0));
}
