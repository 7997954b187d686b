//! The workers' FIFO yield queues: `crossbeam_deque`'s, and under `--cfg loom` a loom-visible
//! stand-in with the same API subset, so the loom models run the crate's own run loop (which
//! pushes, pops and steals through these names) over queues whose synchronisation loom sees.
//!
//! The stand-in is a loom mutex around a `VecDeque`: every operation is one critical section, so it
//! is linearizable like crossbeam's deque (and never returns `Steal::Retry`). Only the queue is
//! replaced; everything around it is the runtime's own code.

#[cfg(loom)]
pub(crate) use self::loom_queue::{LocalQueue, Steal, Stealer};
#[cfg(not(loom))]
pub(crate) use crossbeam_deque::{Steal, Stealer, Worker as LocalQueue};

#[cfg(loom)]
mod loom_queue {
    use std::collections::VecDeque;
    // `std`'s `Arc`, not loom's: a model that fails unwinds its threads, and dropping a loom `Arc`
    // then calls back into the finished execution and aborts the test binary.
    use std::sync::Arc;

    /// `crossbeam_deque::Steal`.
    #[derive(Debug)]
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        // Never built here (a mutex never has to retry); the run loop still matches on it.
        #[allow(dead_code)]
        Retry,
    }

    /// The queue's items; while a model unwinds (it failed) they are leaked instead of dropped:
    /// dropping a task's run permission runs task code on loom atomics outside the execution.
    struct Items<T>(VecDeque<T>);

    impl<T> Drop for Items<T> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                for item in self.0.drain(..) {
                    std::mem::forget(item);
                }
            }
        }
    }

    type Shared<T> = Arc<loom::sync::Mutex<Items<T>>>;

    /// `crossbeam_deque::Worker` (FIFO flavour): the owner's end.
    pub(crate) struct LocalQueue<T> {
        items: Shared<T>,
    }

    /// `crossbeam_deque::Stealer`: everybody else's end.
    pub(crate) struct Stealer<T> {
        items: Shared<T>,
    }

    impl<T> LocalQueue<T> {
        pub(crate) fn new_fifo() -> Self {
            LocalQueue {
                items: Arc::new(loom::sync::Mutex::new(Items(VecDeque::new()))),
            }
        }

        pub(crate) fn push(&self, item: T) {
            self.items.lock().unwrap().0.push_back(item);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            self.items.lock().unwrap().0.pop_front()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.items.lock().unwrap().0.is_empty()
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer {
                items: Arc::clone(&self.items),
            }
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.items.lock().unwrap().0.pop_front() {
                Some(item) => Steal::Success(item),
                None => Steal::Empty,
            }
        }

        /// Takes the oldest item and moves up to half of the rest to `dest` (crossbeam moves about
        /// half as well).
        pub(crate) fn steal_batch_and_pop(&self, dest: &LocalQueue<T>) -> Steal<T> {
            let mut batch = {
                let mut items = self.items.lock().unwrap();
                let Some(first) = items.0.pop_front() else {
                    return Steal::Empty;
                };
                let more = items.0.len() / 2;
                (first, items.0.drain(..more).collect::<Vec<_>>())
            };
            if !batch.1.is_empty() {
                let mut dest = dest.items.lock().unwrap();
                dest.0.extend(batch.1.drain(..));
            }
            Steal::Success(batch.0)
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.items.lock().unwrap().0.is_empty()
        }
    }
}
