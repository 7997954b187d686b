//! The probes (timers, idle CPU, wake latency), small, on every runtime:
//! their correctness checks must hold, and a runtime whose timer ends early
//! must be caught. No timing is asserted.

use std::future::Future;
use std::time::Duration;

use benches::async_executor_rt::AsyncExecutorRt;
use benches::probes::{idle_cpu, timers, IdleTimers, WakeProbe};
use benches::runtime::BenchRuntime;
use benches::tokio_rt::TokioRt;

const DELAY: Duration = Duration::from_millis(1);

/// Every probe at a small size on one fresh `R`.
fn all_small<R: BenchRuntime>() {
    let rt = R::with_workers(2);
    for _ in 0..2 {
        let run = timers(&rt, 500, DELAY);
        assert_eq!(run.lateness.len(), 500, "one lateness per task");
        assert!(run.wall >= DELAY, "every task slept: {:?}", run.wall);
    }
    let settle = Duration::from_millis(10);
    let window = Duration::from_millis(30);
    idle_cpu(&rt, settle, window, IdleTimers::None);
    idle_cpu(&rt, settle, window, IdleTimers::FarSleep);
    idle_cpu(&rt, settle, window, IdleTimers::OpenListener);
    let mut probe = WakeProbe::start(&rt);
    for _ in 0..50 {
        probe.sample(Duration::from_micros(200));
    }
    assert_eq!(probe.finish(), 50, "values the parked task received");
}

#[test]
fn tokio_runs_every_probe() {
    all_small::<TokioRt>();
}

#[test]
fn async_executor_runs_every_probe() {
    all_small::<AsyncExecutorRt>();
}

#[test]
fn contenders_run_every_probe() {
    for rt in benches::contenders(2) {
        let run = rt.timers(200, DELAY);
        assert_eq!(run.lateness.len(), 200, "{}: lateness count", rt.name());
        rt.idle_cpu(
            Duration::from_millis(5),
            Duration::from_millis(20),
            IdleTimers::FarSleep,
        );
        let mut probe = rt.wake_probe();
        probe.sample(Duration::from_micros(100));
        assert_eq!(probe.finish(), 1, "{}: values received", rt.name());
    }
}

#[test]
fn contenders_run_the_io_rows() {
    for rt in benches::contenders(2) {
        let run = rt.echo(4, 5, 32);
        assert_eq!(run.latency.len(), 20, "{}: echo round trips", rt.name());
        if let Some(run) = rt.http(3, 4) {
            assert_eq!(run.latency.len(), 12, "{}: http requests", rt.name());
        } else {
            assert_eq!(
                rt.name(),
                "async-executor",
                "only async-executor has no hyper adapter"
            );
        }
    }
}

#[test]
fn a_probe_without_samples_finishes() {
    let rt = TokioRt::with_workers(1);
    assert_eq!(WakeProbe::start(&rt).finish(), 0);
}

/// A runtime whose timer ends at once must fail both timer checks.
mod negative_control {
    use super::*;

    /// tokio, except that every sleep is over immediately.
    struct EarlyTimer(TokioRt);

    impl BenchRuntime for EarlyTimer {
        const NAME: &'static str = "early-timer";
        type JoinHandle<T: Send + 'static> = <TokioRt as BenchRuntime>::JoinHandle<T>;

        fn with_workers(workers: usize) -> Self {
            EarlyTimer(TokioRt::with_workers(workers))
        }
        fn spawn<F>(&self, f: F) -> Self::JoinHandle<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            self.0.spawn(f)
        }
        fn spawn_local<F>(f: F) -> Self::JoinHandle<F::Output>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
        {
            TokioRt::spawn_local(f)
        }
        fn spawn_detached<F>(f: F)
        where
            F: Future<Output = ()> + Send + 'static,
        {
            TokioRt::spawn_detached(f)
        }
        fn yield_now() -> impl Future<Output = ()> + Send {
            TokioRt::yield_now()
        }
        fn sleep(_d: Duration) -> impl Future<Output = ()> + Send {
            std::future::ready(())
        }
        benches::tokio_net_items!();
    }

    #[test]
    #[should_panic(expected = "woke before its")]
    fn early_timers_are_detected() {
        let rt = EarlyTimer::with_workers(2);
        timers(&rt, 100, Duration::from_millis(50));
    }

    #[test]
    #[should_panic(expected = "sleep ended (or a connection was accepted) within")]
    fn an_early_far_sleep_is_detected() {
        let rt = EarlyTimer::with_workers(2);
        idle_cpu(
            &rt,
            Duration::from_millis(5),
            Duration::from_millis(5),
            IdleTimers::FarSleep,
        );
    }
}
