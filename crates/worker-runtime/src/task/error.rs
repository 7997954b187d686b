//! [`JoinError`]: why a task produced no output.

use std::any::Any;
use std::fmt;

enum Repr {
    Cancelled,
    Panic(Payload),
}

/// A panic payload. `Box<dyn Any + Send>` is not `Sync`, but tokio's `JoinError` is `Sync` and a
/// port must keep compiling (`?` into `Box<dyn Error + Send + Sync>`). The payload is therefore
/// reachable only by value ([`JoinError::into_panic`]) and, through `&`, only as `&str` or
/// `&String` (both `Sync`) for `Display`/`Debug`.
struct Payload(Box<dyn Any + Send + 'static>);

// SAFETY: no `&Payload` method hands out a reference to the inner value except `message`, which
// only returns `&str` views of `&'static str` / `String` payloads — types that are `Sync`. Every
// other access takes the payload by value.
unsafe impl Sync for Payload {}

impl Payload {
    fn message(&self) -> Option<&str> {
        let any: &(dyn Any + Send) = self.0.as_ref();
        any.downcast_ref::<&'static str>()
            .copied()
            .or_else(|| any.downcast_ref::<String>().map(String::as_str))
    }
}

/// The task did not produce its output: it was cancelled (aborted, or the runtime shut down), or
/// its future panicked.
pub struct JoinError {
    repr: Repr,
    id: u64,
}

impl JoinError {
    pub(crate) fn cancelled(id: u64) -> Self {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panic(id: u64, payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError {
            repr: Repr::Panic(Payload(payload)),
            id,
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> super::Id {
        super::Id::from_raw(self.id)
    }

    /// The task was cancelled: [`JoinHandle::abort`](crate::JoinHandle::abort), or the runtime
    /// shut down (or was already shut down when the task was spawned).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic (check [`is_panic`](Self::is_panic) first, or use
    /// [`try_into_panic`](Self::try_into_panic)).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on an error that is not a panic")
    }

    /// The panic payload, or the error itself if it is not a panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.0),
            _ => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(p) => match p.message() {
                Some(msg) => write!(f, "task panicked with message {msg:?}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(p) => match p.message() {
                Some(msg) => write!(f, "JoinError::Panic({msg:?})"),
                None => f.write_str("JoinError::Panic(..)"),
            },
        }
    }
}

impl std::error::Error for JoinError {}
