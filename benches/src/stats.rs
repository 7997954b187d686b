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

/// The `q` quantile (`0.0..=1.0`) of `sorted` (ascending) by nearest rank:
/// the smallest sample with at least a fraction `q` of the samples at or
/// below it. `None` if there are no samples.
pub fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Median and 99th percentile of many samples (latencies, lateness).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    /// Number of samples.
    pub samples: usize,
    /// The 0.5 [`quantile`].
    pub median: Duration,
    /// The 0.99 [`quantile`].
    pub p99: Duration,
}

impl Percentiles {
    /// Sorts `samples` and takes its percentiles; `None` if it is empty.
    pub fn of(samples: &mut [Duration]) -> Option<Percentiles> {
        samples.sort_unstable();
        Some(Percentiles {
            samples: samples.len(),
            median: quantile(samples, 0.5)?,
            p99: quantile(samples, 0.99)?,
        })
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
    fn quantiles_by_nearest_rank() {
        let sorted: Vec<Duration> = (1..=200).map(ms).collect();
        assert_eq!(quantile(&sorted, 0.5), Some(ms(100)));
        assert_eq!(quantile(&sorted, 0.99), Some(ms(198)));
        assert_eq!(quantile(&sorted, 0.0), Some(ms(1)));
        assert_eq!(quantile(&sorted, 1.0), Some(ms(200)));
        assert_eq!(quantile(&[ms(7)], 0.99), Some(ms(7)));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn percentiles_sort_first() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let p = Percentiles::of(&mut samples).unwrap();
        assert_eq!((p.samples, p.median, p.p99), (100, ms(50), ms(99)));
        assert_eq!(Percentiles::of(&mut []), None);
    }

    #[test]
    fn per_unit_divides() {
        assert_eq!(ns_per_unit(Duration::from_micros(250), 1000), 250.0);
    }
}
