//! tokio as a [`BenchRuntime`]: the pinned peer setup,
//! `Builder::new_multi_thread().worker_threads(n).enable_time()`.

use std::future::Future;
use std::time::Duration;

use crate::runtime::{BenchRuntime, UnwrapJoin};

/// A multi-threaded tokio runtime with `n` workers and the timer enabled.
#[derive(Debug)]
pub struct TokioRt {
    rt: tokio::runtime::Runtime,
}

impl BenchRuntime for TokioRt {
    const NAME: &'static str = "tokio";

    type JoinHandle<T: Send + 'static> = UnwrapJoin<tokio::task::JoinHandle<T>>;

    fn with_workers(workers: usize) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_time()
            .build()
            .expect("tokio: building the multi-thread runtime failed");
        TokioRt { rt }
    }

    fn spawn<F>(&self, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        UnwrapJoin(self.rt.spawn(f))
    }

    fn spawn_local<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        UnwrapJoin(tokio::spawn(f))
    }

    fn spawn_detached<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(f));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
}
