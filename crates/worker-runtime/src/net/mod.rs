//! TCP, UDP and Unix-domain sockets, as `tokio::net`: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`], [`UnixListener`], [`UnixStream`], [`UnixDatagram`].
//!
//! Every type is `Debug + Send + Sync + Unpin` and is created inside a runtime (in `block_on`, a
//! task, or after `Runtime::enter`); outside one, creating a socket panics, as in tokio. Its
//! readiness comes from that runtime's IO driver (see the crate docs), which exists from the first
//! socket on. `bind` and `connect` take anything [`ToSocketAddrs`] takes (`"127.0.0.1:6379"`, a
//! `String`, a `SocketAddr`, `("localhost", 80)`); a host name is resolved on the blocking pool.
//!
//! After the runtime shuts down, every wait on its sockets ends with an error (no hang), and new
//! sockets cannot be created in it.

mod addr;
mod stream;
pub(crate) mod tcp;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
pub(crate) mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpStream, WriteHalf,
};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Owned halves of a [`UnixStream`].
pub mod unix_split {
    pub use super::unix::{OwnedReadHalf, OwnedWriteHalf};
}

/// `recv` into uninitialised memory (hyper's read buffers), without ever reading it.
#[cfg(feature = "hyper")]
pub(crate) fn recv_uninit(
    fd: std::os::fd::RawFd,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> std::io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call, and
    // `recv` only writes into it; `fd` is an open socket owned by the caller's stream.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
