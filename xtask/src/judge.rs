//! Judging a finished command: exit status, whether any test ran, TSan
//! reports, and negative controls that must fail.

use crate::diagnose;
use crate::runner::{Invocation, Outcome};

/// How a finished command is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judge {
    /// Passes on exit code zero.
    ExitZero,
    /// Passes on exit code zero if at least one test passed, so a cfg or
    /// filter that selects nothing cannot pass silently.
    TestsPass,
    /// Passes on exit code zero if a `-- --list` run listed at least one test.
    ListsTests,
    /// Passes on exit code zero with no `ThreadSanitizer:` report in the output.
    TsanClean,
    /// Passes only if the run failed with a failed test and a panic: a negative control.
    MustFailWithPanic,
    /// Passes on exit code zero with no `warning:` line in the output (cargo's
    /// manifest warnings of `cargo package`, or a warning of a verification build).
    NoWarnings,
}

impl Judge {
    /// Judges one finished command; `Err` holds the reason for the table.
    pub fn apply(self, command: &Invocation, outcome: &Outcome) -> Result<(), String> {
        let out = &outcome.output;
        if outcome.timed_out {
            let last = out
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(format!("{}; last output: {}", outcome.exit, last.trim()));
        }
        match self {
            Judge::ExitZero if outcome.success => Ok(()),
            Judge::TestsPass if outcome.success => {
                if diagnose::passed_count(out) == 0 {
                    Err("no test ran (a cfg or filter selects nothing)".to_string())
                } else {
                    Ok(())
                }
            }
            Judge::ListsTests if outcome.success => {
                if out.lines().any(|l| l.trim_end().ends_with(": test")) {
                    Ok(())
                } else {
                    let filters: Vec<&str> = command
                        .args
                        .iter()
                        .skip_while(|a| *a != "--list")
                        .skip(1)
                        .map(String::as_str)
                        .collect();
                    Err(format!(
                        "no test matches the filters {}",
                        filters.join(", ")
                    ))
                }
            }
            Judge::NoWarnings if outcome.success => {
                match out.lines().find(|l| l.trim_start().starts_with("warning:")) {
                    Some(line) => Err(line.trim().to_string()),
                    None => Ok(()),
                }
            }
            Judge::ExitZero | Judge::TestsPass | Judge::ListsTests | Judge::NoWarnings => {
                Err(diagnose::reason(out, &outcome.exit))
            }
            Judge::TsanClean => {
                if outcome.success && !out.contains("ThreadSanitizer:") {
                    if diagnose::passed_count(out) == 0 {
                        Err("no test ran".to_string())
                    } else {
                        Ok(())
                    }
                } else {
                    Err(diagnose::reason(out, &outcome.exit))
                }
            }
            Judge::MustFailWithPanic => {
                let target = command
                    .args
                    .iter()
                    .skip_while(|a| *a != "--test")
                    .nth(1)
                    .cloned()
                    .unwrap_or_default();
                let bug = command
                    .env
                    .iter()
                    .find(|(k, _)| k == "NEGATIVE_CONTROL")
                    .map_or("", |(_, v)| v.as_str());
                if outcome.success {
                    Err(format!(
                        "{target} passed under NEGATIVE_CONTROL={bug}: the model no longer catches the planted bug"
                    ))
                } else if diagnose::failed_tests(out).is_empty() || !out.contains("panicked at") {
                    Err(format!(
                        "{target} failed without a loom/assert panic: {}",
                        diagnose::reason(out, &outcome.exit)
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Program;

    fn outcome(success: bool, output: &str) -> Outcome {
        Outcome {
            success,
            exit: if success {
                "exit code 0"
            } else {
                "exit code 101"
            }
            .to_string(),
            secs: 0.0,
            output: output.to_string(),
            timed_out: false,
        }
    }

    #[test]
    fn judges_outcomes() {
        let cmd = Invocation::new(Program::Cargo, &["test", "--test", "loom_a"])
            .rustflags("--cfg loom -C debug_assertions")
            .env("NEGATIVE_CONTROL", "my_bug");
        let ok = "test a ... ok\ntest result: ok. 1 passed; 0 failed\n";
        let none = "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out\n";
        let panicked =
            "test a ... FAILED\nthread 'a' panicked at src/x.rs:1:1:\nCausality violation\n";
        assert!(Judge::ExitZero.apply(&cmd, &outcome(true, "")).is_ok());
        assert!(Judge::ExitZero.apply(&cmd, &outcome(false, ok)).is_err());
        assert!(Judge::TestsPass.apply(&cmd, &outcome(true, ok)).is_ok());
        assert!(Judge::TestsPass
            .apply(&cmd, &outcome(true, none))
            .unwrap_err()
            .contains("no test ran"));
        assert!(Judge::ListsTests
            .apply(
                &cmd,
                &outcome(true, "a::stress: test\n1 test, 0 benchmarks\n")
            )
            .is_ok());
        assert!(Judge::ListsTests
            .apply(&cmd, &outcome(true, "0 tests, 0 benchmarks\n"))
            .is_err());
        let tsan = "test a ... ok\nWARNING: ThreadSanitizer: data race (pid=1)\ntest result: ok. 1 passed\n";
        assert!(Judge::TsanClean.apply(&cmd, &outcome(true, ok)).is_ok());
        assert_eq!(
            Judge::TsanClean
                .apply(&cmd, &outcome(true, tsan))
                .unwrap_err(),
            "ThreadSanitizer: data race"
        );
        assert!(Judge::MustFailWithPanic
            .apply(&cmd, &outcome(false, panicked))
            .is_ok());
        let packaged = "   Packaging a v0.1.0\n    Packaged 3 files\n   Verifying a v0.1.0\n";
        assert!(Judge::NoWarnings
            .apply(&cmd, &outcome(true, packaged))
            .is_ok());
        assert_eq!(
            Judge::NoWarnings
                .apply(
                    &cmd,
                    &outcome(
                        true,
                        "warning: manifest has no description, documentation\n"
                    )
                )
                .unwrap_err(),
            "warning: manifest has no description, documentation"
        );
        assert!(Judge::NoWarnings.apply(&cmd, &outcome(false, "")).is_err());
        assert!(Judge::MustFailWithPanic
            .apply(&cmd, &outcome(true, ok))
            .unwrap_err()
            .starts_with("loom_a passed under NEGATIVE_CONTROL=my_bug: "));
        assert!(Judge::MustFailWithPanic
            .apply(
                &cmd,
                &outcome(false, "error[E0425]: cannot find value `x`\n")
            )
            .unwrap_err()
            .contains("without a loom/assert panic"));
    }
}
