//! `cargo run --release --bin race`: every workload on every runtime, runs
//! interleaved, one table of medians on stdout, progress on stderr.
//!
//! Options: `--runs N`, `--warmups N`, `--workers N`, `--only WORKLOAD`
//! (repeatable or comma-separated), `--help`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::machine_load::{others_while_idle, CpuSnapshot};
use benches::race::{race, RaceConfig, DEFAULT_RUNS, DEFAULT_WARMUPS, DEFAULT_WORKERS};
use benches::report::render;
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

fn usage() -> String {
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    format!(
        "usage: race [--runs N] [--warmups N] [--workers N] [--only WORKLOAD[,WORKLOAD..]]\n\
         \x20 --runs N      timed rounds per workload ({}..={}, default {DEFAULT_RUNS})\n\
         \x20 --warmups N   untimed rounds per workload ({}..={}, default {DEFAULT_WARMUPS})\n\
         \x20 --workers N   worker threads for every runtime ({}..={}, default {DEFAULT_WORKERS})\n\
         \x20 --only W      race only these workloads (repeatable): {}",
        RUNS_RANGE.0,
        RUNS_RANGE.1,
        WARMUPS_RANGE.0,
        WARMUPS_RANGE.1,
        WORKERS_RANGE.0,
        WORKERS_RANGE.1,
        names.join(", ")
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
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => config.runs = parse_count("--runs", args.next(), RUNS_RANGE)?,
            "--warmups" => config.warmups = parse_count("--warmups", args.next(), WARMUPS_RANGE)?,
            "--workers" => config.workers = parse_count("--workers", args.next(), WORKERS_RANGE)?,
            "--only" => {
                let list = args.next().ok_or("--only: missing workload name")?;
                for name in list.split(',').filter(|s| !s.is_empty()) {
                    let w = Workload::from_name(name).ok_or_else(|| {
                        let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
                        format!(
                            "--only: unknown workload `{name}` (allowed: {})",
                            names.join(", ")
                        )
                    })?;
                    if !only.contains(&w) {
                        only.push(w);
                    }
                }
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !only.is_empty() {
        config.workloads = only;
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
        "race: {} workload(s), {} warm-up + {} timed rounds each, {} workers per runtime, \
         runtimes interleaved (rotating order) within each round",
        config.workloads.len(),
        config.warmups,
        config.runs,
        config.workers
    );
    let rows = race(&config, |line| eprintln!("{line}"));
    println!(
        "median ns per unit over {} interleaved runs ({} warm-ups), {} workers per runtime",
        config.runs, config.warmups, config.workers
    );
    print!("{}", render(&rows));
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
    }

    #[test]
    fn bad_values_name_the_field_and_range() {
        let err = parse(&["--runs", "0"]).unwrap_err();
        assert!(err.contains("--runs") && err.contains("1..=10000"), "{err}");
        let err = parse(&["--only", "spawn_lots"]).unwrap_err();
        assert!(
            err.contains("spawn_lots") && err.contains("spawn_many"),
            "{err}"
        );
        assert!(parse(&["--workers"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
