//! tokio as a [`BenchRuntime`]: the pinned peer setup,
//! `Builder::new_multi_thread().worker_threads(n).enable_time().enable_io()`.

use std::future::Future;
use std::time::Duration;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::io_probes::{self, IoRun};
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
            .enable_io()
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

    type Listener = TcpListener;
    type Stream = TcpStream;

    async fn bind_loopback() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("tokio: bind");
        let addr = listener.local_addr().expect("tokio: local_addr");
        (listener, addr)
    }

    async fn accept(listener: &TcpListener) -> TcpStream {
        let (stream, _) = listener.accept().await.expect("tokio: accept");
        stream.set_nodelay(true).expect("tokio: nodelay");
        stream
    }

    async fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect(addr).await.expect("tokio: connect");
        stream.set_nodelay(true).expect("tokio: nodelay");
        stream
    }

    async fn read<'a>(stream: &'a mut TcpStream, buf: &'a mut [u8]) -> usize {
        stream.read(buf).await.expect("tokio: read")
    }

    async fn write_all<'a>(stream: &'a mut TcpStream, buf: &'a [u8]) {
        stream.write_all(buf).await.expect("tokio: write");
    }

    /// tokio's `TcpStream` through hyper-util's `TokioIo`, as a tokio user serves hyper.
    fn http(&self, conns: usize, requests: usize) -> Option<IoRun> {
        Some(io_probes::http(
            self,
            conns,
            requests,
            hyper_util::rt::TokioIo::new,
        ))
    }
}

/// The socket items of a [`BenchRuntime`] impl that delegate to [`TokioRt`]'s: for the test
/// adapters that wrap tokio to plant a bug elsewhere.
#[macro_export]
#[doc(hidden)]
macro_rules! tokio_net_items {
    () => {
        type Listener = <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::Listener;
        type Stream = <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::Stream;
        fn bind_loopback(
        ) -> impl ::std::future::Future<Output = (Self::Listener, ::std::net::SocketAddr)> + Send {
            <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::bind_loopback()
        }
        fn accept(
            l: &Self::Listener,
        ) -> impl ::std::future::Future<Output = Self::Stream> + Send + '_ {
            <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::accept(l)
        }
        fn connect(
            addr: ::std::net::SocketAddr,
        ) -> impl ::std::future::Future<Output = Self::Stream> + Send {
            <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::connect(addr)
        }
        fn read<'a>(
            s: &'a mut Self::Stream,
            buf: &'a mut [u8],
        ) -> impl ::std::future::Future<Output = usize> + Send + 'a {
            <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::read(s, buf)
        }
        fn write_all<'a>(
            s: &'a mut Self::Stream,
            buf: &'a [u8],
        ) -> impl ::std::future::Future<Output = ()> + Send + 'a {
            <$crate::tokio_rt::TokioRt as $crate::runtime::BenchRuntime>::write_all(s, buf)
        }
    };
}
