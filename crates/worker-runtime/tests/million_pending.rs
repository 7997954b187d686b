//! "Capacity is not a wall": 2.5 million tasks pending at the same time on a runtime built with
//! the defaults, each waiting on one shared event; then the event fires and every task finishes.
//! That is past the 2^21 slots the summary tree covers at first (`INITIAL_TASKS`, the old default
//! cap, at which the free `spawn` used to panic), so the covered slots grow on demand underneath.
//! (100 tasks under Miri.)

mod common;

use common::{assert_shut_down_clean, block_on, wait_idle_clean, wait_until, Watchdog, HANG};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use worker_runtime::Runtime;

/// A one-shot broadcast event: waiters register their waker; `fire` wakes them all.
#[derive(Default)]
struct Event {
    fired: AtomicBool,
    waiters: Mutex<Vec<Waker>>,
    /// Tasks that reached the wait point and registered.
    waiting: AtomicUsize,
}

impl Event {
    fn fire(&self) {
        self.fired.store(true, Ordering::SeqCst);
        let waiters = std::mem::take(&mut *self.waiters.lock().unwrap());
        for w in waiters {
            w.wake();
        }
    }

    fn wait(self: &Arc<Self>) -> Wait {
        Wait {
            event: Arc::clone(self),
            registered: false,
        }
    }
}

struct Wait {
    event: Arc<Event>,
    registered: bool,
}

impl Future for Wait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.event.fired.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        let mut waiters = self.event.waiters.lock().unwrap();
        // Re-check under the lock: `fire` sets the flag before it takes the list.
        if self.event.fired.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        waiters.push(cx.waker().clone());
        drop(waiters);
        if !self.registered {
            self.registered = true;
            self.event.waiting.fetch_add(1, Ordering::SeqCst);
        }
        Poll::Pending
    }
}

#[test]
fn millions_of_tasks_pending_at_once_then_all_released() {
    let watchdog = Watchdog::new("millions_of_tasks_pending_at_once_then_all_released");
    let n: usize = if cfg!(miri) { 100 } else { 2_500_000 };
    const _: () = assert!(worker_runtime::INITIAL_TASKS < 2_500_000);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let probe = rt.debug_probe();
    let event = Arc::new(Event::default());
    let finished = Arc::new(AtomicUsize::new(0));

    // Half spawned from outside (remote spawns into the tree), half from inside a task (local
    // spawns through the worker's LIFO slot and queues).
    let outside: Vec<_> = (0..n / 2)
        .map(|i| {
            let (ev, fin) = (Arc::clone(&event), Arc::clone(&finished));
            rt.spawn(async move {
                ev.wait().await;
                fin.fetch_add(1, Ordering::Relaxed);
                i as u64
            })
        })
        .collect();
    watchdog.pet();
    let (ev, fin) = (Arc::clone(&event), Arc::clone(&finished));
    let inside = block_on(rt.spawn(async move {
        (n / 2..n)
            .map(|i| {
                let (ev, fin) = (Arc::clone(&ev), Arc::clone(&fin));
                worker_runtime::spawn(async move {
                    ev.wait().await;
                    fin.fetch_add(1, Ordering::Relaxed);
                    i as u64
                })
            })
            .collect::<Vec<_>>()
    }))
    .unwrap();
    watchdog.pet();

    // Every task has reached the wait point: all n are pending at the same time.
    wait_until(|| event.waiting.load(Ordering::SeqCst) == n);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    assert_eq!(probe.live_tasks(), n, "tasks alive at once");
    assert!(outside.iter().chain(&inside).all(|h| !h.is_finished()));
    // Pending tasks are idle, not queued: the workers go to sleep.
    wait_idle_clean(&probe);
    watchdog.pet();

    event.fire();
    let sum = block_on(async {
        let mut sum = 0u64;
        for h in outside.into_iter().chain(inside) {
            sum += h.await.unwrap();
        }
        sum
    });
    watchdog.pet();
    assert_eq!(sum, (0..n as u64).sum::<u64>());
    assert_eq!(finished.load(Ordering::SeqCst), n);
    assert_eq!(event.waiting.load(Ordering::SeqCst), n);
    wait_idle_clean(&probe);
    assert_eq!(probe.live_tasks(), 0);
    rt.shutdown_timeout(HANG);
    assert_shut_down_clean(&probe);
}
