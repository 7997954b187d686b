//! The race: every workload on every runtime, runs interleaved across
//! runtimes so the machine's noise hits them alike; median per cell.

use std::time::{Duration, Instant};

use crate::contenders;
use crate::machine_load::CpuSnapshot;
use crate::report::{Cell, Row};
use crate::stats::Summary;
use crate::workloads::Workload;

/// Default warm-up rounds per workload (each round runs every runtime once).
pub const DEFAULT_WARMUPS: usize = 3;
/// Default timed rounds per workload.
pub const DEFAULT_RUNS: usize = 25;
/// Default worker threads per runtime.
pub const DEFAULT_WORKERS: usize = 2;

/// What to race and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceConfig {
    /// Untimed rounds before the timed ones.
    pub warmups: usize,
    /// Timed rounds; the table shows their median.
    pub runs: usize,
    /// Worker threads for every runtime.
    pub workers: usize,
    /// Workloads to race, in order.
    pub workloads: Vec<Workload>,
}

impl Default for RaceConfig {
    fn default() -> Self {
        RaceConfig {
            warmups: DEFAULT_WARMUPS,
            runs: DEFAULT_RUNS,
            workers: DEFAULT_WORKERS,
            workloads: Workload::ALL.to_vec(),
        }
    }
}

/// The order in which `n` runtimes run in round `round`: every runtime runs
/// once, starting with runtime `round % n` (a rotation of [`contenders`]
/// order), so each runtime follows each other one equally often and none
/// always pays for the previous one's spin-down.
pub fn round_order(round: usize, n: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| (round + k) % n)
}

/// Races one workload: fresh runtimes (one per cell), `warmups` untimed
/// rounds, then `runs` timed rounds; within a round every runtime runs once,
/// in [`round_order`]. The runtimes are shut down before this returns.
pub fn race_workload(workload: Workload, config: &RaceConfig) -> Row {
    let runtimes = contenders(config.workers);
    let n = runtimes.len();
    for round in 0..config.warmups {
        for i in round_order(round, n) {
            runtimes[i].run(workload);
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(config.runs); n];
    for round in 0..config.runs {
        for i in round_order(round, n) {
            samples[i].push(runtimes[i].run(workload));
        }
    }
    let cells = runtimes
        .iter()
        .zip(&samples)
        .map(|(rt, samples)| Cell {
            runtime: rt.name(),
            is_ours: rt.is_ours(),
            summary: Summary::of(samples).expect("race: runs must be at least 1"),
        })
        .collect();
    drop(runtimes);
    Row { workload, cells }
}

/// One progress line for a finished workload: each runtime's median and
/// range in ns per unit.
///
/// `others` is the number of cores other processes used meanwhile, if known.
pub fn progress_line(
    index: usize,
    total: usize,
    row: &Row,
    took: Duration,
    others: Option<f64>,
) -> String {
    let units = row.workload.units();
    let cells: Vec<String> = row
        .cells
        .iter()
        .map(|c| {
            format!(
                "{} {:.1} [{:.1}..{:.1}]",
                c.runtime,
                c.summary.median_ns_per_unit(units),
                crate::stats::ns_per_unit(c.summary.min, units),
                crate::stats::ns_per_unit(c.summary.max, units),
            )
        })
        .collect();
    let others = others.map_or(String::new(), |c| {
        format!("  (other processes: {c:.1} cores)")
    });
    format!(
        "[{}/{}] {:<15} {:>5.1} s  ns/{}: {}{others}",
        index + 1,
        total,
        row.workload.name(),
        took.as_secs_f64(),
        row.workload.unit(),
        cells.join(", ")
    )
}

/// Races every configured workload, calling `progress` with a line after
/// each one, and returns the table rows.
pub fn race(config: &RaceConfig, mut progress: impl FnMut(&str)) -> Vec<Row> {
    let total = config.workloads.len();
    config
        .workloads
        .iter()
        .enumerate()
        .map(|(i, &workload)| {
            let start = Instant::now();
            let load = CpuSnapshot::take();
            let row = race_workload(workload, config);
            let others = load.and_then(|l| l.other_cores_since());
            progress(&progress_line(i, total, &row, start.elapsed(), others));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::round_order;

    #[test]
    fn rounds_rotate_and_cover_every_runtime() {
        let orders: Vec<Vec<usize>> = (0..4).map(|r| round_order(r, 3).collect()).collect();
        assert_eq!(orders, [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
        assert_eq!(round_order(5, 1).collect::<Vec<_>>(), [0]);
    }
}
