//! A worker that parks on its `SignalWaker` and a producer that wakes it by marking queue groups.
//!
//! The producer pushes messages to four queues (one queue group each): it publishes with a
//! `SeqCst` read-modify-write on the queue's counter, then calls `mark_active(group)`, which
//! costs one load when the bit is already set and releases a permit on its 0→1. The worker
//! drains whatever its status word shows, clears each bit with `try_unmark_if_empty` (clear, then
//! re-check, re-arm if a message raced in) and parks in `acquire()` when nothing is left.
//!
//! Run: `cargo run -p signal-waker --example park_and_wake`

#[cfg(not(loom))]
fn main() {
    use signal_waker::{SignalWaker, QUEUE_GROUP_MASK};
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::sync::Arc;

    const GROUPS: usize = 4;
    const MESSAGES: u64 = 100_000;

    let waker = Arc::new(SignalWaker::new());
    let queues: Arc<Vec<AtomicU64>> = Arc::new((0..GROUPS).map(|_| AtomicU64::new(0)).collect());

    let producer = {
        let (waker, queues) = (Arc::clone(&waker), Arc::clone(&queues));
        std::thread::spawn(move || {
            let mut new_bits = 0u64;
            for i in 0..MESSAGES {
                let group = (i % GROUPS as u64) as usize;
                queues[group].fetch_add(1, SeqCst); // publish first...
                if waker.mark_active(group as u32) {
                    new_bits += 1; // ...then mark: a 0→1 released a permit
                }
                if i % 1_000 == 0 {
                    std::thread::yield_now(); // let the worker run dry and park now and then
                }
            }
            new_bits
        })
    };

    let mut received = 0u64;
    let mut parks = 0u64;
    while received < MESSAGES {
        let status = waker.status();
        let mut groups = status & QUEUE_GROUP_MASK;
        while groups != 0 {
            let g = groups.trailing_zeros();
            groups &= groups - 1;
            let queue = &queues[g as usize];
            received += queue.swap(0, SeqCst);
            waker.try_unmark_if_empty(g, || queue.load(SeqCst) == 0);
        }
        if received < MESSAGES && !waker.has_work() {
            parks += 1;
            waker.acquire(); // returns once a producer's 0→1 released a permit
        }
    }
    let new_bits = producer.join().expect("producer panicked");
    // Everything is received: the queues are empty, so every bit clears for good.
    for g in 0..GROUPS as u32 {
        waker.try_unmark_if_empty(g, || true);
    }
    let leftover = waker.drain_permits();
    println!(
        "received {received} messages in {GROUPS} queue groups; the producer set a bit {new_bits} \
         times (one permit each), the worker parked {parks} times; {leftover} permits left over \
         (permits saturate at MAX_PERMITS; a stale one costs one extra look); status now {:#x}",
        waker.status()
    );
    assert_eq!(received, MESSAGES);
}

/// Under `--cfg loom` the waker's atomics only work inside a loom model.
#[cfg(loom)]
fn main() {}
