//! A tokio program ported by changing its imports: a request id in a `task_local!`, seen by every
//! function the request's task calls, across awaits and on whichever worker runs it; and requests
//! whose state is `!Send` (an `Rc<RefCell<..>>`), run with `spawn_local` on a `LocalSet`.
//!
//! The tokio original differs only in its `use` lines, `tokio::task_local!` and
//! `#[tokio::main]` (docs/porting.md shows the diff).
//! Run: `cargo run -p worker-runtime --example ported_task_local`.

use std::cell::RefCell;
use std::rc::Rc;
use worker_runtime::task::{self, LocalSet};
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

#[worker_runtime::main(worker_threads = 2)]
async fn main() {
    // Send requests: on the workers.
    let handles: Vec<_> = (1..=3)
        .map(|id| task::spawn(REQUEST_ID.scope(id, handle(id))))
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }

    // Requests sharing `!Send` state: on this thread, in a LocalSet.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let local = LocalSet::new();
    local
        .run_until(async {
            let handles: Vec<_> = (4..=5)
                .map(|id| {
                    let seen = Rc::clone(&seen);
                    task::spawn_local(REQUEST_ID.scope(id, async move {
                        let out = handle(id).await;
                        seen.borrow_mut().push(id);
                        out
                    }))
                })
                .collect();
            for h in handles {
                total += h.await.unwrap();
            }
        })
        .await;

    log("outside any request");
    println!("total {total}, local requests {:?}", seen.borrow());
    assert_eq!(total, 150);
}
