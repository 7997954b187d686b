//! The `tsan` row: the crate's tests under `-Zsanitizer=thread` with a
//! rebuilt std, in a target dir of their own, one test thread.

use super::{args_label, with_test_args, Context, Judge, Plan};
use crate::metadata::Package;
use crate::runner::{Invocation, Program};

/// The host triple TSan builds std for.
pub const TSAN_TARGET: &str = "x86_64-unknown-linux-gnu";
/// TSan runtime options: stop at the first report, show both deadlock stacks.
pub const TSAN_OPTIONS: &str = "halt_on_error=1 second_deadlock_stack=1";

/// The `tsan` row.
pub(super) fn plan_tsan(pkg: &Package, ctx: &Context<'_>) -> Plan {
    if let Some(reason) = &pkg.verify.tsan_none_reason {
        return Plan::NotApplicable(format!("none: {reason}"));
    }
    if let Some(blocker) = ctx.nightly.and_then(|n| n.blocker(&["rust-src"])) {
        return Plan::Fail(blocker);
    }
    let target_dir = ctx.workspace.tsan_target_dir();
    let args = pkg.verify.tsan_args();
    let mut cargo_args: Vec<String> = [
        "test",
        "-Zbuild-std",
        "--target",
        TSAN_TARGET,
        "--target-dir",
        &target_dir.to_string_lossy(),
        "--release",
        "-p",
        &pkg.name,
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{context, env_of, package, run_of, workspace};
    use super::super::{plan, Check};
    use super::*;
    use crate::metadata::VerifyConfig;
    use crate::toolchain::NightlyState;

    #[test]
    fn tsan_none_is_not_applicable() {
        let ws = workspace();
        let ctx = context(&ws);
        let verify = VerifyConfig {
            tsan_none_reason: Some("no threads".into()),
            ..VerifyConfig::default()
        };
        let planned = plan(Check::Tsan, &package(&[], verify), &ctx);
        assert!(matches!(planned, Plan::NotApplicable(r) if r == "none: no threads"));
    }

    #[test]
    fn tsan_needs_only_rust_src() {
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
        let (cmds, bound, judge) = run_of(plan(Check::Tsan, &pkg, &ctx));
        assert_eq!(judge, Judge::TsanClean);
        assert_eq!(bound, "lib+tests, test-threads=1");
        assert!(cmds[0].args.contains(&"/ws/target/tsan".to_string()));
        assert!(cmds[0]
            .args
            .ends_with(&["--".to_string(), "--test-threads=1".to_string()]));
        assert_eq!(cmds[0].rustflags, "-Zsanitizer=thread");
        assert_eq!(env_of(&cmds[0], "TSAN_OPTIONS"), Some(TSAN_OPTIONS));
    }
}
