//! Per-timer cost of `insert`, `cancel` and `advance` with 10^3 .. 10^6 live timers.
//!
//! Every reported time is nanoseconds per timer (per insert, per cancel, per fired timer);
//! for an O(1) wheel it should stay flat as the number of live timers grows (apart from
//! cache effects once the slab no longer fits in cache).
//!
//! Deadlines are spread over the wheel: a third within level 0's span, a third within level
//! 1's, a third within level 2's (default 2^20 ns tick). The live count is held steady: the
//! untimed part of each measurement cancels / re-inserts random timers to make up for the
//! timed part, so slab entries and slots are touched in random (cache-cold) order.
//!
//! Run: `cargo bench -p timer-wheel --bench timer_wheel_perf -- --warm-up-time 1 --measurement-time 2`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use timer_wheel::{TimerId, TimerWheel, DEFAULT_TICK_NS};

const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Timed operations per batch before the untimed rebalancing step.
const BATCH: usize = 1024;

/// xorshift64*: a small deterministic generator, enough to spread deadlines and picks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A delay in ns spread over the three levels' spans.
    fn delay(&mut self) -> u64 {
        let tick = DEFAULT_TICK_NS;
        let r = self.next();
        let (lo, hi) = match r % 3 {
            0 => (1, 1 << 10),
            1 => (1 << 10, 1 << 20),
            _ => (1 << 20, 1 << 30),
        };
        (lo + (r >> 8) % (hi - lo)) * tick
    }
}

/// A wheel with `n` live timers and their ids.
fn filled(n: usize, rng: &mut Rng) -> (TimerWheel<u64>, Vec<TimerId>) {
    let mut wheel = TimerWheel::with_tick(DEFAULT_TICK_NS).unwrap();
    wheel.reserve(n + BATCH);
    let ids = (0..n as u64)
        .map(|v| wheel.insert(rng.delay(), v))
        .collect();
    (wheel, ids)
}

fn bench_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("insert");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let (mut wheel, mut ids) = filled(n, &mut rng);
            let delays: Vec<u64> = (0..BATCH).map(|_| rng.delay()).collect();
            let mut fresh = Vec::with_capacity(BATCH);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let k = left.min(BATCH);
                    let start = Instant::now();
                    for (i, &delay) in delays[..k].iter().enumerate() {
                        fresh.push(wheel.insert(black_box(delay), i as u64));
                    }
                    total += start.elapsed();
                    // Untimed: retire k random old timers so the live count stays n.
                    for id in fresh.drain(..) {
                        let pos = rng.below(ids.len());
                        black_box(wheel.cancel(std::mem::replace(&mut ids[pos], id)));
                    }
                    left -= k;
                }
                total
            });
        });
    }
    group.finish();
}

fn bench_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("cancel");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03);
            let (mut wheel, mut ids) = filled(n, &mut rng);
            let mut victims = Vec::with_capacity(BATCH);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let k = left.min(BATCH).min(n);
                    // Untimed: pick k distinct random live timers, replacing their slots in
                    // `ids` with fresh timers so the live count stays n.
                    for _ in 0..k {
                        let pos = rng.below(ids.len());
                        let fresh = wheel.insert(rng.delay(), 0);
                        victims.push(std::mem::replace(&mut ids[pos], fresh));
                    }
                    let start = Instant::now();
                    for &id in &victims {
                        black_box(wheel.cancel(black_box(id)));
                    }
                    total += start.elapsed();
                    victims.clear();
                    left -= k;
                }
                total
            });
        });
    }
    group.finish();
}

/// Control for `cancel`: the same wheel sizes, but the cancelled timers were just inserted
/// side by side (one slot), so their entries and neighbours are in cache. If this stays flat
/// while `cancel` grows with n, the growth is cache misses, not algorithmic work.
fn bench_cancel_cache_hot(c: &mut Criterion) {
    let mut group = c.benchmark_group("cancel_cache_hot");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            let mut rng = Rng(0xBF58_476D_1CE4_E5B9);
            let (mut wheel, _ids) = filled(n, &mut rng);
            let mut fresh = Vec::with_capacity(BATCH);
            let deadline = 5_000 * DEFAULT_TICK_NS;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let k = left.min(BATCH);
                    fresh.extend((0..k as u64).map(|v| wheel.insert(deadline, v)));
                    let start = Instant::now();
                    for &id in &fresh {
                        black_box(wheel.cancel(black_box(id)));
                    }
                    total += start.elapsed();
                    fresh.clear();
                    left -= k;
                }
                total
            });
        });
    }
    group.finish();
}

fn bench_advance(c: &mut Criterion) {
    let mut group = c.benchmark_group("advance_per_fired_timer");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            let mut rng = Rng(0x94D0_49BB_1331_11EB);
            let (mut wheel, _ids) = filled(n, &mut rng);
            // Steps long enough that each advance fires a few dozen timers on average, so the
            // fixed per-call cost (O(levels) bitmap lookups) is amortised the same way at
            // every size.
            let step = (30_000 / n as u64).max(1) * DEFAULT_TICK_NS;
            let mut now = 0u64;
            let mut fired = Vec::with_capacity(1 << 16);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut count = 0u64;
                while count < iters {
                    now += step;
                    let start = Instant::now();
                    wheel.advance(now, |v| fired.push(v));
                    total += start.elapsed();
                    count += fired.len() as u64;
                    // Untimed: re-arm every fired timer so the live count stays n.
                    for v in fired.drain(..) {
                        wheel.insert(now + rng.delay(), v);
                    }
                }
                // Report time per fired timer, scaled to the `iters` criterion asked for.
                total.mul_f64(iters as f64 / count as f64)
            });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_insert,
    bench_cancel,
    bench_cancel_cache_hot,
    bench_advance
);
criterion_main!(benches);
