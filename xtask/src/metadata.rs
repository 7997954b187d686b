//! Workspace discovery: which packages exist, which of them are product crates,
//! their loom models and their `[package.metadata.verify]` options.
//!
//! Everything comes from `cargo metadata --no-deps --format-version 1`, read
//! through the `cargo_metadata` crate, so new crates under `crates/` are
//! picked up without touching the xtask.

use cargo_metadata::{Metadata, TargetKind};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The workspace as seen by the verifier.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory holding the root `Cargo.toml`.
    pub root: PathBuf,
    /// Cargo's target directory (`target/` unless overridden).
    pub target_dir: PathBuf,
    /// Packages in verification order: product crates by name, then the rest.
    pub packages: Vec<Package>,
}

/// Whether a package gets the full set of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A product crate (manifest under `crates/`): every check.
    Crate,
    /// Tooling such as `benches` and `xtask`: fmt and clippy only.
    Tooling,
}

/// One workspace package.
#[derive(Debug, Clone)]
pub struct Package {
    /// Package name as given to `-p`.
    pub name: String,
    /// Full check set or fmt/clippy only.
    pub role: Role,
    /// Names of `loom_*` test targets (normally `tests/loom_*.rs`), sorted.
    pub loom_targets: Vec<String>,
    /// Each loom target's name and source file, in `loom_targets` order.
    pub loom_sources: Vec<(String, PathBuf)>,
    /// Bug names planted in the crate's `src/` as `negative_control("<bug>")`
    /// (sorted, deduplicated); see [`planted_bugs`].
    pub planted_bugs: Vec<String>,
    /// Options from `[package.metadata.verify]` (defaults if it is malformed).
    pub verify: VerifyConfig,
    /// Why `[package.metadata.verify]` could not be read; shown as a failing
    /// `config` row while the other checks run with defaults.
    pub config_error: Option<String>,
}

/// Options a crate sets in `[package.metadata.verify]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyConfig {
    /// Reason from `loom = "none: <reason>"`: the crate has no loom models.
    pub loom_none_reason: Option<String>,
    /// `negative-control`: per planted bug, the loom targets that must fail
    /// when run with `NEGATIVE_CONTROL=<bug>`, in manifest order.
    pub negative_control: Vec<NegativeControl>,
    /// `miri-preempt-args`: cargo test arguments for the Miri run with
    /// preemption on; `None` means the crate has no such row.
    pub miri_preempt_args: Option<Vec<String>>,
    /// `miri-preempt-seeds`: how many seeds (`0..N`) that run uses by default.
    pub miri_preempt_seeds: Option<u32>,
    /// `miri-args`: cargo test arguments for Miri.
    pub miri_args: Option<Vec<String>>,
    /// `miri-seeds-filter`: test-name filters re-run with many seeds.
    pub miri_seeds_filter: Vec<String>,
    /// `miri-flags`: extra `MIRIFLAGS` for this crate.
    pub miri_flags: Vec<String>,
    /// `tsan-args`: cargo test arguments for ThreadSanitizer.
    pub tsan_args: Option<Vec<String>>,
    /// Reason from `miri = "none: <reason>"`: the crate has nothing for Miri
    /// to run (a proc-macro crate), so its Miri rows are `n/a`.
    pub miri_none_reason: Option<String>,
    /// Reason from `tsan = "none: <reason>"`: its `tsan` row is `n/a`.
    pub tsan_none_reason: Option<String>,
}

/// One entry of `negative-control`: a planted bug and the loom targets that
/// must fail when only that bug is switched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegativeControl {
    /// The bug's name, the argument of `negative_control("<bug>")` in the
    /// crate's source and the value of `NEGATIVE_CONTROL` that switches it on.
    pub bug: String,
    /// Loom test targets that must fail under it (non-empty).
    pub targets: Vec<String>,
}

/// Default cargo test arguments for Miri and TSan.
pub const DEFAULT_TEST_ARGS: [&str; 2] = ["--lib", "--tests"];

/// The keys `[package.metadata.verify]` may hold.
const KNOWN_KEYS: [&str; 10] = [
    "loom",
    "miri",
    "tsan",
    "negative-control",
    "miri-args",
    "miri-seeds-filter",
    "miri-flags",
    "miri-preempt-args",
    "miri-preempt-seeds",
    "tsan-args",
];

impl VerifyConfig {
    /// Cargo test arguments for Miri (the default when unset).
    pub fn miri_args(&self) -> Vec<String> {
        self.miri_args.clone().unwrap_or_else(default_test_args)
    }

    /// Cargo test arguments for TSan (the default when unset).
    pub fn tsan_args(&self) -> Vec<String> {
        self.tsan_args.clone().unwrap_or_else(default_test_args)
    }
}

fn default_test_args() -> Vec<String> {
    DEFAULT_TEST_ARGS.iter().map(|s| s.to_string()).collect()
}

impl Workspace {
    /// Finds a package by name.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Where per-step logs go: `<target>/verify-logs`.
    pub fn log_dir(&self) -> PathBuf {
        self.target_dir.join("verify-logs")
    }

    /// The separate target directory for TSan's `-Zbuild-std` builds.
    pub fn tsan_target_dir(&self) -> PathBuf {
        self.target_dir.join("tsan")
    }
}

/// Parses `cargo metadata --no-deps --format-version 1` output.
///
/// Errors name the package, the field and what it may hold.
pub fn parse_workspace(text: &str) -> Result<Workspace, String> {
    let doc: Metadata =
        serde_json::from_str(text).map_err(|e| format!("cargo metadata output: {e}"))?;
    let root = doc.workspace_root.into_std_path_buf();
    let target_dir = doc.target_directory.into_std_path_buf();
    let crates_dir = root.join("crates");
    let mut packages: Vec<Package> = doc
        .packages
        .iter()
        .map(|raw| parse_package(raw, &crates_dir))
        .collect();
    packages.sort_by(|a, b| {
        let rank = |p: &Package| u8::from(p.role == Role::Tooling);
        rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(Workspace {
        root,
        target_dir,
        packages,
    })
}

fn parse_package(raw: &cargo_metadata::Package, crates_dir: &Path) -> Package {
    let name = raw.name.clone();
    let manifest = raw.manifest_path.as_std_path();
    let role = if manifest.starts_with(crates_dir) {
        Role::Crate
    } else {
        Role::Tooling
    };
    let mut loom_sources: Vec<(String, PathBuf)> = raw
        .targets
        .iter()
        .filter(|t| t.kind.contains(&TargetKind::Test) && t.name.starts_with("loom_"))
        .map(|t| (t.name.clone(), t.src_path.clone().into_std_path_buf()))
        .collect();
    loom_sources.sort();
    let loom_targets = loom_sources.iter().map(|(name, _)| name.clone()).collect();
    let planted_bugs = match manifest.parent() {
        Some(dir) if role == Role::Crate => planted_bugs(&dir.join("src")),
        _ => Vec::new(),
    };
    let (verify, config_error) = match raw.metadata.get("verify") {
        None | Some(Value::Null) => (VerifyConfig::default(), None),
        Some(table) => match parse_verify(&name, table) {
            Ok(config) => (config, None),
            Err(err) => (VerifyConfig::default(), Some(err)),
        },
    };
    Package {
        name,
        role,
        loom_targets,
        loom_sources,
        planted_bugs,
        verify,
        config_error,
    }
}

/// A short name of a JSON value's type, for error messages (TOML words:
/// an object is a table).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

/// The text that plants a bug: the call `negative_control("<bug>")` (each
/// crate's `sync::negative_control`, true under `cfg(loom)` when the
/// environment variable `NEGATIVE_CONTROL` names the bug).
const PLANT_MARKER: &str = "negative_control(\"";

/// Bug names planted in the `.rs` files under `src` (recursively): every
/// `negative_control("<bug>")` outside a `//` comment line. A missing
/// directory has none.
pub fn planted_bugs(src: &Path) -> Vec<String> {
    let mut bugs = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    bugs.extend(bugs_in(&text));
                }
            }
        }
    }
    bugs.sort();
    bugs.dedup();
    bugs
}

/// The bug names planted in one source text (see [`planted_bugs`]).
fn bugs_in(text: &str) -> Vec<String> {
    let mut bugs = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find(PLANT_MARKER) {
            rest = &rest[at + PLANT_MARKER.len()..];
            if let Some(end) = rest.find('"') {
                bugs.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    bugs
}

/// Parses the `[package.metadata.verify]` table of package `pkg`.
pub fn parse_verify(pkg: &str, table: &Value) -> Result<VerifyConfig, String> {
    let where_ = format!("[package.metadata.verify] of `{pkg}`");
    let fields = table
        .as_object()
        .ok_or_else(|| format!("{where_} must be a table, found {}", kind(table)))?;
    let mut config = VerifyConfig::default();
    for (key, value) in fields {
        match key.as_str() {
            "loom" => config.loom_none_reason = Some(none_reason(&where_, key, value)?),
            "miri" => config.miri_none_reason = Some(none_reason(&where_, key, value)?),
            "tsan" => config.tsan_none_reason = Some(none_reason(&where_, key, value)?),
            "negative-control" => config.negative_control = negative_controls(&where_, value)?,
            "miri-args" => config.miri_args = Some(string_list(&where_, key, value)?),
            "miri-seeds-filter" => config.miri_seeds_filter = string_list(&where_, key, value)?,
            "miri-flags" => {
                let flags = string_list(&where_, key, value)?;
                if let Some(bad) = flags.iter().find(|f| !f.starts_with("-Z")) {
                    return Err(format!(
                        "{where_}: `miri-flags` entries must be Miri flags starting with `-Z`, found {bad:?}"
                    ));
                }
                if let Some(bad) = flags.iter().find(|f| f.starts_with("-Zmiri-many-seeds")) {
                    return Err(format!(
                        "{where_}: `miri-flags` may not set {bad:?}; use `miri-seeds-filter` (the seed range is chosen by the xtask)"
                    ));
                }
                config.miri_flags = flags;
            }
            "miri-preempt-args" => {
                config.miri_preempt_args = Some(string_list(&where_, key, value)?)
            }
            "miri-preempt-seeds" => {
                let seeds = value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| {
                        let found = match value {
                            Value::Number(n) => n.to_string(),
                            other => kind(other).to_string(),
                        };
                        format!(
                            "{where_}: `miri-preempt-seeds` must be a whole number from 1 to 1024, found {found}"
                        )
                    })?;
                config.miri_preempt_seeds = Some(seeds);
            }
            "tsan-args" => config.tsan_args = Some(string_list(&where_, key, value)?),
            other => {
                return Err(format!(
                    "{where_}: unknown key `{other}` (allowed: {})",
                    KNOWN_KEYS.join(", ")
                ))
            }
        }
    }
    if config.miri_none_reason.is_some() {
        let set: Vec<&str> = [
            ("miri-args", config.miri_args.is_some()),
            ("miri-seeds-filter", !config.miri_seeds_filter.is_empty()),
            ("miri-flags", !config.miri_flags.is_empty()),
            ("miri-preempt-args", config.miri_preempt_args.is_some()),
            ("miri-preempt-seeds", config.miri_preempt_seeds.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| *k)
        .collect();
        if !set.is_empty() {
            return Err(format!(
                "{where_}: `miri = \"none: ...\"` says Miri has nothing to run, but {} {} set too; remove one",
                set.join(", "),
                if set.len() == 1 { "is" } else { "are" }
            ));
        }
    }
    if config.tsan_none_reason.is_some() && config.tsan_args.is_some() {
        return Err(format!(
            "{where_}: `tsan = \"none: ...\"` says ThreadSanitizer has nothing to run, but tsan-args is set too; remove one"
        ));
    }
    Ok(config)
}

/// Parses `<key> = "none: <reason>"` (the `loom`, `miri` and `tsan` keys): a
/// check that has nothing to run in this crate, and why.
fn none_reason(where_: &str, key: &str, value: &Value) -> Result<String, String> {
    let text = value.as_str().ok_or_else(|| {
        format!(
            "{where_}: `{key}` must be the string \"none: <reason>\", found {}",
            kind(value)
        )
    })?;
    text.strip_prefix("none:")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            format!("{where_}: `{key}` must read \"none: <reason>\" with a non-empty reason, found {text:?}")
        })
}

/// Parses `negative-control = { bug_name = ["loom_target", ...], ... }`.
fn negative_controls(where_: &str, value: &Value) -> Result<Vec<NegativeControl>, String> {
    let shape = "a table mapping each planted bug's name to a non-empty array of loom targets, \
                 e.g. { my_bug = [\"loom_x\"] }";
    let entries = value.as_object().ok_or_else(|| {
        format!(
            "{where_}: `negative-control` must be {shape}, found {}",
            kind(value)
        )
    })?;
    let mut controls = Vec::new();
    for (bug, targets) in entries {
        let snake = !bug.is_empty()
            && bug.starts_with(|c: char| c.is_ascii_lowercase())
            && bug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !snake {
            return Err(format!(
                "{where_}: `negative-control` bug name {bug:?} must be snake_case ([a-z][a-z0-9_]*)"
            ));
        }
        let key = format!("negative-control.{bug}");
        let targets = string_list(where_, &key, targets)?;
        if targets.is_empty() {
            return Err(format!(
                "{where_}: `{key}` must list at least one loom target that fails under it"
            ));
        }
        controls.push(NegativeControl {
            bug: bug.clone(),
            targets,
        });
    }
    Ok(controls)
}

fn string_list(where_: &str, key: &str, value: &Value) -> Result<Vec<String>, String> {
    let items = value.as_array().ok_or_else(|| {
        format!(
            "{where_}: `{key}` must be an array of non-empty strings, found {}",
            kind(value)
        )
    })?;
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            _ => Err(format!(
                "{where_}: `{key}` must be an array of non-empty strings, found an element that is {}",
                if item.as_str().is_some() { "an empty string" } else { kind(item) }
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trimmed `cargo metadata` document with two crates and two tools
    /// (each package with the fields `cargo_metadata` requires: see [`PKG`]).
    const SAMPLE: &str = r#"{
      "packages": [
        {"name": "xtask", "version": "0.1.0", "id": "xtask 0.1.0", "dependencies": [], "features": {}, "manifest_path": "/ws/xtask/Cargo.toml", "metadata": null,
         "targets": [{"name": "xtask", "kind": ["bin"], "src_path": "/ws/xtask/src/main.rs"}]},
        {"name": "timer-wheel", "version": "0.1.0", "id": "timer-wheel 0.1.0", "dependencies": [], "features": {}, "manifest_path": "/ws/crates/timer-wheel/Cargo.toml",
         "metadata": {"verify": {"loom": "none: no shared state", "miri-flags": ["-Zmiri-ignore-leaks"]}},
         "targets": [{"name": "timer_wheel", "kind": ["lib"], "src_path": "/ws/crates/timer-wheel/src/lib.rs"},
                     {"name": "wheel", "kind": ["test"], "src_path": "/ws/crates/timer-wheel/tests/wheel.rs"}]},
        {"name": "signal-waker", "version": "0.1.0", "id": "signal-waker 0.1.0", "dependencies": [], "features": {}, "manifest_path": "/ws/crates/signal-waker/Cargo.toml",
         "metadata": {"verify": {"negative-control": {"lost_wake": ["loom_park"], "no_recheck": ["loom_park", "loom_wake"]},
                                 "miri-seeds-filter": ["stress"], "tsan-args": ["--tests"],
                                 "miri-preempt-args": ["--lib"], "miri-preempt-seeds": 4}},
         "targets": [{"name": "signal_waker", "kind": ["lib"], "src_path": "/ws/crates/signal-waker/src/lib.rs"},
                     {"name": "loom_wake", "kind": ["test"], "src_path": "/ws/crates/signal-waker/tests/loom_wake.rs"},
                     {"name": "loom_park", "kind": ["test"], "src_path": "/ws/crates/signal-waker/tests/loom_park.rs"},
                     {"name": "loom_helper", "kind": ["example"], "src_path": "/ws/crates/signal-waker/examples/loom_helper.rs"}]},
        {"name": "benches", "version": "0.1.0", "id": "benches 0.1.0", "dependencies": [], "features": {}, "manifest_path": "/ws/benches/Cargo.toml", "targets": []}
      ],
      "workspace_members": [], "version": 1,
      "workspace_root": "/ws",
      "target_directory": "/ws/target"
    }"#;

    /// The fields of a package that `cargo_metadata` requires besides the
    /// ones a test looks at.
    const PKG: &str = r#""version": "0.1.0", "id": "c 0.1.0", "dependencies": [], "features": {}"#;

    fn sample_with_verify(verify: &str) -> String {
        format!(
            r#"{{"packages": [{{"name": "c", {PKG}, "manifest_path": "/ws/crates/c/Cargo.toml",
                "metadata": {{"verify": {verify}}},
                "targets": [{{"name": "loom_a", "kind": ["test"], "src_path": "/ws/crates/c/tests/loom_a.rs"}}]}}],
              "workspace_members": [], "version": 1,
              "workspace_root": "/ws", "target_directory": "/ws/target"}}"#
        )
    }

    #[test]
    fn discovers_roles_order_and_loom_targets() {
        let ws = parse_workspace(SAMPLE).unwrap();
        let names: Vec<_> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["signal-waker", "timer-wheel", "benches", "xtask"]);
        let sw = ws.package("signal-waker").unwrap();
        assert_eq!(sw.role, Role::Crate);
        assert_eq!(sw.loom_targets, ["loom_park", "loom_wake"]);
        assert_eq!(
            sw.loom_sources[1],
            (
                "loom_wake".to_string(),
                PathBuf::from("/ws/crates/signal-waker/tests/loom_wake.rs")
            )
        );
        assert_eq!(ws.package("xtask").unwrap().role, Role::Tooling);
        assert_eq!(ws.package("benches").unwrap().role, Role::Tooling);
        assert_eq!(ws.tsan_target_dir(), PathBuf::from("/ws/target/tsan"));
        assert_eq!(ws.log_dir(), PathBuf::from("/ws/target/verify-logs"));
    }

    #[test]
    fn reads_verify_options_and_defaults() {
        let ws = parse_workspace(SAMPLE).unwrap();
        let tw = &ws.package("timer-wheel").unwrap().verify;
        assert_eq!(tw.loom_none_reason.as_deref(), Some("no shared state"));
        assert_eq!(tw.miri_flags, ["-Zmiri-ignore-leaks"]);
        assert_eq!(tw.miri_args(), ["--lib", "--tests"]);
        assert!(tw.miri_seeds_filter.is_empty());
        let sw = &ws.package("signal-waker").unwrap().verify;
        assert_eq!(
            sw.negative_control,
            [
                NegativeControl {
                    bug: "lost_wake".into(),
                    targets: vec!["loom_park".into()],
                },
                NegativeControl {
                    bug: "no_recheck".into(),
                    targets: vec!["loom_park".into(), "loom_wake".into()],
                },
            ]
        );
        assert_eq!(
            sw.miri_preempt_args.as_deref(),
            Some(&["--lib".to_string()][..])
        );
        assert_eq!(sw.miri_preempt_seeds, Some(4));
        assert_eq!(tw.miri_preempt_args, None);
        assert_eq!(sw.miri_seeds_filter, ["stress"]);
        assert_eq!(sw.tsan_args(), ["--tests"]);
        assert_eq!(sw.loom_none_reason, None);
    }

    #[test]
    fn reports_bad_verify_tables_per_crate() {
        let cases = [
            (r#"{"lom": "none: x"}"#, "unknown key `lom`"),
            (r#"{"loom": "skip it"}"#, "none: <reason>"),
            (r#"{"loom": "none:   "}"#, "non-empty reason"),
            (r#"{"miri-args": "--lib"}"#, "`miri-args` must be an array"),
            (r#"{"tsan-args": ["--lib", 3]}"#, "a number"),
            (r#"{"miri-seeds-filter": [""]}"#, "an empty string"),
            (r#"{"miri-flags": ["ignore-leaks"]}"#, "starting with `-Z`"),
            (
                r#"{"miri-flags": ["-Zmiri-many-seeds=0..9"]}"#,
                "miri-seeds-filter",
            ),
            ("[1]", "must be a table"),
            (
                r#"{"negative-control": ["loom_a"]}"#,
                "`negative-control` must be a table mapping",
            ),
            (
                r#"{"negative-control": {"my_bug": "loom_a"}}"#,
                "`negative-control.my_bug` must be an array",
            ),
            (
                r#"{"negative-control": {"my_bug": []}}"#,
                "`negative-control.my_bug` must list at least one",
            ),
            (
                r#"{"negative-control": {"My-Bug": ["loom_a"]}}"#,
                "\"My-Bug\" must be snake_case",
            ),
            (
                r#"{"miri-preempt-seeds": 0}"#,
                "`miri-preempt-seeds` must be a whole number from 1 to 1024, found 0",
            ),
            (
                r#"{"miri-preempt-seeds": "4"}"#,
                "`miri-preempt-seeds` must be a whole number",
            ),
            (
                r#"{"miri-preempt-args": [1]}"#,
                "`miri-preempt-args` must be",
            ),
            (r#"{"miri": "none"}"#, "`miri` must read \"none: <reason>\""),
            (r#"{"tsan": true}"#, "`tsan` must be the string"),
            (
                r#"{"miri": "none: a proc-macro crate", "miri-args": ["--lib"]}"#,
                "but miri-args is set too",
            ),
            (
                r#"{"tsan": "none: no threads", "tsan-args": ["--lib"]}"#,
                "but tsan-args is set too",
            ),
        ];
        for (verify, expected) in cases {
            let ws = parse_workspace(&sample_with_verify(verify)).unwrap();
            let pkg = ws.package("c").unwrap();
            let err = pkg.config_error.as_deref().unwrap_or("");
            assert!(err.contains(expected), "{verify}: {err:?}");
            assert!(
                err.contains("of `c`"),
                "error does not name the crate: {err}"
            );
            assert_eq!(pkg.verify, VerifyConfig::default());
        }
        let ok = parse_workspace(&sample_with_verify(
            r#"{"negative-control": {"bug_2": ["loom_a"]}}"#,
        ))
        .unwrap();
        assert_eq!(ok.packages[0].config_error, None);
        assert_eq!(ok.packages[0].verify.negative_control[0].bug, "bug_2");
        assert_eq!(
            ok.packages[0].verify.negative_control[0].targets,
            ["loom_a"]
        );
        let none = parse_workspace(&sample_with_verify(
            r#"{"miri": "none: runs in the compiler", "tsan": "none: no threads"}"#,
        ))
        .unwrap();
        assert_eq!(none.packages[0].config_error, None);
        let verify = &none.packages[0].verify;
        assert_eq!(
            verify.miri_none_reason.as_deref(),
            Some("runs in the compiler")
        );
        assert_eq!(verify.tsan_none_reason.as_deref(), Some("no threads"));
    }

    #[test]
    fn finds_planted_bugs_in_code_not_comments() {
        let text = r#"
            if !negative_control("sleeper_recheck") && x {}
            // `negative_control("only_in_a_comment")` is not a plant
            //! nor in a doc comment: `negative_control("in_doc")`
            if negative_control("first") || sync::negative_control("two") {}
            pub(crate) fn negative_control(bug: &str) -> bool { false }
            if cfg!(negative_control = "old_cfg_form") {}
            let s = negative_control ("spaced");
        "#;
        assert_eq!(
            bugs_in(text),
            ["sleeper_recheck", "first", "two"].map(String::from)
        );
        let dir = std::env::temp_dir().join(format!("xtask-planted-{}", std::process::id()));
        let nested = dir.join("task");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(dir.join("a.rs"), r#"negative_control("zeta")"#).unwrap();
        std::fs::write(nested.join("b.rs"), r#"negative_control("alpha")"#).unwrap();
        std::fs::write(nested.join("c.md"), r#"negative_control("not_rust")"#).unwrap();
        let found = planted_bugs(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, ["alpha", "zeta"]);
        assert!(planted_bugs(Path::new("/nonexistent/src")).is_empty());
    }

    #[test]
    fn rejects_incomplete_metadata() {
        assert!(
            parse_workspace(r#"{"packages": [], "workspace_members": [], "version": 1}"#)
                .unwrap_err()
                .contains("workspace_root")
        );
        let no_manifest = format!(
            r#"{{"packages": [{{"name": "c", {PKG}, "targets": []}}], "workspace_members": [],
                "version": 1, "workspace_root": "/ws", "target_directory": "/ws/target"}}"#
        );
        assert!(parse_workspace(&no_manifest)
            .unwrap_err()
            .contains("manifest_path"));
        assert!(parse_workspace("not json").is_err());
    }
}
