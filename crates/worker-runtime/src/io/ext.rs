//! The extension traits with tokio's method names: [`AsyncReadExt`] and [`AsyncWriteExt`], on
//! every `futures-io` reader and writer. Most methods return futures-lite's futures; the two whose
//! tokio signature differs from futures-lite's (`read_exact` returns the length, `shutdown` is
//! futures' `close`) have their own.

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::io::{
    CloseFuture, FlushFuture, ReadExactFuture, ReadFuture, ReadToEndFuture, ReadToStringFuture,
    WriteAllFuture, WriteFuture,
};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// tokio's `AsyncReadExt` methods on every [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` at the end of the stream.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read(self, buf)
    }

    /// Fills `buf` exactly and returns its length, as tokio's does; an end of stream before that
    /// is an [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) error.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        let len = buf.len();
        ReadExact {
            inner: futures_lite::AsyncReadExt::read_exact(self, buf),
            len,
        }
    }

    /// Reads to the end of the stream, appending to `buf`; returns how many bytes it read.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEndFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_to_end(self, buf)
    }

    /// Reads UTF-8 to the end of the stream, appending to `buf`; returns how many bytes it read.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToStringFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncReadExt::read_to_string(self, buf)
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// tokio's `AsyncWriteExt` methods on every [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`; returns how much.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> WriteFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::write(self, buf)
    }

    /// Writes all of `buf`.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAllFuture<'a, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::write_all(self, buf)
    }

    /// Flushes buffered data.
    fn flush(&mut self) -> FlushFuture<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::flush(self)
    }

    /// Shuts the writing side down (for a TCP stream: sends FIN), as tokio's `shutdown`; the
    /// `futures-io` name of the same operation is `close`.
    fn shutdown(&mut self) -> CloseFuture<'_, Self>
    where
        Self: Unpin,
    {
        futures_lite::AsyncWriteExt::close(self)
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// The future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadExact<'a, R: Unpin + ?Sized> {
    inner: ReadExactFuture<'a, R>,
    len: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let len = self.len;
        Pin::new(&mut self.inner).poll(cx).map_ok(|()| len)
    }
}
