//! Criterion version of the race: one group per workload, one benchmark per
//! runtime, same workload functions. One iteration is one full workload run;
//! throughput is reported in the workload's units (tasks, yields, ...).
//!
//! `cargo bench -p benches --bench runtime_compare [-- FILTER]`; the worker
//! count per runtime is 2 (env `BENCH_WORKERS` overrides).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

use benches::workloads::Workload;

/// Worker threads per runtime: env `BENCH_WORKERS`, else 2.
fn workers() -> usize {
    match std::env::var("BENCH_WORKERS") {
        Err(_) => 2,
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => n,
            _ => panic!("BENCH_WORKERS: `{v}` is not an integer in the allowed range 1..=256"),
        },
    }
}

fn runtime_compare(c: &mut Criterion) {
    let workers = workers();
    for workload in Workload::ALL {
        let mut group = c.benchmark_group(workload.name());
        group
            .throughput(Throughput::Elements(workload.units() as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        if workload.units() >= 100_000 {
            // Millisecond-scale iterations: equal iterations per sample, so
            // 10 samples fit the 2 s budget.
            group.sampling_mode(SamplingMode::Flat);
        }
        // A fresh runtime per cell: started for this group, dropped after it.
        for rt in benches::contenders(workers) {
            group.bench_function(rt.name(), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| rt.run(workload)).sum())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, runtime_compare);
criterion_main!(benches);
