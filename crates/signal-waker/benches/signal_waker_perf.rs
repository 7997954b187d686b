//! Criterion benchmarks for `SignalWaker` (`docs/testing.md` §6):
//!
//! * `bench_mark_active_paths`: the producer's hot path (bit already set: one load) against the
//!   cold path (0→1 with its permit; measured as the pair "mark + try_unmark + try_acquire" so
//!   each iteration starts from a clear bit).
//! * `bench_sync_partition_summary`: the owner's pre-park re-derivation of its summary for
//!   partitions of 4, 16, 64 and 256 leaves (256 shows the grouping of 4 leaves per bit).
//! * `bench_worker_mixed_loop`: one single-threaded round of a worker's loop: producers mark
//!   queue groups and leaves, the owner drains with clear-then-recheck, syncs and takes permits.
//!
//! Run: `cargo bench -p signal-waker --bench signal_waker_perf` (add
//! `-- --warm-up-time 1 --measurement-time 2` for a quick look).

#[cfg(not(loom))]
mod benches {
    use criterion::{BenchmarkId, Criterion};
    use signal_waker::{partition_summary_bit, partition_summary_group, SignalWaker};
    use std::hint::black_box;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

    pub fn bench_mark_active_paths(c: &mut Criterion) {
        let mut g = c.benchmark_group("mark_active");
        let w = SignalWaker::new();
        w.mark_active(5);
        g.bench_function("hot_bit_already_set", |b| {
            b.iter(|| black_box(w.mark_active(black_box(5))))
        });
        w.mark_partition_leaf_active(7);
        g.bench_function("hot_partition_leaf_already_set", |b| {
            b.iter(|| black_box(w.mark_partition_leaf_active(black_box(7))))
        });
        let w = SignalWaker::new();
        g.bench_function("cold_mark_unmark_acquire_pair", |b| {
            b.iter(|| {
                let set = w.mark_active(black_box(9)); // 0→1: fetch_or + permit CAS
                let cleared = w.try_unmark(9);
                let took = w.try_acquire();
                black_box((set, cleared, took))
            })
        });
        let queue = AtomicU64::new(0);
        g.bench_function("cold_push_mark_drain_unmark_if_empty", |b| {
            b.iter(|| {
                queue.fetch_add(1, SeqCst);
                w.mark_active(black_box(9));
                queue.swap(0, SeqCst);
                let cleared = w.try_unmark_if_empty(9, || queue.load(SeqCst) == 0);
                black_box((cleared, w.try_acquire()))
            })
        });
        g.finish();
    }

    pub fn bench_sync_partition_summary(c: &mut Criterion) {
        let mut g = c.benchmark_group("sync_partition_summary");
        for len in [4usize, 16, 64, 256] {
            let leaves: Vec<AtomicU64> = (0..len).map(|_| AtomicU64::new(0)).collect();
            let w = SignalWaker::new();
            g.bench_with_input(BenchmarkId::new("empty", len), &len, |b, &len| {
                b.iter(|| black_box(w.sync_partition_summary(0, len, leaves.as_slice())))
            });
            // Every third leaf busy: the steady state of a loaded worker (summary unchanged).
            for l in (0..len).step_by(3) {
                leaves[l].store(1, SeqCst);
            }
            g.bench_with_input(BenchmarkId::new("third_busy", len), &len, |b, &len| {
                b.iter(|| black_box(w.sync_partition_summary(0, len, leaves.as_slice())))
            });
        }
        g.finish();
    }

    pub fn bench_worker_mixed_loop(c: &mut Criterion) {
        const LEAVES: usize = 64;
        let w = SignalWaker::new();
        let queues: Vec<AtomicU64> = (0..3).map(|_| AtomicU64::new(0)).collect();
        let leaves: Vec<AtomicU64> = (0..LEAVES).map(|_| AtomicU64::new(0)).collect();
        let mut round = 0usize;
        c.bench_function("worker_mixed_loop/round", |b| {
            b.iter(|| {
                round = round.wrapping_add(1);
                // Producers: three queue pushes (one group twice: the hot path) and two leaves.
                for g in [0usize, 1, 1] {
                    queues[g].fetch_add(1, SeqCst);
                    w.mark_active(g as u32);
                }
                for leaf in [round % LEAVES, (round * 7 + 3) % LEAVES] {
                    if leaves[leaf].fetch_add(1, SeqCst) == 0 {
                        w.mark_partition_leaf_active(partition_summary_bit(leaf, LEAVES));
                    }
                }
                // Owner: drain what the status word shows, clear-then-recheck, sync, permits.
                let mut taken = 0;
                let status = w.status();
                for (g, q) in queues.iter().enumerate() {
                    if status & (1 << g) != 0 {
                        taken += q.swap(0, SeqCst);
                        w.try_unmark_if_empty(g as u32, || q.load(SeqCst) == 0);
                    }
                }
                let mut summary = w.partition_summary();
                while summary != 0 {
                    let bit = summary.trailing_zeros();
                    summary &= summary - 1;
                    let group = partition_summary_group(bit, LEAVES);
                    taken += group
                        .clone()
                        .map(|l| leaves[l].swap(0, SeqCst))
                        .sum::<u64>();
                    w.clear_partition_leaf(bit, || {
                        group.clone().all(|l| leaves[l].load(SeqCst) == 0)
                    });
                }
                let more = w.sync_partition_summary(0, LEAVES, leaves.as_slice());
                while w.try_acquire() {}
                black_box((taken, more))
            })
        });
    }
}

#[cfg(not(loom))]
criterion::criterion_group!(
    signal_waker,
    benches::bench_mark_active_paths,
    benches::bench_sync_partition_summary,
    benches::bench_worker_mixed_loop
);
#[cfg(not(loom))]
criterion::criterion_main!(signal_waker);

/// Under `--cfg loom` the crate's atomics are loom's and only work inside a model: nothing to
/// measure, but the target must still build for `cargo clippy --all-targets`.
#[cfg(loom)]
fn main() {}
