//! Our runtime (`worker-runtime`) as a [`BenchRuntime`].
//!
//! The ratio column of the race divides this runtime's median by the better
//! peer's.

use std::future::Future;
use std::time::Duration;

use std::net::SocketAddr;

use worker_runtime::io::{AsyncReadExt, AsyncWriteExt};
use worker_runtime::net::{TcpListener, TcpStream};

use crate::io_probes::{self, IoRun};
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

    type Listener = TcpListener;
    type Stream = TcpStream;

    async fn bind_loopback() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("ours: bind");
        let addr = listener.local_addr().expect("ours: local_addr");
        (listener, addr)
    }

    async fn accept(listener: &TcpListener) -> TcpStream {
        let (stream, _) = listener.accept().await.expect("ours: accept");
        stream.set_nodelay(true).expect("ours: nodelay");
        stream
    }

    async fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect(addr).await.expect("ours: connect");
        stream.set_nodelay(true).expect("ours: nodelay");
        stream
    }

    async fn read<'a>(stream: &'a mut TcpStream, buf: &'a mut [u8]) -> usize {
        stream.read(buf).await.expect("ours: read")
    }

    async fn write_all<'a>(stream: &'a mut TcpStream, buf: &'a [u8]) {
        stream.write_all(buf).await.expect("ours: write");
    }

    /// Our `TcpStream` goes to hyper as it is (the `hyper` feature).
    fn http(&self, conns: usize, requests: usize) -> Option<IoRun> {
        Some(io_probes::http(self, conns, requests, |s: TcpStream| s))
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
        }
    }
}
