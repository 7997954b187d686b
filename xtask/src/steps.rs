//! The checks: which apply to which package, the exact commands, the bound
//! shown in the table, and which [`Judge`] decides each command's outcome.

pub use crate::judge::Judge;
use crate::metadata::{NegativeControl, Package, Role, Workspace, DEFAULT_TEST_ARGS};
use crate::runner::{Invocation, Program};
use crate::toolchain::NightlyState;

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
}

impl Step {
    /// Every step, in run order.
    pub const ALL: [Step; 6] = [
        Step::Fmt,
        Step::Clippy,
        Step::Test,
        Step::Loom,
        Step::Miri,
        Step::Tsan,
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
    /// Loom models that must fail under `--cfg negative_control="<bug>"`, one
    /// planted bug at a time.
    LoomNeg,
    /// `cargo miri test`, one seed.
    Miri,
    /// Filtered tests under `-Zmiri-many-seeds`.
    MiriSeeds,
    /// Opted-in tests under Miri with preemption on, over several seeds.
    MiriPreempt,
    /// `cargo test` under `-Zsanitizer=thread`.
    Tsan,
}

impl Check {
    /// Every check, in run order.
    pub const ALL: [Check; 10] = [
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
        }
    }

    /// Parses a check name as shown in the table.
    pub fn parse(name: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the check applies to a package of this role at all (no row
    /// otherwise). Tooling gets no `clippy-loom`: `--cfg loom` reaches every
    /// crate in the build, and third-party crates that read `cfg(loom)`
    /// themselves (tokio, concurrent-queue) then fail to build.
    pub fn applies_to(self, role: Role) -> bool {
        role == Role::Crate || matches!(self, Check::Fmt | Check::Clippy)
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

/// Miri flags used for every crate.
pub const MIRI_FLAGS: &str =
    "-Zmiri-strict-provenance -Zmiri-disable-isolation -Zmiri-symbolic-alignment-check";
/// The host triple TSan builds std for.
pub const TSAN_TARGET: &str = "x86_64-unknown-linux-gnu";
/// TSan runtime options: stop at the first report, show both deadlock stacks.
pub const TSAN_OPTIONS: &str = "halt_on_error=1 second_deadlock_stack=1";
/// `LOOM_MAX_BRANCHES` for every run.
pub const LOOM_BRANCHES: &str = "10000";

/// The loom preemption bound.
pub fn loom_preemptions(thorough: bool) -> &'static str {
    if thorough {
        "3"
    } else {
        "2"
    }
}

/// The Miri seed range for the many-seeds re-run.
pub fn miri_seeds(thorough: bool) -> &'static str {
    if thorough {
        "0..32"
    } else {
        "0..4"
    }
}

/// The Miri preemption rate of the `miri-preempt` row.
pub const MIRI_PREEMPTION_RATE: &str = "0.1";
/// Seeds of the `miri-preempt` row when the crate sets no `miri-preempt-seeds`.
pub const MIRI_PREEMPT_DEFAULT_SEEDS: u32 = 4;
/// `--thorough` multiplies the `miri-preempt` seed count by this.
pub const MIRI_PREEMPT_THOROUGH_FACTOR: u32 = 8;

/// The seed range of the `miri-preempt` row: `0..N`, N from the crate's
/// `miri-preempt-seeds` (times 8 under `--thorough`).
pub fn miri_preempt_seeds(configured: Option<u32>, thorough: bool) -> String {
    let n = configured.unwrap_or(MIRI_PREEMPT_DEFAULT_SEEDS);
    let n = if thorough {
        n.saturating_mul(MIRI_PREEMPT_THOROUGH_FACTOR)
    } else {
        n
    };
    format!("0..{n}")
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
    let verify = &pkg.verify;
    match check {
        Check::Fmt => run(
            Invocation::new(
                Program::Cargo,
                &["fmt", "-p", name, "--", "--check", "--color=never"],
            ),
            "",
        ),
        Check::Clippy => run(clippy(name), "all-targets, no-deps, -D warnings"),
        Check::ClippyLoom => run(clippy(name).rustflags("--cfg loom"), "--cfg loom"),
        Check::Test => Plan::Run {
            commands: vec![(
                Invocation::new(Program::Cargo, &["test", "-p", name]),
                Judge::TestsPass,
            )],
            bound: if ctx.thorough {
                "default targets+doc, VERIFY_THOROUGH=1".to_string()
            } else {
                "default targets+doc".to_string()
            },
        },
        Check::Loom => {
            if let Some(reason) = &verify.loom_none_reason {
                if !pkg.loom_targets.is_empty() {
                    return Plan::Fail(format!(
                        "loom = \"none: ...\" is set but loom models exist ({}); remove one",
                        pkg.loom_targets.join(", ")
                    ));
                }
                return Plan::NotApplicable(format!("none: {reason}"));
            }
            if pkg.loom_targets.is_empty() {
                return Plan::Fail(
                    "no loom models and no [package.metadata.verify] loom reason".to_string(),
                );
            }
            Plan::Run {
                commands: vec![(
                    loom(name, &pkg.loom_targets, "", ctx.thorough),
                    Judge::TestsPass,
                )],
                bound: format!(
                    "preemptions={}, branches={LOOM_BRANCHES}",
                    loom_preemptions(ctx.thorough)
                ),
            }
        }
        Check::LoomNeg => plan_loom_neg(pkg, ctx),
        Check::Miri | Check::MiriSeeds | Check::MiriPreempt => plan_miri(check, pkg, ctx),
        Check::Tsan => {
            if let Some(blocker) = ctx.nightly.and_then(|n| n.blocker(&["rust-src"])) {
                return Plan::Fail(blocker);
            }
            let target_dir = ctx.workspace.tsan_target_dir();
            let args = verify.tsan_args();
            let mut cargo_args: Vec<String> = [
                "test",
                "-Zbuild-std",
                "--target",
                TSAN_TARGET,
                "--target-dir",
                &target_dir.to_string_lossy(),
                "--release",
                "-p",
                name,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            cargo_args.extend(args.iter().cloned());
            let command = Invocation::new(Program::NightlyCargo, &[])
                .args(&with_test_args(
                    &cargo_args,
                    &["--test-threads=1".to_string()],
                ))
                .rustflags("-Zsanitizer=thread")
                .rustdocflags("-Zsanitizer=thread")
                .env("TSAN_OPTIONS", TSAN_OPTIONS);
            Plan::Run {
                commands: vec![(command, Judge::TsanClean)],
                bound: format!("{}, test-threads=1", args_label(&args)),
            }
        }
    }
}

/// The `loom-neg` row: each planted bug alone, each of its targets must fail.
fn plan_loom_neg(pkg: &Package, ctx: &Context<'_>) -> Plan {
    let verify = &pkg.verify;
    let where_ = format!("[package.metadata.verify] of `{}`", pkg.name);
    for NegativeControl { bug, targets } in &verify.negative_control {
        if !pkg.planted_bugs.contains(bug) {
            return Plan::Fail(format!(
                "{where_}: `negative-control.{bug}` names a bug planted nowhere in the crate's src/ \
                 (no `negative_control = \"{bug}\"`; planted: {})",
                list_or_none(&pkg.planted_bugs)
            ));
        }
        if let Some(other) = ctx
            .workspace
            .packages
            .iter()
            .find(|p| p.name != pkg.name && p.planted_bugs.contains(bug))
        {
            return Plan::Fail(format!(
                "{where_}: `negative-control.{bug}`: `{}` plants a bug of the same name; bug names must be unique in the workspace",
                other.name
            ));
        }
        if let Some(unknown) = targets.iter().find(|t| !pkg.loom_targets.contains(t)) {
            return Plan::Fail(format!(
                "{where_}: `negative-control.{bug}` names `{unknown}`, which is not a loom test target (have: {})",
                list_or_none(&pkg.loom_targets)
            ));
        }
    }
    if pkg.loom_targets.is_empty() {
        return Plan::NotApplicable("no loom models".to_string());
    }
    if verify.negative_control.is_empty() {
        return Plan::NotApplicable("no negative-control in [package.metadata.verify]".to_string());
    }
    let mut commands = Vec::new();
    let mut parts = Vec::new();
    for NegativeControl { bug, targets } in &verify.negative_control {
        for target in targets {
            let cfg = format!(" --cfg negative_control=\"{bug}\"");
            let command = loom(&pkg.name, std::slice::from_ref(target), &cfg, ctx.thorough);
            commands.push((command, Judge::MustFailWithPanic));
        }
        parts.push(format!("{bug}: {}", targets.join(",")));
    }
    Plan::Run {
        commands,
        bound: format!(
            "must fail ({}), preemptions={}",
            parts.join("; "),
            loom_preemptions(ctx.thorough)
        ),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn plan_miri(check: Check, pkg: &Package, ctx: &Context<'_>) -> Plan {
    let verify = &pkg.verify;
    if check == Check::MiriSeeds && verify.miri_seeds_filter.is_empty() {
        return Plan::NotApplicable("no miri-seeds-filter: single seed only".to_string());
    }
    if check == Check::MiriPreempt && verify.miri_preempt_args.is_none() {
        return Plan::NotApplicable("no miri-preempt-args: preemption stays off".to_string());
    }
    if let Some(blocker) = ctx.nightly.and_then(|n| n.blocker(&["miri", "rust-src"])) {
        return Plan::Fail(blocker);
    }
    if let Some(err) = ctx.miri_setup_error {
        return Plan::Fail(format!("cargo miri setup failed: {err}"));
    }
    let args = verify.miri_args();
    let mut cargo_args = vec![
        "miri".to_string(),
        "test".to_string(),
        "-p".to_string(),
        pkg.name.clone(),
    ];
    cargo_args.extend(args.iter().cloned());
    let mut flags = MIRI_FLAGS.to_string();
    for extra in &verify.miri_flags {
        flags.push(' ');
        flags.push_str(extra);
    }
    let mut bound = args_label(&args);
    if !verify.miri_flags.is_empty() {
        bound.push_str(&format!(", {}", verify.miri_flags.join(" ")));
    }
    let miri = |args: &[String], flags: &str| {
        Invocation::new(Program::NightlyCargo, &[])
            .args(args)
            .env("MIRIFLAGS", flags)
    };
    if check == Check::Miri {
        return Plan::Run {
            commands: vec![(miri(&cargo_args, &flags), Judge::TestsPass)],
            bound,
        };
    }
    if check == Check::MiriPreempt {
        return plan_miri_preempt(pkg, ctx, &miri);
    }
    // Many seeds run in parallel and interleave their output, so whether
    // the filters select any test is checked with a `--list` run first.
    let mut list_args = vec!["--list".to_string()];
    list_args.extend(verify.miri_seeds_filter.iter().cloned());
    let list = miri(&with_test_args(&cargo_args, &list_args), &flags);
    let seeds = miri_seeds(ctx.thorough);
    let seeded = miri(
        &with_test_args(&cargo_args, &verify.miri_seeds_filter),
        &format!("{flags} -Zmiri-many-seeds={seeds}"),
    );
    Plan::Run {
        commands: vec![(list, Judge::ListsTests), (seeded, Judge::ExitZero)],
        bound: format!(
            "seeds={seeds} on {}, {bound}",
            verify.miri_seeds_filter.join(",")
        ),
    }
}

/// The `miri-preempt` row: the crate's opted-in tests with preemption on, the
/// crate's other Miri flags kept, over `0..N` seeds. As for `miri-seeds`, a
/// `--list` run first checks that the arguments select some test.
fn plan_miri_preempt(
    pkg: &Package,
    ctx: &Context<'_>,
    miri: &dyn Fn(&[String], &str) -> Invocation,
) -> Plan {
    let verify = &pkg.verify;
    let args = verify.miri_preempt_args.clone().unwrap_or_default();
    let mut cargo_args = vec![
        "miri".to_string(),
        "test".to_string(),
        "-p".to_string(),
        pkg.name.clone(),
    ];
    cargo_args.extend(args.iter().cloned());
    let kept: Vec<&String> = verify
        .miri_flags
        .iter()
        .filter(|f| !f.starts_with("-Zmiri-preemption-rate"))
        .collect();
    let mut flags = MIRI_FLAGS.to_string();
    for extra in &kept {
        flags.push(' ');
        flags.push_str(extra);
    }
    flags.push_str(&format!(" -Zmiri-preemption-rate={MIRI_PREEMPTION_RATE}"));
    let seeds = miri_preempt_seeds(verify.miri_preempt_seeds, ctx.thorough);
    let list = miri(
        &with_test_args(&cargo_args, &["--list".to_string()]),
        &flags,
    );
    let seeded = miri(&cargo_args, &format!("{flags} -Zmiri-many-seeds={seeds}"));
    let mut bound = format!(
        "preemption-rate={MIRI_PREEMPTION_RATE}, seeds={seeds}, {}",
        args.join(" ")
    );
    if !kept.is_empty() {
        let kept: Vec<&str> = kept.iter().map(|f| f.as_str()).collect();
        bound.push_str(&format!(", {}", kept.join(" ")));
    }
    Plan::Run {
        commands: vec![(list, Judge::ListsTests), (seeded, Judge::ExitZero)],
        bound,
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
            "--no-deps",
            "--",
            "-D",
            "warnings",
        ],
    )
}

/// `cargo test --release -p NAME --test T...` under loom's cfg and bounds.
fn loom(name: &str, targets: &[String], extra_cfg: &str, thorough: bool) -> Invocation {
    let mut inv = Invocation::new(Program::Cargo, &["test", "--release", "-p", name])
        .rustflags(&format!("--cfg loom -C debug_assertions{extra_cfg}"))
        .env("LOOM_MAX_PREEMPTIONS", loom_preemptions(thorough))
        .env("LOOM_MAX_BRANCHES", LOOM_BRANCHES);
    for target in targets {
        inv = inv.args(&["--test", target]);
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{Package, Role, VerifyConfig, Workspace};
    use std::path::PathBuf;

    fn workspace() -> Workspace {
        Workspace {
            root: PathBuf::from("/ws"),
            target_dir: PathBuf::from("/ws/target"),
            packages: Vec::new(),
        }
    }

    fn package(loom_targets: &[&str], verify: VerifyConfig) -> Package {
        Package {
            name: "sw".into(),
            role: Role::Crate,
            loom_targets: loom_targets.iter().map(|s| s.to_string()).collect(),
            planted_bugs: vec!["bug_a".into(), "bug_b".into()],
            verify,
            config_error: None,
        }
    }

    fn control(bug: &str, targets: &[&str]) -> NegativeControl {
        NegativeControl {
            bug: bug.into(),
            targets: targets.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run_of(plan: Plan) -> (Vec<Invocation>, String, Judge) {
        match plan {
            Plan::Run { commands, bound } => {
                let judge = commands.last().expect("a command").1;
                (commands.into_iter().map(|(c, _)| c).collect(), bound, judge)
            }
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn loom_without_models_or_reason_fails() {
        let ws = workspace();
        let ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        let plan = plan(Check::Loom, &package(&[], VerifyConfig::default()), &ctx);
        assert!(matches!(plan, Plan::Fail(r) if r.contains("no loom models and no")));
        let reasoned = VerifyConfig {
            loom_none_reason: Some("no shared state".into()),
            ..VerifyConfig::default()
        };
        let plan = super::plan(Check::Loom, &package(&[], reasoned.clone()), &ctx);
        assert!(matches!(plan, Plan::NotApplicable(r) if r == "none: no shared state"));
        let both = super::plan(Check::Loom, &package(&["loom_a"], reasoned), &ctx);
        assert!(matches!(both, Plan::Fail(r) if r.contains("loom models exist (loom_a)")));
    }

    #[test]
    fn loom_runs_every_model_with_bounds() {
        let ws = workspace();
        let mut ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        let pkg = package(&["loom_a", "loom_b"], VerifyConfig::default());
        let (cmds, bound, _) = run_of(plan(Check::Loom, &pkg, &ctx));
        assert_eq!(bound, "preemptions=2, branches=10000");
        assert_eq!(
            cmds[0].display(),
            "RUSTFLAGS='--cfg loom -C debug_assertions' RUSTDOCFLAGS='' LOOM_MAX_PREEMPTIONS=2 \
             LOOM_MAX_BRANCHES=10000 cargo test --release -p sw --test loom_a --test loom_b"
        );
        ctx.thorough = true;
        let (_, bound, _) = run_of(plan(Check::Loom, &pkg, &ctx));
        assert_eq!(bound, "preemptions=3, branches=10000");
    }

    #[test]
    fn negative_control_runs_each_bug_alone_on_its_targets() {
        let ws = workspace();
        let verify = VerifyConfig {
            negative_control: vec![
                control("bug_a", &["loom_a"]),
                control("bug_b", &["loom_a", "loom_b"]),
            ],
            ..VerifyConfig::default()
        };
        let pkg = package(&["loom_a", "loom_b"], verify.clone());
        let mut ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        let (cmds, bound, judge) = run_of(plan(Check::LoomNeg, &pkg, &ctx));
        assert_eq!(judge, Judge::MustFailWithPanic);
        assert_eq!(
            bound,
            "must fail (bug_a: loom_a; bug_b: loom_a,loom_b), preemptions=2"
        );
        let runs: Vec<(&str, &str)> = cmds
            .iter()
            .map(|c| (c.rustflags.as_str(), c.args.last().unwrap().as_str()))
            .collect();
        assert_eq!(
            runs,
            [
                (
                    "--cfg loom -C debug_assertions --cfg negative_control=\"bug_a\"",
                    "loom_a"
                ),
                (
                    "--cfg loom -C debug_assertions --cfg negative_control=\"bug_b\"",
                    "loom_a"
                ),
                (
                    "--cfg loom -C debug_assertions --cfg negative_control=\"bug_b\"",
                    "loom_b"
                ),
            ]
        );
        // RUSTFLAGS is split on whitespace, so the quotes must reach rustc
        // inside one word.
        assert!(cmds[0]
            .rustflags
            .split_whitespace()
            .any(|w| w == "negative_control=\"bug_a\""));
        assert!(cmds[0].display().starts_with(
            "RUSTFLAGS='--cfg loom -C debug_assertions --cfg negative_control=\"bug_a\"' "
        ));
        ctx.thorough = true;
        let (_, bound, _) = run_of(plan(Check::LoomNeg, &pkg, &ctx));
        assert!(bound.ends_with("preemptions=3"), "{bound}");

        let missing = package(&["loom_b"], verify);
        assert!(matches!(
            plan(Check::LoomNeg, &missing, &ctx),
            Plan::Fail(r) if r.contains("of `sw`: `negative-control.bug_a` names `loom_a`, which is not a loom test target")
        ));
        let unplanted = package(
            &["loom_a"],
            VerifyConfig {
                negative_control: vec![control("bug_z", &["loom_a"])],
                ..VerifyConfig::default()
            },
        );
        assert!(matches!(
            plan(Check::LoomNeg, &unplanted, &ctx),
            Plan::Fail(r) if r.contains("of `sw`: `negative-control.bug_z` names a bug planted nowhere")
                && r.contains("planted: bug_a, bug_b")
        ));
        let mut other = package(&[], VerifyConfig::default());
        other.name = "other".into();
        other.planted_bugs = vec!["bug_a".into()];
        let mut shared = workspace();
        shared.packages.push(other);
        let shared_ctx = Context {
            workspace: &shared,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        assert!(matches!(
            plan(Check::LoomNeg, &pkg, &shared_ctx),
            Plan::Fail(r) if r.contains("`other` plants a bug of the same name")
        ));
        let none = package(&["loom_a"], VerifyConfig::default());
        assert!(matches!(
            plan(Check::LoomNeg, &none, &ctx),
            Plan::NotApplicable(r) if r.starts_with("no negative-control")
        ));
    }

    #[test]
    fn miri_preempt_drops_the_zero_rate_and_runs_seeds() {
        let ws = workspace();
        let mut ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        let verify = VerifyConfig {
            miri_flags: vec![
                "-Zmiri-ignore-leaks".into(),
                "-Zmiri-preemption-rate=0".into(),
            ],
            miri_preempt_args: Some(vec!["--lib".into(), "--".into(), "task::x".into()]),
            miri_preempt_seeds: Some(3),
            ..VerifyConfig::default()
        };
        let pkg = package(&[], verify);
        let (cmds, bound, judge) = run_of(plan(Check::MiriPreempt, &pkg, &ctx));
        assert_eq!(judge, Judge::ExitZero);
        assert_eq!(
            bound,
            "preemption-rate=0.1, seeds=0..3, --lib -- task::x, -Zmiri-ignore-leaks"
        );
        assert_eq!(
            cmds[0].args,
            ["miri", "test", "-p", "sw", "--lib", "--", "task::x", "--list"]
        );
        assert_eq!(
            cmds[1].args,
            ["miri", "test", "-p", "sw", "--lib", "--", "task::x"]
        );
        let flags = &cmds[1]
            .env
            .iter()
            .find(|(k, _)| k == "MIRIFLAGS")
            .unwrap()
            .1;
        assert!(!flags.contains("-Zmiri-preemption-rate=0 "), "{flags}");
        assert!(
            flags
                .ends_with("-Zmiri-ignore-leaks -Zmiri-preemption-rate=0.1 -Zmiri-many-seeds=0..3"),
            "{flags}"
        );
        ctx.thorough = true;
        let (_, bound, _) = run_of(plan(Check::MiriPreempt, &pkg, &ctx));
        assert!(bound.contains("seeds=0..24"), "{bound}");
        assert_eq!(miri_preempt_seeds(None, false), "0..4");
        let plain = package(&[], VerifyConfig::default());
        assert!(matches!(
            plan(Check::MiriPreempt, &plain, &ctx),
            Plan::NotApplicable(r) if r.starts_with("no miri-preempt-args")
        ));
    }

    #[test]
    fn miri_seeds_filters_and_flags() {
        let ws = workspace();
        let ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: None,
            miri_setup_error: None,
        };
        let verify = VerifyConfig {
            miri_seeds_filter: vec!["stress".into()],
            miri_flags: vec!["-Zmiri-ignore-leaks".into()],
            ..VerifyConfig::default()
        };
        let pkg = package(&[], verify);
        let (cmds, bound, _) = run_of(plan(Check::MiriSeeds, &pkg, &ctx));
        assert_eq!(
            bound,
            "seeds=0..4 on stress, lib+tests, -Zmiri-ignore-leaks"
        );
        assert_eq!(cmds.len(), 2);
        assert_eq!(
            cmds[0].args,
            ["miri", "test", "-p", "sw", "--lib", "--tests", "--", "--list", "stress"]
        );
        assert_eq!(
            cmds[1].args,
            ["miri", "test", "-p", "sw", "--lib", "--tests", "--", "stress"]
        );
        let flags = &cmds[1]
            .env
            .iter()
            .find(|(k, _)| k == "MIRIFLAGS")
            .unwrap()
            .1;
        assert!(
            flags.ends_with("-Zmiri-ignore-leaks -Zmiri-many-seeds=0..4"),
            "{flags}"
        );
        let plain = package(&[], VerifyConfig::default());
        assert!(matches!(
            plan(Check::MiriSeeds, &plain, &ctx),
            Plan::NotApplicable(_)
        ));
    }

    #[test]
    fn missing_nightly_parts_fail_the_rows_that_need_them() {
        let ws = workspace();
        let state = NightlyState {
            missing: vec!["nightly component miri".into()],
            install_error: None,
        };
        let ctx = Context {
            workspace: &ws,
            thorough: false,
            nightly: Some(&state),
            miri_setup_error: None,
        };
        let pkg = package(&[], VerifyConfig::default());
        assert!(
            matches!(plan(Check::Miri, &pkg, &ctx), Plan::Fail(r) if r.contains("nightly component miri"))
        );
        let (cmds, bound, judge) = run_of(plan(Check::Tsan, &pkg, &ctx));
        assert_eq!(judge, Judge::TsanClean);
        assert_eq!(bound, "lib+tests, test-threads=1");
        assert!(cmds[0].args.contains(&"/ws/target/tsan".to_string()));
        assert!(cmds[0]
            .args
            .ends_with(&["--".to_string(), "--test-threads=1".to_string()]));
    }

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
        assert!(Check::ALL.iter().all(|c| c.applies_to(Role::Crate)));
    }
}
