//! Long virtual spans stay cheap: the work counted by `WheelStats` (slots processed, timers
//! cascaded, overflow timers scanned) is bounded by a small multiple of levels × timers and
//! does not grow with the billions of ticks that elapse. No wall-clock timing is asserted.

use timer_wheel::{TimerWheel, DEFAULT_TICK_NS, LEVELS};

const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// A handful of deadlines from a second to 40 days (the default wheel spans ~13 days, so the
/// last ones start in the overflow list).
fn deadlines() -> Vec<u64> {
    vec![
        SECOND,
        MINUTE + 7,
        HOUR,
        DAY + 3 * HOUR,
        3 * DAY,
        9 * DAY + 1,
        20 * DAY,
        40 * DAY + 5 * MINUTE,
    ]
}

/// Work allowed for `timers` timers: each is cascaded at most once per level, its slots are
/// taken at most once per level, and it is scanned a few times in the overflow list.
fn work_bound(timers: usize) -> u64 {
    (2 * LEVELS as u64 + 2) * timers as u64
}

#[test]
fn stepping_through_sixty_days_costs_work_per_timer_not_per_tick() {
    let mut wheel = TimerWheel::with_tick(DEFAULT_TICK_NS).unwrap();
    let deadlines = deadlines();
    for (i, &d) in deadlines.iter().enumerate() {
        wheel.insert(d, i);
    }
    let step = if cfg!(miri) { 6 * HOUR } else { 10 * SECOND };
    let end = 60 * DAY;
    let mut fired_at = vec![None; deadlines.len()];
    let mut calls = 0u64;
    let mut now = 0;
    while now < end {
        now += step;
        calls += 1;
        wheel.advance(now, |i| {
            assert!(fired_at[i].is_none(), "timer {i} fired twice");
            fired_at[i] = Some(now);
        });
    }
    for (i, &d) in deadlines.iter().enumerate() {
        let at = fired_at[i].unwrap_or_else(|| panic!("timer {i} (deadline {d}) never fired"));
        assert!(at >= d, "timer {i} fired early");
        assert!(
            at < d + step + DEFAULT_TICK_NS,
            "timer {i} fired late: {at} for {d}"
        );
    }
    let stats = wheel.stats();
    let ticks = end / DEFAULT_TICK_NS;
    assert!(
        ticks > 4_000_000_000,
        "the span must cover billions of ticks"
    );
    assert!(
        stats.work() <= work_bound(deadlines.len()),
        "work {} for {} timers over {ticks} ticks: {stats:?}",
        stats.work(),
        deadlines.len()
    );
    // One O(LEVELS) bitmap lookup per call plus one per piece of work, whatever the span.
    assert!(stats.expiration_lookups <= calls + stats.slots_processed + stats.overflow_scans);
    assert_eq!(stats.fired, deadlines.len() as u64);
}

#[test]
fn one_jump_across_sixty_days_costs_work_per_timer_not_per_tick() {
    let mut wheel = TimerWheel::with_tick(DEFAULT_TICK_NS).unwrap();
    let deadlines = deadlines();
    for (i, &d) in deadlines.iter().enumerate() {
        wheel.insert(d, i);
    }
    let mut fired = Vec::new();
    wheel.advance(60 * DAY, |i| fired.push(i));
    assert_eq!(
        fired,
        (0..deadlines.len()).collect::<Vec<_>>(),
        "deadline order"
    );
    let stats = wheel.stats();
    assert!(stats.work() <= work_bound(deadlines.len()), "{stats:?}");
}

#[test]
fn a_periodic_timer_over_days_costs_work_per_firing() {
    // A 1-minute heartbeat re-armed each time it fires, for 30 days, beside a far timer.
    let mut wheel = TimerWheel::with_tick(DEFAULT_TICK_NS).unwrap();
    let far = wheel.insert(25 * DAY, u64::MAX);
    let period = if cfg!(miri) { 12 * HOUR } else { MINUTE };
    let mut deadline = period;
    wheel.insert(deadline, 0);
    let mut firings = 0u64;
    let end = 30 * DAY;
    while deadline <= end {
        let next = wheel.next_deadline().expect("the heartbeat is pending");
        let mut rearm = false;
        wheel.advance(next, |v| {
            if v == u64::MAX {
                return;
            }
            assert!(next >= deadline, "heartbeat fired early");
            assert!(next < deadline + DEFAULT_TICK_NS, "heartbeat fired late");
            firings += 1;
            rearm = true;
        });
        if rearm {
            deadline += period;
            wheel.insert(deadline, firings);
        }
    }
    assert_eq!(firings, end / period);
    assert!(!wheel.contains(far), "the far timer fired on the way");
    let stats = wheel.stats();
    assert!(
        stats.work() <= work_bound(firings as usize + 2),
        "{stats:?}"
    );
}
