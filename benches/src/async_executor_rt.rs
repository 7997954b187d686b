//! async-executor as a [`BenchRuntime`]: smol's recipe, `n` threads each
//! running `async_io::block_on(ex.run(stop.recv()))`; timers are
//! `async_io::Timer`.
//!
//! The pinned peer setup uses a `static Executor`; here every instance gets
//! a fresh `Arc<Executor<'static>>` (a fresh runtime per cell, no leak). So
//! that a task can spawn without a handle, each runner thread keeps a clone
//! of its executor in a thread-local, which [`BenchRuntime::spawn_local`]
//! reads (one thread-local access per spawn; tokio pays the same).

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use std::net::{SocketAddr, TcpListener, TcpStream};

use async_executor::{Executor, Task};
use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::runtime::BenchRuntime;

thread_local! {
    /// The executor whose runner this thread is, if any.
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// Spawns `f` on the executor this runner thread belongs to.
fn spawn_on_current<F>(f: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .expect("async-executor: spawn_local called outside a runner thread")
            .spawn(f)
    })
}

/// An `async_executor::Executor` driven by `n` runner threads; dropping it
/// stops and joins them.
#[derive(Debug)]
pub struct AsyncExecutorRt {
    executor: Arc<Executor<'static>>,
    stop: async_channel::Sender<()>,
    runners: Vec<JoinHandle<()>>,
}

impl BenchRuntime for AsyncExecutorRt {
    const NAME: &'static str = "async-executor";

    type JoinHandle<T: Send + 'static> = Task<T>;

    fn with_workers(workers: usize) -> Self {
        let executor = Arc::new(Executor::new());
        let (stop, stop_rx) = async_channel::bounded::<()>(1);
        let runners = (0..workers)
            .map(|i| {
                let executor = Arc::clone(&executor);
                let stop_rx = stop_rx.clone();
                std::thread::Builder::new()
                    .name(format!("async-executor-{i}"))
                    .spawn(move || {
                        CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&executor)));
                        // `recv` fails once the sender is closed: that ends `run`.
                        let _ = async_io::block_on(executor.run(stop_rx.recv()));
                        CURRENT.with(|c| c.borrow_mut().take());
                    })
                    .expect("async-executor: spawning a runner thread failed")
            })
            .collect();
        AsyncExecutorRt {
            executor,
            stop,
            runners,
        }
    }

    fn spawn<F>(&self, f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(f)
    }

    fn spawn_local<F>(f: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on_current(f)
    }

    fn spawn_detached<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        spawn_on_current(f).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    /// smol's timer, `async_io::Timer::after`, driven by async-io's reactor
    /// (which the runner threads' `async_io::block_on` take turns driving).
    async fn sleep(d: Duration) {
        async_io::Timer::after(d).await;
    }

    type Listener = Async<TcpListener>;
    type Stream = Async<TcpStream>;

    /// smol's sockets, `async_io::Async`, on async-io's reactor.
    async fn bind_loopback() -> (Async<TcpListener>, SocketAddr) {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("async-io: bind");
        let addr = listener
            .get_ref()
            .local_addr()
            .expect("async-io: local_addr");
        (listener, addr)
    }

    async fn accept(listener: &Async<TcpListener>) -> Async<TcpStream> {
        let (stream, _) = listener.accept().await.expect("async-io: accept");
        stream
            .get_ref()
            .set_nodelay(true)
            .expect("async-io: nodelay");
        stream
    }

    async fn connect(addr: SocketAddr) -> Async<TcpStream> {
        let stream = Async::<TcpStream>::connect(addr)
            .await
            .expect("async-io: connect");
        stream
            .get_ref()
            .set_nodelay(true)
            .expect("async-io: nodelay");
        stream
    }

    async fn read<'a>(stream: &'a mut Async<TcpStream>, buf: &'a mut [u8]) -> usize {
        stream.read(buf).await.expect("async-io: read")
    }

    async fn write_all<'a>(stream: &'a mut Async<TcpStream>, buf: &'a [u8]) {
        stream.write_all(buf).await.expect("async-io: write");
    }
}

impl Drop for AsyncExecutorRt {
    fn drop(&mut self) {
        self.stop.close();
        for runner in self.runners.drain(..) {
            // A runner only panics if a workload panicked; that was reported.
            let _ = runner.join();
        }
    }
}
