//! Timers and run-time scaling as a tokio user writes them: `sleep`, `timeout`, `interval` with a
//! missed-tick behaviour, a runtime that scales between `min_workers` and `max_workers`, and the
//! worker count moved by hand. Run: `cargo run -p worker-runtime --example timers_and_scaling`.

use std::time::{Duration, Instant};
use worker_runtime::time::{interval, sleep, timeout, MissedTickBehavior};
use worker_runtime::{spawn, Runtime};

fn main() {
    let rt = Runtime::builder()
        .worker_threads(2)
        .min_workers(1)
        .max_workers(4)
        .worker_keep_alive(Duration::from_millis(200))
        .build()
        .expect("a valid configuration");
    rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(20)).await;
        println!("slept 20 ms: {:?} later", start.elapsed());

        let slow = spawn(async {
            sleep(Duration::from_secs(10)).await;
            "too late"
        });
        match timeout(Duration::from_millis(30), slow).await {
            Ok(v) => println!("finished: {v:?}"),
            Err(e) => println!("timeout: {e}"),
        }

        let mut ticks = interval(Duration::from_millis(10));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        for _ in 0..3 {
            let at = ticks.tick().await;
            println!("tick at +{:?}", at.duration_since(start));
        }
    });

    let handle = rt.handle();
    println!("workers: {}", handle.worker_count());
    handle
        .set_worker_count(4)
        .expect("within min_workers..=max_workers");
    println!(
        "workers after set_worker_count(4): {}",
        handle.worker_count()
    );
    if let Err(e) = handle.set_worker_count(9) {
        println!("set_worker_count(9): {e}");
    }
    // Idle now: the service retires workers one by one after the keep-alive, down to the minimum.
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.worker_count() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("workers after idling: {}", handle.worker_count());
    let outcome = rt.shutdown_timeout(Duration::from_secs(1));
    println!("shut down completely: {}", outcome.is_complete());
}
