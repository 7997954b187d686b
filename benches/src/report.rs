//! The race tables: ns per unit per runtime for the throughput workloads,
//! and the latency-and-idle table ([`MetricRow`]: µs, ms of CPU) for the
//! probes; both with our ratio to the best peer.

use std::fmt::Write as _;

use crate::probes::Probe;
use crate::stats::Summary;
use crate::workloads::Workload;

/// The goal: our median at most this fraction of the better peer's median.
pub const TARGET_RATIO: f64 = 0.60;

/// One runtime's result for one workload.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The runtime's name.
    pub runtime: &'static str,
    /// Whether this is our runtime (the ratio's numerator).
    pub is_ours: bool,
    /// The timed runs' summary.
    pub summary: Summary,
}

/// All runtimes' results for one workload, in contender order.
#[derive(Clone, Debug)]
pub struct Row {
    /// The workload measured.
    pub workload: Workload,
    /// One cell per runtime.
    pub cells: Vec<Cell>,
}

/// Our ratio to the best peer for one row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// `ours / min(peers)` and the name of that best peer.
    Ratio {
        /// Our median divided by the best peer's median.
        ratio: f64,
        /// The peer with the lowest median.
        best_peer: &'static str,
    },
    /// Our runtime is not in the race yet.
    OursNotWired,
    /// No peer in the race (nothing to compare with).
    NoPeer,
}

impl Verdict {
    /// Whether the ratio meets [`TARGET_RATIO`]; `None` if there is no ratio.
    pub fn passes(&self) -> Option<bool> {
        match *self {
            Verdict::Ratio { ratio, .. } => Some(ratio <= TARGET_RATIO),
            _ => None,
        }
    }
}

impl Row {
    /// Our median over the best peer's median.
    pub fn verdict(&self) -> Verdict {
        let units = self.workload.units();
        let best = self
            .cells
            .iter()
            .filter(|c| !c.is_ours)
            .map(|c| (c.summary.median_ns_per_unit(units), c.runtime))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let ours = self.cells.iter().find(|c| c.is_ours);
        match (ours, best) {
            (None, _) => Verdict::OursNotWired,
            (Some(_), None) => Verdict::NoPeer,
            (Some(ours), Some((best_ns, best_peer))) => Verdict::Ratio {
                ratio: ours.summary.median_ns_per_unit(units) / best_ns,
                best_peer,
            },
        }
    }
}

/// Formats ns per unit with three significant digits or so.
fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.1}")
    }
}

/// Renders the rows as one Markdown table (aligned, so it also reads as
/// plain text). Runtime columns follow the first row's contender order.
pub fn render(rows: &[Row]) -> String {
    let runtimes: Vec<&'static str> = rows
        .first()
        .map(|r| r.cells.iter().map(|c| c.runtime).collect())
        .unwrap_or_default();
    let mut header = vec!["workload".to_string(), "unit".to_string()];
    header.extend(runtimes.iter().map(|r| format!("{r} ns")));
    header.extend(["ours / best peer".into(), "target".into(), "mark".into()]);

    let mut table = vec![header];
    for row in rows {
        let units = row.workload.units();
        let mut line = vec![
            row.workload.name().to_string(),
            row.workload.unit().to_string(),
        ];
        for name in &runtimes {
            let cell = row.cells.iter().find(|c| c.runtime == *name);
            line.push(cell.map_or("-".into(), |c| fmt_ns(c.summary.median_ns_per_unit(units))));
        }
        let verdict = row.verdict();
        line.push(match verdict {
            Verdict::Ratio { ratio, best_peer } => format!("{ratio:.2} (vs {best_peer})"),
            Verdict::OursNotWired => "ours: not wired yet".into(),
            Verdict::NoPeer => "no peer".into(),
        });
        line.push(format!("<= {TARGET_RATIO:.2}"));
        line.push(
            match verdict.passes() {
                Some(true) => "pass",
                Some(false) => "MISS",
                None => "-",
            }
            .into(),
        );
        table.push(line);
    }

    // Text columns (workload, unit, ratio, target, mark) left, numbers right.
    layout(&table, |i| i >= 2 && i < 2 + runtimes.len())
}

/// Lays `table` (header first) out as an aligned Markdown table; columns
/// for which `numeric` holds are right-aligned. Widths count characters, so
/// `µs` aligns.
fn layout(table: &[Vec<String>], numeric: impl Fn(usize) -> bool) -> String {
    let Some(header) = table.first() else {
        return String::new();
    };
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            table
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, line) in table.iter().enumerate() {
        out.push('|');
        for (i, field) in line.iter().enumerate() {
            let w = widths[i];
            if numeric(i) {
                let _ = write!(out, " {field:>w$} |");
            } else {
                let _ = write!(out, " {field:<w$} |");
            }
        }
        out.push('\n');
        if n == 0 {
            out.push('|');
            for (i, w) in widths.iter().enumerate() {
                let dashes = "-".repeat(*w);
                if numeric(i) {
                    let _ = write!(out, " {}: |", &dashes[1..]);
                } else {
                    let _ = write!(out, " {dashes} |");
                }
            }
            out.push('\n');
        }
    }
    out
}

/// One runtime's figure in a [`MetricRow`].
#[derive(Clone, Debug, PartialEq)]
pub struct MetricCell {
    /// The runtime's name.
    pub runtime: &'static str,
    /// Whether this is our runtime (the ratio's numerator).
    pub is_ours: bool,
    /// The figure, in the row's unit; lower is better.
    pub value: f64,
}

/// One line of the latency-and-idle table: one figure per runtime, in one
/// unit, lower is better.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// The probe that measured it.
    pub probe: Probe,
    /// What the figure is (e.g. "lateness p99").
    pub measure: String,
    /// The figure's unit (e.g. "µs").
    pub unit: &'static str,
    /// One cell per runtime, in contender order.
    pub cells: Vec<MetricCell>,
    /// Our figure must stay below this, if the row has a target.
    pub target_below: Option<f64>,
    /// Our figure over the best peer's must stay at or below this, if the row has such a target
    /// (the IO rows: wall time at most 0.9x, p99 latency below the peer's).
    pub ratio_below: Option<f64>,
}

impl MetricRow {
    /// Our figure over the best (lowest) peer's, and that peer; `None`
    /// without ours, without a peer, or when the best peer's figure is 0.
    pub fn ratio(&self) -> Option<(f64, &'static str)> {
        let ours = self.cells.iter().find(|c| c.is_ours)?;
        let best = self
            .cells
            .iter()
            .filter(|c| !c.is_ours)
            .min_by(|a, b| a.value.total_cmp(&b.value))?;
        (best.value > 0.0).then(|| (ours.value / best.value, best.runtime))
    }

    /// Whether our figure is below the target; `None` without a target or
    /// without ours.
    pub fn passes(&self) -> Option<bool> {
        if let Some(limit) = self.ratio_below {
            let (ratio, _) = self.ratio()?;
            return Some(if limit >= 1.0 {
                ratio < limit
            } else {
                ratio <= limit
            });
        }
        let target = self.target_below?;
        let ours = self.cells.iter().find(|c| c.is_ours)?;
        Some(ours.value < target)
    }
}

/// Formats a figure with about three significant digits.
pub fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Renders the latency-and-idle rows as one aligned Markdown table.
/// Runtime columns follow the first row's contender order.
pub fn render_metrics(rows: &[MetricRow]) -> String {
    let runtimes: Vec<&'static str> = rows
        .first()
        .map(|r| r.cells.iter().map(|c| c.runtime).collect())
        .unwrap_or_default();
    let mut header = vec!["row".to_string(), "measure".to_string(), "unit".to_string()];
    header.extend(runtimes.iter().map(|r| r.to_string()));
    header.extend(["ours / best peer".into(), "target".into(), "mark".into()]);

    let mut table = vec![header];
    for row in rows {
        let mut line = vec![
            row.probe.name().to_string(),
            row.measure.clone(),
            row.unit.to_string(),
        ];
        for name in &runtimes {
            let cell = row.cells.iter().find(|c| c.runtime == *name);
            line.push(cell.map_or("-".into(), |c| fmt_value(c.value)));
        }
        line.push(match row.ratio() {
            Some((ratio, best_peer)) => format!("{ratio:.2} (vs {best_peer})"),
            None if row.cells.iter().all(|c| !c.is_ours) => "ours: not wired yet".into(),
            None => "-".into(),
        });
        line.push(match (row.target_below, row.ratio_below) {
            (Some(t), _) => format!("< {t}"),
            (None, Some(r)) if r >= 1.0 => "ratio < 1".into(),
            (None, Some(r)) => format!("ratio <= {r}"),
            (None, None) => "-".into(),
        });
        line.push(
            match row.passes() {
                Some(true) => "pass",
                Some(false) => "MISS",
                None => "-",
            }
            .into(),
        );
        table.push(line);
    }
    layout(&table, |i| i >= 3 && i < 3 + runtimes.len())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cell(runtime: &'static str, is_ours: bool, median_us: u64) -> Cell {
        let d = Duration::from_micros(median_us);
        Cell {
            runtime,
            is_ours,
            summary: Summary {
                runs: 1,
                min: d,
                median: d,
                max: d,
            },
        }
    }

    #[test]
    fn ratio_is_against_the_better_peer() {
        let row = Row {
            workload: Workload::ChainedSpawn,
            cells: vec![
                cell("ours", true, 50),
                cell("a", false, 200),
                cell("b", false, 100),
            ],
        };
        let Verdict::Ratio { ratio, best_peer } = row.verdict() else {
            panic!("expected a ratio, got {:?}", row.verdict());
        };
        assert!((ratio - 0.5).abs() < 1e-9, "ratio {ratio}");
        assert_eq!(best_peer, "b");
        assert_eq!(row.verdict().passes(), Some(true));
    }

    #[test]
    fn slower_than_target_misses() {
        let row = Row {
            workload: Workload::ChainedSpawn,
            cells: vec![cell("ours", true, 61), cell("a", false, 100)],
        };
        assert_eq!(row.verdict().passes(), Some(false));
        assert!(render(&[row]).contains("MISS"));
    }

    #[test]
    fn without_ours_the_table_says_so() {
        let row = Row {
            workload: Workload::PingPongSeq,
            cells: vec![
                cell("tokio", false, 210),
                cell("async-executor", false, 250),
            ],
        };
        assert_eq!(row.verdict(), Verdict::OursNotWired);
        let table = render(&[row]);
        assert!(table.contains("ours: not wired yet"), "{table}");
        assert!(
            table.contains("| 210 |") || table.contains(" 210 |"),
            "{table}"
        );
    }

    fn metric(values: &[(&'static str, bool, f64)], target_below: Option<f64>) -> MetricRow {
        MetricRow {
            probe: Probe::IdleCpu,
            measure: "no timers".into(),
            unit: "ms CPU / 2 s",
            cells: values
                .iter()
                .map(|&(runtime, is_ours, value)| MetricCell {
                    runtime,
                    is_ours,
                    value,
                })
                .collect(),
            target_below,
            ratio_below: None,
        }
    }

    #[test]
    fn metric_ratio_is_against_the_lowest_peer() {
        let row = metric(
            &[("ours", true, 3.0), ("a", false, 12.0), ("b", false, 6.0)],
            Some(5.0),
        );
        let (ratio, best) = row.ratio().expect("a ratio");
        assert!((ratio - 0.5).abs() < 1e-9, "ratio {ratio}");
        assert_eq!(best, "b");
        assert_eq!(row.passes(), Some(true));
        let table = render_metrics(&[row]);
        assert!(
            table.contains("0.50 (vs b)") && table.contains("pass"),
            "{table}"
        );
    }

    #[test]
    fn metric_target_misses_and_zero_peers_have_no_ratio() {
        let row = metric(&[("ours", true, 5.0), ("a", false, 0.0)], Some(5.0));
        assert_eq!(row.ratio(), None);
        assert_eq!(row.passes(), Some(false));
        let table = render_metrics(&[row]);
        assert!(table.contains("MISS") && table.contains("< 5"), "{table}");
    }

    #[test]
    fn metric_table_aligns_micro_signs() {
        let mut row = metric(&[("ours", true, 12.5), ("tokio", false, 1234.0)], None);
        row.unit = "µs";
        let table = render_metrics(&[row]);
        let widths: Vec<usize> = table.lines().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
        assert!(
            table.contains("| 12.5 |") && table.contains("1234"),
            "{table}"
        );
        assert!(
            !table.contains("pass") && !table.contains("MISS"),
            "no target, no mark: {table}"
        );
    }
}
