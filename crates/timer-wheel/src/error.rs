//! The error a [`TimerWheel`](crate::TimerWheel) constructor returns for bad configuration.

use core::fmt;

/// Smallest accepted tick, in nanoseconds (`tick_ns` must be at least this).
pub const MIN_TICK_NS: u64 = 1;

/// Largest accepted tick, in nanoseconds: 2^40 ns, about 18.3 minutes.
pub const MAX_TICK_NS: u64 = 1 << 40;

/// Why a [`TimerWheel`](crate::TimerWheel) could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerWheelError {
    /// `tick_ns` was zero, not a power of two, or above [`MAX_TICK_NS`].
    ///
    /// The allowed values are the powers of two in
    /// [`MIN_TICK_NS`]`..=`[`MAX_TICK_NS`] (1 ns to 2^40 ns).
    InvalidTick {
        /// The rejected value of `tick_ns`.
        tick_ns: u64,
    },
}

impl fmt::Display for TimerWheelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimerWheelError::InvalidTick { tick_ns } => write!(
                f,
                "invalid tick_ns = {tick_ns}: must be a power of two in \
                 {MIN_TICK_NS}..={MAX_TICK_NS} ns (2^0..=2^40)"
            ),
        }
    }
}

impl std::error::Error for TimerWheelError {}
