//! `cargo xtask verify`: runs every selected check on every selected
//! package, step by step, and prints one summary table.

use crate::diagnose;
use crate::metadata::{self, Package, Role, Workspace};
use crate::runner::{self, Invocation, Program};
use crate::steps::{self, Check, Context, Judge, Plan, Step};
use crate::table::{self, Row, Status};
use crate::toolchain::{self, NightlyState};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `cargo xtask verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Larger bounds, negative controls, `VERIFY_THOROUGH=1`.
    pub thorough: bool,
    /// Steps to run; with `checks`, empty means all.
    pub only: Vec<Step>,
    /// Single checks to run besides `only`'s steps; with `only`, empty means all.
    pub checks: Vec<Check>,
    /// Packages to verify; empty means all.
    pub packages: Vec<String>,
    /// `--timeout SECS` per command; `None` for the default, `Some(0)` for none.
    pub timeout: Option<u64>,
}

impl Options {
    /// Whether `check` runs: everything by default, else its step or itself
    /// was selected with `--only`.
    pub fn wants(&self, check: Check) -> bool {
        (self.only.is_empty() && self.checks.is_empty())
            || self.only.contains(&check.step())
            || self.checks.contains(&check)
    }

    /// The per-command time limit: `--timeout`, else 15 minutes (an hour
    /// with `--thorough`); `--timeout 0` means none.
    pub fn limit(&self) -> Option<Duration> {
        let default = if self.thorough { 3600 } else { 900 };
        match self.timeout.unwrap_or(default) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        }
    }
}

/// Lines of a failed step's log printed right away.
const TAIL_LINES: usize = 30;

/// Runs the verification; returns the process exit code
/// (0 all passed, 1 a row failed, 2 bad input).
pub fn run(opts: &Options) -> i32 {
    let started = Instant::now();
    let workspace = match load_workspace() {
        Ok(ws) => ws,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let packages = match select_packages(&workspace, &opts.packages) {
        Ok(p) => p,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let pairs: Vec<(Check, &Package)> = Check::ALL
        .into_iter()
        .filter(|c| opts.wants(*c))
        .flat_map(|c| {
            packages
                .iter()
                .copied()
                .filter(move |p| c.applies_to(p.role))
                .map(move |p| (c, p))
        })
        .collect();
    // A workspace-wide row (docs) runs unless `-p` picked tooling packages only.
    let workspace_checks: Vec<Check> = Check::ALL
        .into_iter()
        .filter(|c| c.workspace_wide() && opts.wants(*c))
        .filter(|_| opts.packages.is_empty() || packages.iter().any(|p| p.role == Role::Crate))
        .collect();
    if pairs.is_empty() && workspace_checks.is_empty() {
        eprintln!("error: no check applies to the selected packages and steps (tooling packages such as xtask and benches get fmt and clippy only)");
        return 2;
    }
    let needs_miri = pairs.iter().any(|(c, _)| c.step() == Step::Miri);
    let needs_nightly = needs_miri || pairs.iter().any(|(c, _)| c.step() == Step::Tsan);

    let log_dir = workspace.log_dir();
    if let Err(err) = fs::create_dir_all(&log_dir) {
        eprintln!("error: cannot create {}: {err}", log_dir.display());
        return 2;
    }
    let stable = toolchain::stable_version();
    let mut nightly_version = toolchain::nightly_version();
    println!("verify: stable  {stable}");
    println!(
        "verify: nightly {}",
        nightly_version.as_deref().unwrap_or("not installed")
    );
    println!(
        "verify: {} package(s): {}; checks: {}{}",
        packages.len(),
        packages
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Check::ALL
            .into_iter()
            .filter(|c| opts.wants(*c))
            .map(Check::name)
            .collect::<Vec<_>>()
            .join(","),
        if opts.thorough { " (thorough)" } else { "" }
    );
    println!("verify: logs in {}", log_dir.display());

    let config_errors: Vec<(&str, &str)> = packages
        .iter()
        .filter_map(|p| Some((p.name.as_str(), p.config_error.as_deref()?)))
        .collect();
    let total = config_errors.len()
        + pairs.len()
        + workspace_checks.len()
        + usize::from(needs_nightly)
        + usize::from(needs_miri);
    let mut runner = Runner {
        workspace: &workspace,
        thorough: opts.thorough,
        limit: opts.limit(),
        total,
        done: 0,
        rows: Vec::new(),
    };
    let mut nightly: Option<NightlyState> = None;
    let mut miri_setup_error: Option<String> = None;
    let mut miri_version = None;

    for (name, err) in config_errors {
        runner.row(name, "config", Plan::Fail(err.to_string()));
    }
    for (check, pkg) in &pairs {
        if matches!(check.step(), Step::Miri | Step::Tsan) && nightly.is_none() {
            let state = runner.setup_nightly(needs_miri);
            nightly_version = toolchain::nightly_version();
            if needs_miri && state.blocker(&["miri", "rust-src"]).is_none() {
                miri_setup_error = runner.miri_setup();
                miri_version = toolchain::miri_version();
            } else if needs_miri {
                runner.total -= 1; // no miri-setup row without Miri
            }
            nightly = Some(state);
        }
        let ctx = Context {
            workspace: &workspace,
            thorough: opts.thorough,
            nightly: nightly.as_ref(),
            miri_setup_error: miri_setup_error.as_deref(),
        };
        let plan = steps::plan(*check, pkg, &ctx);
        runner.row(&pkg.name, check.name(), plan);
    }
    for check in workspace_checks {
        if let Some(plan) = steps::plan_workspace(check, &workspace) {
            runner.row(WORKSPACE_ROW, check.name(), plan);
        }
    }

    let rows = group_by_crate(runner.rows, &packages);
    let versions = Versions {
        stable,
        nightly: nightly_version,
        miri: miri_version,
    };
    print_summary(&rows, &versions, started)
}

/// Toolchain versions for the summary.
struct Versions {
    stable: String,
    nightly: Option<String>,
    miri: Option<String>,
}

/// Prints versions, the table, failed rows' logs, the total time and the
/// closing count line; returns the exit code (1 if any row failed).
fn print_summary(rows: &[Row], versions: &Versions, started: Instant) -> i32 {
    println!();
    println!("== verify summary ==");
    println!("stable:  {}", versions.stable);
    println!(
        "nightly: {}",
        versions.nightly.as_deref().unwrap_or("not installed")
    );
    if let Some(miri) = &versions.miri {
        println!("miri:    {miri}");
    }
    println!();
    print!("{}", table::render(rows));
    let logs: Vec<(&Row, &PathBuf)> = rows
        .iter()
        .filter(|r| r.failed())
        .filter_map(|r| Some((r, r.log.as_ref()?)))
        .collect();
    if !logs.is_empty() {
        println!();
        println!("failed rows' logs:");
        for (row, log) in logs {
            println!("  {} {}: {}", row.krate, row.check, log.display());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!();
    println!(
        "total time: {secs:.1}s ({}m{:02}s)",
        (secs as u64) / 60,
        (secs as u64) % 60
    );
    let (passed, failed, skipped) = table::counts(rows);
    println!("verify: {passed} passed, {failed} failed, {skipped} skipped");
    i32::from(failed > 0)
}

/// The crate column of a workspace-wide row.
const WORKSPACE_ROW: &str = "(workspace)";

/// Orders rows by package (setup rows first, workspace-wide rows last),
/// keeping check order within one.
fn group_by_crate(mut rows: Vec<Row>, packages: &[&Package]) -> Vec<Row> {
    rows.sort_by_key(|row| {
        if row.krate == WORKSPACE_ROW {
            return packages.len() + 1;
        }
        packages
            .iter()
            .position(|p| p.name == row.krate)
            .map_or(0, |i| i + 1)
    });
    rows
}

/// Runs `cargo metadata` with the stable cargo and parses it.
fn load_workspace() -> Result<Workspace, String> {
    let cargo = PathBuf::from(runner::stable_cargo());
    let text = runner::capture(
        &cargo,
        &["metadata", "--no-deps", "--format-version", "1"],
        false,
    )
    .map_err(|e| format!("cargo metadata failed: {e}"))?;
    metadata::parse_workspace(&text)
}

/// The packages named with `-p`, or all of them.
fn select_packages<'a>(ws: &'a Workspace, names: &[String]) -> Result<Vec<&'a Package>, String> {
    if names.is_empty() {
        return Ok(ws.packages.iter().collect());
    }
    let known = || {
        ws.packages
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for name in names {
        if ws.package(name).is_none() {
            return Err(format!(
                "-p {name}: no such workspace package (known: {})",
                known()
            ));
        }
    }
    // Keep workspace order, whatever order -p was given in.
    Ok(ws
        .packages
        .iter()
        .filter(|p| names.contains(&p.name))
        .collect())
}

/// Runs plans and collects rows, printing progress as it goes.
struct Runner<'a> {
    workspace: &'a Workspace,
    thorough: bool,
    limit: Option<Duration>,
    total: usize,
    done: usize,
    rows: Vec<Row>,
}

impl Runner<'_> {
    fn log_path(&self, krate: &str, check: &str) -> PathBuf {
        self.workspace
            .log_dir()
            .join(format!("{}-{check}.log", krate.trim_matches(['(', ')'])))
    }

    fn counter(&mut self) -> String {
        self.done += 1;
        let width = self.total.to_string().len();
        format!("[{:>width$}/{}]", self.done, self.total)
    }

    /// Executes one plan and records its row.
    fn row(&mut self, krate: &str, check: &str, plan: Plan) {
        let counter = self.counter();
        let label = format!("{check:<11} {krate}");
        match plan {
            Plan::NotApplicable(reason) => {
                println!("{counter} n/a   {label}: {reason}");
                self.push(krate, check, Status::NotApplicable(reason), 0.0, "", None);
            }
            Plan::Fail(reason) => {
                println!("{counter} FAIL  {label}: {reason}");
                let short = runner::shorten(&reason, 160);
                self.push(krate, check, Status::Fail(short), 0.0, "", None);
            }
            Plan::Run { commands, bound } => {
                self.run_commands(&counter, krate, check, Vec::new(), commands, bound)
            }
            Plan::RunWithFindings {
                findings,
                commands,
                bound,
            } => self.run_commands(&counter, krate, check, findings, commands, bound),
        }
    }

    /// Runs a row's commands, then records its row: failed if a command
    /// failed its judge or `findings` (of a check made without a command)
    /// is not empty.
    fn run_commands(
        &mut self,
        counter: &str,
        krate: &str,
        check: &str,
        findings: Vec<String>,
        commands: Vec<(Invocation, Judge)>,
        bound: String,
    ) {
        let label = format!("{check:<11} {krate}");
        println!("{counter} start {label}");
        let log = self.log_path(krate, check);
        let _ = fs::remove_file(&log);
        let mut secs = 0.0;
        let mut failures = Vec::new();
        for (command, judge) in commands {
            let command = self.with_thorough(command);
            let outcome =
                runner::run_logged(&command, &self.workspace.root, &log, &label, self.limit);
            secs += outcome.secs;
            if let Err(reason) = judge.apply(&command, &outcome) {
                print_failure_tail(&outcome.output, &log, &command);
                failures.push(reason);
            }
        }
        if !findings.is_empty() {
            print_findings(&findings, &log);
            failures.extend(findings);
        }
        let status = if failures.is_empty() {
            println!("{counter} pass  {label} ({secs:.1}s)");
            Status::Pass
        } else {
            let reason = failures.join("; ");
            println!("{counter} FAIL  {label} ({secs:.1}s): {reason}");
            Status::Fail(runner::shorten(&reason, 160))
        };
        self.push(krate, check, status, secs, &bound, Some(log));
    }

    fn with_thorough(&self, command: Invocation) -> Invocation {
        if self.thorough {
            command.env("VERIFY_THOROUGH", "1")
        } else {
            command
        }
    }

    fn push(
        &mut self,
        krate: &str,
        check: &str,
        status: Status,
        secs: f64,
        bound: &str,
        log: Option<PathBuf>,
    ) {
        self.rows.push(Row {
            krate: krate.to_string(),
            check: check.to_string(),
            status,
            secs,
            bound: bound.to_string(),
            log,
        });
    }

    /// Checks (and installs) the nightly parts Miri and TSan need; one row.
    fn setup_nightly(&mut self, needs_miri: bool) -> NightlyState {
        let counter = self.counter();
        let components: &[&str] = if needs_miri {
            &["miri", "rust-src"]
        } else {
            &["rust-src"]
        };
        println!(
            "{counter} start nightly     checking nightly toolchain and components {}",
            components.join(",")
        );
        let log = self.log_path("toolchain", "nightly");
        let _ = fs::remove_file(&log);
        let started = Instant::now();
        let (state, _) =
            toolchain::ensure_nightly(components, &self.workspace.root, &log, self.limit);
        let secs = started.elapsed().as_secs_f64();
        let status = if state.missing.is_empty() {
            println!("{counter} pass  nightly ({secs:.1}s)");
            Status::Pass
        } else {
            let reason = state.blocker(components).unwrap_or_default();
            println!("{counter} FAIL  nightly ({secs:.1}s): {reason}");
            Status::Fail(reason)
        };
        let bound = format!("components {}", components.join(","));
        self.push("(toolchain)", "nightly", status, secs, &bound, Some(log));
        state
    }

    /// Runs `cargo +nightly miri setup` once; returns the failure reason, if any.
    fn miri_setup(&mut self) -> Option<String> {
        let counter = self.counter();
        println!("{counter} start miri-setup  cargo +nightly miri setup (Miri sysroot)");
        let log = self.log_path("toolchain", "miri-setup");
        let _ = fs::remove_file(&log);
        let command = Invocation::new(Program::NightlyCargo, &["miri", "setup"]);
        let outcome = runner::run_logged(
            &command,
            &self.workspace.root,
            &log,
            "miri-setup",
            self.limit,
        );
        let (status, error) = if outcome.success {
            println!("{counter} pass  miri-setup ({:.1}s)", outcome.secs);
            (Status::Pass, None)
        } else {
            let reason = diagnose::reason(&outcome.output, &outcome.exit);
            println!(
                "{counter} FAIL  miri-setup ({:.1}s): {reason}",
                outcome.secs
            );
            print_failure_tail(&outcome.output, &log, &command);
            (Status::Fail(reason.clone()), Some(reason))
        };
        self.push(
            "(toolchain)",
            "miri-setup",
            status,
            outcome.secs,
            "sysroot",
            Some(log),
        );
        error
    }
}

/// Prints the findings of a check made without a command and appends them
/// to the row's log.
fn print_findings(findings: &[String], log: &Path) {
    let mut text = String::from("\n== findings (checked by the xtask itself) ==\n");
    for finding in findings {
        println!("         | {finding}");
        text.push_str(finding);
        text.push('\n');
    }
    let appended = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
    if let Err(err) = appended {
        println!(
            "         (could not append them to {}: {err})",
            log.display()
        );
    }
}

/// Prints the log path, a rerun command and the last lines of the output.
fn print_failure_tail(output: &str, log: &Path, command: &Invocation) {
    println!("         log:   {}", log.display());
    println!("         rerun: {}", command.display());
    for line in diagnose::excerpt(output, TAIL_LINES) {
        println!("         | {line}");
    }
}
