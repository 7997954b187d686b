//! The race: every workload on every runtime, runs interleaved across
//! runtimes so the machine's noise hits them alike; median per cell. Then
//! the probes (timers, idle CPU, wake latency), one table line per figure.

use std::time::{Duration, Instant};

use crate::io_probes::{
    IoRun, ECHO_CONNS, ECHO_LEN, ECHO_ROUND_TRIPS, HTTP_CONNS, HTTP_REQUESTS, IO_RATIO_TARGET,
};
use crate::machine_load::CpuSnapshot;
use crate::probes::{
    IdleTimers, Probe, IDLE_CPU_TARGET, IDLE_SETTLE, IDLE_WINDOW, TIMER_DELAY, TIMER_TASKS,
    WAKE_PAUSE, WAKE_SAMPLES_PER_RUN, WAKE_WARMUP_SAMPLES_PER_RUN,
};
use crate::report::{fmt_value, Cell, MetricCell, MetricRow, Row};
use crate::runtime::Contender;
use crate::stats::{Percentiles, Summary};
use crate::workloads::Workload;
use crate::{contenders, CONTENDERS};

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
    /// Probes to race after the workloads, in order.
    pub probes: Vec<Probe>,
}

impl Default for RaceConfig {
    fn default() -> Self {
        RaceConfig {
            warmups: DEFAULT_WARMUPS,
            runs: DEFAULT_RUNS,
            workers: DEFAULT_WORKERS,
            workloads: Workload::ALL.to_vec(),
            probes: Probe::ALL.to_vec(),
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

/// `config.warmups` untimed rounds, then `config.runs` timed rounds of
/// `run`; within a round every runtime runs once, in [`round_order`].
/// Returns each runtime's timed results, in `runtimes` order.
fn interleaved<T>(
    runtimes: &[Box<dyn Contender>],
    config: &RaceConfig,
    mut run: impl FnMut(&dyn Contender) -> T,
) -> Vec<Vec<T>> {
    let n = runtimes.len();
    for round in 0..config.warmups {
        for i in round_order(round, n) {
            run(&*runtimes[i]);
        }
    }
    let mut results: Vec<Vec<T>> = (0..n).map(|_| Vec::with_capacity(config.runs)).collect();
    for round in 0..config.runs {
        for i in round_order(round, n) {
            results[i].push(run(&*runtimes[i]));
        }
    }
    results
}

/// Races one workload: fresh runtimes (one per cell), `warmups` untimed
/// rounds, then `runs` timed rounds; within a round every runtime runs once,
/// in [`round_order`]. The runtimes are shut down before this returns.
pub fn race_workload(workload: Workload, config: &RaceConfig) -> Row {
    let runtimes = contenders(config.workers);
    let samples = interleaved(&runtimes, config, |rt| rt.run(workload));
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

/// A table line for `probe`: `values` pair up, in order, with `runtimes`
/// (each runtime's name and whether it is ours).
fn metric_row(
    probe: Probe,
    measure: &str,
    unit: &'static str,
    runtimes: &[(&'static str, bool)],
    values: impl IntoIterator<Item = f64>,
    target_below: Option<f64>,
) -> MetricRow {
    MetricRow {
        probe,
        measure: measure.to_string(),
        unit,
        cells: runtimes
            .iter()
            .zip(values)
            .map(|(&(runtime, is_ours), value)| MetricCell {
                runtime,
                is_ours,
                value,
            })
            .collect(),
        target_below,
        ratio_below: None,
    }
}

/// A duration in microseconds.
fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A duration in milliseconds.
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Races [`Probe::Timers`]: fresh runtimes, rounds as in [`race_workload`];
/// the wall time is the median over the timed runs, the lateness
/// percentiles pool every task of every timed run.
pub fn race_timers(config: &RaceConfig) -> Vec<MetricRow> {
    let runtimes = contenders(config.workers);
    let runs = interleaved(&runtimes, config, |rt| rt.timers(TIMER_TASKS, TIMER_DELAY));
    let ids: Vec<_> = runtimes.iter().map(|r| (r.name(), r.is_ours())).collect();
    drop(runtimes);
    let (mut wall, mut median, mut p99) = (Vec::new(), Vec::new(), Vec::new());
    for runs in runs {
        let walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
        wall.push(millis(
            Summary::of(&walls)
                .expect("race: runs must be at least 1")
                .median,
        ));
        let mut late: Vec<Duration> = runs.into_iter().flat_map(|r| r.lateness).collect();
        let p = Percentiles::of(&mut late).expect("race: timers ran no task");
        median.push(micros(p.median));
        p99.push(micros(p.p99));
    }
    let what = format!("wall, {TIMER_TASKS} x sleep({TIMER_DELAY:?})");
    vec![
        metric_row(Probe::Timers, &what, "ms", &ids, wall, None),
        metric_row(Probe::Timers, "lateness median", "µs", &ids, median, None),
        metric_row(Probe::Timers, "lateness p99", "µs", &ids, p99, None),
    ]
}

/// Races [`Probe::IdleCpu`]: one runtime at a time (the others not
/// started), one [`IDLE_WINDOW`] without timers, then one with a far sleep,
/// then that runtime is shut down. Independent of `runs` and `warmups`.
pub fn race_idle_cpu(config: &RaceConfig) -> Vec<MetricRow> {
    let (mut ids, mut none, mut far, mut listener) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for start in CONTENDERS {
        let rt = start(config.workers);
        ids.push((rt.name(), rt.is_ours()));
        none.push(millis(rt.idle_cpu(
            IDLE_SETTLE,
            IDLE_WINDOW,
            IdleTimers::None,
        )));
        far.push(millis(rt.idle_cpu(
            IDLE_SETTLE,
            IDLE_WINDOW,
            IdleTimers::FarSleep,
        )));
        listener.push(millis(rt.idle_cpu(
            IDLE_SETTLE,
            IDLE_WINDOW,
            IdleTimers::OpenListener,
        )));
    }
    // The label below names the window.
    const _: () = assert!(IDLE_WINDOW.as_secs() == 2 && IDLE_WINDOW.subsec_nanos() == 0);
    let unit = "ms CPU / 2 s";
    let target = Some(millis(IDLE_CPU_TARGET));
    vec![
        metric_row(Probe::IdleCpu, "no timers", unit, &ids, none, target),
        metric_row(Probe::IdleCpu, "one 1 h sleep", unit, &ids, far, target),
        metric_row(
            Probe::IdleCpu,
            "a listener open",
            unit,
            &ids,
            listener,
            target,
        ),
    ]
}

/// Races [`Probe::WakeLatency`]: fresh runtimes, one [`WakeProbe`] each,
/// samples interleaved one by one in [`round_order`]:
/// `warmups x` [`WAKE_WARMUP_SAMPLES_PER_RUN`] discarded, then
/// `runs x` [`WAKE_SAMPLES_PER_RUN`] kept, each after a [`WAKE_PAUSE`].
///
/// [`WakeProbe`]: crate::probes::WakeProbe
pub fn race_wake_latency(config: &RaceConfig) -> Vec<MetricRow> {
    let runtimes = contenders(config.workers);
    let mut probes: Vec<_> = runtimes.iter().map(|rt| rt.wake_probe()).collect();
    let n = probes.len();
    for i in 0..config.warmups * WAKE_WARMUP_SAMPLES_PER_RUN {
        for r in round_order(i, n) {
            probes[r].sample(WAKE_PAUSE);
        }
    }
    let total = config.runs * WAKE_SAMPLES_PER_RUN;
    let mut samples: Vec<Vec<Duration>> = (0..n).map(|_| Vec::with_capacity(total)).collect();
    for i in 0..total {
        for r in round_order(i, n) {
            samples[r].push(probes[r].sample(WAKE_PAUSE));
        }
    }
    for probe in probes {
        probe.finish();
    }
    let ids: Vec<_> = runtimes.iter().map(|r| (r.name(), r.is_ours())).collect();
    drop(runtimes);
    let (mut median, mut p99) = (Vec::new(), Vec::new());
    for mut s in samples {
        let p = Percentiles::of(&mut s).expect("race: runs must be at least 1");
        median.push(micros(p.median));
        p99.push(micros(p.p99));
    }
    let what = format!("median of {total}");
    vec![
        metric_row(Probe::WakeLatency, &what, "µs", &ids, median, None),
        metric_row(Probe::WakeLatency, "p99", "µs", &ids, p99, None),
    ]
}

/// The wall-time and latency lines of an IO row: the median wall time over the timed runs and
/// the latency percentiles of every round trip (or request) of every timed run. Runtimes without
/// a run (no hyper adapter) are left out of the row.
fn io_rows(
    probe: Probe,
    what: &str,
    ids: &[(&'static str, bool)],
    runs: Vec<Vec<Option<IoRun>>>,
) -> Vec<MetricRow> {
    let (mut with, mut wall, mut median, mut p99) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (&id, runs) in ids.iter().zip(runs) {
        let runs: Option<Vec<IoRun>> = runs.into_iter().collect();
        let Some(runs) = runs else { continue };
        with.push(id);
        let walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
        wall.push(millis(
            Summary::of(&walls)
                .expect("race: runs must be at least 1")
                .median,
        ));
        let mut all: Vec<Duration> = runs.into_iter().flat_map(|r| r.latency).collect();
        let p = Percentiles::of(&mut all).expect("race: an IO run did no round trip");
        median.push(micros(p.median));
        p99.push(micros(p.p99));
    }
    let mut rows = vec![
        metric_row(probe, what, "ms", &with, wall, None),
        metric_row(probe, "latency median", "µs", &with, median, None),
        metric_row(probe, "latency p99", "µs", &with, p99, None),
    ];
    rows[0].ratio_below = Some(IO_RATIO_TARGET);
    rows[2].ratio_below = Some(1.0);
    rows
}

/// Races [`Probe::Echo`]: fresh runtimes, rounds as in [`race_workload`].
pub fn race_echo(config: &RaceConfig) -> Vec<MetricRow> {
    let runtimes = contenders(config.workers);
    let runs = interleaved(&runtimes, config, |rt| {
        Some(rt.echo(ECHO_CONNS, ECHO_ROUND_TRIPS, ECHO_LEN))
    });
    let ids: Vec<_> = runtimes.iter().map(|r| (r.name(), r.is_ours())).collect();
    drop(runtimes);
    let what = format!("wall, {ECHO_CONNS} conns x {ECHO_ROUND_TRIPS} RT of {ECHO_LEN} B");
    io_rows(Probe::Echo, &what, &ids, runs)
}

/// Races [`Probe::Http`]: fresh runtimes, rounds as in [`race_workload`]; runtimes without a
/// hyper adapter are skipped.
pub fn race_http(config: &RaceConfig) -> Vec<MetricRow> {
    let runtimes = contenders(config.workers);
    let runs = interleaved(&runtimes, config, |rt| rt.http(HTTP_CONNS, HTTP_REQUESTS));
    let ids: Vec<_> = runtimes.iter().map(|r| (r.name(), r.is_ours())).collect();
    drop(runtimes);
    let what = format!("wall, {HTTP_CONNS} conns x {HTTP_REQUESTS} GET");
    io_rows(Probe::Http, &what, &ids, runs)
}

/// Races one probe; its table lines.
pub fn race_probe(probe: Probe, config: &RaceConfig) -> Vec<MetricRow> {
    match probe {
        Probe::Timers => race_timers(config),
        Probe::IdleCpu => race_idle_cpu(config),
        Probe::WakeLatency => race_wake_latency(config),
        Probe::Echo => race_echo(config),
        Probe::Http => race_http(config),
    }
}

/// One progress line for a finished probe: each of its figures per runtime.
pub fn probe_progress_line(
    index: usize,
    total: usize,
    probe: Probe,
    rows: &[MetricRow],
    took: Duration,
    others: Option<f64>,
) -> String {
    let figures: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|c| format!("{} {}", c.runtime, fmt_value(c.value)))
                .collect();
            format!("{} {}: {}", row.measure, row.unit, cells.join(", "))
        })
        .collect();
    let others = others.map_or(String::new(), |c| {
        format!("  (other processes: {c:.1} cores)")
    });
    format!(
        "[{}/{}] {:<15} {:>5.1} s  {}{others}",
        index + 1,
        total,
        probe.name(),
        took.as_secs_f64(),
        figures.join("; ")
    )
}

/// Both tables of one race.
#[derive(Clone, Debug)]
pub struct RaceResult {
    /// One row per throughput workload, in config order.
    pub rows: Vec<Row>,
    /// The probes' table lines, in config order.
    pub metrics: Vec<MetricRow>,
}

/// Races every configured workload, then every configured probe, calling
/// `progress` with a line after each one.
pub fn race(config: &RaceConfig, mut progress: impl FnMut(&str)) -> RaceResult {
    let total = config.workloads.len() + config.probes.len();
    let mut rows = Vec::new();
    for (i, &workload) in config.workloads.iter().enumerate() {
        let start = Instant::now();
        let load = CpuSnapshot::take();
        let row = race_workload(workload, config);
        let others = load.and_then(|l| l.other_cores_since());
        progress(&progress_line(i, total, &row, start.elapsed(), others));
        rows.push(row);
    }
    let mut metrics = Vec::new();
    for (k, &probe) in config.probes.iter().enumerate() {
        let start = Instant::now();
        let load = CpuSnapshot::take();
        let lines = race_probe(probe, config);
        let others = load.and_then(|l| l.other_cores_since());
        let index = config.workloads.len() + k;
        progress(&probe_progress_line(
            index,
            total,
            probe,
            &lines,
            start.elapsed(),
            others,
        ));
        metrics.extend(lines);
    }
    RaceResult { rows, metrics }
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
