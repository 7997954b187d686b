//! The IO rows of the race: `echo` (TCP echo over loopback) and `http` (hyper's HTTP/1 hello
//! world), each written once and generic over [`BenchRuntime`]'s socket operations, like the
//! other probes. Server and clients run on the runtime under test, in the same process; every
//! byte and every response body is checked.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::future::block_on;
use http_body_util::{BodyExt, Empty, Full};

use crate::runtime::BenchRuntime;

/// Connections in one [`echo`] run at full size.
pub const ECHO_CONNS: usize = 50;
/// Round trips per connection in one [`echo`] run.
pub const ECHO_ROUND_TRIPS: usize = 100;
/// Bytes per echo message.
pub const ECHO_LEN: usize = 64;
/// Connections in one [`http`] run at full size.
pub const HTTP_CONNS: usize = 50;
/// Requests per connection in one [`http`] run.
pub const HTTP_REQUESTS: usize = 40;
/// The IO rows' target: our wall time at most this fraction of the best peer's.
pub const IO_RATIO_TARGET: f64 = 0.9;
/// The body the hello-world server answers with.
pub const HELLO: &str = "Hello, World!";

/// What one IO run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoRun {
    /// From the first connect to the last reply.
    pub wall: Duration,
    /// Every round trip (echo) or request (http), from write to the last byte of its reply.
    pub latency: Vec<Duration>,
}

/// The bytes connection `conn` sends in round `round` (distinct per connection and round).
fn message(conn: usize, round: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (conn * 7 + round * 13 + i) as u8)
        .collect()
}

/// (io1) A listener on the runtime accepts `conns` connections and echoes each (one task per
/// connection); `conns` client tasks each do `rounds` round trips of `len` bytes, checking every
/// byte. Units: round trips.
pub fn echo<R: BenchRuntime>(rt: &R, conns: usize, rounds: usize, len: usize) -> IoRun {
    let root = rt.spawn(async move {
        let (listener, addr) = R::bind_loopback().await;
        let server = R::spawn_local(async move {
            for _ in 0..conns {
                let mut stream = R::accept(&listener).await;
                R::spawn_detached(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = R::read(&mut stream, &mut buf).await;
                        if n == 0 {
                            return;
                        }
                        R::write_all(&mut stream, &buf[..n]).await;
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..conns)
            .map(|c| R::spawn_local(echo_client::<R>(addr, c, rounds, len)))
            .collect();
        finish(start, clients, server).await
    });
    let run = block_on(root);
    assert_eq!(run.latency.len(), conns * rounds, "echo: round trips");
    run
}

/// The end of an IO run: every client's latencies, the wall time since `start` once the last
/// client is done, then the server's end.
async fn finish<H, S>(start: Instant, clients: Vec<H>, server: S) -> IoRun
where
    H: std::future::Future<Output = Vec<Duration>>,
    S: std::future::Future<Output = ()>,
{
    let mut latency = Vec::new();
    for client in clients {
        latency.extend(client.await);
    }
    let wall = start.elapsed();
    server.await;
    IoRun { wall, latency }
}

/// One echo client: `rounds` round trips of `len` bytes, each checked; their latencies.
async fn echo_client<R: BenchRuntime>(
    addr: SocketAddr,
    conn: usize,
    rounds: usize,
    len: usize,
) -> Vec<Duration> {
    let mut stream = R::connect(addr).await;
    let mut latency = Vec::with_capacity(rounds);
    let mut got = vec![0u8; len];
    for round in 0..rounds {
        let sent = message(conn, round, len);
        let start = Instant::now();
        R::write_all(&mut stream, &sent).await;
        let mut filled = 0;
        while filled < len {
            let n = R::read(&mut stream, &mut got[filled..]).await;
            assert!(n > 0, "echo: connection {conn} closed early");
            filled += n;
        }
        latency.push(start.elapsed());
        assert_eq!(got, sent, "echo: connection {conn} round {round}");
    }
    latency
}

/// (io2) hyper's HTTP/1 hello world on the runtime: a listener serving each connection with
/// `http1::Builder::serve_connection`, and `conns` client tasks, each a hyper HTTP/1 client
/// connection sending `requests` GETs one after another and checking each body. `wrap` turns
/// the runtime's stream into hyper's IO (as it is for ours; tokio's through `TokioIo`). Units:
/// requests.
pub fn http<R, IO>(rt: &R, conns: usize, requests: usize, wrap: fn(R::Stream) -> IO) -> IoRun
where
    R: BenchRuntime,
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let root = rt.spawn(async move {
        let (listener, addr) = R::bind_loopback().await;
        let server = R::spawn_local(async move {
            for _ in 0..conns {
                let stream = wrap(R::accept(&listener).await);
                R::spawn_detached(async move {
                    let hello = hyper::service::service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(HELLO))))
                    });
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(stream, hello)
                        .await
                        .expect("http: serving a connection failed");
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..conns)
            .map(|_| {
                R::spawn_local(async move {
                    let stream = wrap(R::connect(addr).await);
                    let (mut sender, conn) = hyper::client::conn::http1::handshake(stream)
                        .await
                        .expect("http: client handshake failed");
                    R::spawn_detached(async move {
                        let _ = conn.await;
                    });
                    let mut latency = Vec::with_capacity(requests);
                    for _ in 0..requests {
                        let req = hyper::Request::get("/")
                            .header("host", "bench")
                            .body(Empty::<Bytes>::new())
                            .expect("http: building a request");
                        let t = Instant::now();
                        sender.ready().await.expect("http: connection closed");
                        let resp = sender
                            .send_request(req)
                            .await
                            .expect("http: request failed");
                        let body = resp
                            .into_body()
                            .collect()
                            .await
                            .expect("http: reading a body")
                            .to_bytes();
                        latency.push(t.elapsed());
                        assert_eq!(body, HELLO.as_bytes(), "http: wrong body");
                    }
                    latency
                })
            })
            .collect();
        finish(start, clients, server).await
    });
    let run = block_on(root);
    assert_eq!(run.latency.len(), conns * requests, "http: requests");
    run
}
