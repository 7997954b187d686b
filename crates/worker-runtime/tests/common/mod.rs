//! Helpers shared by the integration tests: a hang watchdog, drop counters, a state handshake,
//! a small deterministic PRNG and the `VERIFY_THOROUGH` / Miri sizing.

#![allow(dead_code)] // each test binary uses a different subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use worker_runtime::DebugProbe;

/// How long a test may go without progress before the watchdog aborts the process (Miri runs
/// thousands of times slower: there the limit is only a last resort).
pub const HANG: Duration = if cfg!(miri) {
    Duration::from_secs(3600)
} else {
    Duration::from_secs(60)
};

/// Whether the long version was asked for (`cargo xtask verify --thorough` sets it).
pub fn thorough() -> bool {
    std::env::var_os("VERIFY_THOROUGH").is_some_and(|v| v == "1")
}

/// Repetitions of a small scenario: `n` normally, 3 under Miri.
pub fn reps(n: usize) -> usize {
    if cfg!(miri) {
        3
    } else {
        n
    }
}

/// `default` normally, `thorough` under `VERIFY_THOROUGH=1`, `miri` under Miri.
pub fn sized(miri: usize, default: usize, thorough_n: usize) -> usize {
    if cfg!(miri) {
        miri
    } else if thorough() {
        thorough_n
    } else {
        default
    }
}

/// Aborts the whole process with a clear message if nobody calls [`pet`](Self::pet) (or drops
/// it) for [`HANG`]: a lost wakeup or a shutdown that never returns is a hang, and this turns it
/// into a failure that names the test instead of a CI job that times out.
pub struct Watchdog {
    tx: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    pub fn new(what: &'static str) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        let thread = thread::spawn(move || loop {
            match rx.recv_timeout(HANG) {
                Ok(()) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    eprintln!(
                        "WATCHDOG: `{what}` made no progress for {HANG:?} (a hang: lost wakeup, \
                         shutdown that never returns, or a handle that never resolves); aborting"
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Progress was made: restart the countdown.
    pub fn pet(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(());
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Counts how many guards were created and dropped; a future that owns a guard is dropped
/// exactly once iff `created == dropped` at the end (a leak leaves `dropped` short; a double
/// drop would push it past).
#[derive(Default, Debug)]
pub struct DropCounter {
    pub created: AtomicUsize,
    pub dropped: AtomicUsize,
}

impl DropCounter {
    pub fn new() -> Arc<DropCounter> {
        Arc::new(DropCounter::default())
    }

    pub fn guard(self: &Arc<Self>) -> DropGuard {
        self.created.fetch_add(1, Ordering::SeqCst);
        DropGuard(Arc::clone(self))
    }

    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }

    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

pub struct DropGuard(Arc<DropCounter>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Spins (yielding the CPU) until `cond` holds: a handshake on state that another thread
/// publishes, never a sleep. The caller's [`Watchdog`] bounds it.
pub fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        thread::yield_now();
    }
}

/// The parked mask of a runtime whose `workers` workers all park.
fn all_parked(workers: usize) -> u64 {
    if workers == 64 {
        u64::MAX
    } else {
        (1u64 << workers) - 1
    }
}

/// The signal state of slot `w` of an idle runtime with `active` workers: a worker sleeps once
/// with nothing set; a slot without a worker (beyond `active`) has nothing at all.
fn idle_state(w: usize, active: usize) -> (u64, u64, usize, u64) {
    (0, 0, usize::from(w < active), 0)
}

/// Waits until every worker of the probed runtime sleeps on its `SignalWaker`.
pub fn wait_all_parked(probe: &DebugProbe) {
    let workers = probe.active_workers();
    wait_until(|| {
        probe.parked_mask() == all_parked(workers)
            && probe.signal_state()[..workers].iter().all(|s| s.2 == 1)
    });
}

/// Asserts the state of a runtime whose workers all sleep with nothing to do: no status bit, no
/// permit, no partition-summary bit, exactly one sleeper each (and nothing at all in the slots
/// that have no worker).
pub fn assert_idle_clean(probe: &DebugProbe) {
    let active = probe.active_workers();
    for (w, &(status, permits, sleepers, summary)) in probe.signal_state().iter().enumerate() {
        assert_eq!(
            (status, permits, sleepers, summary),
            idle_state(w, active),
            "idle worker {w}: (status, permits, sleepers, partition_summary) = \
             ({status:#x}, {permits}, {sleepers}, {summary:#x})"
        );
    }
}

/// Waits until the runtime is quiescent: every worker parked with no status bit, no permit and
/// no partition-summary bit. With several workers a parked worker can briefly hold a permit (a
/// notification for its partition arrived, another worker took the task, and the futex wake is
/// still on its way), so this waits for the permit to be consumed rather than asserting at the
/// first look. A permit that is never consumed by a sleeping worker is a lost wake-up: after
/// half of [`HANG`] without reaching the quiescent state this panics with the state it saw.
pub fn wait_idle_clean(probe: &DebugProbe) {
    // Shorter than the watchdog's limit, so the state is reported before the process aborts.
    let deadline = std::time::Instant::now() + HANG / 2;
    let workers = probe.active_workers();
    loop {
        let state = probe.signal_state();
        if probe.parked_mask() == all_parked(workers)
            && state
                .iter()
                .enumerate()
                .all(|(w, &s)| s == idle_state(w, workers))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the runtime never became quiescent: parked mask {:#b}, per worker (status, permits, \
             sleepers, partition_summary) = {state:?}",
            probe.parked_mask()
        );
        thread::yield_now();
    }
}

/// Asserts the state after shutdown: every signal clear, no permit, no sleeper, no task slot in
/// use.
pub fn assert_shut_down_clean(probe: &DebugProbe) {
    assert!(probe.is_shutdown());
    for (w, &(status, permits, sleepers, summary)) in probe.signal_state().iter().enumerate() {
        assert_eq!(
            (status, permits, sleepers, summary),
            (0, 0, 0, 0),
            "after shutdown, worker {w}: (status, permits, sleepers, partition_summary) = \
             ({status:#x}, {permits}, {sleepers}, {summary:#x})"
        );
    }
    assert_eq!(
        probe.live_tasks(),
        0,
        "task slots still in use after shutdown"
    );
    assert_eq!(
        probe.scheduled_in_tree(),
        0,
        "task bits still set after shutdown"
    );
}

/// SplitMix64: a tiny deterministic PRNG, so a failing seed reproduces exactly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Blocks on `f` from a plain thread (not inside the runtime).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_lite::future::block_on(f)
}
