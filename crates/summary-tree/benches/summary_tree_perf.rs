//! Hot paths of the summary tree: reserve + release, schedule + claim, and
//! `sync_partition_summary` over partitions of 4, 16, 64 and 256 leaves.
//!
//! Short run: `cargo bench -p summary-tree -- --warm-up-time 0.5 --measurement-time 2`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use summary_tree::{SummaryTree, SummaryTreeConfig, DEFAULT_MAX_TASKS, SLOTS_PER_LEAF};

fn bench_reserve_release(c: &mut Criterion) {
    let mut group = c.benchmark_group("reserve_release");
    let tree = SummaryTree::new(SummaryTreeConfig::new(4)).unwrap();
    group.bench_function("empty_tree", |b| {
        b.iter(|| {
            let slot = tree.reserve_task(black_box(0)).unwrap();
            tree.release_task(slot);
        })
    });
    // 2^20 slots, all full but the last leaf's last slot; every reservation hints leaf 0, so it
    // must skip 255 full leaves: the directory free bitmap makes that a handful of loads.
    let full = SummaryTree::new(SummaryTreeConfig::new(4).max_tasks(DEFAULT_MAX_TASKS)).unwrap();
    for _ in 0..DEFAULT_MAX_TASKS - 1 {
        full.reserve_task(0).unwrap();
    }
    group.bench_function("all_but_one_slot_full", |b| {
        b.iter(|| {
            let slot = full.reserve_task(black_box(0)).unwrap();
            full.release_task(slot);
        })
    });
    group.finish();
}

fn bench_schedule_claim(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_claim");
    // Cold: every schedule takes the whole chain 0→1 (word, leaf, summary, status, permit) and
    // every claim clears it back down with clear-then-recheck.
    let tree = SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(64 * SLOTS_PER_LEAF)).unwrap();
    let slot = tree.reserve_task(5).unwrap();
    group.bench_function("cold_chain", |b| {
        b.iter(|| {
            tree.schedule(black_box(slot));
            let claimed = tree.claim_in_partition(0).unwrap();
            tree.waker(0).drain_permits();
            claimed
        })
    });
    // Warm: another task keeps the signal word non-empty, so a schedule is one fetch_or and a
    // claim one summary-guided search plus one fetch_and.
    let tree = SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(64 * SLOTS_PER_LEAF)).unwrap();
    let a = tree.reserve_task(5).unwrap();
    let b_slot = tree.reserve_task(5).unwrap();
    tree.schedule(a);
    group.bench_function("warm_word", |b| {
        let mut next = b_slot;
        b.iter(|| {
            tree.schedule(black_box(next));
            next = tree.claim_in_partition(0).unwrap();
        })
    });
    group.finish();
}

fn bench_sync_partition_summary(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_partition_summary");
    for leaves in [4usize, 16, 64, 256] {
        let tree =
            SummaryTree::new(SummaryTreeConfig::new(1).max_tasks(leaves * SLOTS_PER_LEAF)).unwrap();
        // Every leaf allocated, every third one holding a scheduled task.
        for leaf in 0..leaves {
            let slot = tree.reserve_task_in_leaf(leaf).unwrap();
            if leaf % 3 == 0 {
                tree.schedule(slot);
            }
        }
        group.bench_with_input(BenchmarkId::from_parameter(leaves), &leaves, |b, _| {
            b.iter(|| tree.sync_partition_summary(black_box(0)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_reserve_release,
    bench_schedule_claim,
    bench_sync_partition_summary
);
criterion_main!(benches);
