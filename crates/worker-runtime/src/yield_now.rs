//! [`yield_now`]: give the worker to the other tasks once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the runtime once: the task goes to the back of its worker's FIFO yield queue (which
/// other workers may steal from) and runs again after the tasks ahead of it.
///
/// Outside this runtime it works as a generic yield (wake, then `Pending` once).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A wake during our own poll: the worker sees the task rescheduled and queues it at the
        // back of the yield queue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
