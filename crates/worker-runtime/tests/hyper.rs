//! hyper 1.x on this runtime through the `hyper` feature, server and client both ours, with no
//! tokio runtime in the process: HTTP/1 and HTTP/2 round trips over loopback, the server's
//! `header_read_timeout` on our timers, and `Timer::reset` keeping its allocation.
//!
//! Real sockets: not run under Miri.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use worker_runtime::hyper::{Executor, Timer};
use worker_runtime::io::{AsyncReadExt, AsyncWriteExt};
use worker_runtime::net::{TcpListener, TcpStream};
use worker_runtime::{spawn, Runtime};

/// The service: answers with the request's method, path and body.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let head = format!("{} {}", req.method(), req.uri().path());
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let text = format!("{head} {}", String::from_utf8_lossy(&body));
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// A server on 127.0.0.1 whose connections are served with `serve(stream)`.
async fn server<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spawn(serve(stream));
        }
    });
    addr
}

fn runtime() -> Runtime {
    Runtime::builder().worker_threads(2).build().unwrap()
}

/// A request with `body` to `path`.
fn post(path: &str, body: String) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", "test")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn body_text(resp: Response<Incoming>) -> String {
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn http1_round_trips_server_and_client_on_our_runtime() {
    runtime().block_on(async {
        let addr = server(|stream| async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .serve_connection(stream, service_fn(echo))
                .await;
        })
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
        spawn(conn);
        for i in 0..20 {
            // HTTP/1: one request at a time; `ready` waits until the previous one is done.
            sender.ready().await.unwrap();
            let resp = sender
                .send_request(post(&format!("/r{i}"), format!("body {i}")))
                .await
                .unwrap();
            assert_eq!(body_text(resp).await, format!("POST /r{i} body {i}"));
        }
    });
}

#[test]
fn http2_round_trips_with_concurrent_streams() {
    runtime().block_on(async {
        let addr = server(|stream| async move {
            let _ = hyper::server::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .serve_connection(stream, service_fn(echo))
                .await;
        })
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http2::Builder::new(Executor)
            .timer(Timer)
            .handshake(stream)
            .await
            .unwrap();
        spawn(conn);
        let requests: Vec<_> = (0..32)
            .map(|i| {
                let mut sender = sender.clone();
                spawn(async move {
                    let resp = sender
                        .send_request(post(&format!("/s{i}"), format!("stream {i}")))
                        .await
                        .unwrap();
                    (i, body_text(resp).await)
                })
            })
            .collect();
        for r in requests {
            let (i, text) = r.await.unwrap();
            assert_eq!(text, format!("POST /s{i} stream {i}"));
        }
    });
}

#[test]
fn header_read_timeout_closes_a_connection_that_stalls_in_its_headers() {
    runtime().block_on(async {
        let addr = server(|stream| async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .header_read_timeout(Duration::from_millis(100))
                .serve_connection(stream, service_fn(echo))
                .await;
        })
        .await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // Half a request head, then nothing: only the server's timer can end this connection.
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n")
            .await
            .unwrap();
        let mut rest = Vec::new();
        let ended =
            worker_runtime::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest))
                .await;
        let outcome = ended.expect("the server never closed the stalled connection");
        // hyper closes it (possibly after a 408 response); either way the stream ends.
        let text = String::from_utf8_lossy(&rest);
        assert!(
            outcome.is_err() || rest.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{outcome:?}: {text}"
        );
    });
}

#[test]
fn timer_reset_moves_the_deadline_in_place() {
    use hyper::rt::Timer as _;
    runtime().block_on(async {
        let timer = Timer;
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        let before = &*sleep as *const dyn hyper::rt::Sleep as *const ();
        timer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
        let after = &*sleep as *const dyn hyper::rt::Sleep as *const ();
        assert_eq!(before, after, "reset reallocated the sleep");
        worker_runtime::time::timeout(Duration::from_secs(20), sleep)
            .await
            .expect("the reset deadline did not fire");
    });
}
