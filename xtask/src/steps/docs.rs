//! The `docs` row, one for the whole workspace: every crate packages and
//! builds from its own tarball, the rustdoc builds without a warning, and
//! every loom model that `docs/no-lost-wakeup.md` names exists.

use super::{Invocation, Judge, Plan};
use crate::metadata::Workspace;
use crate::runner::Program;
use std::path::{Path, PathBuf};

/// The document whose loom models are checked, relative to the workspace root.
pub const MODEL_DOC: &str = "docs/no-lost-wakeup.md";

/// The `docs` row: `cargo package --workspace` (with its verification, which
/// builds each packaged crate against the other crates' tarballs) that must
/// print no warning, `cargo doc` with `-D warnings`, and the model names of
/// [`MODEL_DOC`], checked without a command.
pub fn plan_docs(ws: &Workspace) -> Plan {
    let findings = match std::fs::read_to_string(ws.root.join(MODEL_DOC)) {
        Ok(text) => missing_loom_models(&text, ws),
        Err(err) => vec![format!("cannot read {MODEL_DOC}: {err}")],
    };
    // `--allow-dirty`: the row checks the working tree as it is, committed or not.
    let package = Invocation::new(Program::Cargo, &["package", "--workspace", "--allow-dirty"]);
    let doc = Invocation::new(Program::Cargo, &["doc", "--no-deps", "--workspace"])
        .rustdocflags("-D warnings");
    Plan::RunWithFindings {
        findings,
        commands: vec![(package, Judge::NoWarnings), (doc, Judge::ExitZero)],
        bound: format!("package+verify, rustdoc -D warnings, models of {MODEL_DOC}"),
    }
}

/// A loom model named in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ModelRef {
    /// `<crate>/tests/loom_x.rs` (`prefix` false) or `<crate>/tests/loom_x*`
    /// (`prefix` true); the crate may be left out.
    Target {
        krate: Option<String>,
        name: String,
        prefix: bool,
    },
    /// `loom_x::function`: a `#[test]` function of loom target `loom_x`.
    Function { target: String, function: String },
}

impl ModelRef {
    /// The reference as written in the document.
    fn display(&self) -> String {
        match self {
            ModelRef::Target {
                krate,
                name,
                prefix,
            } => format!(
                "{}tests/{name}{}",
                krate.as_deref().map_or(String::new(), |k| format!("{k}/")),
                if *prefix { "*" } else { ".rs" }
            ),
            ModelRef::Function { target, function } => format!("{target}::{function}"),
        }
    }
}

/// The inline code spans of a Markdown text, fenced code blocks left out.
fn code_spans(text: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            spans.extend(line.split('`').skip(1).step_by(2));
        }
    }
    spans
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// Parses one code span as a model reference, if it is one. A span with a
/// `<placeholder>` describes the form of a name and names nothing.
fn model_ref(span: &str) -> Option<ModelRef> {
    let span = span.trim();
    if span.contains('<') {
        return None;
    }
    if let Some(at) = span.find("tests/loom_") {
        let krate = span[..at]
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let rest = &span[at + "tests/".len()..];
        let end = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
        return Some(ModelRef::Target {
            krate,
            name: rest[..end].to_string(),
            prefix: rest[end..].starts_with('*'),
        });
    }
    let (target, function) = span.split_once("::")?;
    let ident = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && s.chars().all(is_ident_char)
    };
    (target.starts_with("loom_") && ident(target) && ident(function)).then(|| ModelRef::Function {
        target: target.to_string(),
        function: function.to_string(),
    })
}

/// Every loom model named in `text` that does not exist in `ws`, one finding
/// each (a text naming no model at all is a finding too: the check would
/// otherwise pass on a document that lost its model names).
pub fn missing_loom_models(text: &str, ws: &Workspace) -> Vec<String> {
    let refs: Vec<ModelRef> = code_spans(text).into_iter().filter_map(model_ref).collect();
    if refs.is_empty() {
        return vec![format!(
            "{MODEL_DOC} names no loom model (`<crate>/tests/loom_x.rs` or `loom_x::function`)"
        )];
    }
    let mut findings = Vec::new();
    for model in &refs {
        if let Err(why) = find_model(model, ws) {
            let finding = format!("{MODEL_DOC} names `{}`: {why}", model.display());
            if !findings.contains(&finding) {
                findings.push(finding);
            }
        }
    }
    findings
}

/// Checks that one named model exists; `Err` says what is missing.
fn find_model(model: &ModelRef, ws: &Workspace) -> Result<(), String> {
    let sources: Vec<(&str, &str, &PathBuf)> = ws
        .packages
        .iter()
        .flat_map(|p| {
            p.loom_sources
                .iter()
                .map(move |(target, path)| (p.name.as_str(), target.as_str(), path))
        })
        .collect();
    match model {
        ModelRef::Target {
            krate,
            name,
            prefix,
        } => {
            if let Some(k) = krate {
                if ws.package(k).is_none() {
                    return Err(format!("there is no workspace package `{k}`"));
                }
            }
            let found = sources.iter().any(|(pkg, target, _)| {
                krate.as_deref().is_none_or(|k| k == *pkg)
                    && if *prefix {
                        target.starts_with(name.as_str())
                    } else {
                        target == name
                    }
            });
            if found {
                Ok(())
            } else {
                Err(format!(
                    "no such loom test target{}",
                    krate
                        .as_deref()
                        .map_or(String::new(), |k| format!(" in {k}"))
                ))
            }
        }
        ModelRef::Function { target, function } => {
            let files: Vec<&PathBuf> = sources
                .iter()
                .filter(|(_, t, _)| t == target)
                .map(|(_, _, path)| *path)
                .collect();
            if files.is_empty() {
                return Err(format!("no crate has a loom test target `{target}`"));
            }
            if files.iter().any(|file| has_test_fn(file, function)) {
                Ok(())
            } else {
                Err(format!("`{target}` has no #[test] fn `{function}`"))
            }
        }
    }
}

/// Whether the test target whose root file is `file` (or a module file in
/// the directory of the same stem, `tests/loom_x/`) has `#[test] fn name`.
fn has_test_fn(file: &Path, name: &str) -> bool {
    let mut files = vec![file.to_path_buf()];
    if let (Some(dir), Some(stem)) = (file.parent(), file.file_stem()) {
        let mut dirs = vec![dir.join(stem)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
    }
    files
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|text| text_has_test_fn(&text, name)))
}

/// Whether `text` defines `fn name` with `#[test]` among the attribute and
/// doc-comment lines right above it.
fn text_has_test_fn(text: &str, name: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines.iter().enumerate().any(|(i, line)| {
        let signature = line.strip_prefix("pub ").unwrap_or(line);
        let defines = signature
            .strip_prefix("fn ")
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with('('));
        defines
            && lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
                .any(|l| *l == "#[test]")
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{package, workspace};
    use super::*;
    use crate::metadata::VerifyConfig;

    /// A workspace of crate `sw` with loom targets `loom_park` and
    /// `loom_wake`, whose sources are written to a fresh directory.
    fn fixture(tag: &str) -> (Workspace, PathBuf) {
        let dir = std::env::temp_dir().join(format!("xtask-docs-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("loom_wake")).unwrap();
        let park = "#[test]\nfn parks() {}\n\n/// Not a model.\nfn helper() {}\n";
        std::fs::write(dir.join("loom_park.rs"), park).unwrap();
        std::fs::write(dir.join("loom_wake.rs"), "mod cases;\n").unwrap();
        let cases = "/// A model in a module file.\n#[test]\n#[cfg_attr(miri, ignore)]\npub fn wakes() {}\n";
        std::fs::write(dir.join("loom_wake/cases.rs"), cases).unwrap();
        let mut pkg = package(&["loom_park", "loom_wake"], VerifyConfig::default());
        pkg.loom_sources = vec![
            ("loom_park".into(), dir.join("loom_park.rs")),
            ("loom_wake".into(), dir.join("loom_wake.rs")),
        ];
        let mut ws = workspace();
        ws.packages.push(pkg);
        (ws, dir)
    }

    #[test]
    fn reads_model_references_from_code_spans_only() {
        let text = "See `sw/tests/loom_park.rs`, `tests/loom_wa*` and `loom_park::parks`.\n\
                    Not code: sw/tests/loom_gone.rs, nor `SummaryTree::schedule` or `a::b`,\n\
                    nor the form `<crate>/tests/loom_<name>.rs` or `loom_<name>::<function>`.\n\
                    ```\nsw/tests/loom_in_a_fence.rs `loom_x::y`\n```\n";
        let refs: Vec<_> = code_spans(text).into_iter().filter_map(model_ref).collect();
        assert_eq!(
            refs,
            [
                ModelRef::Target {
                    krate: Some("sw".into()),
                    name: "loom_park".into(),
                    prefix: false
                },
                ModelRef::Target {
                    krate: None,
                    name: "loom_wa".into(),
                    prefix: true
                },
                ModelRef::Function {
                    target: "loom_park".into(),
                    function: "parks".into()
                },
            ]
        );
        assert_eq!(refs[1].display(), "tests/loom_wa*");
    }

    #[test]
    fn passes_when_every_named_model_exists() {
        let (ws, dir) = fixture("ok");
        let text = "`sw/tests/loom_park.rs`, `sw/tests/loom_*`, `loom_park::parks`, \
                    `loom_wake::wakes`";
        let findings = missing_loom_models(text, &ws);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(findings, Vec::<String>::new());
    }

    #[test]
    fn names_each_missing_model() {
        let (ws, dir) = fixture("missing");
        let text = "`sw/tests/loom_gone.rs` `other/tests/loom_park.rs` `tests/loom_x*` \
                    `loom_park::helper` `loom_park::vanished` `loom_nothing::parks` \
                    `loom_park::vanished`";
        let findings = missing_loom_models(text, &ws);
        std::fs::remove_dir_all(&dir).unwrap();
        let expected = [
            "`sw/tests/loom_gone.rs`: no such loom test target in sw",
            "`other/tests/loom_park.rs`: there is no workspace package `other`",
            "`tests/loom_x*`: no such loom test target",
            "`loom_park::helper`: `loom_park` has no #[test] fn `helper`",
            "`loom_park::vanished`: `loom_park` has no #[test] fn `vanished`",
            "`loom_nothing::parks`: no crate has a loom test target `loom_nothing`",
        ];
        assert_eq!(findings.len(), expected.len(), "{findings:#?}");
        for (finding, want) in findings.iter().zip(expected) {
            assert_eq!(finding, &format!("{MODEL_DOC} names {want}"));
        }
        assert!(missing_loom_models("no models here", &ws)[0].contains("names no loom model"));
    }

    #[test]
    fn docs_row_commands() {
        let ws = workspace();
        match plan_docs(&ws) {
            Plan::RunWithFindings {
                findings, commands, ..
            } => {
                assert!(findings[0].starts_with("cannot read docs/no-lost-wakeup.md"));
                let shown: Vec<String> = commands.iter().map(|(c, _)| c.display()).collect();
                assert_eq!(
                    shown,
                    [
                        "RUSTFLAGS='' RUSTDOCFLAGS='' cargo package --workspace --allow-dirty",
                        "RUSTFLAGS='' RUSTDOCFLAGS='-D warnings' cargo doc --no-deps --workspace",
                    ]
                );
                assert_eq!(commands[0].1, Judge::NoWarnings);
            }
            other => panic!("expected a run with findings, got {other:?}"),
        }
    }
}
