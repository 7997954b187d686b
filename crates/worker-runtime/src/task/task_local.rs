//! [`task_local!`](crate::task_local) and [`LocalKey`]: values that belong to a task, carried across
//! its polls on whatever worker runs it, as tokio's.
//!
//! A `LocalKey` is a thread-local slot. [`LocalKey::scope`] wraps a future so that each of its
//! polls swaps the task's value into the slot of the thread that polls it and swaps it out again
//! afterwards (also when the poll panics), so a value never leaks into another task or thread.

use pin_project_lite::pin_project;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `static NAME: Type;` each, as `tokio::task_local!`.
///
/// ```
/// worker_runtime::task_local! {
///     static REQUEST_ID: u64;
/// }
/// let rt = worker_runtime::Runtime::new().unwrap();
/// rt.block_on(REQUEST_ID.scope(7, async {
///     worker_runtime::task::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 7);
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

/// One key of [`task_local!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&__SLOT)
        };
    };
}

/// A key declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    slot: &'static std::thread::LocalKey<RefCell<Option<T>>>,
}

/// [`LocalKey::try_with`] outside a scope of that key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set: access it inside LocalKey::scope or sync_scope")
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(slot: &'static std::thread::LocalKey<RefCell<Option<T>>>) -> Self {
        LocalKey { slot }
    }

    /// Runs `future` with this key set to `value` during each of its polls.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future,
        }
    }

    /// Runs `f` with this key set to `value`.
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        self.enter(&mut value, f)
    }

    /// Calls `f` with the value of this key in the current scope.
    ///
    /// # Panics
    /// Outside a scope of this key; use [`try_with`](Self::try_with) to get an error instead.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    /// Calls `f` with the value of this key in the current scope, or says it is not set.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.slot
            .try_with(|slot| {
                let slot = slot.borrow();
                slot.as_ref().map(f).ok_or(AccessError(()))
            })
            .unwrap_or(Err(AccessError(())))
    }

    /// Swaps `value` into this thread's slot for the duration of `f`, and back out afterwards,
    /// also when `f` unwinds.
    fn enter<R>(&'static self, value: &mut Option<T>, f: impl FnOnce() -> R) -> R {
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                self.key
                    .slot
                    .with(|slot| std::mem::swap(&mut *slot.borrow_mut(), self.value));
            }
        }
        self.slot
            .with(|slot| std::mem::swap(&mut *slot.borrow_mut(), value));
        let _restore = Restore { key: self, value };
        f()
    }
}

impl<T: Copy + 'static> LocalKey<T> {
    /// The value of this key in the current scope.
    ///
    /// # Panics
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(|v| *v)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

pin_project! {
    /// A future run with a task-local value set; made by [`LocalKey::scope`].
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        value: Option<T>,
        #[pin]
        future: F,
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let key: &'static LocalKey<T> = this.key;
        let future = this.future;
        key.enter(this.value, || future.poll(cx))
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture").finish_non_exhaustive()
    }
}
