//! Errors: reservation past the configured capacity, and configuration values out of range.

use std::fmt;
use std::ops::RangeInclusive;

/// Reservation failed: every one of the `max_tasks` slots is reserved.
///
/// The runtime turns this into `SpawnError::AtCapacity { max_tasks }`; it is never a hang or a
/// panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityError {
    /// All `max_tasks` slots are in use.
    AtCapacity {
        /// The configured limit (`SummaryTreeConfig::max_tasks`).
        max_tasks: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::AtCapacity { max_tasks } => write!(
                f,
                "task capacity reached: all {max_tasks} slots are reserved (raise max_tasks)"
            ),
        }
    }
}

impl std::error::Error for CapacityError {}

/// A configuration value out of its allowed range, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, e.g. `"max_tasks"`.
    pub field: &'static str,
    /// The value given.
    pub value: usize,
    /// The allowed values.
    pub allowed: RangeInclusive<usize>,
}

impl ConfigError {
    /// Checks `value` against `allowed`.
    pub(crate) fn check(
        field: &'static str,
        value: usize,
        allowed: RangeInclusive<usize>,
    ) -> Result<usize, ConfigError> {
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError {
                field,
                value,
                allowed,
            })
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {} is out of range: allowed {}..={}",
            self.field,
            self.value,
            self.allowed.start(),
            self.allowed.end()
        )
    }
}

impl std::error::Error for ConfigError {}

/// A broken invariant found by
/// [`SummaryTree::check_quiescent_invariants`](crate::SummaryTree::check_quiescent_invariants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

impl fmt::Display for InvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "summary tree invariant violated: {}", self.0)
    }
}

impl std::error::Error for InvariantViolation {}
