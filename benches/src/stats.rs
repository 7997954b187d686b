//! Order statistics over the timed runs of one cell.

use std::time::Duration;

/// Summary of the timed runs of one cell (one workload on one runtime).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of timed runs.
    pub runs: usize,
    /// Fastest run.
    pub min: Duration,
    /// Median run (mean of the two middle runs for an even count).
    pub median: Duration,
    /// Slowest run.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples`; `None` if there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        };
        Some(Summary {
            runs: n,
            min: sorted[0],
            median,
            max: sorted[n - 1],
        })
    }

    /// The median divided by `units`, in nanoseconds per unit.
    pub fn median_ns_per_unit(&self, units: usize) -> f64 {
        ns_per_unit(self.median, units)
    }
}

/// `d` divided by `units`, in nanoseconds per unit.
pub fn ns_per_unit(d: Duration, units: usize) -> f64 {
    d.as_secs_f64() * 1e9 / units as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn odd_count_takes_the_middle() {
        let s = Summary::of(&[ms(9), ms(1), ms(5)]).unwrap();
        assert_eq!((s.runs, s.min, s.median, s.max), (3, ms(1), ms(5), ms(9)));
    }

    #[test]
    fn even_count_averages_the_two_middles() {
        let s = Summary::of(&[ms(4), ms(1), ms(2), ms(100)]).unwrap();
        assert_eq!(s.median, ms(3));
    }

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn per_unit_divides() {
        assert_eq!(ns_per_unit(Duration::from_micros(250), 1000), 250.0);
    }
}
