//! `cargo xtask verify`: fmt, clippy, tests, loom, Miri and TSan for every
//! workspace crate, with one summary table at the end.
//!
//! This file holds the command line; `verify` runs the steps.

mod diagnose;
mod judge;
mod metadata;
mod runner;
mod steps;
mod table;
mod toolchain;
mod verify;

use steps::{Check, Step};
use verify::Options;

/// Printed for `--help` and after a usage error.
const USAGE: &str = "\
usage: cargo xtask verify [--thorough] [--only STEP|CHECK]... [-p CRATE]... [--timeout SECS]

Runs, per workspace crate and in this order: fmt, clippy (-D warnings,
--all-targets, normally and with --cfg loom), test, loom, Miri and
ThreadSanitizer; then one docs row for the whole workspace (cargo package
with verification, rustdoc -D warnings, the loom models named in
docs/no-lost-wakeup.md); then prints one table (crate, check, status,
seconds, bound). Every step runs even after a failure; the exit code is 1 if any
row failed, 2 on bad arguments.

Crates are the workspace packages under crates/; benches and xtask get
fmt and clippy only. Per-crate options live in [package.metadata.verify]
(see docs/verify.md).

options:
  --thorough         loom preemptions=3, Miri seeds 0..32, 8x the
                     miri-preempt seeds, VERIFY_THOROUGH=1 for the tests
  --only STEP        run only STEP: fmt, clippy, test, loom, miri, tsan,
                     docs;
                     or only one check (a table row kind): clippy-loom,
                     loom-neg, miri-seeds, miri-preempt; repeatable or
                     comma-separated (--only fmt,loom-neg)
  -p, --package CRATE
                     verify only CRATE; repeatable
  --timeout SECS     kill a command (and its test processes) that runs
                     longer than SECS and fail its row; default 900,
                     3600 with --thorough, 0 = no limit
  -h, --help         print this help

logs: target/verify-logs/<crate>-<check>.log";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// Print usage and exit 0.
    Help,
    /// Run `verify` with these options.
    Verify(Options),
}

/// Parses the arguments after the program name.
fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut iter = args.iter();
    match iter.next().map(String::as_str) {
        None => return Err("missing subcommand (the only one is `verify`)".to_string()),
        Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("verify") => {}
        Some(other) => {
            return Err(format!(
                "unknown subcommand `{other}` (the only one is `verify`)"
            ))
        }
    }
    let mut opts = Options::default();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| iter.next().cloned()) {
                Some(v) if !v.is_empty() && !v.starts_with('-') => Ok(v),
                _ => Err(format!("{name} needs a value")),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--thorough" if inline.is_none() => opts.thorough = true,
            "--only" => {
                for name in value("--only")?.split(',').map(str::trim) {
                    if let Some(step) = Step::parse(name) {
                        if !opts.only.contains(&step) {
                            opts.only.push(step);
                        }
                    } else if let Some(check) = Check::parse(name) {
                        if !opts.checks.contains(&check) {
                            opts.checks.push(check);
                        }
                    } else {
                        return Err(format!(
                            "--only: unknown step `{name}` (steps: {}; checks: {})",
                            Step::ALL.map(Step::name).join(", "),
                            Check::ALL.map(Check::name).join(", ")
                        ));
                    }
                }
            }
            "--timeout" => {
                let text = value("--timeout")?;
                let secs = text.parse::<u64>().map_err(|_| {
                    format!("--timeout: `{text}` is not a whole number of seconds (0 = no limit)")
                })?;
                opts.timeout = Some(secs);
            }
            "-p" | "--package" => {
                let name = value(flag)?;
                if !opts.packages.contains(&name) {
                    opts.packages.push(name);
                }
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    Ok(Command::Verify(opts))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args) {
        Ok(Command::Help) => println!("{USAGE}"),
        Ok(Command::Verify(opts)) => std::process::exit(verify::run(&opts)),
        Err(err) => {
            eprintln!("error: {err}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn opts(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Verify(o)) => o,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults_run_everything() {
        assert_eq!(opts(&["verify"]), Options::default());
    }

    #[test]
    fn parses_flags_in_every_spelling() {
        let o = opts(&[
            "verify",
            "--thorough",
            "--only",
            "fmt,clippy",
            "--only=miri",
            "--only",
            "fmt",
            "-p",
            "signal-waker",
            "--package=timer-wheel",
            "-p",
            "signal-waker",
        ]);
        assert!(o.thorough);
        assert_eq!(o.only, [Step::Fmt, Step::Clippy, Step::Miri]);
        assert!(o.checks.is_empty());
        assert_eq!(o.packages, ["signal-waker", "timer-wheel"]);
        assert_eq!(o.timeout, None);
    }

    #[test]
    fn only_takes_single_checks_too() {
        let o = opts(&["verify", "--only", "loom-neg,miri-preempt", "--only=test"]);
        assert_eq!(o.only, [Step::Test]);
        assert_eq!(o.checks, [Check::LoomNeg, Check::MiriPreempt]);
        assert!(o.wants(Check::LoomNeg));
        assert!(o.wants(Check::Test));
        assert!(!o.wants(Check::Loom));
        assert!(!o.wants(Check::Miri));
        assert!(Options::default().wants(Check::Tsan));
    }

    #[test]
    fn timeout_defaults_and_overrides() {
        use std::time::Duration;
        assert_eq!(opts(&["verify"]).limit(), Some(Duration::from_secs(900)));
        assert_eq!(
            opts(&["verify", "--thorough"]).limit(),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            opts(&["verify", "--timeout", "60"]).limit(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(opts(&["verify", "--timeout=0"]).limit(), None);
    }

    #[test]
    fn help_anywhere() {
        assert_eq!(parse(&["verify", "--help"]), Ok(Command::Help));
        assert_eq!(parse(&["verify", "-p", "x", "-h"]), Ok(Command::Help));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn rejects_bad_input_with_a_named_reason() {
        let cases: [(&[&str], &str); 10] = [
            (&[], "missing subcommand"),
            (&["check"], "unknown subcommand `check`"),
            (&["verify", "--fast"], "unknown argument `--fast`"),
            (&["verify", "--only", "lint"], "unknown step `lint`"),
            (&["verify", "--only"], "--only needs a value"),
            (&["verify", "-p"], "-p needs a value"),
            (
                &["verify", "--timeout", "soon"],
                "`soon` is not a whole number",
            ),
            (&["verify", "--timeout"], "--timeout needs a value"),
            (&["verify", "-p", "--thorough"], "-p needs a value"),
            (
                &["verify", "--thorough=yes"],
                "unknown argument `--thorough=yes`",
            ),
        ];
        for (args, expected) in cases {
            let err = parse(args).unwrap_err();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
