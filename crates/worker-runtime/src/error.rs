//! Errors of building a runtime and of spawning on it.

use std::fmt;

/// A [`Builder`](crate::Builder) setting is out of range; names the field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    field: &'static str,
    value: String,
    allowed: String,
}

impl BuildError {
    pub(crate) fn new(
        field: &'static str,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        BuildError {
            field,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// The builder field that was rejected (`"worker_threads"`, `"thread_stack_size"`, ...).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The allowed range, as text.
    pub fn allowed(&self) -> &str {
        &self.allowed
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid runtime configuration: {} = {} (allowed: {})",
            self.field, self.value, self.allowed
        )
    }
}

impl std::error::Error for BuildError {}

/// Why [`try_spawn`](crate::try_spawn) or [`try_spawn_blocking`](crate::try_spawn_blocking) could
/// not spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The runtime is shutting down or has shut down.
    Shutdown,
    /// `max_tasks` tasks are alive already.
    AtCapacity {
        /// The configured limit.
        max_tasks: usize,
    },
    /// Called outside a runtime (no runtime on this thread).
    NoRuntime,
    /// `try_spawn_blocking`: the system refused to start a blocking-pool thread and the pool has
    /// no thread that could run the closure later; the closure was dropped without running. Holds
    /// the system's error message.
    ThreadStart(String),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Shutdown => f.write_str("cannot spawn: the runtime has shut down"),
            SpawnError::AtCapacity { max_tasks } => write!(
                f,
                "cannot spawn: the runtime's limit of {max_tasks} live {} (max_tasks) is reached",
                if *max_tasks == 1 { "task" } else { "tasks" }
            ),
            SpawnError::NoRuntime => f.write_str(
                "cannot spawn: this thread is not inside a worker-runtime (call it from a task, \
                 from Runtime::block_on, or use Runtime::spawn / Handle::spawn)",
            ),
            SpawnError::ThreadStart(e) => write!(
                f,
                "cannot spawn_blocking: no blocking thread could be started ({e}) and none is \
                 running to take the closure"
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

impl From<BuildError> for std::io::Error {
    /// An `InvalidInput` error carrying the `BuildError`, so `Runtime::new()?` works in a function
    /// that returns `std::io::Result`, as it does with tokio.
    fn from(e: BuildError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// [`Handle::try_current`](crate::Handle::try_current) outside a runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl TryCurrentError {
    pub(crate) fn new() -> Self {
        TryCurrentError(())
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no worker-runtime on this thread: call this from a task, inside \
             Runtime::block_on, or after Runtime::enter / Handle::enter",
        )
    }
}

impl std::error::Error for TryCurrentError {}
