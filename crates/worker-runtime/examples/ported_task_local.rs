//! A tokio program ported by changing its imports: a request id in a `task_local!`, seen by every
//! function the request's task calls, across awaits and on whichever worker runs it.
//!
//! The tokio original differs only in `tokio::task_local!` / `tokio::task` / `tokio::time` for
//! `worker_runtime::...`, and `#[tokio::main]` where this file builds the runtime by hand.
//! Run: `cargo run -p worker-runtime --example ported_task_local`.

use worker_runtime::task;
use worker_runtime::time::{sleep, Duration};

worker_runtime::task_local! {
    static REQUEST_ID: u64;
}

fn log(msg: &str) {
    let id = REQUEST_ID.try_with(|id| *id).ok();
    println!("[request {id:?}] {msg}");
}

async fn handle(n: u64) -> u64 {
    log("start");
    sleep(Duration::from_millis(2)).await;
    task::yield_now().await;
    log("done");
    n * 10
}

fn main() {
    let rt = worker_runtime::Runtime::new().expect("a valid configuration");
    let total = rt.block_on(async {
        let handles: Vec<_> = (1..=3)
            .map(|id| task::spawn(REQUEST_ID.scope(id, handle(id))))
            .collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    log("outside any request");
    println!("total {total}");
}
