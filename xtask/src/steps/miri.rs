//! The Miri rows: `miri` (the crate's tests, one seed), `miri-seeds` (the
//! filtered tests over many seeds) and `miri-preempt` (opted-in tests with
//! Miri's preemption on, over several seeds).

use super::{args_label, with_test_args, Check, Context, Judge, Plan};
use crate::metadata::Package;
use crate::runner::{Invocation, Program};

/// Miri flags used for every crate.
pub const MIRI_FLAGS: &str =
    "-Zmiri-strict-provenance -Zmiri-disable-isolation -Zmiri-symbolic-alignment-check";
/// The Miri preemption rate of the `miri-preempt` row.
pub const MIRI_PREEMPTION_RATE: &str = "0.1";
/// Seeds of the `miri-preempt` row when the crate sets no `miri-preempt-seeds`.
pub const MIRI_PREEMPT_DEFAULT_SEEDS: u32 = 4;
/// `--thorough` multiplies the `miri-preempt` seed count by this.
pub const MIRI_PREEMPT_THOROUGH_FACTOR: u32 = 8;

/// The Miri seed range for the many-seeds re-run.
pub fn miri_seeds(thorough: bool) -> &'static str {
    if thorough {
        "0..32"
    } else {
        "0..4"
    }
}

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

/// The `miri`, `miri-seeds` and `miri-preempt` rows.
pub(super) fn plan_miri(check: Check, pkg: &Package, ctx: &Context<'_>) -> Plan {
    let verify = &pkg.verify;
    if let Some(reason) = &verify.miri_none_reason {
        return Plan::NotApplicable(format!("none: {reason}"));
    }
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
    if check == Check::MiriPreempt {
        return plan_miri_preempt(pkg, ctx);
    }
    let args = verify.miri_args();
    let cargo_args = miri_test_args(&pkg.name, &args);
    let flags = miri_flags(&verify.miri_flags);
    let mut bound = args_label(&args);
    if !verify.miri_flags.is_empty() {
        bound.push_str(&format!(", {}", verify.miri_flags.join(" ")));
    }
    if check == Check::Miri {
        return Plan::Run {
            commands: vec![(miri(&cargo_args, &flags), Judge::TestsPass)],
            bound,
        };
    }
    let filters = &verify.miri_seeds_filter;
    let mut list_args = vec!["--list".to_string()];
    list_args.extend(filters.iter().cloned());
    let seeds = miri_seeds(ctx.thorough);
    listed_then_seeded(
        &cargo_args,
        &list_args,
        filters,
        &flags,
        seeds,
        format!("seeds={seeds} on {}, {bound}", filters.join(",")),
    )
}

/// The `miri-preempt` row: the crate's opted-in tests with preemption on, the
/// crate's other Miri flags kept, over `0..N` seeds.
fn plan_miri_preempt(pkg: &Package, ctx: &Context<'_>) -> Plan {
    let verify = &pkg.verify;
    let args = verify.miri_preempt_args.clone().unwrap_or_default();
    let cargo_args = miri_test_args(&pkg.name, &args);
    let kept: Vec<String> = verify
        .miri_flags
        .iter()
        .filter(|f| !f.starts_with("-Zmiri-preemption-rate"))
        .cloned()
        .collect();
    let mut flags = miri_flags(&kept);
    flags.push_str(&format!(" -Zmiri-preemption-rate={MIRI_PREEMPTION_RATE}"));
    let seeds = miri_preempt_seeds(verify.miri_preempt_seeds, ctx.thorough);
    let mut bound = format!(
        "preemption-rate={MIRI_PREEMPTION_RATE}, seeds={seeds}, {}",
        args.join(" ")
    );
    if !kept.is_empty() {
        bound.push_str(&format!(", {}", kept.join(" ")));
    }
    listed_then_seeded(
        &cargo_args,
        &["--list".to_string()],
        &[],
        &flags,
        &seeds,
        bound,
    )
}

/// `miri test -p NAME ARGS...`, the cargo arguments of every Miri row.
fn miri_test_args(name: &str, args: &[String]) -> Vec<String> {
    let mut out = vec![
        "miri".to_string(),
        "test".to_string(),
        "-p".to_string(),
        name.to_string(),
    ];
    out.extend(args.iter().cloned());
    out
}

/// `MIRIFLAGS`: [`MIRI_FLAGS`] followed by `extra`.
fn miri_flags(extra: &[String]) -> String {
    let mut flags = MIRI_FLAGS.to_string();
    for flag in extra {
        flags.push(' ');
        flags.push_str(flag);
    }
    flags
}

/// `cargo +nightly <args>` with `MIRIFLAGS=<flags>`.
fn miri(args: &[String], flags: &str) -> Invocation {
    Invocation::new(Program::NightlyCargo, &[])
        .args(args)
        .env("MIRIFLAGS", flags)
}

/// A many-seeds row. The seeds run in parallel and interleave their output,
/// so whether the arguments select any test is checked first with a run of
/// `list_test_args` (which hold `--list`); then `run_test_args` run under
/// `-Zmiri-many-seeds=<seeds>`.
fn listed_then_seeded(
    cargo_args: &[String],
    list_test_args: &[String],
    run_test_args: &[String],
    flags: &str,
    seeds: &str,
    bound: String,
) -> Plan {
    let list = miri(&with_test_args(cargo_args, list_test_args), flags);
    let seeded = miri(
        &with_test_args(cargo_args, run_test_args),
        &format!("{flags} -Zmiri-many-seeds={seeds}"),
    );
    Plan::Run {
        commands: vec![(list, Judge::ListsTests), (seeded, Judge::ExitZero)],
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::super::test_support::{context, env_of, package, run_of, workspace};
    use super::*;
    use crate::metadata::VerifyConfig;
    use crate::toolchain::NightlyState;

    #[test]
    fn miri_none_makes_every_miri_row_not_applicable() {
        let ws = workspace();
        let ctx = context(&ws);
        let verify = VerifyConfig {
            miri_none_reason: Some("a proc-macro crate".into()),
            ..VerifyConfig::default()
        };
        let pkg = package(&[], verify);
        for check in [Check::Miri, Check::MiriSeeds, Check::MiriPreempt] {
            let planned = plan(check, &pkg, &ctx);
            assert!(
                matches!(&planned, Plan::NotApplicable(r) if r == "none: a proc-macro crate"),
                "{}: {planned:?}",
                check.name()
            );
        }
    }

    #[test]
    fn miri_runs_lib_and_tests_with_extra_flags() {
        let ws = workspace();
        let ctx = context(&ws);
        let verify = VerifyConfig {
            miri_flags: vec!["-Zmiri-ignore-leaks".into()],
            ..VerifyConfig::default()
        };
        let (cmds, bound, judge) = run_of(plan(Check::Miri, &package(&[], verify), &ctx));
        assert_eq!(judge, Judge::TestsPass);
        assert_eq!(bound, "lib+tests, -Zmiri-ignore-leaks");
        assert_eq!(
            cmds[0].args,
            ["miri", "test", "-p", "sw", "--lib", "--tests"]
        );
        assert_eq!(
            env_of(&cmds[0], "MIRIFLAGS"),
            Some(
                "-Zmiri-strict-provenance -Zmiri-disable-isolation \
                 -Zmiri-symbolic-alignment-check -Zmiri-ignore-leaks"
            )
        );
        let failed = Context {
            miri_setup_error: Some("no sysroot"),
            ..context(&ws)
        };
        let pkg = package(&[], VerifyConfig::default());
        assert!(matches!(
            plan(Check::Miri, &pkg, &failed),
            Plan::Fail(r) if r == "cargo miri setup failed: no sysroot"
        ));
    }

    #[test]
    fn miri_preempt_drops_the_zero_rate_and_runs_seeds() {
        let ws = workspace();
        let mut ctx = context(&ws);
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
        let flags = env_of(&cmds[1], "MIRIFLAGS").unwrap();
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
        let ctx = context(&ws);
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
        let flags = env_of(&cmds[1], "MIRIFLAGS").unwrap();
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
    fn missing_nightly_parts_fail_the_miri_rows() {
        let ws = workspace();
        let state = NightlyState {
            missing: vec!["nightly component miri".into()],
            install_error: None,
        };
        let ctx = Context {
            nightly: Some(&state),
            ..context(&ws)
        };
        let pkg = package(&[], VerifyConfig::default());
        assert!(
            matches!(plan(Check::Miri, &pkg, &ctx), Plan::Fail(r) if r.contains("nightly component miri"))
        );
    }
}
