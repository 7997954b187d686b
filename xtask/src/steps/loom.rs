//! The loom rows: `loom` runs every model of a crate under `--cfg loom` and
//! the preemption bound; `loom-neg` runs the models again on that same build
//! with `NEGATIVE_CONTROL=<bug>` set, one planted bug at a time, and each run
//! must fail.

use super::{Context, Judge, Plan};
use crate::metadata::{NegativeControl, Package};
use crate::runner::{Invocation, Program};

/// `LOOM_MAX_BRANCHES` for every run.
pub const LOOM_BRANCHES: &str = "10000";
/// `RUSTFLAGS` of every loom run, `loom-neg` included, so both rows share one
/// build.
pub const LOOM_RUSTFLAGS: &str = "--cfg loom -C debug_assertions";
/// The variable naming the planted bug a `loom-neg` run switches on; the
/// crates' `negative_control("<bug>")` reads it under `cfg(loom)`. Every other
/// child runs without it (see `runner`).
pub const NEGATIVE_CONTROL_VAR: &str = "NEGATIVE_CONTROL";

/// The loom preemption bound.
pub fn loom_preemptions(thorough: bool) -> &'static str {
    if thorough {
        "3"
    } else {
        "2"
    }
}

/// The `loom` row: every `loom_*` target in one command, or `n/a` with the
/// crate's `loom = "none: <reason>"`.
pub(super) fn plan_loom(pkg: &Package, ctx: &Context<'_>) -> Plan {
    if let Some(reason) = &pkg.verify.loom_none_reason {
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
            loom(&pkg.name, &pkg.loom_targets, None, ctx.thorough),
            Judge::TestsPass,
        )],
        bound: format!(
            "preemptions={}, branches={LOOM_BRANCHES}",
            loom_preemptions(ctx.thorough)
        ),
    }
}

/// The `loom-neg` row: each planted bug alone, each of its targets must fail.
pub(super) fn plan_loom_neg(pkg: &Package, ctx: &Context<'_>) -> Plan {
    let verify = &pkg.verify;
    let where_ = format!("[package.metadata.verify] of `{}`", pkg.name);
    for NegativeControl { bug, targets } in &verify.negative_control {
        if !pkg.planted_bugs.contains(bug) {
            return Plan::Fail(format!(
                "{where_}: `negative-control.{bug}` names a bug planted nowhere in the crate's src/ \
                 (no `negative_control(\"{bug}\")`; planted: {})",
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
            let command = loom(
                &pkg.name,
                std::slice::from_ref(target),
                Some(bug),
                ctx.thorough,
            );
            commands.push((command, Judge::MustFailWithPanic));
        }
        parts.push(format!(
            "{NEGATIVE_CONTROL_VAR}={bug}: {}",
            targets.join(",")
        ));
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

/// `cargo test --release -p NAME --test T...` under loom's cfg and bounds,
/// with `NEGATIVE_CONTROL=<bug>` when `bug` is given. The flags and target
/// dir do not depend on `bug`, so every run reuses the plain loom build.
fn loom(name: &str, targets: &[String], bug: Option<&str>, thorough: bool) -> Invocation {
    let mut inv = Invocation::new(Program::Cargo, &["test", "--release", "-p", name])
        .rustflags(LOOM_RUSTFLAGS);
    if let Some(bug) = bug {
        inv = inv.env(NEGATIVE_CONTROL_VAR, bug);
    }
    inv = inv
        .env("LOOM_MAX_PREEMPTIONS", loom_preemptions(thorough))
        .env("LOOM_MAX_BRANCHES", LOOM_BRANCHES);
    for target in targets {
        inv = inv.args(&["--test", target]);
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::super::test_support::{context, control, env_of, package, run_of, workspace};
    use super::*;
    use crate::metadata::VerifyConfig;
    use crate::steps::Check;

    #[test]
    fn loom_without_models_or_reason_fails() {
        let ws = workspace();
        let ctx = context(&ws);
        let bare = plan(Check::Loom, &package(&[], VerifyConfig::default()), &ctx);
        assert!(matches!(bare, Plan::Fail(r) if r.contains("no loom models and no")));
        let reasoned = VerifyConfig {
            loom_none_reason: Some("no shared state".into()),
            ..VerifyConfig::default()
        };
        let none = plan(Check::Loom, &package(&[], reasoned.clone()), &ctx);
        assert!(matches!(none, Plan::NotApplicable(r) if r == "none: no shared state"));
        let both = plan(Check::Loom, &package(&["loom_a"], reasoned), &ctx);
        assert!(matches!(both, Plan::Fail(r) if r.contains("loom models exist (loom_a)")));
    }

    #[test]
    fn loom_runs_every_model_with_bounds() {
        let ws = workspace();
        let mut ctx = context(&ws);
        let pkg = package(&["loom_a", "loom_b"], VerifyConfig::default());
        let (cmds, bound, _) = run_of(plan(Check::Loom, &pkg, &ctx));
        assert_eq!(bound, "preemptions=2, branches=10000");
        assert_eq!(
            cmds[0].display(),
            "RUSTFLAGS='--cfg loom -C debug_assertions' RUSTDOCFLAGS='' LOOM_MAX_PREEMPTIONS=2 \
             LOOM_MAX_BRANCHES=10000 cargo test --release -p sw --test loom_a --test loom_b"
        );
        assert_eq!(env_of(&cmds[0], NEGATIVE_CONTROL_VAR), None);
        ctx.thorough = true;
        let (_, bound, _) = run_of(plan(Check::Loom, &pkg, &ctx));
        assert_eq!(bound, "preemptions=3, branches=10000");
    }

    #[test]
    fn negative_control_runs_each_bug_alone_on_the_loom_build() {
        let ws = workspace();
        let verify = VerifyConfig {
            negative_control: vec![
                control("bug_a", &["loom_a"]),
                control("bug_b", &["loom_a", "loom_b"]),
            ],
            ..VerifyConfig::default()
        };
        let pkg = package(&["loom_a", "loom_b"], verify.clone());
        let mut ctx = context(&ws);
        let (cmds, bound, judge) = run_of(plan(Check::LoomNeg, &pkg, &ctx));
        assert_eq!(judge, Judge::MustFailWithPanic);
        assert_eq!(
            bound,
            "must fail (NEGATIVE_CONTROL=bug_a: loom_a; NEGATIVE_CONTROL=bug_b: loom_a,loom_b), \
             preemptions=2"
        );
        let runs: Vec<(Option<&str>, &str)> = cmds
            .iter()
            .map(|c| {
                (
                    env_of(c, NEGATIVE_CONTROL_VAR),
                    c.args.last().unwrap().as_str(),
                )
            })
            .collect();
        assert_eq!(
            runs,
            [
                (Some("bug_a"), "loom_a"),
                (Some("bug_b"), "loom_a"),
                (Some("bug_b"), "loom_b"),
            ]
        );
        // The same RUSTFLAGS (and target dir) as the plain loom row: no
        // rebuild per bug.
        let (plain, _, _) = run_of(plan(Check::Loom, &pkg, &ctx));
        assert!(cmds.iter().all(|c| c.rustflags == plain[0].rustflags));
        assert!(cmds
            .iter()
            .all(|c| !c.args.iter().any(|a| a.starts_with("--target-dir"))));
        assert_eq!(
            cmds[0].display(),
            "RUSTFLAGS='--cfg loom -C debug_assertions' RUSTDOCFLAGS='' NEGATIVE_CONTROL=bug_a \
             LOOM_MAX_PREEMPTIONS=2 LOOM_MAX_BRANCHES=10000 cargo test --release -p sw --test loom_a"
        );
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
                && r.contains("no `negative_control(\"bug_z\")`")
                && r.contains("planted: bug_a, bug_b")
        ));
        let mut other = package(&[], VerifyConfig::default());
        other.name = "other".into();
        other.planted_bugs = vec!["bug_a".into()];
        let mut shared = workspace();
        shared.packages.push(other);
        assert!(matches!(
            plan(Check::LoomNeg, &pkg, &context(&shared)),
            Plan::Fail(r) if r.contains("`other` plants a bug of the same name")
        ));
        let none = package(&["loom_a"], VerifyConfig::default());
        assert!(matches!(
            plan(Check::LoomNeg, &none, &ctx),
            Plan::NotApplicable(r) if r.starts_with("no negative-control")
        ));
    }
}
