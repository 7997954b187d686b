//! Every workload, small, on every runtime: the correctness checks inside the
//! workloads (counts, replies, handle outputs) must hold, and a runtime that
//! loses or mixes up tasks fails here. No timing is asserted.

use benches::async_executor_rt::AsyncExecutorRt;
use benches::runtime::BenchRuntime;
use benches::tokio_rt::TokioRt;
use benches::workloads::{
    chained_spawn, ping_pong_pairs, ping_pong_seq, spawn_many, spawn_remote, yield_many, Workload,
};

/// Runs each workload a few times at a small size on one fresh runtime.
fn all_small<R: BenchRuntime>() {
    let rt = R::with_workers(2);
    for _ in 0..3 {
        spawn_many(&rt, 2_000);
        spawn_remote(&rt, 2_000);
        yield_many(&rt, 20, 50);
        ping_pong_seq(&rt, 200);
        ping_pong_pairs(&rt, 200);
        chained_spawn(&rt, 200);
        chained_spawn(&rt, 1);
    }
}

#[test]
fn tokio_runs_every_workload() {
    all_small::<TokioRt>();
}

#[test]
fn async_executor_runs_every_workload() {
    all_small::<AsyncExecutorRt>();
}

#[test]
fn one_worker_is_enough() {
    let rt = AsyncExecutorRt::with_workers(1);
    ping_pong_pairs(&rt, 100);
    let rt = TokioRt::with_workers(1);
    chained_spawn(&rt, 100);
}

#[test]
fn contenders_run_a_full_size_workload() {
    for rt in benches::contenders(2) {
        let d = rt.run(Workload::ChainedSpawn);
        assert!(d.as_nanos() > 0, "{}: zero duration", rt.name());
    }
}

#[test]
fn workload_names_round_trip() {
    for w in Workload::ALL {
        assert_eq!(Workload::from_name(w.name()), Some(w));
        assert!(w.units() > 0);
    }
    assert_eq!(Workload::from_name("nope"), None);
}

/// A runtime whose local spawn drops the task must be caught by the checks.
mod negative_control {
    use std::future::Future;
    use std::time::Duration;

    use benches::runtime::BenchRuntime;
    use benches::tokio_rt::TokioRt;

    /// tokio, except that every detached spawn is silently discarded.
    struct LosesDetached(TokioRt);

    impl BenchRuntime for LosesDetached {
        const NAME: &'static str = "loses-detached";
        type JoinHandle<T: Send + 'static> = <TokioRt as BenchRuntime>::JoinHandle<T>;

        fn with_workers(workers: usize) -> Self {
            LosesDetached(TokioRt::with_workers(workers))
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
            drop(f);
        }
        fn yield_now() -> impl Future<Output = ()> + Send {
            TokioRt::yield_now()
        }
        fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
            TokioRt::sleep(d)
        }
        benches::tokio_net_items!();
    }

    /// A server connection task that is never run: the echo check must catch it (the client's
    /// read sees the connection close early, or never completes its round trip).
    #[test]
    #[should_panic(expected = "benchmark task failed")]
    fn lost_echo_server_task_is_detected() {
        let rt = LosesDetached::with_workers(2);
        benches::io_probes::echo(&rt, 2, 3, 16);
    }

    #[test]
    #[should_panic(expected = "chained_spawn: chain broke")]
    fn lost_chain_link_is_detected() {
        let rt = LosesDetached::with_workers(2);
        benches::workloads::chained_spawn(&rt, 10);
    }
}
