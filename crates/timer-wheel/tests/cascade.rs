//! Cascade boundaries: deadlines exactly at, one tick before and one tick after the span of
//! each level (and of the whole wheel), measured both from time 0 and from an unaligned
//! start. Each timer must stay pending 1 ns before its deadline and fire exactly at it.

use timer_wheel::{TimerWheel, LEVELS};

/// Advances to 1 ns before and then exactly to each deadline (all multiples of the tick) and
/// checks that precisely the timers due by then have fired, in deadline order.
fn assert_fires_exactly_at(wheel: &mut TimerWheel<u64>, mut deadlines: Vec<u64>) {
    deadlines.sort_unstable();
    let mut fired = Vec::new();
    for &d in &deadlines {
        wheel.advance(d - 1, |v| fired.push(v));
        assert!(
            fired.iter().all(|&f| f < d),
            "a timer fired at {} before its deadline: {fired:?}",
            d - 1
        );
        wheel.advance(d, |v| fired.push(v));
        assert_eq!(
            fired.last(),
            Some(&d),
            "timer {d} did not fire at its deadline"
        );
    }
    assert_eq!(
        fired, deadlines,
        "every timer fires once, in deadline order"
    );
    assert!(wheel.is_empty());
}

fn boundaries(start: u64, span: u64, tick: u64) -> Vec<u64> {
    vec![start + span - tick, start + span, start + span + tick]
}

fn check_level_boundaries(tick: u64, start: u64) {
    for level in 0..=LEVELS {
        let mut wheel = TimerWheel::with_tick(tick).unwrap();
        wheel.advance(start, |_| unreachable!("empty wheel"));
        // Level LEVELS means "the whole wheel": just past it is the overflow list.
        let span = if level < LEVELS {
            wheel.level_span_ns(level).unwrap()
        } else {
            wheel.level_span_ns(LEVELS - 1).unwrap()
        };
        let mut deadlines = boundaries(start, span, tick);
        if level == LEVELS {
            deadlines.extend(boundaries(start, 3 * span, tick));
        }
        // Aligned boundaries (where the level's digit rolls over) around the same span.
        let aligned = (start / span + 1) * span;
        deadlines.extend([aligned - tick, aligned, aligned + tick]);
        deadlines.sort_unstable();
        deadlines.dedup();
        for &d in &deadlines {
            wheel.insert(d, d);
        }
        assert_eq!(wheel.len(), deadlines.len());
        let before = wheel.stats();
        assert_fires_exactly_at(&mut wheel, deadlines.clone());
        let stats = wheel.stats();
        assert_eq!(stats.fired - before.fired, deadlines.len() as u64);
        if level >= 1 {
            assert!(
                stats.entries_cascaded > 0,
                "level {level}: nothing cascaded"
            );
        }
        if level == LEVELS {
            assert!(
                stats.overflow_scans > 0,
                "beyond the wheel: overflow never scanned"
            );
        }
    }
}

#[test]
fn boundaries_from_time_zero_with_1ns_ticks() {
    check_level_boundaries(1, 0);
}

#[test]
fn boundaries_from_an_unaligned_start_with_1ns_ticks() {
    check_level_boundaries(1, 1_234_567);
}

#[test]
fn boundaries_with_the_default_tick() {
    let tick = timer_wheel::DEFAULT_TICK_NS;
    check_level_boundaries(tick, 0);
    check_level_boundaries(tick, 777 * tick + 1024 * 1024 * tick * 5);
}

#[test]
fn boundaries_with_a_mid_size_tick() {
    check_level_boundaries(1 << 7, (1 << 7) * 1_000_003);
}

#[test]
fn deadline_far_beyond_the_top_level_is_held_not_dropped_or_fired_early() {
    let tick = 1u64 << 20;
    let mut wheel = TimerWheel::with_tick(tick).unwrap();
    let top = wheel.level_span_ns(LEVELS - 1).unwrap();
    let far = 10 * top + 12_345 * tick + 17; // not a tick multiple: fires at the next tick
    wheel.insert(far, 1u8);
    wheel.insert(far + top / 2, 2u8);
    let mut fired = Vec::new();
    wheel.advance(far - 1, |v| fired.push(v));
    assert!(fired.is_empty(), "fired early");
    assert_eq!(wheel.len(), 2);
    let due = far.div_ceil(tick) * tick;
    wheel.advance(due - 1, |v| fired.push(v));
    assert!(fired.is_empty(), "fired before its tick");
    wheel.advance(due, |v| fired.push(v));
    assert_eq!(fired, [1]);
    wheel.advance(far + top, |v| fired.push(v));
    assert_eq!(fired, [1, 2]);
}

#[test]
fn cascaded_timers_keep_their_ids() {
    // The reference design re-created ids when cascading; here an id stays valid while the
    // timer moves down levels, and cancelling it after cascades still works.
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let span1 = wheel.level_span_ns(1).unwrap();
    let id = wheel.insert(3 * span1 + 5, 'x');
    let other = wheel.insert(3 * span1 + 9, 'y');
    wheel.advance(3 * span1 + 1, |_| panic!("nothing is due yet"));
    assert!(
        wheel.stats().entries_cascaded >= 2,
        "the timers must have cascaded"
    );
    assert!(wheel.contains(id));
    assert_eq!(wheel.cancel(id), Some('x'));
    let mut fired = Vec::new();
    wheel.advance(3 * span1 + 9, |v| fired.push(v));
    assert_eq!(fired, ['y']);
    assert!(!wheel.contains(other));
}
