//! With the `hyper` feature: hyper 1.x on this runtime, with no tokio runtime in the process.
//!
//! * [`net::TcpStream`](crate::net::TcpStream) and [`net::UnixStream`](crate::net::UnixStream)
//!   implement hyper's `rt::Read` and `rt::Write` directly, so `serve_connection(stream, service)`
//!   and `client::conn::http1::handshake(stream)` take them as they are (no `TokioIo` wrapper);
//! * [`Executor`] spawns hyper's background tasks (HTTP/2 streams, client connections) on the
//!   current runtime;
//! * [`Timer`] gives hyper its timeouts (`header_read_timeout`, keep-alive) on the runtime's
//!   timers; its sleeps are reset in place, without a new allocation.
//!
//! ```no_run
//! use http_body_util::Full;
//! use hyper::body::Bytes;
//! use hyper::{server::conn::http1, service::service_fn, Request, Response};
//! use worker_runtime::net::TcpListener;
//!
//! # fn main() -> std::io::Result<()> {
//! worker_runtime::Runtime::new()?.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:3000").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         worker_runtime::spawn(async move {
//!             let hello = service_fn(|_: Request<hyper::body::Incoming>| async {
//!                 Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!             });
//!             let _ = http1::Builder::new()
//!                 .timer(worker_runtime::hyper::Timer)
//!                 .serve_connection(stream, hello)
//!                 .await;
//!         });
//!     }
//! })
//! # }
//! ```

use crate::net::{TcpStream, UnixStream};
use crate::time::Sleep;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// hyper's executor on this runtime: `execute` spawns the future on the current runtime (hyper
/// calls it from inside a connection's future, so there always is one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        crate::spawn(future);
    }
}

/// hyper's timer on this runtime's timers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: crate::time::sleep_until(deadline),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.project().inner.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

pin_project_lite::pin_project! {
    /// A runtime [`Sleep`] as hyper's `rt::Sleep`.
    struct HyperSleep {
        #[pin]
        inner: Sleep,
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

impl ::hyper::rt::Sleep for HyperSleep {}

/// Implements hyper's `rt::Read` / `rt::Write` for a stream type with `poll_read_uninit`,
/// `poll_write_priv`, `poll_write_vectored_priv` and `shutdown_write`.
macro_rules! hyper_io {
    ($ty:ty) => {
        impl ::hyper::rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ::hyper::rt::ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: `poll_read_uninit` only writes into the slice (with `recv`), never
                // reads it or de-initialises it.
                let unfilled = unsafe { buf.as_mut() };
                let n = std::task::ready!(self.poll_read_uninit(cx, unfilled))?;
                // SAFETY: `recv` initialised the first `n` bytes of the unfilled part.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }

        impl ::hyper::rt::Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown_write())
            }
        }
    };
}

hyper_io!(TcpStream);
hyper_io!(UnixStream);
