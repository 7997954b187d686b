//! Asynchronous IO: the traits the socket types implement, and the extension traits and helpers
//! a tokio user imports from `tokio::io`.
//!
//! The sockets of [`net`](crate::net) implement the runtime-neutral `futures-io` traits
//! ([`AsyncRead`], [`AsyncWrite`]), so everything written against them (futures-lite,
//! futures-util, async-std-style code) works on them. With the `tokio-io` feature they also
//! implement tokio's `AsyncRead` / `AsyncWrite` (the traits only; no tokio runtime runs), so
//! tokio-util's codecs run on them; with the `hyper` feature, hyper 1.x's `rt::Read` / `rt::Write`.
//!
//! ```
//! use worker_runtime::io::{AsyncReadExt, AsyncWriteExt};
//! use worker_runtime::net::{TcpListener, TcpStream};
//!
//! # let rt = worker_runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = worker_runtime::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         socket.read_exact(&mut buf).await?;
//!         socket.write_all(&buf).await?;
//!         std::io::Result::Ok(())
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut echo = [0; 5];
//!     client.read_exact(&mut echo).await?;
//!     assert_eq!(&echo, b"hello");
//!     server.await.unwrap()
//! })
//! .unwrap();
//! ```
//!
//! What differs from `tokio::io`: [`AsyncReadExt`] and [`AsyncWriteExt`] carry tokio's everyday
//! methods (`read`, `read_exact` returning the length, `read_to_end`, `read_to_string`, `write`,
//! `write_all`, `flush`, `shutdown`), not the `read_u32`-style integer helpers;
//! [`AsyncBufReadExt::lines`] is a `Stream` of lines (`futures_lite::StreamExt::next`) instead of
//! tokio's `next_line`.

pub(crate) mod driver;
mod ext;
pub(crate) mod registration;

pub use ext::{AsyncReadExt, AsyncWriteExt, ReadExact};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_lite::io::{
    copy, empty, repeat, sink, split, AsyncBufReadExt, BufReader, BufWriter, Cursor, Empty,
    ReadHalf, Repeat, Sink, WriteHalf,
};
pub use std::io::{Error, ErrorKind, Result};
