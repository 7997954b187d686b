//! Bad input has documented behaviour: invalid ticks are typed errors naming the field and
//! its range; past deadlines fire on the next advance; time going backwards fires nothing
//! early; extreme deadlines are neither lost nor early.

use timer_wheel::{TimerWheel, TimerWheelError, MAX_TICK_NS, MIN_TICK_NS};

#[test]
fn zero_tick_is_rejected() {
    let err = TimerWheel::<()>::with_tick(0).unwrap_err();
    assert_eq!(err, TimerWheelError::InvalidTick { tick_ns: 0 });
}

#[test]
fn non_power_of_two_ticks_are_rejected() {
    for tick in [3, 1_000, 1_000_000, (1 << 20) + 1, u64::MAX] {
        let err = TimerWheel::<()>::with_tick(tick).unwrap_err();
        assert_eq!(err, TimerWheelError::InvalidTick { tick_ns: tick });
    }
}

#[test]
fn ticks_above_the_maximum_are_rejected() {
    for tick in [MAX_TICK_NS << 1, 1 << 63] {
        assert!(TimerWheel::<()>::with_tick(tick).is_err(), "{tick}");
    }
}

#[test]
fn the_whole_allowed_range_is_accepted() {
    let mut tick = MIN_TICK_NS;
    while tick <= MAX_TICK_NS {
        let wheel = TimerWheel::<()>::with_tick(tick).unwrap();
        assert_eq!(wheel.tick_ns(), tick);
        tick <<= 1;
    }
    assert_eq!(
        TimerWheel::<()>::new().tick_ns(),
        timer_wheel::DEFAULT_TICK_NS
    );
}

#[test]
fn error_message_names_the_field_and_its_range() {
    let err = TimerWheel::<()>::with_tick(1_000).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("tick_ns"), "{msg}");
    assert!(msg.contains("1000"), "{msg}");
    assert!(msg.contains("power of two"), "{msg}");
    assert!(
        msg.contains(&format!("{MIN_TICK_NS}..={MAX_TICK_NS}")),
        "{msg}"
    );
    let as_error: &dyn std::error::Error = &err;
    assert!(as_error.source().is_none());
}

#[test]
fn past_deadline_fires_on_the_next_advance() {
    let mut wheel = TimerWheel::with_tick(1 << 20).unwrap();
    wheel.advance(5_000_000_000, drop::<u8>);
    wheel.insert(0, 1);
    wheel.insert(4_999_999_999, 2);
    let mut fired: Vec<u8> = wheel.drain_expired(5_000_000_000).collect();
    fired.sort_unstable();
    assert_eq!(fired, [1, 2]);
}

#[test]
fn deadline_zero_on_a_new_wheel_fires_at_time_zero() {
    let mut wheel = TimerWheel::new();
    wheel.insert(0, 'z');
    assert_eq!(wheel.next_deadline(), Some(0));
    assert_eq!(wheel.poll_expired(0), Some('z'));
}

#[test]
fn time_going_backwards_fires_nothing_early() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    wheel.advance(1_000, drop::<char>);
    wheel.insert(1_500, 'a');
    assert_eq!(
        wheel.advance(10, drop),
        0,
        "an older `now` is the current time"
    );
    assert_eq!(wheel.current_ns(), 1_000);
    assert_eq!(wheel.poll_expired(1_499), None);
    assert_eq!(wheel.poll_expired(1_500), Some('a'));
}

#[test]
fn deadlines_near_u64_max_fire_only_at_the_end_of_time() {
    let tick = 1 << 20;
    let mut wheel = TimerWheel::with_tick(tick).unwrap();
    wheel.insert(u64::MAX, 'm');
    wheel.insert(u64::MAX - 1, 'n');
    wheel.insert(u64::MAX - tick, 'o'); // due at the last tick boundary, MAX - tick + 1
    let mut fired = Vec::new();
    wheel.advance(u64::MAX - tick - 1, |v| fired.push(v));
    assert!(fired.is_empty());
    assert_eq!(wheel.next_deadline(), Some(u64::MAX - tick + 1));
    wheel.advance(u64::MAX - 1, |v| fired.push(v));
    assert_eq!(fired, ['o'], "n and m are not due before u64::MAX");
    assert_eq!(wheel.next_deadline(), Some(u64::MAX));
    wheel.advance(u64::MAX, |v| fired.push(v));
    fired.sort_unstable();
    assert_eq!(fired, ['m', 'n', 'o']);
    assert!(wheel.is_empty());
    // After the end of time everything inserted is due at once.
    wheel.insert(3, 'p');
    assert_eq!(wheel.next_deadline(), Some(u64::MAX));
    assert_eq!(wheel.poll_expired(0), Some('p'));
}
