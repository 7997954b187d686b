//! `cargo run --release --bin race`: every workload and probe on every
//! runtime, runs interleaved; on stdout one table of medians (ns per unit)
//! and one of the probes' figures (µs, ms of CPU), progress on stderr.
//!
//! Options: `--runs N`, `--warmups N`, `--workers N`, `--only ROW`
//! (a workload or probe; repeatable or comma-separated), `--help`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::machine_load::{others_while_idle, CpuSnapshot};
use benches::probes::Probe;
use benches::race::{race, RaceConfig, DEFAULT_RUNS, DEFAULT_WARMUPS, DEFAULT_WORKERS};
use benches::report::{render, render_metrics};
use benches::workloads::Workload;

/// Other processes using more cores than this (on average) distort the race
/// enough to warn about it.
const BUSY_CORES: f64 = 0.25;

/// Allowed range of `--runs`.
const RUNS_RANGE: (usize, usize) = (1, 10_000);
/// Allowed range of `--warmups`.
const WARMUPS_RANGE: (usize, usize) = (0, 1_000);
/// Allowed range of `--workers`.
const WORKERS_RANGE: (usize, usize) = (1, 256);

/// Every name `--only` accepts: the workloads, then the probes.
fn row_names() -> Vec<&'static str> {
    let workloads = Workload::ALL.iter().map(|w| w.name());
    workloads
        .chain(Probe::ALL.iter().map(|p| p.name()))
        .collect()
}

fn usage() -> String {
    format!(
        "usage: race [--runs N] [--warmups N] [--workers N] [--only ROW[,ROW..]]\n\
         \x20 --runs N      timed rounds per workload ({}..={}, default {DEFAULT_RUNS})\n\
         \x20 --warmups N   untimed rounds per workload ({}..={}, default {DEFAULT_WARMUPS})\n\
         \x20 --workers N   worker threads for every runtime ({}..={}, default {DEFAULT_WORKERS})\n\
         \x20 --only ROW    race only these workloads or probes (repeatable): {}",
        RUNS_RANGE.0,
        RUNS_RANGE.1,
        WARMUPS_RANGE.0,
        WARMUPS_RANGE.1,
        WORKERS_RANGE.0,
        WORKERS_RANGE.1,
        row_names().join(", ")
    )
}

/// Parses `value` of option `name` as an integer in `range` (inclusive).
fn parse_count(name: &str, value: Option<String>, range: (usize, usize)) -> Result<usize, String> {
    let value = value
        .ok_or_else(|| format!("{name}: missing value (allowed {}..={})", range.0, range.1))?;
    match value.parse::<usize>() {
        Ok(n) if (range.0..=range.1).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name}: `{value}` is not an integer in the allowed range {}..={}",
            range.0, range.1
        )),
    }
}

/// Parses the command line into a config; `Ok(None)` means `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<RaceConfig>, String> {
    let mut config = RaceConfig::default();
    let mut only: Vec<Workload> = Vec::new();
    let mut only_probes: Vec<Probe> = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => config.runs = parse_count("--runs", args.next(), RUNS_RANGE)?,
            "--warmups" => config.warmups = parse_count("--warmups", args.next(), WARMUPS_RANGE)?,
            "--workers" => config.workers = parse_count("--workers", args.next(), WORKERS_RANGE)?,
            "--only" => {
                let list = args
                    .next()
                    .ok_or("--only: missing workload or probe name")?;
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    if let Some(w) = Workload::from_name(name) {
                        if !only.contains(&w) {
                            only.push(w);
                        }
                    } else if let Some(p) = Probe::from_name(name) {
                        if !only_probes.contains(&p) {
                            only_probes.push(p);
                        }
                    } else {
                        return Err(format!(
                            "--only: unknown workload or probe `{name}` (allowed: {})",
                            row_names().join(", ")
                        ));
                    }
                }
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !only.is_empty() || !only_probes.is_empty() {
        config.workloads = only;
        config.probes = only_probes;
    }
    Ok(Some(config))
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("race: {err}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("race: warning: debug build; figures are meaningless (use --release)");
    }
    let start = Instant::now();
    if let Some(others) = others_while_idle(Duration::from_millis(300)) {
        if others > BUSY_CORES {
            eprintln!(
                "race: warning: other processes are using {others:.1} cores right now; \
                 figures will be distorted (compare ratios only, or rerun on an idle machine)"
            );
        }
    }
    let load = CpuSnapshot::take();
    eprintln!(
        "race: {} workload(s) and {} probe(s), {} warm-up + {} timed rounds each, \
         {} workers per runtime, runtimes interleaved (rotating order) within each round",
        config.workloads.len(),
        config.probes.len(),
        config.warmups,
        config.runs,
        config.workers
    );
    let result = race(&config, |line| eprintln!("{line}"));
    if !result.rows.is_empty() {
        println!(
            "median ns per unit over {} interleaved runs ({} warm-ups), {} workers per runtime",
            config.runs, config.warmups, config.workers
        );
        print!("{}", render(&result.rows));
        println!(
            "ours / best peer: our median over the faster peer's (below 1: we are faster); \
             target: the ratio the row must meet; MISS: this run did not meet it (the machines \
             are noisy, +-50% between runs: compare ratios over a few runs)"
        );
    }
    if !result.metrics.is_empty() {
        println!(
            "timers, idle CPU, wake latency and IO (lower is better; see docs/race.md), \
             {} workers per runtime",
            config.workers
        );
        print!("{}", render_metrics(&result.metrics));
    }
    let others = load.and_then(|l| l.other_cores_since());
    println!(
        "total time: {:.1} s; other processes used {} cores on average meanwhile{}",
        start.elapsed().as_secs_f64(),
        others.map_or("?".to_string(), |c| format!("{c:.1}")),
        match others {
            Some(c) if c > BUSY_CORES => " (busy machine: figures distorted)",
            _ => "",
        }
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<RaceConfig>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_race_everything() {
        assert_eq!(parse(&[]), Ok(Some(RaceConfig::default())));
    }

    #[test]
    fn options_are_read() {
        let c = parse(&[
            "--runs",
            "7",
            "--workers",
            "3",
            "--only",
            "yield_many,chained_spawn",
        ])
        .unwrap()
        .unwrap();
        assert_eq!((c.runs, c.workers), (7, 3));
        assert_eq!(
            c.workloads,
            vec![Workload::YieldMany, Workload::ChainedSpawn]
        );
        assert!(c.probes.is_empty(), "--only workloads drops the probes");
    }

    #[test]
    fn only_accepts_probes() {
        let c = parse(&["--only", "wake_latency", "--only", "timers,wake_latency"])
            .unwrap()
            .unwrap();
        assert!(c.workloads.is_empty(), "--only probes drops the workloads");
        assert_eq!(c.probes, vec![Probe::WakeLatency, Probe::Timers]);
    }

    #[test]
    fn bad_values_name_the_field_and_range() {
        let err = parse(&["--runs", "0"]).unwrap_err();
        assert!(err.contains("--runs") && err.contains("1..=10000"), "{err}");
        let err = parse(&["--only", "spawn_lots"]).unwrap_err();
        assert!(
            err.contains("spawn_lots") && err.contains("spawn_many") && err.contains("idle_cpu"),
            "{err}"
        );
        assert!(parse(&["--workers"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
