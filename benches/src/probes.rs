//! The latency and idle-cost rows of the race (timers, idle CPU, wake
//! latency), each written once and generic over [`BenchRuntime`], like the
//! throughput workloads in [`crate::workloads`].
//!
//! `docs/race.md` describes each in prose. Every function is called from a
//! plain (non-worker) thread, waits with [`futures_lite::future::block_on`]
//! and panics if its correctness check fails. Sizes are parameters so tests
//! can run them small; the constants below are the race's full sizes.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_channel::oneshot;
use futures_lite::future::block_on;

use crate::runtime::BenchRuntime;

/// Tasks in one [`timers`] run at full size.
pub const TIMER_TASKS: usize = 10_000;
/// What each of those tasks sleeps.
pub const TIMER_DELAY: Duration = Duration::from_millis(1);
/// How long [`idle_cpu`] lets a runtime settle before its window opens.
pub const IDLE_SETTLE: Duration = Duration::from_millis(200);
/// The window over which [`idle_cpu`] measures CPU time at full size.
pub const IDLE_WINDOW: Duration = Duration::from_secs(2);
/// The far sleep of [`IdleTimers::FarSleep`]: it must not end during the race.
pub const FAR_SLEEP: Duration = Duration::from_secs(3600);
/// Our idle CPU over one [`IDLE_WINDOW`] must stay below this.
pub const IDLE_CPU_TARGET: Duration = Duration::from_millis(5);
/// Wake-latency samples per timed round of the race (25 rounds: 2,000).
pub const WAKE_SAMPLES_PER_RUN: usize = 80;
/// Wake-latency samples per warm-up round (discarded).
pub const WAKE_WARMUP_SAMPLES_PER_RUN: usize = 20;
/// The idle pause before each wake-latency sample, long enough for every
/// runtime's workers to stop searching and park.
pub const WAKE_PAUSE: Duration = Duration::from_millis(1);

/// The rows of the race that are not throughput workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// [`timers`] of [`TIMER_TASKS`] x [`TIMER_DELAY`].
    Timers,
    /// [`idle_cpu`] over [`IDLE_WINDOW`], without and with a far timer.
    IdleCpu,
    /// [`WakeProbe`] samples, [`WAKE_SAMPLES_PER_RUN`] per timed round.
    WakeLatency,
    /// [`crate::io_probes::echo`]: TCP echo over loopback.
    Echo,
    /// [`crate::io_probes::http`]: hyper's HTTP/1 hello world (ours and tokio).
    Http,
}

impl Probe {
    /// Every probe, in table order.
    pub const ALL: [Probe; 5] = [
        Probe::Timers,
        Probe::IdleCpu,
        Probe::WakeLatency,
        Probe::Echo,
        Probe::Http,
    ];

    /// The name used in tables and `--only`.
    pub fn name(self) -> &'static str {
        match self {
            Probe::Timers => "timers",
            Probe::IdleCpu => "idle_cpu",
            Probe::WakeLatency => "wake_latency",
            Probe::Echo => "echo",
            Probe::Http => "http",
        }
    }

    /// Looks a probe up by [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Probe> {
        Probe::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What one [`timers`] run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerRun {
    /// From the root's first spawn to its last await.
    pub wall: Duration,
    /// Per task: when it resumed after its sleep minus its deadline
    /// (`Instant::now()` just before the sleep, plus the delay).
    pub lateness: Vec<Duration>,
}

/// (t) A root task starts a clock and spawns `tasks` tasks locally; each
/// reads its deadline (now plus `delay`), awaits the runtime's
/// [`BenchRuntime::sleep`] of `delay` once and reports how late it resumed.
/// The root awaits them all and reads the clock. Panics if any sleep ended
/// before its deadline.
pub fn timers<R: BenchRuntime>(rt: &R, tasks: usize, delay: Duration) -> TimerRun {
    let root = rt.spawn(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                R::spawn_local(async move {
                    let deadline = Instant::now() + delay;
                    R::sleep(delay).await;
                    // `None`: the sleep ended early.
                    Instant::now().checked_duration_since(deadline)
                })
            })
            .collect();
        let mut lateness = Vec::with_capacity(tasks);
        for handle in handles {
            lateness.push(handle.await);
        }
        (start.elapsed(), lateness)
    });
    let (wall, lateness) = block_on(root);
    assert_eq!(lateness.len(), tasks, "timers: completed count");
    let lateness = lateness
        .into_iter()
        .enumerate()
        .map(|(i, late)| {
            late.unwrap_or_else(|| panic!("timers: task {i} woke before its {delay:?} deadline"))
        })
        .collect();
    TimerRun { wall, lateness }
}

/// Which timers (or sockets) are pending while [`idle_cpu`] measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleTimers {
    /// No timer at all.
    None,
    /// One task parked in a [`FAR_SLEEP`].
    FarSleep,
    /// One task parked in `accept` on a loopback listener nobody connects to (the runtime's IO
    /// driver exists and has a registration), no timer.
    OpenListener,
}

/// (i) The CPU time (user plus system, all threads of this process) used
/// over `window` while `rt` idles, measured from the plain thread with
/// [`process_cpu_time`]. First every worker gets a task to run (so lazily
/// started threads exist), then, for [`IdleTimers::FarSleep`], one task
/// starts a [`FAR_SLEEP`]; after `settle` the window opens. Panics if the
/// far sleep ends during the window.
///
/// The far-sleep task is left pending (async-executor cancels it when its
/// handle drops here; the others when the runtime shuts down). For a clean
/// figure no other runtime should be alive in the process.
pub fn idle_cpu<R: BenchRuntime>(
    rt: &R,
    settle: Duration,
    window: Duration,
    timers: IdleTimers,
) -> Duration {
    let warm: Vec<_> = (0..16).map(|i| rt.spawn(async move { i })).collect();
    for (i, handle) in warm.into_iter().enumerate() {
        assert_eq!(block_on(handle), i, "idle_cpu: warm-up task {i}'s output");
    }
    let ended = Arc::new(AtomicBool::new(false));
    let sleeper = match timers {
        IdleTimers::None => None,
        IdleTimers::FarSleep => {
            let (started_tx, started_rx) = oneshot::channel::<()>();
            let ended = Arc::clone(&ended);
            let handle = rt.spawn(async move {
                let sleep = R::sleep(FAR_SLEEP);
                // The plain thread waits for this send, so it cannot be gone.
                started_tx.send(()).expect("idle_cpu: plain thread gone");
                sleep.await;
                ended.store(true, Ordering::SeqCst);
            });
            block_on(started_rx).expect("idle_cpu: the far-sleep task died");
            Some(handle)
        }
        IdleTimers::OpenListener => {
            let (started_tx, started_rx) = oneshot::channel::<()>();
            let ended = Arc::clone(&ended);
            let handle = rt.spawn(async move {
                let (listener, _) = R::bind_loopback().await;
                // The plain thread waits for this send, so it cannot be gone.
                started_tx.send(()).expect("idle_cpu: plain thread gone");
                let _ = R::accept(&listener).await;
                ended.store(true, Ordering::SeqCst);
            });
            block_on(started_rx).expect("idle_cpu: the listener task died");
            Some(handle)
        }
    };
    std::thread::sleep(settle);
    let before = process_cpu_time();
    std::thread::sleep(window);
    let used = process_cpu_time().saturating_sub(before);
    assert!(
        !ended.load(Ordering::SeqCst),
        "idle_cpu: a {FAR_SLEEP:?} sleep ended (or a connection was accepted) within {:?}",
        settle + window
    );
    drop(sleeper);
    used
}

/// User plus system CPU time of this whole process so far (every thread,
/// live or exited), from `getrusage(RUSAGE_SELF)` (microsecond resolution).
pub fn process_cpu_time() -> Duration {
    // SAFETY: `rusage` is a plain C struct of integers, so all-zero is a
    // valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call's duration,
    // and `RUSAGE_SELF` is a valid `who`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(
        rc,
        0,
        "getrusage(RUSAGE_SELF) failed: {}",
        std::io::Error::last_os_error()
    );
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// A `timeval` as a [`Duration`] (negative fields, which the kernel never
/// reports here, count as zero).
fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u64::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}

/// (w) A task parked on a runtime, woken from the plain thread one sample at
/// a time, for the wake-latency row.
///
/// The task loops on an `async_channel::bounded(1)` receive; right after
/// each receive returns, it reads the clock and sends the value and that
/// instant back. [`sample`](Self::sample) pauses (so the runtime idles and
/// its workers park), reads the clock, sends, and returns the difference.
pub struct WakeProbe {
    /// To the parked task.
    ask: async_channel::Sender<u64>,
    /// From the task: the value it received and when it resumed.
    answer: async_channel::Receiver<(u64, Instant)>,
    /// The task; resolves to how many values it received.
    task: Pin<Box<dyn Future<Output = u64> + Send>>,
    /// Values sent so far (also the next value).
    sent: u64,
}

impl std::fmt::Debug for WakeProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeProbe")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl WakeProbe {
    /// Spawns the parked task on `rt` (remotely, from this plain thread).
    pub fn start<R: BenchRuntime>(rt: &R) -> WakeProbe {
        let (ask, ask_rx) = async_channel::bounded::<u64>(1);
        let (answer_tx, answer) = async_channel::bounded::<(u64, Instant)>(1);
        let task = rt.spawn(async move {
            let mut received = 0;
            while let Ok(v) = ask_rx.recv().await {
                let resumed = Instant::now();
                answer_tx
                    .send((v, resumed))
                    .await
                    .expect("wake_latency: plain thread hung up");
                received += 1;
            }
            received
        });
        WakeProbe {
            ask,
            answer,
            task: Box::pin(task),
            sent: 0,
        }
    }

    /// Sleeps `pause` on this thread, then sends one value to the parked
    /// task and returns the time from just before the send to the task's
    /// first instruction after its receive. Panics if the task answers with
    /// another value or is gone.
    pub fn sample(&mut self, pause: Duration) -> Duration {
        std::thread::sleep(pause);
        let v = self.sent;
        let sent_at = Instant::now();
        self.ask
            .try_send(v)
            .expect("wake_latency: the task has not taken the previous value");
        self.sent += 1;
        let (got, resumed) = block_on(self.answer.recv()).expect("wake_latency: the task is gone");
        assert_eq!(got, v, "wake_latency: the task answered another value");
        resumed.duration_since(sent_at)
    }

    /// Closes the channel, waits for the task to finish and checks that it
    /// received every value sent; returns that count.
    pub fn finish(self) -> u64 {
        let WakeProbe {
            ask, task, sent, ..
        } = self;
        drop(ask);
        let received = block_on(task);
        assert_eq!(received, sent, "wake_latency: values received by the task");
        received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_names_round_trip() {
        for p in Probe::ALL {
            assert_eq!(Probe::from_name(p.name()), Some(p));
        }
        assert_eq!(Probe::from_name("spawn_many"), None);
    }

    #[test]
    fn cpu_time_grows_while_this_thread_spins() {
        let start = process_cpu_time();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        while process_cpu_time() < start + Duration::from_millis(5) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            assert!(Instant::now() < deadline, "process CPU time never grew");
        }
    }

    #[test]
    fn timeval_converts_and_clamps() {
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 500_000,
        };
        assert_eq!(timeval(tv), Duration::from_millis(2_500));
        let negative = libc::timeval {
            tv_sec: -1,
            tv_usec: 7,
        };
        assert_eq!(timeval(negative), Duration::from_micros(7));
    }
}
