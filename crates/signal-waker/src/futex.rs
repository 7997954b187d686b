//! The OS futex behind [`crate::SignalWaker`]'s parking.
//!
//! Untimed waits and wakes go through `atomic-wait`. Timed waits need a timeout, which
//! `atomic-wait` does not offer, so on Linux they call `futex(FUTEX_WAIT)` with a relative
//! timespec directly. Under Miri every call is made directly with `AtomicU32::as_ptr()`: current
//! Miri rejects `atomic-wait`'s argument type for the variadic `syscall`, while the direct call
//! keeps Miri interpreting the real wait/wake path.
//! On other systems a timed wait falls back to sleeping in slices of at most 1 ms and re-checking
//! the word, which is correct (the caller re-checks on return) if less prompt.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A 32-bit word that threads can sleep on until it changes.
#[derive(Debug, Default)]
pub(crate) struct Futex {
    word: AtomicU32,
}

impl Futex {
    pub(crate) fn new(value: u32) -> Self {
        Futex {
            word: AtomicU32::new(value),
        }
    }

    pub(crate) fn load(&self, order: Ordering) -> u32 {
        self.word.load(order)
    }

    pub(crate) fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
        self.word.fetch_add(value, order)
    }

    /// Sleeps while the word equals `expected`, for at most `timeout` if given. Returns on a wake,
    /// a changed word, a timeout or spuriously; the caller always re-checks its condition.
    pub(crate) fn wait(&self, expected: u32, timeout: Option<Duration>) {
        match timeout {
            None => wait_untimed(&self.word, expected),
            Some(d) => wait_timed(&self.word, expected, d),
        }
    }

    pub(crate) fn wake_one(&self) {
        wake(&self.word, false);
    }

    pub(crate) fn wake_all(&self) {
        wake(&self.word, true);
    }
}

#[cfg(not(miri))]
fn wait_untimed(word: &AtomicU32, expected: u32) {
    atomic_wait::wait(word, expected);
}

#[cfg(not(miri))]
fn wake(word: &AtomicU32, all: bool) {
    if all {
        atomic_wait::wake_all(word);
    } else {
        atomic_wait::wake_one(word);
    }
}

#[cfg(miri)]
fn wait_untimed(word: &AtomicU32, expected: u32) {
    linux::wait(word, expected, None);
}

#[cfg(miri)]
fn wake(word: &AtomicU32, all: bool) {
    linux::wake(word, if all { i32::MAX } else { 1 });
}

#[cfg(target_os = "linux")]
fn wait_timed(word: &AtomicU32, expected: u32, timeout: Duration) {
    linux::wait(word, expected, Some(timeout));
}

#[cfg(not(target_os = "linux"))]
fn wait_timed(word: &AtomicU32, expected: u32, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while word.load(Ordering::SeqCst) == expected {
        let now = std::time::Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// `FUTEX_WAIT` on `word` while it holds `expected`, with an optional relative timeout.
    pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `word.as_ptr()` points to a live, aligned u32 for the whole call (we hold a
        // reference); the kernel only reads it atomically. `ts_ptr` is null or points to `ts`,
        // which outlives the call. EINTR, EAGAIN and ETIMEDOUT are all fine: callers re-check.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                ts_ptr,
            );
        }
    }

    /// `FUTEX_WAKE` of up to `count` threads sleeping on `word`.
    #[cfg(miri)]
    pub(super) fn wake(word: &AtomicU32, count: i32) {
        // SAFETY: `word.as_ptr()` is a live, aligned u32; FUTEX_WAKE does not touch memory.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                count,
            );
        }
    }
}
