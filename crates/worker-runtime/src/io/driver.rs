//! The IO driver: one `mio::Poll` per runtime, polled by whichever thread holds it.
//!
//! * **Where it is polled.** A worker that runs out of work and finds the driver free parks *in*
//!   it: it holds the driver's lock and waits in `mio::Poll::poll` with its next timer deadline as
//!   the timeout, announced on its `SignalWaker` as an external sleeper
//!   (`SignalWaker::park_external`), so a wake reaches it through the driver's `mio::Waker` (the
//!   waker's external-unpark hook). The other idle workers park on their futexes as before. The
//!   notifier prefers those futex sleepers, so the worker in the driver keeps polling it.
//! * **Never behind user code.** The lock is never held while a task runs: the holder dispatches
//!   the events, lets go of the driver, and only then runs the woken tasks. While the driver is
//!   free and sockets are registered, a busy worker polls it without waiting every
//!   `TIMER_CHECK_POLLS` polls, and the service thread watches it: once it has been free for the
//!   grace period it wakes a parked worker (which parks again, into the driver) or, when every
//!   worker is busy, polls it itself (see `service::io_watch`). So events are seen within about
//!   a millisecond even when every worker is stuck in a long poll.
//! * **Registrations.** Each registered socket has a [`ScheduledIo`], whose address is its mio
//!   token. The driver keeps one strong reference per registration in its live set; deregistering
//!   moves it to a release list that is emptied at the start of the next turn, under the driver's
//!   lock, so a token in a batch of events always points at a live record (an event for a socket
//!   deregistered during the turn that returned it still finds its record, now unused).
//! * **Lazily created.** The driver (an epoll instance and an eventfd) exists only once the
//!   first socket is registered: a runtime that does no IO never polls, and idles at zero CPU
//!   either way (a parked worker waits in the driver without a timeout when it has no timer).

use crate::io::registration::{event_bits, shutdown_error, ScheduledIo};
use crate::scheduler::shared::Shared;
use crate::sync::{
    lock, try_lock, AtomicBool, AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering,
};
use crate::task::wake_contained;
use signal_waker::SignalWaker;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// The token of the driver's own `mio::Waker` (registrations use addresses, which are aligned).
const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);
/// Events taken per turn.
const EVENTS_PER_TURN: usize = 1024;

/// One runtime's IO driver.
pub(crate) struct Driver {
    turn: Mutex<TurnState>,
    registry: mio::Registry,
    waker: Arc<mio::Waker>,
    /// A thread holds `turn` (is polling, or about to dispatch).
    held: AtomicBool,
    /// When the last holder let go, on the runtime's clock (ns); 0 before the first turn.
    released_at: AtomicU64,
    /// Sockets registered now.
    registrations: AtomicUsize,
    live: Mutex<Live>,
    /// Deregistered records, freed at the start of the next turn.
    released: Mutex<Vec<Arc<ScheduledIo>>>,
}

/// What the holder of the driver owns.
struct TurnState {
    poll: mio::Poll,
    events: mio::Events,
    /// Turns so far (wrapping); recorded with readiness.
    tick: usize,
    /// The events are from this holder's poll (not a previous holder's).
    polled: bool,
}

/// The registered records, by key.
#[derive(Default)]
struct Live {
    entries: Vec<Option<Arc<ScheduledIo>>>,
    free: Vec<usize>,
    shut_down: bool,
}

impl Driver {
    /// A new driver whose wake-up reaches external sleepers of every waker in `wakers`.
    pub(crate) fn new<'a>(wakers: impl Iterator<Item = &'a SignalWaker>) -> io::Result<Self> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKE_TOKEN)?);
        let unpark = Arc::clone(&waker);
        // A failed write means the eventfd is already readable (a wake is pending) or closed
        // (the runtime is gone): nothing more to do in either case.
        install_unpark(
            wakers,
            Arc::new(move || {
                let _ = unpark.wake();
            }),
        );
        Ok(Driver {
            turn: Mutex::new(TurnState {
                poll,
                events: mio::Events::with_capacity(EVENTS_PER_TURN),
                tick: 0,
                polled: false,
            }),
            registry,
            waker,
            held: AtomicBool::new(false),
            released_at: AtomicU64::new(0),
            registrations: AtomicUsize::new(0),
            live: Mutex::new(Live::default()),
            released: Mutex::new(Vec::new()),
        })
    }

    /// Registers `source` for reads and writes; returns its record and its key.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        shared: &Shared,
    ) -> io::Result<(Arc<ScheduledIo>, usize)> {
        let io = Arc::new(ScheduledIo::new());
        let token = mio::Token(Arc::as_ptr(&io) as usize);
        let key = {
            let mut live = lock(&self.live);
            if live.shut_down {
                return Err(shutdown_error());
            }
            let key = match live.free.pop() {
                Some(key) => key,
                None => {
                    live.entries.push(None);
                    live.entries.len() - 1
                }
            };
            live.entries[key] = Some(Arc::clone(&io));
            key
        };
        if let Err(e) = self.registry.register(
            source,
            token,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        ) {
            let mut live = lock(&self.live);
            live.entries[key] = None;
            live.free.push(key);
            return Err(e);
        }
        self.registrations.fetch_add(1, Ordering::SeqCst);
        // The service watches a free driver only while sockets are registered: let it know.
        if !self.held.load(Ordering::SeqCst) {
            shared
                .timers
                .wake_service_if_late(self.released_at.load(Ordering::SeqCst));
        }
        Ok((io, key))
    }

    /// Deregisters `source` (key `key`, record `io`); the record is freed after the next turn
    /// starts, when no event for it can still be in flight.
    pub(crate) fn deregister(
        &self,
        source: &mut impl mio::event::Source,
        io: &Arc<ScheduledIo>,
        key: usize,
    ) -> io::Result<()> {
        let result = self.registry.deregister(source);
        let record = {
            let mut live = lock(&self.live);
            let record = live.entries.get_mut(key).and_then(Option::take);
            if record.is_some() {
                live.free.push(key);
            }
            record
        };
        if let Some(record) = record {
            debug_assert!(Arc::ptr_eq(&record, io));
            lock(&self.released).push(record);
            self.registrations.fetch_sub(1, Ordering::SeqCst);
        }
        result
    }

    /// The driver, if no other thread holds it.
    pub(crate) fn try_turn(&self) -> Option<Turn<'_>> {
        let mut state = try_lock(&self.turn)?;
        state.polled = false;
        self.held.store(true, Ordering::SeqCst);
        Some(Turn {
            driver: self,
            state,
        })
    }

    /// Whether a thread holds the driver.
    pub(crate) fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }

    /// When the driver was last let go (runtime clock, ns).
    pub(crate) fn released_at(&self) -> u64 {
        self.released_at.load(Ordering::SeqCst)
    }

    /// Sockets registered now.
    pub(crate) fn registrations(&self) -> usize {
        self.registrations.load(Ordering::SeqCst)
    }

    /// Makes the holder's poll return (a waiting holder leaves the driver).
    pub(crate) fn unpark(&self) {
        let _ = self.waker.wake();
    }

    /// Shutdown: refuses new registrations, ends every wait on a registered socket with an error
    /// (waking its waiters, contained) and makes the holder's poll return.
    pub(crate) fn shutdown(&self) {
        let mut wake = Vec::new();
        {
            let mut live = lock(&self.live);
            live.shut_down = true;
            for io in live.entries.iter().flatten() {
                io.shut_down(&mut wake);
            }
        }
        for waker in wake {
            wake_contained(waker);
        }
        self.unpark();
    }
}

/// Makes `unpark` the external-unpark hook of every waker in `wakers`: how a release reaches a
/// worker that sleeps in the driver (see `idle::driver_sleep`).
pub(crate) fn install_unpark<'a>(
    wakers: impl Iterator<Item = &'a SignalWaker>,
    unpark: Arc<dyn Fn() + Send + Sync>,
) {
    for w in wakers {
        w.set_external_unpark(Arc::clone(&unpark));
    }
}

/// The driver, held by one thread: poll it, dispatch what it returned, let it go.
pub(crate) struct Turn<'a> {
    driver: &'a Driver,
    state: MutexGuard<'a, TurnState>,
}

impl Turn<'_> {
    /// Waits for events, at most `timeout` (`None`: until an event or a wake-up). Frees the
    /// records deregistered since the previous turn first.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) {
        let freed = std::mem::take(&mut *lock(&self.driver.released));
        drop(freed);
        let state = &mut *self.state;
        state.tick = state.tick.wrapping_add(1);
        state.polled = true;
        // An interrupted wait (EINTR) returns no events; the caller loops back to its search.
        // Any other error leaves the events empty too: the holder goes on as if it had timed out.
        if state.poll.poll(&mut state.events, timeout).is_err() {
            state.events.clear();
        }
    }

    /// Records the readiness of this turn's events and appends the wakers to call to `wake`.
    pub(crate) fn dispatch(&mut self, wake: &mut Vec<Waker>) -> usize {
        let state = &mut *self.state;
        if !std::mem::take(&mut state.polled) {
            return 0;
        }
        if state.events.is_empty() {
            return 0;
        }
        // A registrant initialises its record, then inserts it into `live` under this lock, and
        // only then hands its address to epoll; taking the lock once here orders every record a
        // token of this batch can point to before our accesses (the kernel's ordering between
        // `epoll_ctl` and `epoll_wait` is invisible to ThreadSanitizer, this lock is not).
        drop(lock(&self.driver.live));
        let mut dispatched = 0;
        for event in state.events.iter() {
            let token = event.token();
            if token == WAKE_TOKEN {
                continue;
            }
            let record = token.0 as *const ScheduledIo;
            // Every token handed to mio is the address of a `ScheduledIo` that the driver keeps
            // alive (in `live`, or in `released` after deregistration) until the start of a
            // turn that begins after mio stopped reporting it; this turn's events were returned
            // by this turn's poll, after the last such release, and we still hold the turn lock.
            // SAFETY: so `record` points to a live `ScheduledIo` (see the comment above).
            let io = unsafe { &*record };
            io.set_readiness(event_bits(event), state.tick, wake);
            dispatched += 1;
        }
        dispatched
    }

    /// Lets go of the driver at `now_ns` (the runtime's clock).
    pub(crate) fn finish(self, now_ns: u64) {
        self.driver.released_at.store(now_ns, Ordering::SeqCst);
        // `held` is cleared by the drop, after the time is stored (the service reads them in
        // the other order).
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.driver.held.store(false, Ordering::SeqCst);
    }
}

/// One full turn with no wait, by a thread that is about to go on with other work: polls, lets go
/// of the driver, then wakes the waiting tasks (contained). Returns how many events it dispatched.
pub(crate) fn poll_now(shared: &Shared, driver: &Driver) -> usize {
    let Some(mut turn) = driver.try_turn() else {
        return 0;
    };
    turn.poll(Some(Duration::ZERO));
    finish_and_wake(shared, turn)
}

/// Dispatches `turn`'s events, lets go of the driver, and wakes the waiting tasks (contained).
/// Wakes the service if nobody may take the driver over for a while (see `service::io_watch`).
pub(crate) fn finish_and_wake(shared: &Shared, mut turn: Turn<'_>) -> usize {
    let mut wake = Vec::new();
    let dispatched = turn.dispatch(&mut wake);
    let now = shared.timers.now_ns();
    let open_sockets = turn.driver.registrations() > 0;
    turn.finish(now);
    if open_sockets {
        // Only a service that plans no look within the longest unpolled time it allows needs a
        // wake-up (see `service::io_watch`).
        let limit = shared.timers.grace_ns() * crate::service::IO_WATCH_MAX_PERIOD_GRACES;
        shared
            .timers
            .wake_service_if_late(now.saturating_add(limit));
    }
    for waker in wake {
        wake_contained(waker);
    }
    dispatched
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("held", &self.is_held())
            .field("registrations", &self.registrations())
            .finish()
    }
}
