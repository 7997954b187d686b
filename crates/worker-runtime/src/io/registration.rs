//! One IO resource registered with the driver: its readiness word and the tasks waiting on it
//! ([`ScheduledIo`]), and the handle a socket type holds ([`Registration`], [`PollEvented`]).
//!
//! Readiness is edge-triggered (mio): the driver ORs the event's bits into the readiness word
//! together with the number of the driver turn that saw it (the *tick*). An operation that gets
//! `WouldBlock` clears the bits it observed, but only if the tick is still the one it observed:
//! an event that arrived between the operation and the clear has a newer tick and is kept, so it
//! is never lost and never credited to the wrong wait.
//!
//! Lost-wakeup argument for a waiting task: [`ScheduledIo::poll_ready`] checks the word, then,
//! under the waiter lock, checks again and files its waker; the driver sets the word, then takes
//! the same lock to take the wakers. Either the task's second check comes after the driver's
//! critical section (and sees the bits the driver set before it), or the driver's comes after the
//! task filed its waker (and wakes it).

use crate::io::driver::Driver;
use crate::scheduler::shared::Shared;
use crate::sync::{lock, new_atomic_usize, AtomicUsize, Mutex, Ordering};
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// The resource can be read (or accepted from).
pub(crate) const READABLE: usize = 1;
/// The resource can be written.
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its writing side: reads return 0 from now on (sticky).
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// The peer closed its reading side, or the socket was shut down for writing (sticky).
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// An error is pending on the socket (both directions are woken to see it).
pub(crate) const ERROR: usize = 1 << 4;
/// The runtime shut down: every wait ends with an error (sticky).
pub(crate) const SHUTDOWN: usize = 1 << 5;
/// Bits that an operation's `WouldBlock` does not clear.
const STICKY: usize = READ_CLOSED | WRITE_CLOSED | SHUTDOWN;
/// The tick sits above the readiness bits.
const TICK_SHIFT: u32 = 16;
const READY_MASK: usize = (1 << TICK_SHIFT) - 1;

/// Which way a task waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that end a wait in this direction.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// Readiness observed by a wait: what to clear on `WouldBlock`, and the tick it was seen at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    ready: usize,
    tick: usize,
}

/// The tasks waiting for one direction of one resource. A few entries at most: every task that
/// waits files its waker once (`will_wake` dedup) and an event takes them all.
#[derive(Default)]
struct Waiters {
    reader: Vec<Waker>,
    writer: Vec<Waker>,
}

/// The driver's record of one registered resource. Its address is the mio token.
pub(crate) struct ScheduledIo {
    /// Readiness bits (low 16) and the tick of the driver turn that last set them (above).
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    pub(crate) fn new() -> Self {
        ScheduledIo {
            readiness: new_atomic_usize(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// The driver saw `ready` in turn `tick`: records it and appends the wakers of the directions
    /// it ends to `wake` (called by the caller after it has let go of the driver).
    pub(crate) fn set_readiness(&self, ready: usize, tick: usize, wake: &mut Vec<Waker>) {
        let tick = tick & (usize::MAX >> TICK_SHIFT);
        let mut cur = self.readiness.load(Ordering::Acquire); // edge: the CAS below
        loop {
            let next = ((cur & READY_MASK) | ready) | (tick << TICK_SHIFT);
            // AcqRel: releases the new bits to a waiter's Acquire load in `poll_ready`.
            match self.readiness.compare_exchange_weak(
                cur,
                next,
                Ordering::AcqRel,  // edge: see the comment above
                Ordering::Acquire, // edge: a newer value written by a clear
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.take_wakers(ready, wake);
    }

    /// Takes the wakers of every direction `ready` ends.
    fn take_wakers(&self, ready: usize, wake: &mut Vec<Waker>) {
        let mut waiters = lock(&self.waiters);
        if ready & Direction::Read.mask() != 0 {
            wake.append(&mut waiters.reader);
        }
        if ready & Direction::Write.mask() != 0 {
            wake.append(&mut waiters.writer);
        }
    }

    /// The runtime shut down: every wait ends with an error from now on.
    pub(crate) fn shut_down(&self, wake: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::SeqCst);
        self.take_wakers(Direction::Read.mask() | Direction::Write.mask(), wake);
    }

    /// Ready in `dir`, an error after shutdown, or `Pending` with `cx`'s waker filed.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        // Acquire: pairs with the AcqRel CAS in `set_readiness` (the bits come with the event).
        if let Some(ready) = self.ready_in(self.readiness.load(Ordering::Acquire), dir) {
            return Poll::Ready(ready);
        }
        let mut waiters = lock(&self.waiters);
        // Under the waiter lock: see the module docs.
        if let Some(ready) = self.ready_in(self.readiness.load(Ordering::Acquire), dir) {
            return Poll::Ready(ready);
        }
        let list = match dir {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        if !list.iter().any(|w| w.will_wake(cx.waker())) {
            list.push(cx.waker().clone());
        }
        Poll::Pending
    }

    fn ready_in(&self, word: usize, dir: Direction) -> Option<io::Result<ReadyEvent>> {
        if word & SHUTDOWN != 0 {
            return Some(Err(shutdown_error()));
        }
        let ready = word & dir.mask();
        (ready != 0).then_some(Ok(ReadyEvent {
            ready,
            tick: word >> TICK_SHIFT,
        }))
    }

    /// An operation got `WouldBlock` after `event`: clears the bits it saw, unless a newer event
    /// (another tick) arrived meanwhile. Closed and shutdown bits stay.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let mut cur = self.readiness.load(Ordering::Acquire); // edge: the CAS below
        loop {
            if cur >> TICK_SHIFT != event.tick {
                return;
            }
            let next = cur & !(event.ready & !STICKY);
            if next == cur {
                return;
            }
            // AcqRel: ordered with the driver's CAS on the same word (either sees the other).
            match self.readiness.compare_exchange_weak(
                cur,
                next,
                Ordering::AcqRel,  // edge: see the comment above
                Ordering::Acquire, // edge: see the comment above
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }
}

/// The error every wait on a socket of a runtime that shut down ends with.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the runtime this socket belongs to has shut down")
}

/// A socket's registration with its runtime's driver; deregisters when dropped with
/// [`PollEvented`].
pub(crate) struct Registration {
    shared: Arc<Shared>,
    io: Arc<ScheduledIo>,
    key: usize,
}

impl Registration {
    /// Registers `source` with the driver of the runtime this thread is in.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    fn new(source: &mut impl mio::event::Source) -> io::Result<Self> {
        let Some(shared) = crate::context::current() else {
            panic!(
                "there is no worker-runtime runtime here: sockets must be created (and `bind`, \
                 `connect` and `from_std` called) inside `Runtime::block_on`, a task, or after \
                 `Runtime::enter`"
            );
        };
        let driver = shared.io_driver()?;
        let (io, key) = driver.register(source, &shared)?;
        Ok(Registration { shared, io, key })
    }

    fn driver(&self) -> &Driver {
        self.shared
            .io_driver_if_started()
            .expect("a registration exists only with its driver")
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readiness in `dir` between
    /// tries.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(cx, dir, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io) for a read or write of `len` bytes: a transfer shorter than
    /// `len` means the socket's buffer ran dry (or full), so the readiness is cleared at once
    /// (unless a newer event arrived) and the next operation waits for the next event instead of
    /// making a syscall only to get `WouldBlock`.
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_op(cx, dir, op, |&n| n > 0 && n < len)
    }

    /// The loop of both: `op` until not `WouldBlock`; a result for which `drained` holds also
    /// clears the readiness it was made on.
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.io.poll_ready(cx, dir) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.io.clear_readiness(event);
                }
                Ok(v) if drained(&v) => {
                    self.io.clear_readiness(event);
                    return Poll::Ready(Ok(v));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Waits for readiness in `dir` without doing anything (`readable()` / `writable()`).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, dir).map_ok(|_| ())
    }

    /// Tries `op` once without waiting (`try_read`, `try_write`): `WouldBlock` clears the
    /// readiness it was tried on.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let word = self.io.readiness.load(Ordering::Acquire); // edge: `set_readiness`'s CAS
        let event = match self.io.ready_in(word, dir) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return Err(e),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let result = op();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear_readiness(event);
        }
        result
    }
}

/// A mio source registered with the driver: what the socket types wrap. Dropping it deregisters
/// the source and closes it.
pub(crate) struct PollEvented<E: mio::event::Source> {
    source: Option<E>,
    registration: Registration,
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Registers `source` (non-blocking already) with the current runtime's driver.
    #[track_caller]
    pub(crate) fn new(mut source: E) -> io::Result<Self> {
        let registration = Registration::new(&mut source)?;
        Ok(PollEvented {
            source: Some(source),
            registration,
        })
    }

    pub(crate) fn source(&self) -> &E {
        self.source.as_ref().expect("present until drop")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Runs `op` on the source until it does not return `WouldBlock`, waiting for readiness in
    /// `dir` between tries (the body of every socket method that waits: `accept`, `send_to`, ...).
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.registration.poll_io(cx, dir, || op(self.source()))).await
    }

    /// Waits for readiness in `dir` (`readable()` / `writable()`).
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        std::future::poll_fn(|cx| self.registration.poll_ready(cx, dir)).await
    }

    /// Deregisters and gives the source back (`into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut source = self.source.take().expect("present until drop");
        self.registration.driver().deregister(
            &mut source,
            &self.registration.io,
            self.registration.key,
        )?;
        Ok(source)
    }
}

impl<E: mio::event::Source> PollEvented<E>
where
    for<'a> &'a E: std::io::Read + std::io::Write,
{
    /// Polls a read into `buf` (the streams' `AsyncRead`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.registration
            .poll_transfer(cx, Direction::Read, len, || {
                std::io::Read::read(&mut self.source(), buf)
            })
    }

    /// Polls a write of `buf` (the streams' `AsyncWrite`).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.registration
            .poll_transfer(cx, Direction::Write, buf.len(), || {
                std::io::Write::write(&mut self.source(), buf)
            })
    }

    /// Polls a vectored write of `bufs`.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.registration
            .poll_transfer(cx, Direction::Write, len, || {
                std::io::Write::write_vectored(&mut self.source(), bufs)
            })
    }
}

#[cfg(feature = "hyper")]
impl<E: mio::event::Source + std::os::fd::AsRawFd> PollEvented<E> {
    /// Polls a read into uninitialised memory (hyper's read buffers) with `recv`.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let fd = self.source().as_raw_fd();
        let len = buf.len();
        self.registration
            .poll_transfer(cx, Direction::Read, len, || {
                crate::net::recv_uninit(fd, buf)
            })
    }
}

impl<E: mio::event::Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut source) = self.source.take() {
            // An error here (the fd was closed behind our back) leaves nothing to undo: the
            // registration is released either way, and the source is closed when dropped.
            let _ = self.registration.driver().deregister(
                &mut source,
                &self.registration.io,
                self.registration.key,
            );
        }
    }
}

impl<E: mio::event::Source + std::fmt::Debug> std::fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

/// Bits for a mio event.
pub(crate) fn event_bits(event: &mio::event::Event) -> usize {
    let mut bits = 0;
    if event.is_readable() {
        bits |= READABLE;
    }
    if event.is_writable() {
        bits |= WRITABLE;
    }
    if event.is_read_closed() {
        bits |= READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= WRITE_CLOSED;
    }
    if event.is_error() {
        bits |= ERROR;
    }
    bits
}
