//! Our runtime (`worker-runtime`) as a [`BenchRuntime`].
//!
//! The ratio column of the race divides this runtime's median by the better
//! peer's.

use std::future::Future;
use std::time::Duration;

use crate::runtime::{BenchRuntime, UnwrapJoin};

/// How long dropping an [`Ours`] waits for the workers to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A `worker_runtime::Runtime` with `n` workers; shut down on drop.
#[derive(Debug)]
pub struct Ours {
    /// `None` only while dropping.
    rt: Option<worker_runtime::Runtime>,
}

impl Ours {
    fn runtime(&self) -> &worker_runtime::Runtime {
        self.rt.as_ref().expect("ours: runtime used after shutdown")
    }
}

impl BenchRuntime for Ours {
    const NAME: &'static str = "ours";
    const IS_OURS: bool = true;

    // `UnwrapJoin` needs `worker_runtime::JoinHandle<T>: Unpin` (as tokio's is).
    type JoinHandle<T: Send + 'static> = UnwrapJoin<worker_runtime::JoinHandle<T>>;

    fn with_workers(workers: usize) -> Self {
        let rt = worker_runtime::Runtime::builder()
            .worker_threads(workers)
            .build()
            .unwrap_or_else(|err| panic!("ours: building the runtime failed: {err:?}"));
        Ours { rt: Some(rt) }
    }

    fn spawn<F>(&self, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        UnwrapJoin(self.runtime().spawn(f))
    }

    fn spawn_local<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        UnwrapJoin(worker_runtime::spawn(f))
    }

    fn spawn_detached<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(worker_runtime::spawn(f));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        worker_runtime::yield_now()
    }

    /// `worker_runtime::time::sleep`, on the runtime's default tick (64 µs, counted as 2^16 ns).
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        worker_runtime::time::sleep(d)
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
        }
    }
}
