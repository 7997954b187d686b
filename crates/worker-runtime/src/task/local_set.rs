//! [`LocalSet`] and [`spawn_local`]: tasks whose futures need not be `Send`, run only on the
//! thread that drives their set, as tokio's.
//!
//! A local task is an ordinary task allocation (the same state word, wakers and [`JoinHandle`])
//! whose scheduler is the set's queue instead of the runtime's workers. A wake from any thread
//! puts the task's run permission in that queue and wakes whoever polls the set; only the set's
//! own thread pops the queue and runs (or drops) what it finds there. Dropping the set closes the
//! queue and cancels every task it still has, on its thread; a wake that comes later only gives
//! up its reference (the task was, or is about to be, taken over by the drop).

use super::raw::{drop_contained, wake_contained};
use super::Schedule;
use super::{drop_table_ref, new_local_task, shutdown_take_over, Header, JoinHandle, Notified};
use crate::sync::{lock, thread_local, Mutex};
use pin_project_lite::pin_project;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// How many local tasks one turn of a [`LocalSet`] polls at most before it yields (waking itself
/// again), so the future given to [`LocalSet::run_until`] and the rest of the program get a turn.
const TASKS_PER_TURN: usize = 32;

// The set being driven on this thread (inside its poll, `run_until` or `Drop`), for
// `spawn_local`. Valid while the `Entered` guard that set it lives.
thread_local! {
    static CURRENT: Cell<*const Arc<Shared>> = const { Cell::new(ptr::null()) };
}

/// The part of a set its tasks' wakers reach from any thread.
struct Shared {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Run permissions of the set's runnable tasks (only the owning thread pops them).
    queue: VecDeque<Notified>,
    /// Every unfinished task of the set, by header address, with the table reference of each.
    tasks: HashMap<usize, TaskRef>,
    /// Who to wake when a task becomes runnable: the last poller of the set (taken by the wake).
    waker: Option<Waker>,
    /// The set was dropped: no task runs again.
    closed: bool,
}

/// The set's reference to one of its tasks.
struct TaskRef(NonNull<Header>);

// SAFETY: the pointer is only used on the owning thread (the sweep of `LocalSet::drop`) or for its
// address; sending the reference only moves the count it stands for.
unsafe impl Send for TaskRef {}

/// The [`Schedule`] of a local task: the set's queue.
struct LocalScheduler(Arc<Shared>);

impl Schedule for LocalScheduler {
    fn schedule(&self, task: Notified) {
        let mut inner = lock(&self.0.inner);
        if inner.closed {
            drop(inner);
            // The set's drop has taken the task over (or will, it is in the list it swept): this
            // permission is void, and dropping it here, perhaps on another thread, must not
            // drop the future.
            task.forget_after_shutdown();
            return;
        }
        inner.queue.push_back(task);
        let waker = inner.waker.take();
        drop(inner);
        if let Some(w) = waker {
            wake_contained(w);
        }
    }

    fn release(&self, task: &Header) -> bool {
        // The drop's sweep took the whole table: then it holds the reference and drops it.
        let key = task as *const Header as usize;
        lock(&self.0.inner).tasks.remove(&key).is_some()
    }
}

/// A set of tasks that run on the thread that drives the set, so their futures need not be
/// `Send` (they may hold an `Rc`, a `RefCell` borrow across an `.await`, ...), as tokio's
/// `LocalSet`.
///
/// Tasks are added with [`LocalSet::spawn_local`], or with the free [`spawn_local`] from code the
/// set is driving. They run while the set is driven: inside [`LocalSet::run_until`] (which runs
/// them alongside a future until that future finishes), [`LocalSet::block_on`], or by awaiting the
/// set itself (it is a future that finishes when all its tasks have). A local task is never moved
/// to a worker; a wake from any thread (a worker task sending on a channel, a timer) queues it for
/// the set's thread. Dropping the set drops the futures of its unfinished tasks there and then
/// (their [`JoinHandle`]s resolve to a cancelled `JoinError`).
///
/// A panic in a local task is caught: its `JoinHandle` gives `JoinError::Panic` and the other
/// tasks go on.
///
/// ```
/// use std::rc::Rc;
/// use worker_runtime::task::{self, LocalSet};
///
/// let rt = worker_runtime::Runtime::new().unwrap();
/// let local = LocalSet::new();
/// let sum = local.block_on(&rt, async {
///     let shared = Rc::new(20); // not Send
///     let handle = task::spawn_local({
///         let shared = Rc::clone(&shared);
///         async move {
///             task::yield_now().await;
///             *shared + 1
///         }
///     });
///     // Tasks on the workers still work, and the local task may await them.
///     let remote = worker_runtime::spawn(async { 21 });
///     handle.await.unwrap() + remote.await.unwrap()
/// });
/// assert_eq!(sum, 42);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// `!Send` and `!Sync`: the set belongs to the thread that made it.
    _not_send: PhantomData<*const ()>,
}

/// Marks a set as the one being driven on this thread; restores the previous one when dropped.
struct Entered {
    prev: *const Arc<Shared>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    queue: VecDeque::new(),
                    tasks: HashMap::new(),
                    waker: None,
                    closed: false,
                }),
            }),
            _not_send: PhantomData,
        }
    }

    /// Adds a task to the set and returns its handle. It runs when the set is driven (see
    /// [`LocalSet`]); its future and output need not be `Send`.
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.shared, future)
    }

    /// Runs `future` to completion, polling the set's tasks in between, and returns its output;
    /// [`spawn_local`] works inside it. Tasks still unfinished when `future` finishes stay in the
    /// set (they run the next time it is driven, or are dropped with it).
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil {
            local_set: self,
            future,
        }
    }

    /// `rt.block_on(self.run_until(future))`: runs `future` and the set's tasks on this thread,
    /// with `rt` as the current runtime (so [`spawn`](crate::spawn) and timers work).
    ///
    /// # Panics
    /// As [`Runtime::block_on`](crate::Runtime::block_on): if called from a worker thread.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Makes this set the current one on this thread (for [`spawn_local`]).
    fn enter(&self) -> Entered {
        let me: *const Arc<Shared> = &self.shared;
        Entered {
            prev: CURRENT.with(|c| c.replace(me)),
        }
    }

    /// Stores the waker of the set's poller (cloned and dropped outside the lock: user code).
    fn register(&self, waker: &Waker) {
        let mut inner = lock(&self.shared.inner);
        if inner.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return;
        }
        drop(inner);
        let new = waker.clone();
        inner = lock(&self.shared.inner);
        let old = inner.waker.replace(new);
        drop(inner);
        drop_contained(old);
    }

    /// Polls up to [`TASKS_PER_TURN`] queued tasks. Returns whether runnable tasks are left.
    fn run_tasks(&self) -> bool {
        for _ in 0..TASKS_PER_TURN {
            let Some(task) = lock(&self.shared.inner).queue.pop_front() else {
                return false;
            };
            // The poll (and any drop of the future) is contained inside `run`.
            let (_, again) = task.run();
            if let Some(task) = again {
                // Woken during its poll: back of the queue (the set is not closed while it runs).
                lock(&self.shared.inner).queue.push_back(task);
            }
        }
        !lock(&self.shared.inner).queue.is_empty()
    }
}

/// Adds `future` to `shared`'s set, on that set's thread.
fn spawn_on<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // This runs on the set's thread (a `LocalSet` is `!Send` and `!Sync`, and `CURRENT` is only
    // set on its thread), and the scheduler runs the task's live permissions only there: only
    // the set's thread pops its queue, and after the set is closed a permission is given up
    // without running or dropping the future (`LocalScheduler::schedule`); the drop's sweep then
    // drops the future on the set's thread.
    let scheduler = LocalScheduler(Arc::clone(shared));
    // SAFETY: the future is polled and dropped on this thread only (see the comment above).
    let (notified, handle, raw) = unsafe { new_local_task(future, scheduler) };
    let mut inner = lock(&shared.inner);
    if inner.closed {
        drop(inner);
        // Spawned from a future's `Drop` while the set is being dropped: cancel it here (this
        // drops the future, on the set's thread). The task was never in the table, so its
        // table reference is ours to drop.
        notified.cancel();
        // SAFETY: the table reference from `new_local_task`, which no table holds.
        unsafe { drop_table_ref(raw) };
        return handle;
    }
    inner.tasks.insert(raw.as_ptr() as usize, TaskRef(raw));
    inner.queue.push_back(notified);
    let waker = inner.waker.take();
    drop(inner);
    if let Some(w) = waker {
        wake_contained(w);
    }
    handle
}

/// Adds `future` to the [`LocalSet`] being driven on this thread, as tokio's
/// `task::spawn_local`: call it from a local task or from inside [`LocalSet::run_until`] or
/// [`LocalSet::block_on`].
///
/// # Panics
/// Outside a `LocalSet` (for example in a task spawned with [`spawn`](crate::spawn) on a worker).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        panic!(
            "worker_runtime::task::spawn_local called outside a LocalSet: call it from a task of a \
             LocalSet or inside LocalSet::run_until / LocalSet::block_on, or use \
             LocalSet::spawn_local"
        );
    }
    // SAFETY: a non-null `CURRENT` was set by `LocalSet::enter` on this thread from a set that is
    // borrowed for as long as the guard lives, and the guard restores the previous value.
    spawn_on(unsafe { &*current }, future)
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.shared.inner);
        f.debug_struct("LocalSet")
            .field("tasks", &inner.tasks.len())
            .field("runnable", &inner.queue.len())
            .finish()
    }
}

/// Polled, the set runs its tasks and finishes once none is left (as tokio's `LocalSet`).
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &*self;
        let _entered = this.enter();
        this.register(cx.waker());
        let more = this.run_tasks();
        if lock(&this.shared.inner).tasks.is_empty() {
            return Poll::Ready(());
        }
        if more {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Code in the futures' `Drop`s may call `spawn_local`: it gets a cancelled handle.
        let _entered = self.enter();
        let (queue, tasks, waker) = {
            let mut inner = lock(&self.shared.inner);
            inner.closed = true;
            (
                std::mem::take(&mut inner.queue),
                std::mem::take(&mut inner.tasks),
                inner.waker.take(),
            )
        };
        drop_contained(waker);
        // Each queued permission cancels its task here (the future's drop is contained).
        drop(queue);
        for (_, task) in tasks {
            // SAFETY: the table's reference, which we now own, keeps the task alive.
            if let Some(taken) = unsafe { shutdown_take_over(task.0) } {
                taken.finish();
            }
            // SAFETY: we own the table's reference (the task is no longer in the table, so its
            // `release` returned `false` and left this reference to us).
            unsafe { drop_table_ref(task.0) };
        }
    }
}

pin_project! {
    /// The future of [`LocalSet::run_until`]: runs the set's tasks while it polls the future it
    /// wraps, and finishes with that future's output.
    pub struct RunUntil<'a, F> {
        local_set: &'a LocalSet,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let set = *this.local_set;
        let _entered = set.enter();
        set.register(cx.waker());
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(out);
        }
        if set.run_tasks() {
            // Tasks are left after a full turn: yield, and come back for them.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl<F> fmt::Debug for RunUntil<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntil").finish_non_exhaustive()
    }
}
