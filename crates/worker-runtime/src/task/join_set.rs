//! [`JoinSet`]: a set of spawned tasks whose outputs are taken in completion order, as tokio's.
//!
//! Each task of the set is spawned inside a small wrapper whose drop guard (it runs when the task
//! completes, panics or is cancelled: its future is dropped in every case) pushes the task's key
//! onto the set's ready list and wakes the set. `join_next` then polls only the handles that have
//! signalled, so draining a set of `n` tasks costs O(n) in all, not O(n) per call. A key is a slot
//! index with a generation, so a signal from a task that has left the set never reaches the one
//! that reuses its slot.

use crate::runtime::Handle;
use crate::sync::{lock, Mutex};
use crate::task::{AbortHandle, JoinError, JoinHandle};
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Slot index and generation of one task in the set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    index: usize,
    generation: u64,
}

/// The tasks' side: keys of tasks that have finished, and the waker of the set's `join_next`.
#[derive(Default)]
struct Ready {
    keys: VecDeque<Key>,
    waker: Option<Waker>,
}

/// Pushes its key when dropped: when the wrapped future completes or is dropped unfinished.
struct Signal {
    ready: Arc<Mutex<Ready>>,
    key: Key,
}

impl Drop for Signal {
    fn drop(&mut self) {
        let waker = {
            let mut ready = lock(&self.ready);
            ready.keys.push_back(self.key);
            ready.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

struct Entry<T> {
    handle: JoinHandle<T>,
    generation: u64,
}

/// A collection of spawned tasks; [`join_next`](Self::join_next) returns their results in the
/// order they finish. Dropping the set aborts every task still in it.
///
/// ```
/// use worker_runtime::task::JoinSet;
/// let rt = worker_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u32 {
///         set.spawn(async move { i * 2 });
///     }
///     let mut sum = 0;
///     while let Some(r) = set.join_next().await {
///         sum += r.unwrap();
///     }
///     assert_eq!(sum, 90);
/// });
/// ```
pub struct JoinSet<T> {
    slots: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    next_generation: u64,
    len: usize,
    ready: Arc<Mutex<Ready>>,
    /// Keys that signalled but whose handle was not complete yet when polled (its completion is
    /// published just after the future is dropped); polled again first.
    settling: Vec<Key>,
}

impl<T: Send + 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            next_generation: 0,
            len: 0,
            ready: Arc::new(Mutex::new(Ready::default())),
            settling: Vec::new(),
        }
    }

    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    /// Outside a runtime, as [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let handle = Handle::current();
        self.spawn_on(future, &handle)
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let generation = self.next_generation;
        self.next_generation += 1;
        let signal = Signal {
            ready: Arc::clone(&self.ready),
            key: Key { index, generation },
        };
        let join = handle.spawn(async move {
            let _signal = signal;
            future.await
        });
        let abort = join.abort_handle();
        self.slots[index] = Some(Entry {
            handle: join,
            generation,
        });
        self.len += 1;
        abort
    }

    /// Waits for the next task to finish and returns its result; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The result of a task that has already finished, if any; never waits.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        match self.poll_join_next(&mut cx) {
            Poll::Ready(r) => r,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task: `Ready(None)` when the set is empty.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        // First the tasks that signalled earlier but were still publishing their completion.
        let mut settling = std::mem::take(&mut self.settling);
        while let Some(key) = settling.pop() {
            if let Some(r) = self.poll_key(key, cx) {
                self.settling.append(&mut settling);
                return Poll::Ready(Some(r));
            }
        }
        loop {
            let key = {
                let mut ready = lock(&self.ready);
                match ready.keys.pop_front() {
                    Some(k) => k,
                    None => {
                        // Registered under the lock: a task that finishes after this sees it.
                        ready.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            if let Some(r) = self.poll_key(key, cx) {
                return Poll::Ready(Some(r));
            }
        }
    }

    /// Polls the handle behind `key` if it is still in the set; its result if it is complete.
    /// One that is not complete yet is kept for the next poll (its handle now holds `cx`'s waker).
    fn poll_key(&mut self, key: Key, cx: &mut Context<'_>) -> Option<Result<T, JoinError>> {
        let entry = self.slots.get_mut(key.index)?.as_mut()?;
        if entry.generation != key.generation {
            return None;
        }
        match Pin::new(&mut entry.handle).poll(cx) {
            Poll::Ready(r) => {
                self.slots[key.index] = None;
                self.free.push(key.index);
                self.len -= 1;
                Some(r)
            }
            Poll::Pending => {
                self.settling.push(key);
                None
            }
        }
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    /// If a task panicked (its panic is resumed here, as in tokio) or was cancelled.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(r) = self.join_next().await {
            match r {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("JoinSet::join_all: a task was cancelled: {e}"),
            }
        }
        out
    }

    /// Aborts every task in the set; they stay in it until joined (as cancelled, unless they had
    /// finished).
    pub fn abort_all(&mut self) {
        for e in self.slots.iter().flatten() {
            e.handle.abort();
        }
    }

    /// Aborts every task and waits until all have left the set.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Tasks in the set (finished ones not joined yet included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Send + 'static> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set (as tokio's does); their outputs are dropped.
    fn drop(&mut self) {
        for e in self.slots.iter().flatten() {
            e.handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
