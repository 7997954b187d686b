//! With the `tokio-io` feature: tokio's `AsyncRead` / `AsyncWrite` on the stream types and their
//! halves, so code written against `tokio::io` (tokio-util's codecs, for one) runs on our sockets.
//! Only the traits come from tokio; no tokio runtime is involved.

use crate::net::{tcp, unix, TcpStream, UnixStream};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Implements tokio's traits for `$ty`, reaching the stream through `$get`.
macro_rules! tokio_traits {
    ($ty:ty, |$s:ident| $get:expr) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let $s = &*self;
                let n = std::task::ready!($get.poll_read_priv(cx, buf.initialize_unfilled()))?;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }

        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $s = &*self;
                $get.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $s = &*self;
                $get.poll_write_vectored_priv(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $s = &*self;
                Poll::Ready($get.shutdown_write())
            }
        }
    };
}

tokio_traits!(TcpStream, |s| s);
tokio_traits!(tcp::OwnedReadHalf, |s| s.stream());
tokio_traits!(tcp::OwnedWriteHalf, |s| s.stream());
tokio_traits!(UnixStream, |s| s);
tokio_traits!(unix::OwnedReadHalf, |s| s.stream());
tokio_traits!(unix::OwnedWriteHalf, |s| s.stream());
