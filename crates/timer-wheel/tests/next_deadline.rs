//! `next_deadline()` (the park timeout) and `len` / `is_empty`.

use timer_wheel::{TimerWheel, LEVELS};

#[test]
fn none_when_empty() {
    let mut wheel: TimerWheel<()> = TimerWheel::new();
    assert_eq!(wheel.next_deadline(), None);
    let id = wheel.insert(1_000_000_000, ());
    assert!(wheel.next_deadline().is_some());
    wheel.cancel(id);
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn exact_for_a_level_zero_timer_and_rounded_up_to_the_tick() {
    let tick = 1 << 10;
    let mut wheel = TimerWheel::with_tick(tick).unwrap();
    wheel.insert(100 * tick, 'a');
    assert_eq!(wheel.next_deadline(), Some(100 * tick));
    wheel.insert(50 * tick + 1, 'b'); // rounds up to tick 51
    assert_eq!(wheel.next_deadline(), Some(51 * tick));
}

#[test]
fn follows_cancel_of_the_earliest() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let first = wheel.insert(10, 'a');
    wheel.insert(20, 'b');
    assert_eq!(wheel.next_deadline(), Some(10));
    wheel.cancel(first);
    assert_eq!(wheel.next_deadline(), Some(20));
}

#[test]
fn never_later_than_the_earliest_deadline_and_converges_by_parking() {
    // A runtime parks until next_deadline, then advances. For a far timer that is a cascade
    // point first; each step must be <= the deadline, make progress, and the timer must fire
    // exactly at its deadline after at most LEVELS + 1 wake-ups.
    for deadline in [7, 5_000, 3 * 1024 * 1024 + 11, 5 << 30, 3 << 31] {
        let mut wheel = TimerWheel::with_tick(1).unwrap();
        wheel.insert(deadline, deadline);
        let mut wakeups = 0;
        let mut last = 0;
        loop {
            let next = wheel.next_deadline().expect("timer still pending");
            assert!(next <= deadline, "{next} is after the deadline {deadline}");
            assert!(next >= last, "next_deadline went backwards");
            last = next;
            wakeups += 1;
            let mut fired = Vec::new();
            wheel.advance(next, |v| fired.push(v));
            if !fired.is_empty() {
                assert_eq!(fired, [deadline]);
                assert_eq!(next, deadline, "fired at the exact deadline");
                break;
            }
            assert!(wakeups <= LEVELS + 1, "too many wake-ups for {deadline}");
        }
        assert_eq!(wheel.next_deadline(), None);
    }
}

#[test]
fn past_deadline_reports_the_current_tick_and_fires_on_the_next_advance() {
    let tick = 1 << 20;
    let mut wheel = TimerWheel::with_tick(tick).unwrap();
    let now = 10_000 * tick + 12_345;
    wheel.advance(now, drop::<&str>);
    wheel.insert(3 * tick, "late");
    let current = now / tick * tick;
    assert_eq!(wheel.current_ns(), current);
    assert_eq!(
        wheel.next_deadline(),
        Some(current),
        "clamped to now's tick"
    );
    let mut fired = Vec::new();
    wheel.advance(now, |v| fired.push(v)); // same `now`: still fires
    assert_eq!(fired, ["late"]);
    assert_eq!(wheel.next_deadline(), None);
}

#[test]
fn due_timers_not_yet_handed_out_report_the_current_tick() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    wheel.insert(5, 1);
    wheel.insert(5, 2);
    wheel.insert(900, 3);
    assert!(wheel.poll_expired(50).is_some());
    // One due value is still waiting: the wheel has work now.
    assert_eq!(wheel.next_deadline(), Some(5));
    assert!(wheel.poll_expired(50).is_some());
    assert_eq!(wheel.poll_expired(50), None);
    assert_eq!(wheel.next_deadline(), Some(900));
}

#[test]
fn len_and_is_empty_track_every_transition() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    assert!(wheel.is_empty());
    assert_eq!(wheel.len(), 0);
    let ids: Vec<_> = [5, 5_000, 5_000_000, 5 << 31]
        .iter()
        .map(|&d| wheel.insert(d, d))
        .collect();
    assert_eq!(wheel.len(), 4);
    assert!(!wheel.is_empty());
    wheel.cancel(ids[2]);
    assert_eq!(wheel.len(), 3);
    wheel.advance(5, drop);
    assert_eq!(wheel.len(), 2);
    wheel.cancel(ids[2]); // already cancelled: no change
    wheel.cancel(ids[0]); // already fired: no change
    assert_eq!(wheel.len(), 2);
    // A due value not yet handed out still counts.
    wheel.insert(6, 6);
    let due = wheel.poll_expired(5_000).unwrap();
    assert!(due == 6 || due == 5_000);
    assert_eq!(wheel.len(), 2);
    wheel.advance(u64::MAX, drop);
    assert_eq!(wheel.len(), 0);
    assert!(wheel.is_empty());
}
