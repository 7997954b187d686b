//! ThreadSanitizer suppressions, compiled in only under `-Zsanitizer=thread` (`build.rs` sets
//! `cfg(worker_runtime_tsan)`), so they travel with every test binary of the crate whatever
//! `TSAN_OPTIONS` says.
//!
//! One race is suppressed, and it is not ours: crossbeam-deque (the workers' stealable yield
//! queues) reads a buffer slot with a volatile read *before* the compare-and-swap that claims it,
//! and throws the bytes away when the CAS fails, while the owner may be overwriting that slot with
//! a volatile write. crossbeam does this on purpose (rust-lang/unsafe-code-guidelines lists it
//! under "deliberate UB"), and suppresses the same two frames in its own TSan CI
//! (crossbeam-rs/crossbeam#646). The patterns name only crossbeam's `Buffer::read` and
//! `Buffer::write`, so any other race, in this crate or elsewhere, is still reported.

/// Looked up by the TSan runtime at start-up (a weak symbol in `libtsan`).
#[no_mangle]
pub extern "C" fn __tsan_default_suppressions() -> *const std::ffi::c_char {
    c"race:crossbeam_deque::deque::Buffer*::read\nrace:crossbeam_deque::deque::Buffer*::write\n"
        .as_ptr()
}
