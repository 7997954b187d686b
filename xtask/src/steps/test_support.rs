//! Fixtures shared by the unit tests of the step planners: a workspace, a
//! package, a context with default settings, and a plan's commands.

use super::{Context, Invocation, Judge, Plan};
use crate::metadata::{NegativeControl, Package, Role, VerifyConfig, Workspace};
use std::path::PathBuf;

/// An empty workspace rooted at `/ws`.
pub fn workspace() -> Workspace {
    Workspace {
        root: PathBuf::from("/ws"),
        target_dir: PathBuf::from("/ws/target"),
        packages: Vec::new(),
    }
}

/// A context on `ws` with default bounds, no nightly state and no Miri error.
pub fn context(ws: &Workspace) -> Context<'_> {
    Context {
        workspace: ws,
        thorough: false,
        nightly: None,
        miri_setup_error: None,
    }
}

/// Crate `sw` with these loom targets and bugs `bug_a`, `bug_b` planted.
pub fn package(loom_targets: &[&str], verify: VerifyConfig) -> Package {
    Package {
        name: "sw".into(),
        role: Role::Crate,
        loom_targets: loom_targets.iter().map(|s| s.to_string()).collect(),
        loom_sources: loom_targets
            .iter()
            .map(|s| {
                (
                    s.to_string(),
                    PathBuf::from(format!("/ws/crates/sw/tests/{s}.rs")),
                )
            })
            .collect(),
        planted_bugs: vec!["bug_a".into(), "bug_b".into()],
        verify,
        config_error: None,
    }
}

/// One `negative-control` entry.
pub fn control(bug: &str, targets: &[&str]) -> NegativeControl {
    NegativeControl {
        bug: bug.into(),
        targets: targets.iter().map(|s| s.to_string()).collect(),
    }
}

/// The commands, bound and last judge of a `Plan::Run`; panics otherwise.
pub fn run_of(plan: Plan) -> (Vec<Invocation>, String, Judge) {
    match plan {
        Plan::Run { commands, bound } => {
            let judge = commands.last().expect("a command").1;
            (commands.into_iter().map(|(c, _)| c).collect(), bound, judge)
        }
        other => panic!("expected a run, got {other:?}"),
    }
}

/// The value `inv` sets for `key`, if any.
pub fn env_of<'a>(inv: &'a Invocation, key: &str) -> Option<&'a str> {
    inv.env
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}
