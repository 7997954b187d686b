//! Addresses for `bind` and `connect`: [`ToSocketAddrs`], tokio's sealed trait over what
//! `std::net::ToSocketAddrs` takes. A literal address is parsed on the spot; a host name is
//! resolved on the blocking pool, so a slow DNS lookup never stalls a worker.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;

/// What `bind` and `connect` accept: a [`SocketAddr`], `(IpAddr, u16)`, `"127.0.0.1:6379"`,
/// `"localhost:6379"`, `("localhost", 6379)`, a `String`, a slice of addresses, ... (the
/// implementors of `std::net::ToSocketAddrs`). Sealed: implemented here only.
pub trait ToSocketAddrs: sealed::Sealed {}

use sealed::Resolve;

mod sealed {
    use std::net::SocketAddr;

    /// The resolution behind [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        #[doc(hidden)]
        fn resolve(&self) -> Resolve;
    }

    /// How an address resolves: at once, or by a lookup that may block. In a private module, so
    /// it cannot be named (or implemented for) outside this crate.
    #[derive(Debug)]
    pub enum Resolve {
        Ready(Vec<SocketAddr>),
        Lookup(String),
    }
}

macro_rules! ready_addrs {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl sealed::Sealed for $t {
            fn resolve(&self) -> Resolve {
                Resolve::Ready(std::net::ToSocketAddrs::to_socket_addrs(self)
                    .map(Iterator::collect)
                    .unwrap_or_default())
            }
        }
    )*};
}

ready_addrs!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for &[SocketAddr] {}
impl sealed::Sealed for &[SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Ready(vec![addr]),
            Err(_) => Resolve::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn resolve(&self) -> Resolve {
        self.as_str().resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}

/// Resolves `addr`: literal addresses at once, host names on the blocking pool.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    let addrs = match sealed::Sealed::resolve(addr) {
        Resolve::Ready(addrs) => addrs,
        Resolve::Lookup(host) => lookup(host).await?,
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// A host-name lookup, which may block for as long as the resolver takes.
fn lookup(host: String) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>> {
    let handle = crate::task::spawn_blocking(move || {
        std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect::<Vec<_>>)
    });
    Box::pin(async move {
        handle
            .await
            .map_err(|e| io::Error::other(format!("the address lookup did not finish: {e}")))?
    })
}

/// Tries `op` on each address in turn; the last error if none worked.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match op(addr).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
