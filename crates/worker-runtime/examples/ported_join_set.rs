//! A tokio program ported by changing its imports: spawn a batch of jobs into a `JoinSet`, take
//! results as they finish, time out a slow one, abort the rest.
//!
//! The tokio original differs only in these two lines:
//! ```text
//! use tokio::task::JoinSet;
//! use tokio::time::{sleep, timeout, Duration};
//! ```
//! and `#[tokio::main]` where this file builds the runtime by hand (the attribute macro is not
//! there yet). Run: `cargo run -p worker-runtime --example ported_join_set`.

use worker_runtime::task::JoinSet;
use worker_runtime::time::{sleep, timeout, Duration};

async fn job(n: u64) -> u64 {
    sleep(Duration::from_millis(5 * n)).await;
    n * n
}

async fn amain() {
    let mut set = JoinSet::new();
    for n in 1..=5 {
        set.spawn(job(n));
    }
    let slow = set.spawn(async {
        sleep(Duration::from_secs(60)).await;
        0
    });
    let mut done = Vec::new();
    while done.len() < 5 {
        match timeout(Duration::from_secs(5), set.join_next()).await {
            Ok(Some(Ok(v))) => done.push(v),
            Ok(Some(Err(e))) => println!("a job failed: {e}"),
            Ok(None) => break,
            Err(_) => {
                println!("timed out waiting");
                break;
            }
        }
    }
    println!("finished in completion order: {done:?}");
    slow.abort();
    set.shutdown().await;
    println!("the slow job was aborted; set empty: {}", set.is_empty());
}

fn main() {
    let rt = worker_runtime::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a valid configuration");
    rt.block_on(amain());
}
