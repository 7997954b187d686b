//! The checks: which apply to which package, the exact commands, the bound
//! shown in the table, and which [`Judge`] decides each command's outcome.
//!
//! This file holds the step and check lists, the [`plan`] dispatch, the
//! fmt/clippy/test rows and the helpers the other planners share. The rows of
//! the longer steps live beside it: [`loom`] (loom, loom-neg), [`miri`] (miri,
//! miri-seeds, miri-preempt), [`tsan`] and [`docs`] (the one row for the
//! whole workspace).

pub use crate::judge::Judge;
use crate::metadata::{Package, Role, Workspace, DEFAULT_TEST_ARGS};
use crate::runner::{Invocation, Program};
use crate::toolchain::NightlyState;

mod docs;
mod loom;
mod miri;
#[cfg(test)]
mod test_support;
mod tsan;

/// The steps a user can pick with `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// rustfmt check.
    Fmt,
    /// clippy, normally and with `--cfg loom`.
    Clippy,
    /// `cargo test`.
    Test,
    /// loom models and their negative controls.
    Loom,
    /// Miri (the many-seeds re-run and the run with preemption too).
    Miri,
    /// ThreadSanitizer.
    Tsan,
    /// Packaging, rustdoc and the model names of the docs (whole workspace).
    Docs,
}

impl Step {
    /// Every step, in run order.
    pub const ALL: [Step; 7] = [
        Step::Fmt,
        Step::Clippy,
        Step::Test,
        Step::Loom,
        Step::Miri,
        Step::Tsan,
        Step::Docs,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Step::Fmt => "fmt",
            Step::Clippy => "clippy",
            Step::Test => "test",
            Step::Loom => "loom",
            Step::Miri => "miri",
            Step::Tsan => "tsan",
            Step::Docs => "docs",
        }
    }

    /// Parses a step name.
    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One row kind of the table, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `cargo fmt -- --check`.
    Fmt,
    /// `cargo clippy --all-targets --no-deps -- -D warnings`.
    Clippy,
    /// The same with `RUSTFLAGS="--cfg loom"`.
    ClippyLoom,
    /// `cargo test`.
    Test,
    /// The loom models, bounded by preemptions.
    Loom,
    /// Loom models that must fail with `NEGATIVE_CONTROL=<bug>` set, one
    /// planted bug at a time, on the plain loom build.
    LoomNeg,
    /// `cargo miri test`, one seed.
    Miri,
    /// Filtered tests under `-Zmiri-many-seeds`.
    MiriSeeds,
    /// Opted-in tests under Miri with preemption on, over several seeds.
    MiriPreempt,
    /// `cargo test` under `-Zsanitizer=thread`.
    Tsan,
    /// One row for the workspace: `cargo package --workspace` with its
    /// verification, `cargo doc` with `-D warnings`, and every loom model
    /// named in `docs/no-lost-wakeup.md` exists.
    Docs,
}

impl Check {
    /// Every check, in run order.
    pub const ALL: [Check; 11] = [
        Check::Fmt,
        Check::Clippy,
        Check::ClippyLoom,
        Check::Test,
        Check::Loom,
        Check::LoomNeg,
        Check::Miri,
        Check::MiriSeeds,
        Check::MiriPreempt,
        Check::Tsan,
        Check::Docs,
    ];

    /// The name shown in the table and used in log file names.
    pub fn name(self) -> &'static str {
        match self {
            Check::Fmt => "fmt",
            Check::Clippy => "clippy",
            Check::ClippyLoom => "clippy-loom",
            Check::Test => "test",
            Check::Loom => "loom",
            Check::LoomNeg => "loom-neg",
            Check::Miri => "miri",
            Check::MiriSeeds => "miri-seeds",
            Check::MiriPreempt => "miri-preempt",
            Check::Tsan => "tsan",
            Check::Docs => "docs",
        }
    }

    /// The `--only` step this check belongs to.
    pub fn step(self) -> Step {
        match self {
            Check::Fmt => Step::Fmt,
            Check::Clippy | Check::ClippyLoom => Step::Clippy,
            Check::Test => Step::Test,
            Check::Loom | Check::LoomNeg => Step::Loom,
            Check::Miri | Check::MiriSeeds | Check::MiriPreempt => Step::Miri,
            Check::Tsan => Step::Tsan,
            Check::Docs => Step::Docs,
        }
    }

    /// Parses a check name as shown in the table.
    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the check applies to a package of this role at all (no row
    /// otherwise). Tooling gets no `clippy-loom`: `--cfg loom` reaches every
    /// crate in the build, and third-party crates that read `cfg(loom)`
    /// themselves (tokio, concurrent-queue) then fail to build. A
    /// [workspace-wide](Check::workspace_wide) check applies to no package.
    pub fn applies_to(self, role: Role) -> bool {
        !self.workspace_wide()
            && (role == Role::Crate || matches!(self, Check::Fmt | Check::Clippy))
    }

    /// Whether the check is one row for the whole workspace (crate column
    /// `(workspace)`) rather than one row per package: see [`plan_workspace`].
    pub fn workspace_wide(self) -> bool {
        self == Check::Docs
    }
}

/// What to do for one row.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Show `n/a` with this reason; counts as a pass.
    NotApplicable(String),
    /// Fail without running anything, with this reason.
    Fail(String),
    /// Run these commands in order; every one must pass its judge.
    Run {
        /// Commands with their judges, each run even if an earlier one failed.
        commands: Vec<(Invocation, Judge)>,
        /// The bound shown in the table.
        bound: String,
    },
    /// Like [`Plan::Run`], and the row also fails for each finding of a check
    /// the planner made itself by reading files (none: that check passed).
    RunWithFindings {
        /// What that check found wrong, one sentence each.
        findings: Vec<String>,
        /// Commands with their judges, each run even if an earlier one failed.
        commands: Vec<(Invocation, Judge)>,
        /// The bound shown in the table.
        bound: String,
    },
}

/// Settings shared by every plan.
pub struct Context<'a> {
    /// The workspace (for the TSan target dir).
    pub workspace: &'a Workspace,
    /// `--thorough`: larger bounds and `VERIFY_THOROUGH=1`.
    pub thorough: bool,
    /// Nightly state after setup; `None` until the first nightly step.
    pub nightly: Option<&'a NightlyState>,
    /// Why `cargo miri setup` failed, if it did.
    pub miri_setup_error: Option<&'a str>,
}

/// Short label for cargo test arguments: `lib+tests` for the default.
pub fn args_label(args: &[String]) -> String {
    if args.iter().map(String::as_str).eq(DEFAULT_TEST_ARGS) {
        "lib+tests".to_string()
    } else {
        args.join(" ")
    }
}

/// Appends `test_args` after the `--` separator, adding one if `args` has none.
pub fn with_test_args(args: &[String], test_args: &[String]) -> Vec<String> {
    let mut out = args.to_vec();
    if !test_args.is_empty() {
        if !out.iter().any(|a| a == "--") {
            out.push("--".to_string());
        }
        out.extend(test_args.iter().cloned());
    }
    out
}

/// Decides what row `check` gets for `pkg`.
pub fn plan(check: Check, pkg: &Package, ctx: &Context<'_>) -> Plan {
    let name = pkg.name.as_str();
    match check {
        Check::Fmt => run(
            Invocation::new(
                Program::Cargo,
                &["fmt", "-p", name, "--", "--check", "--color=never"],
            ),
            "",
        ),
        Check::Clippy => run(
            clippy(name),
            "all-targets, all features, no-deps, -D warnings",
        ),
        Check::ClippyLoom => run(clippy(name).rustflags("--cfg loom"), "--cfg loom"),
        Check::Test => Plan::Run {
            commands: vec![(
                Invocation::new(Program::Cargo, &["test", "-p", name, "--all-features"]),
                Judge::TestsPass,
            )],
            bound: if ctx.thorough {
                "default targets+doc, all features, VERIFY_THOROUGH=1".to_string()
            } else {
                "default targets+doc, all features".to_string()
            },
        },
        Check::Loom => loom::plan_loom(pkg, ctx),
        Check::LoomNeg => loom::plan_loom_neg(pkg, ctx),
        Check::Miri | Check::MiriSeeds | Check::MiriPreempt => miri::plan_miri(check, pkg, ctx),
        Check::Tsan => tsan::plan_tsan(pkg, ctx),
        Check::Docs => Plan::Fail(format!(
            "{} is one row for the whole workspace, not one for {name}",
            check.name()
        )),
    }
}

/// Decides the row of a [workspace-wide](Check::workspace_wide) check; `None`
/// for a per-package check.
pub fn plan_workspace(check: Check, ws: &Workspace) -> Option<Plan> {
    match check {
        Check::Docs => Some(docs::plan_docs(ws)),
        _ => None,
    }
}

/// A plan of one command that must exit zero.
fn run(command: Invocation, bound: &str) -> Plan {
    Plan::Run {
        commands: vec![(command, Judge::ExitZero)],
        bound: bound.to_string(),
    }
}

/// `cargo clippy` on one package. `--no-deps` keeps a dependency's lints
/// (say summary-tree's, seen from worker-runtime) in that dependency's own row.
fn clippy(name: &str) -> Invocation {
    Invocation::new(
        Program::Cargo,
        &[
            "clippy",
            "-p",
            name,
            "--all-targets",
            "--all-features",
            "--no-deps",
            "--",
            "-D",
            "warnings",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::test_support::{context, package, run_of, workspace};
    use super::*;
    use crate::metadata::VerifyConfig;

    #[test]
    fn test_args_separator_is_not_doubled() {
        let base = vec!["test".to_string(), "--".to_string(), "--exact".to_string()];
        assert_eq!(
            with_test_args(&base, &["x".to_string()]),
            ["test", "--", "--exact", "x"]
        );
        assert_eq!(with_test_args(&base[..1], &[]), ["test"]);
        assert_eq!(Step::parse("miri"), Some(Step::Miri));
        assert_eq!(Step::parse("clippy-loom"), None);
        assert!(Check::ALL.iter().all(|c| Step::ALL.contains(&c.step())));
        let tooling: Vec<_> = Check::ALL
            .into_iter()
            .filter(|c| c.applies_to(Role::Tooling))
            .collect();
        assert_eq!(tooling, [Check::Fmt, Check::Clippy]);
        let per_crate: Vec<_> = Check::ALL
            .into_iter()
            .filter(|c| !c.applies_to(Role::Crate))
            .collect();
        assert_eq!(per_crate, [Check::Docs]);
        let ws = workspace();
        for check in Check::ALL {
            assert_eq!(
                plan_workspace(check, &ws).is_some(),
                check.workspace_wide(),
                "{check:?}"
            );
        }
        assert_eq!(Step::parse("docs"), Some(Step::Docs));
    }

    #[test]
    fn fmt_clippy_and_test_rows() {
        let ws = workspace();
        let mut ctx = context(&ws);
        let pkg = package(&[], VerifyConfig::default());
        let (cmds, bound, judge) = run_of(plan(Check::ClippyLoom, &pkg, &ctx));
        assert_eq!((bound.as_str(), judge), ("--cfg loom", Judge::ExitZero));
        assert_eq!(cmds[0].rustflags, "--cfg loom");
        assert_eq!(
            cmds[0].args,
            [
                "clippy",
                "-p",
                "sw",
                "--all-targets",
                "--no-deps",
                "--",
                "-D",
                "warnings"
            ]
        );
        let (cmds, _, _) = run_of(plan(Check::Fmt, &pkg, &ctx));
        assert_eq!(
            cmds[0].display(),
            "RUSTFLAGS='' RUSTDOCFLAGS='' cargo fmt -p sw -- --check --color=never"
        );
        ctx.thorough = true;
        let (_, bound, judge) = run_of(plan(Check::Test, &pkg, &ctx));
        assert_eq!(judge, Judge::TestsPass);
        assert_eq!(bound, "default targets+doc, VERIFY_THOROUGH=1");
    }
}
