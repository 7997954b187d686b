//! The summary table: one row per crate and check, printed once at the end.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Result of one check on one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The check ran and passed.
    Pass,
    /// The check ran (or could not run) and failed, with a short reason.
    Fail(String),
    /// The check does not apply, with the reason; counts as a pass.
    NotApplicable(String),
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Package name (or `(toolchain)` for setup rows).
    pub krate: String,
    /// Check name: `fmt`, `clippy`, `clippy-loom`, `test`, `loom`, ...
    pub check: String,
    /// Outcome.
    pub status: Status,
    /// Wall-clock seconds spent.
    pub secs: f64,
    /// The bound the check ran with (`preemptions=2`, `seeds=0..4`, ...).
    pub bound: String,
    /// Log file for a check that ran.
    pub log: Option<PathBuf>,
}

impl Row {
    /// True if this row makes the run fail.
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Fail(_))
    }
}

/// Renders the table with aligned columns. The last column holds the bound,
/// the n/a reason, or the bound and the failure reason.
pub fn render(rows: &[Row]) -> String {
    let header = ["crate", "check", "status", "secs", "bound / reason"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let (status, last) = match &row.status {
                Status::Pass => ("pass", row.bound.clone()),
                Status::NotApplicable(reason) => ("n/a", reason.clone()),
                Status::Fail(reason) if row.bound.is_empty() => ("FAIL", reason.clone()),
                Status::Fail(reason) => ("FAIL", format!("{} | {reason}", row.bound)),
            };
            [
                row.krate.clone(),
                row.check.clone(),
                status.to_string(),
                format!("{:.1}", row.secs),
                last,
            ]
        })
        .collect();
    let width = |col: usize| {
        cells
            .iter()
            .map(|c| c[col].chars().count())
            .chain([header[col].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    let mut out = String::new();
    let mut line = |c: [&str; 5]| {
        let text = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {}",
            c[0], c[1], c[2], c[3], c[4]
        );
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(header);
    for c in &cells {
        line([&c[0], &c[1], &c[2], &c[3], &c[4]]);
    }
    out
}

/// Counts of passed, failed and not-applicable rows.
pub fn counts(rows: &[Row]) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for row in rows {
        match row.status {
            Status::Pass => counts.0 += 1,
            Status::Fail(_) => counts.1 += 1,
            Status::NotApplicable(_) => counts.2 += 1,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(krate: &str, check: &str, status: Status, bound: &str) -> Row {
        Row {
            krate: krate.into(),
            check: check.into(),
            status,
            secs: 12.04,
            bound: bound.into(),
            log: None,
        }
    }

    #[test]
    fn aligns_columns_and_shows_reasons() {
        let rows = [
            row(
                "signal-waker",
                "loom",
                Status::Pass,
                "preemptions=2, branches=10000",
            ),
            row(
                "timer-wheel",
                "loom",
                Status::NotApplicable("none: no shared state".into()),
                "",
            ),
            row(
                "timer-wheel",
                "test",
                Status::Fail("failed: a".into()),
                "default targets+doc",
            ),
        ];
        let text = render(&rows);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "crate         check  status  secs  bound / reason"
        );
        assert_eq!(
            lines[1],
            "signal-waker  loom   pass    12.0  preemptions=2, branches=10000"
        );
        assert_eq!(
            lines[2],
            "timer-wheel   loom   n/a     12.0  none: no shared state"
        );
        assert_eq!(
            lines[3],
            "timer-wheel   test   FAIL    12.0  default targets+doc | failed: a"
        );
        assert_eq!(counts(&rows), (1, 1, 1));
        assert!(rows[2].failed() && !rows[1].failed());
    }
}
