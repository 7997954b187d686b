//! How much CPU other processes (and the hypervisor's steal) take while the
//! race runs, read from Linux `/proc`, so a table measured on a busy machine
//! says so. Returns `None` where `/proc` is unavailable.

use std::time::{Duration, Instant};

/// `/proc/stat` and `/proc/self/stat` count in USER_HZ ticks, which Linux
/// fixes at 100 per second for user space.
const TICKS_PER_SEC: f64 = 100.0;

/// CPU counters at one instant.
#[derive(Clone, Copy, Debug)]
pub struct CpuSnapshot {
    at: Instant,
    /// Non-idle ticks of the whole machine (user, nice, system, irq,
    /// softirq, steal).
    busy: u64,
    /// This process's user plus system ticks.
    own: u64,
}

impl CpuSnapshot {
    /// Reads the counters now.
    pub fn take() -> Option<CpuSnapshot> {
        let busy = machine_busy_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
        let own = process_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(CpuSnapshot {
            at: Instant::now(),
            busy,
            own,
        })
    }

    /// Average number of cores that everything except this process used
    /// between `self` and now.
    pub fn other_cores_since(&self) -> Option<f64> {
        let now = CpuSnapshot::take()?;
        let wall = now.at.duration_since(self.at).as_secs_f64();
        if wall <= 0.0 {
            return None;
        }
        let busy = now.busy.saturating_sub(self.busy);
        let own = now.own.saturating_sub(self.own);
        Some(busy.saturating_sub(own) as f64 / TICKS_PER_SEC / wall)
    }
}

/// Non-idle ticks from the `cpu ` line of `/proc/stat`: user, nice, system,
/// irq, softirq and steal (not idle, not iowait).
fn machine_busy_ticks(proc_stat: &str) -> Option<u64> {
    let fields: Vec<u64> = proc_stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    [0, 1, 2, 5, 6, 7].iter().map(|&i| fields.get(i)).sum()
}

/// utime plus stime from a `/proc/PID/stat` line: fields 14 and 15, i.e.
/// the 12th and 13th after the `(comm)` field (which may hold spaces).
fn process_ticks(pid_stat: &str) -> Option<u64> {
    let after_comm = &pid_stat[pid_stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Samples for `window` while this process idles and returns the cores
/// other processes used meanwhile.
pub fn others_while_idle(window: Duration) -> Option<f64> {
    let start = CpuSnapshot::take()?;
    std::thread::sleep(window);
    start.other_cores_since()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_busy_fields() {
        let stat = "cpu  100 2 30 9000 7 4 5 6 0 0\ncpu0 50 1 15 4500 3 2 2 3 0 0\n";
        assert_eq!(machine_busy_ticks(stat), Some(100 + 2 + 30 + 4 + 5 + 6));
        assert_eq!(machine_busy_ticks("intr 1 2 3\n"), None);
    }

    #[test]
    fn parses_process_ticks_after_a_tricky_comm() {
        let line = "4242 (race (x) y) R 1 2 3 4 5 6 7 8 9 10 123 45 0 0 20 0 3 0 99";
        assert_eq!(process_ticks(line), Some(123 + 45));
        assert_eq!(process_ticks("4242 (race) R 1 2"), None);
    }

    #[test]
    fn own_ticks_grow_while_this_process_spins() {
        let Some(start) = CpuSnapshot::take() else {
            return; // no /proc on this platform: nothing to read
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        loop {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            let now = CpuSnapshot::take().expect("/proc readable twice");
            if now.own >= start.own + 5 {
                assert!(
                    now.busy >= start.busy + 5,
                    "machine busy must include our ticks"
                );
                break;
            }
            assert!(Instant::now() < deadline, "own CPU ticks never grew");
        }
        assert!(start.other_cores_since().is_some());
    }
}
