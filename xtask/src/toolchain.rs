//! Toolchain facts and setup: stable and nightly versions, the nightly
//! components Miri and TSan need (installed when missing), `miri setup`.

use crate::diagnose;
use crate::runner::{self, Invocation, Outcome, Program};
use std::path::Path;
use std::time::Duration;

/// The stable compiler's version line (`rustc 1.95.0 (...)`).
pub fn stable_version() -> String {
    // Inherits RUSTUP_TOOLCHAIN / rust-toolchain.toml, i.e. the stable the
    // workspace builds with.
    runner::capture(&runner::rustup_proxy("rustc"), &["--version"], false)
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// The nightly compiler's version line, or `None` when no nightly is installed.
pub fn nightly_version() -> Option<String> {
    runner::capture(
        &runner::rustup_proxy("rustc"),
        &["+nightly", "--version"],
        true,
    )
    .ok()
}

/// Miri's version line, once the component is installed.
pub fn miri_version() -> Option<String> {
    runner::capture(
        &runner::rustup_proxy("cargo"),
        &["+nightly", "miri", "--version"],
        true,
    )
    .ok()
}

/// What the nightly toolchain lacks after setup was attempted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NightlyState {
    /// Exactly what is missing, e.g. `nightly component miri`; empty when all is there.
    pub missing: Vec<String>,
    /// Why installing failed, when it did.
    pub install_error: Option<String>,
}

impl NightlyState {
    /// The items in `missing` that a step needing `components` cares about,
    /// as a failure reason; `None` if the step can run.
    pub fn blocker(&self, components: &[&str]) -> Option<String> {
        let relevant: Vec<&str> = self
            .missing
            .iter()
            .map(String::as_str)
            .filter(|m| *m == "nightly toolchain" || components.iter().any(|c| m.ends_with(c)))
            .collect();
        if relevant.is_empty() {
            return None;
        }
        let mut text = format!("missing: {}", relevant.join(", "));
        if let Some(err) = &self.install_error {
            text.push_str(&format!(" (install failed: {err})"));
        }
        Some(text)
    }
}

/// Whether `rustup toolchain list` output shows a nightly toolchain.
pub fn has_nightly(toolchain_list: &str) -> bool {
    toolchain_list
        .lines()
        .any(|l| l.trim_start().starts_with("nightly"))
}

/// Which of `wanted` are absent from `rustup component list --installed`
/// output (lines like `miri-x86_64-unknown-linux-gnu` or `rust-src`).
pub fn missing_components<'a>(installed: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|want| {
            !installed.lines().map(str::trim).any(|line| {
                line == *want
                    || line
                        .strip_prefix(want)
                        .is_some_and(|rest| rest.starts_with('-') && !rest[1..].starts_with("std"))
            })
        })
        .collect()
}

/// Checks the nightly toolchain for `components`, installing what is
/// missing. Installer output goes to `log`; returns the final state and
/// the time spent.
pub fn ensure_nightly(
    components: &[&str],
    cwd: &Path,
    log: &Path,
    limit: Option<Duration>,
) -> (NightlyState, f64) {
    let rustup = runner::rustup_proxy("rustup");
    let list = |args: &[&str]| runner::capture(&rustup, args, true);
    let mut secs = 0.0;
    let mut install_error = None;
    let mut install = |args: &[&str]| {
        println!("         installing: rustup {}", args.join(" "));
        let outcome: Outcome = runner::run_logged(
            &Invocation::new(Program::Rustup, args),
            cwd,
            log,
            "rustup",
            limit,
        );
        secs += outcome.secs;
        if !outcome.success {
            install_error = Some(diagnose::reason(&outcome.output, &outcome.exit));
        }
        outcome.success
    };
    let components_arg = components.join(",");
    let full_install = [
        "toolchain",
        "install",
        "nightly",
        "--profile",
        "minimal",
        "--component",
        components_arg.as_str(),
    ];

    let toolchains = list(&["toolchain", "list"]).unwrap_or_default();
    if !has_nightly(&toolchains) {
        install(&full_install);
    } else {
        let installed = list(&["component", "list", "--toolchain", "nightly", "--installed"])
            .unwrap_or_default();
        let absent = missing_components(&installed, components);
        if !absent.is_empty() {
            let mut args = vec!["component", "add", "--toolchain", "nightly"];
            args.extend(absent.iter().copied());
            // The installed nightly may predate the component; a newer one has it.
            if !install(&args) {
                install(&full_install);
            }
        }
    }

    let mut state = NightlyState {
        install_error,
        ..NightlyState::default()
    };
    if !has_nightly(&list(&["toolchain", "list"]).unwrap_or_default()) {
        state.missing.push("nightly toolchain".to_string());
    } else {
        let installed = list(&["component", "list", "--toolchain", "nightly", "--installed"])
            .unwrap_or_default();
        for absent in missing_components(&installed, components) {
            state.missing.push(format!("nightly component {absent}"));
        }
    }
    if state.missing.is_empty() {
        state.install_error = None;
    }
    (state, secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALLED: &str = "cargo-x86_64-unknown-linux-gnu
rust-std-x86_64-unknown-linux-gnu
rustc-x86_64-unknown-linux-gnu
rust-src
";

    #[test]
    fn finds_missing_components() {
        assert_eq!(
            missing_components(INSTALLED, &["miri", "rust-src"]),
            ["miri"]
        );
        let with_miri = format!("{INSTALLED}miri-x86_64-unknown-linux-gnu\n");
        assert!(missing_components(&with_miri, &["miri", "rust-src"]).is_empty());
        // `rust-std-*` must not count as `rust-src`, nor `rust` as anything.
        assert_eq!(
            missing_components("rust-std-x86_64-unknown-linux-gnu\n", &["rust-src"]),
            ["rust-src"]
        );
    }

    #[test]
    fn detects_nightly_in_toolchain_list() {
        assert!(has_nightly(
            "stable-x86_64-unknown-linux-gnu (default)\nnightly-x86_64-unknown-linux-gnu\n"
        ));
        assert!(!has_nightly(
            "stable-x86_64-unknown-linux-gnu (default)\n1.95.0-x86_64-unknown-linux-gnu\n"
        ));
    }

    #[test]
    fn blocker_names_only_what_a_step_needs() {
        let state = NightlyState {
            missing: vec!["nightly component miri".into()],
            install_error: Some("network down".into()),
        };
        assert_eq!(
            state.blocker(&["miri", "rust-src"]).as_deref(),
            Some("missing: nightly component miri (install failed: network down)")
        );
        assert_eq!(state.blocker(&["rust-src"]), None);
        let none = NightlyState {
            missing: vec!["nightly toolchain".into()],
            install_error: None,
        };
        assert_eq!(
            none.blocker(&["rust-src"]).as_deref(),
            Some("missing: nightly toolchain")
        );
    }
}
