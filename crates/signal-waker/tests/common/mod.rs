//! Helpers shared by the threaded test files: sizing by environment, handshakes and a watchdog.
//!
//! Every test file includes this with `mod common;` and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Picks a size: `miri` under Miri, `thorough` when `VERIFY_THOROUGH` is set (and not empty or
/// "0"), `default` otherwise.
pub fn sized(default: usize, thorough: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else if thorough_requested() {
        thorough
    } else {
        default
    }
}

fn thorough_requested() -> bool {
    std::env::var_os("VERIFY_THOROUGH").is_some_and(|v| !v.is_empty() && v != "0")
}

/// How long a handshake may take before the test gives up with a message instead of hanging. Not
/// a timing assertion: a correct run reaches every handshake in microseconds, and this only turns
/// a lost wakeup (an endless wait) into a readable failure.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// Spins (yielding) until `cond()` holds: the handshake between threads. Panics naming `what` if
/// it takes longer than [`HANG_GUARD`], which means a thread is stuck.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < HANG_GUARD,
            "handshake {what:?} not reached within {HANG_GUARD:?}: a thread is stuck (lost wakeup?)"
        );
        std::thread::yield_now();
    }
}

/// Joins `handle` once it has finished, failing (via [`wait_until`]) instead of hanging if the
/// thread stays blocked, e.g. a sleeper whose wakeup was lost. Propagates the thread's panic.
pub fn join<T>(what: &str, handle: JoinHandle<T>) -> T {
    wait_until(what, || handle.is_finished());
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A thread that ends the whole test process with a clear message if no progress is reported
/// for `limit`: a test that would otherwise hang forever on a lost wakeup fails instead.
///
/// Report progress with [`Watchdog::tick`]; drop the watchdog (or call [`Watchdog::finish`]) when
/// the test is done.
pub struct Watchdog {
    ticks: Option<Sender<u64>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts the watchdog for test `name`; it fires if `limit` passes between two ticks.
    pub fn start(name: &'static str, limit: Duration) -> Self {
        let (tx, rx) = mpsc::channel::<u64>();
        let thread = std::thread::spawn(move || {
            let mut last = None;
            loop {
                match rx.recv_timeout(limit) {
                    Ok(round) => last = Some(round),
                    Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => {
                        let at = match last {
                            Some(r) => format!("after round {r}"),
                            None => "before the first round".to_string(),
                        };
                        // Straight to fd 2: `eprintln!` output of a test's threads is captured
                        // by the harness and would be lost with the process.
                        let _ = writeln!(
                            std::io::stderr(),
                            "WATCHDOG: test `{name}` made no progress for {limit:?} ({at}): a \
                             sleeper missed its wakeup; aborting the test process"
                        );
                        std::process::exit(101);
                    }
                }
            }
        });
        Watchdog {
            ticks: Some(tx),
            thread: Some(thread),
        }
    }

    /// Reports that `round` completed.
    pub fn tick(&self, round: u64) {
        if let Some(tx) = &self.ticks {
            // The watchdog only stops receiving when it has already ended the process.
            let _ = tx.send(round);
        }
    }

    /// Stops the watchdog and waits for its thread.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.ticks = None;
        if let Some(thread) = self.thread.take() {
            thread.join().expect("watchdog thread panicked");
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A small deterministic xorshift generator, so the threaded tests need no dependency and each
/// thread can vary its timing reproducibly.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next pseudo-random value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Busy-waits for about `n` spin-loop hints: varies where one thread's step falls relative to
/// another's without sleeping.
pub fn spin(n: u64) {
    for _ in 0..n {
        std::hint::spin_loop();
    }
}
