//! Turning a failed step's output into a one-line reason for the table:
//! the ThreadSanitizer report kind, Miri's UB line, the failed tests, the
//! first compiler error or the rustfmt diff location.

use crate::runner::shorten;

/// Longest reason shown in the table.
const MAX_REASON: usize = 150;

/// The kind of the first ThreadSanitizer report (`data race`,
/// `lock-order-inversion (potential deadlock)`, ...) with its first frame
/// in our code when one is printed.
pub fn tsan_report(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let idx = lines.iter().position(|l| l.contains("ThreadSanitizer:"))?;
    let line = lines[idx];
    let after = &line[line.find("ThreadSanitizer:")? + "ThreadSanitizer:".len()..];
    // "WARNING: ThreadSanitizer: data race (pid=123)" -> "data race"
    let kind = after.split(" (pid=").next().unwrap_or(after).trim();
    let frame = lines[idx..]
        .iter()
        .take(40)
        .filter_map(|l| l.trim().strip_prefix('#').map(str::trim))
        .filter_map(|frame| frame.split_whitespace().find(|w| w.contains(".rs:")))
        .find(|loc| {
            !["/rustc/", "/library/", "/.cargo/registry/"]
                .iter()
                .any(|skip| loc.contains(skip))
        })
        .map(|loc| short_location(loc).to_string());
    let at = frame.or_else(|| summary_function(&lines[idx..]));
    Some(match at {
        Some(at) => format!("ThreadSanitizer: {kind} at {at}"),
        None => format!("ThreadSanitizer: {kind}"),
    })
}

/// The function named by TSan's `SUMMARY:` line, for builds whose frames
/// carry no file and line: `... in <race::f::{closure#0} as FnOnce<()>>::call_once`
/// gives `race::f::{closure#0}`.
fn summary_function(lines: &[&str]) -> Option<String> {
    let summary = lines
        .iter()
        .find(|l| l.trim_start().starts_with("SUMMARY: ThreadSanitizer:"))?;
    let function = summary.split_once(" in ")?.1.trim();
    let function = match function.strip_prefix('<') {
        Some(inner) => inner.split(" as ").next().unwrap_or(inner),
        None => function,
    };
    Some(function.to_string())
}

/// The lines to show right after a failure: from the first ThreadSanitizer
/// or Miri report on if there is one, else the end of the log.
pub fn excerpt(output: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            l.contains("WARNING: ThreadSanitizer:")
                || MIRI_KINDS
                    .iter()
                    .any(|k| l.contains(&format!("error: {k}")))
        })
        .unwrap_or(lines.len().saturating_sub(n));
    lines[start..].iter().take(n).copied().collect()
}

/// Names of tests the libtest harness marked `FAILED`.
pub fn failed_tests(output: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... FAILED") {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

/// The message of the first panic (`thread 'x' panicked at file:line:col:`
/// followed by the message line), with its location.
pub fn first_panic(output: &str) -> Option<String> {
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        if let Some(pos) = line.find("panicked at ") {
            let rest = line[pos + "panicked at ".len()..].trim();
            if let Some(location) = rest.strip_suffix(':') {
                // Rust >= 1.73: the message is on the next line.
                let message = lines.next().unwrap_or("").trim();
                return Some(format!("{message} ({})", short_location(location)));
            }
            // Older format: "panicked at 'message', src/lib.rs:1:2"
            return Some(rest.to_string());
        }
    }
    None
}

/// Shortens a source path for the table: workspace paths from `crates/`
/// (or `xtask/`, `benches/`) on, registry paths from the crate directory on.
fn short_location(path: &str) -> &str {
    for marker in ["crates/", "xtask/", "benches/"] {
        if path.starts_with(marker) {
            return path;
        }
        if let Some(pos) = path.find(&format!("/{marker}")) {
            return &path[pos + 1..];
        }
    }
    if let Some(pos) = path.find("/registry/src/") {
        let rest = &path[pos + "/registry/src/".len()..];
        return rest.split_once('/').map_or(rest, |(_, in_crate)| in_crate);
    }
    path
}

/// The first compiler or tool error that says something specific, with the
/// `-->` location that follows it.
pub fn first_error(output: &str) -> Option<String> {
    const NOISE: [&str; 6] = [
        "could not compile",
        "aborting due to",
        "test failed, to rerun",
        "process didn't exit successfully",
        "build failed",
        "warnings emitted",
    ];
    let lines: Vec<&str> = output.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let is_error = trimmed.starts_with("error:") || trimmed.starts_with("error[");
        if !is_error || NOISE.iter().any(|n| trimmed.contains(n)) {
            continue;
        }
        let location = lines[i + 1..]
            .iter()
            .take(4)
            .find_map(|l| l.trim_start().strip_prefix("--> "))
            .map(|loc| format!(" at {}", short_location(loc.trim())));
        return Some(format!("{}{}", trimmed, location.unwrap_or_default()));
    }
    None
}

/// The first file rustfmt would change.
pub fn fmt_diff(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("Diff in ")?;
        let rest = rest.trim_end_matches(':');
        Some(format!("rustfmt would change {}", short_location(rest)))
    })
}

/// Kinds of Miri error that say more than the failed test's name.
const MIRI_KINDS: [&str; 5] = [
    "Undefined Behavior:",
    "unsupported operation:",
    "memory leaked",
    "deadlock",
    "abnormal termination:",
];

/// Miri's first error of a kind in [`MIRI_KINDS`] (it may follow
/// `test name ... ` on the same line), with the `-->` location under it.
pub fn miri_error(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let (idx, start) = lines.iter().enumerate().find_map(|(i, line)| {
        let pos = line.find("error: ")?;
        let text = &line[pos + "error: ".len()..];
        MIRI_KINDS
            .iter()
            .any(|kind| text.starts_with(kind))
            .then_some((i, pos + "error: ".len()))
    })?;
    let text = &lines[idx][start..];
    let location = lines[idx + 1..]
        .iter()
        .take(3)
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|loc| format!(" at {}", short_location(loc.trim())))
        .unwrap_or_default();
    Some(format!(
        "{}{location}",
        shorten(text.trim(), MAX_REASON.saturating_sub(location.len()))
    ))
}

/// The best short reason for a failure, trying the most specific
/// diagnosis first; `exit` describes the exit when nothing else matches.
pub fn reason(output: &str, exit: &str) -> String {
    let text = if let Some(tsan) = tsan_report(output) {
        tsan
    } else if let Some(ub) = miri_error(output) {
        ub
    } else if let Some(diff) = fmt_diff(output) {
        diff
    } else {
        let failed = failed_tests(output);
        if !failed.is_empty() {
            let mut text = format!("failed: {}", failed[..failed.len().min(2)].join(", "));
            if failed.len() > 2 {
                text.push_str(&format!(" (+{} more)", failed.len() - 2));
            }
            if let Some(panic) = first_panic(output) {
                text.push_str(&format!(": {panic}"));
            }
            text
        } else if let Some(err) = first_error(output) {
            err
        } else if let Some(panic) = first_panic(output) {
            format!("panic: {panic}")
        } else {
            let last = output
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            format!("{exit}: {}", last.trim())
        }
    };
    shorten(&text, MAX_REASON)
}

/// Sums the `N passed` counts of every `test result:` line.
pub fn passed_count(output: &str) -> usize {
    output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("test result: "))
        .filter_map(|rest| {
            let before = rest.split(" passed").next()?;
            before.rsplit(' ').next()?.parse::<usize>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSAN: &str = "test publish ... ok
==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Write of size 8 at 0x7b0400000010 by thread T2:
    #0 core::ptr::write /rustc/abc/library/core/src/ptr/mod.rs:1:1 (publish+0x1)
    #1 publish::writer /work/main/crates/signal-waker/tests/publish.rs:23:9 (publish+0x2)
SUMMARY: ThreadSanitizer: data race /work/main/crates/signal-waker/tests/publish.rs:23:9
";

    const TEST_FAIL: &str = "running 3 tests
test wheel::tests::insert ... ok
test wheel::tests::expire ... FAILED
test wheel::tests::cancel ... FAILED

failures:

---- wheel::tests::expire stdout ----

thread 'wheel::tests::expire' panicked at crates/timer-wheel/src/wheel.rs:88:9:
assertion `left == right` failed
  left: 1
 right: 2

failures:
    wheel::tests::expire
    wheel::tests::cancel

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--lib`
";

    #[test]
    fn names_tsan_kind_and_our_frame() {
        assert_eq!(
            tsan_report(TSAN).as_deref(),
            Some("ThreadSanitizer: data race at crates/signal-waker/tests/publish.rs:23:9")
        );
        assert!(reason(TSAN, "exit code 66").starts_with("ThreadSanitizer: data race"));
        assert_eq!(tsan_report(TEST_FAIL), None);
        let no_lines = "WARNING: ThreadSanitizer: data race (pid=1)\n    #0 f <null> (x+0x1)\n\
            SUMMARY: ThreadSanitizer: data race race.cgu.0 in <race::racy::{closure#0} as core::ops::FnOnce<()>>::call_once\n";
        assert_eq!(
            tsan_report(no_lines).as_deref(),
            Some("ThreadSanitizer: data race at race::racy::{closure#0}")
        );
    }

    #[test]
    fn names_failed_tests_and_panic() {
        assert_eq!(
            failed_tests(TEST_FAIL),
            ["wheel::tests::expire", "wheel::tests::cancel"]
        );
        assert_eq!(
            reason(TEST_FAIL, "exit code 101"),
            "failed: wheel::tests::expire, wheel::tests::cancel: assertion `left == right` failed (crates/timer-wheel/src/wheel.rs:88:9)"
        );
        assert_eq!(passed_count(TEST_FAIL), 1);
    }

    #[test]
    fn names_first_real_compiler_error() {
        let out = "   Compiling x v0.1.0
error: unused variable: `a`
  --> crates/x/src/lib.rs:3:9
   |
error: could not compile `x` (lib) due to 1 previous error
";
        assert_eq!(
            first_error(out).as_deref(),
            Some("error: unused variable: `a` at crates/x/src/lib.rs:3:9")
        );
        assert_eq!(first_error("error: could not compile `x`\n"), None);
    }

    #[test]
    fn names_miri_ub_and_fmt_diff() {
        let miri = "test t ... error: Undefined Behavior: Data race detected between (1) non-atomic write\n  --> crates/b/tests/race.rs:13:49\n";
        assert_eq!(
            reason(miri, "exit code 1"),
            "Undefined Behavior: Data race detected between (1) non-atomic write at crates/b/tests/race.rs:13:49"
        );
        let unsupported = "test w::t ... error: unsupported operation: integer-to-pointer casts are not supported\n   \
            --> /root/.cargo/registry/src/index.crates.io-19/crossbeam-epoch-0.9.21/src/atomic.rs:204:11\n\
            error: aborting due to 1 previous error\n\
            note: test exited abnormally; to see the full output pass --no-capture to the harness.\n";
        assert_eq!(
            reason(unsupported, "exit code 1"),
            "unsupported operation: integer-to-pointer casts are not supported at crossbeam-epoch-0.9.21/src/atomic.rs:204:11"
        );
        assert!(excerpt(unsupported, 1)[0].contains("unsupported operation"));
        let fmt = "Diff in /work/main/crates/x/src/lib.rs:12:\n-fn a(){}\n+fn a() {}\n";
        assert_eq!(
            reason(fmt, "exit code 1"),
            "rustfmt would change crates/x/src/lib.rs:12"
        );
    }

    #[test]
    fn shortens_locations() {
        assert_eq!(
            short_location("/work/main/crates/x/src/a.rs:1:2"),
            "crates/x/src/a.rs:1:2"
        );
        assert_eq!(short_location("xtask/src/main.rs:3"), "xtask/src/main.rs:3");
        assert_eq!(
            short_location(
                "/root/.cargo/registry/src/index.crates.io-19/loom-0.7.3/src/rt/location.rs:115:9"
            ),
            "loom-0.7.3/src/rt/location.rs:115:9"
        );
        assert_eq!(short_location("src/lib.rs:1:1"), "src/lib.rs:1:1");
    }

    #[test]
    fn falls_back_to_exit_and_last_line() {
        assert_eq!(
            reason("building\nSegmentation fault\n", "killed by signal 11"),
            "killed by signal 11: Segmentation fault"
        );
        assert_eq!(excerpt("a\nb\nc", 2), ["b", "c"]);
        assert_eq!(
            excerpt(TSAN, 2),
            [
                "WARNING: ThreadSanitizer: data race (pid=4242)",
                "  Write of size 8 at 0x7b0400000010 by thread T2:"
            ]
        );
    }

    #[test]
    fn counts_passed_tests_over_binaries() {
        let out = "test result: ok. 3 passed; 0 failed; 0 ignored\n\
                   test result: ok. 0 passed; 0 failed; 0 ignored; 5 filtered out\n\
                   test result: ok. 2 passed; 0 failed\n";
        assert_eq!(passed_count(out), 5);
        assert_eq!(passed_count("no tests here"), 0);
    }
}
