//! hyper 1.x serving HTTP/1 on this runtime (the `hyper` feature), no tokio runtime involved:
//!
//! ```text
//! cargo run --example hello_hyper -p worker-runtime --features hyper
//! curl http://127.0.0.1:3000/
//! ```
//!
//! `PORT=8080` picks another port. Each connection is a task; our `TcpStream` goes to hyper as
//! it is, and hyper's timeouts run on our timers (`worker_runtime::hyper::Timer`).

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::time::Duration;
use worker_runtime::net::TcpListener;

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let text = format!(
        "Hello from worker-runtime: {} {}\n",
        req.method(),
        req.uri()
    );
    Ok(Response::new(Full::new(Bytes::from(text))))
}

#[worker_runtime::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_string());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        worker_runtime::spawn(async move {
            let served = http1::Builder::new()
                .timer(worker_runtime::hyper::Timer)
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(stream, service_fn(hello))
                .await;
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        });
    }
}
