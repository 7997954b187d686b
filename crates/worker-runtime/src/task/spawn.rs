//! The free [`spawn`] and [`try_spawn`]: spawning on the runtime this code runs in.

use crate::context;
use crate::error::SpawnError;
use crate::task::JoinHandle;
use std::future::Future;

/// Spawns `future` on the runtime this code runs in (a task, or inside `block_on`).
///
/// # Panics
/// Outside a runtime (like tokio's `spawn`), and when `max_tasks` tasks are alive; use
/// [`try_spawn`] to get an error instead. After shutdown the handle resolves cancelled at once.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Borrowed, not cloned: no reference-count traffic on the hot path. The panics are out here,
    // in the `#[track_caller]` body, so they point at the caller's line.
    let spawned = context::with_current(|shared| {
        shared.map(|shared| match shared.spawn(future) {
            Ok(handle) => Ok(handle),
            Err((SpawnError::Shutdown, future)) => Ok(shared.cancelled_handle(future)),
            Err((e, _)) => Err(e),
        })
    });
    match spawned {
        Some(Ok(handle)) => handle,
        Some(Err(e)) => panic!("{e}; use try_spawn to get this as an error"),
        None => panic!(
            "worker_runtime::spawn called outside a runtime: call it from a task, from \
             Runtime::block_on or after Runtime::enter, or use Runtime::spawn / Handle::spawn"
        ),
    }
}

/// Spawns `future` on the current runtime, or says why not: [`SpawnError::NoRuntime`],
/// [`SpawnError::Shutdown`] or [`SpawnError::AtCapacity`].
pub fn try_spawn<F>(future: F) -> Result<JoinHandle<F::Output>, SpawnError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::with_current(|shared| match shared {
        Some(shared) => shared.spawn(future).map_err(|(e, _)| e),
        None => Err(SpawnError::NoRuntime),
    })
}
