//! Cancel semantics: after fire, twice, with stale ids whose slab entry was reused, while
//! due-but-not-yet-handed-out, and `reschedule` with the same rules.

use std::rc::Rc;

use timer_wheel::{TimerId, TimerWheel};

/// The slab index part of an id (low 32 bits of its packed form).
fn index_of(id: TimerId) -> u32 {
    id.to_u64() as u32
}

#[test]
fn cancel_after_fire_returns_none() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let id = wheel.insert(10, "a");
    assert_eq!(wheel.advance(10, drop), 1);
    assert!(!wheel.contains(id));
    assert_eq!(wheel.cancel(id), None);
}

#[test]
fn double_cancel_returns_none() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let id = wheel.insert(10, "a");
    let keep = wheel.insert(10, "b");
    assert_eq!(wheel.cancel(id), Some("a"));
    assert_eq!(wheel.cancel(id), None);
    assert_eq!(wheel.len(), 1);
    let mut fired = Vec::new();
    wheel.advance(10, |v| fired.push(v));
    assert_eq!(fired, ["b"]);
    assert!(!wheel.contains(keep));
}

#[test]
fn stale_cancelled_id_does_not_cancel_the_reused_entry() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let old = wheel.insert(10, "old");
    assert_eq!(wheel.cancel(old), Some("old"));
    let new = wheel.insert(20, "new");
    assert_eq!(
        index_of(new),
        index_of(old),
        "test needs the entry to be reused"
    );
    assert_ne!(new, old);
    assert_eq!(
        wheel.cancel(old),
        None,
        "stale id must not reach the new timer"
    );
    assert!(
        !wheel.reschedule(old, 5),
        "stale id must not move the new timer"
    );
    assert!(wheel.contains(new));
    let mut fired = Vec::new();
    wheel.advance(19, |v| fired.push(v));
    assert!(fired.is_empty());
    wheel.advance(20, |v| fired.push(v));
    assert_eq!(fired, ["new"]);
}

#[test]
fn stale_fired_id_does_not_cancel_the_reused_entry() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let old = wheel.insert(10, 1);
    assert_eq!(wheel.advance(10, drop), 1);
    // A burst of reuse: the entry goes through many generations.
    let mut last = None;
    for round in 0..5 {
        let id = wheel.insert(1_000 + round, 2);
        assert_eq!(
            index_of(id),
            index_of(old),
            "test needs the entry to be reused"
        );
        assert_eq!(wheel.cancel(old), None);
        if let Some(prev) = last {
            assert_eq!(wheel.cancel(prev), None);
        }
        if round < 4 {
            assert_eq!(wheel.cancel(id), Some(2));
        }
        last = Some(id);
    }
    let mut fired = Vec::new();
    wheel.advance(2_000, |v| fired.push(v));
    assert_eq!(
        fired,
        [2],
        "the latest timer in the reused entry still fires"
    );
}

#[test]
fn ids_never_issued_are_rejected() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let id = wheel.insert(10, 'a');
    let forged = TimerId::from_u64(id.to_u64() + (1 << 32)); // same index, next generation
    assert_eq!(wheel.cancel(forged), None);
    assert_eq!(wheel.cancel(TimerId::from_u64(u64::MAX)), None);
    assert_eq!(wheel.cancel(TimerId::from_u64(12345)), None);
    assert_eq!(TimerId::from_u64(id.to_u64()), id);
    assert_eq!(wheel.cancel(id), Some('a'));
}

#[test]
fn cancel_a_due_timer_before_it_is_handed_out() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let a = wheel.insert(5, 'a');
    let b = wheel.insert(5, 'b');
    let c = wheel.insert(5, 'c');
    // All three are due at 5; take one, then cancel another before taking the rest.
    let first = wheel.poll_expired(5).unwrap();
    let (other, other_value) = if first == 'a' { (b, 'b') } else { (a, 'a') };
    assert_eq!(wheel.cancel(other), Some(other_value));
    let rest: Vec<char> = wheel.drain_expired(5).collect();
    assert_eq!(rest.len(), 1);
    assert!(!rest.contains(&other_value) && !rest.contains(&first));
    assert!(wheel.is_empty());
    assert_eq!(wheel.cancel(c), None);
}

#[test]
fn reschedule_keeps_the_id_and_moves_the_deadline() {
    let mut wheel = TimerWheel::with_tick(1).unwrap();
    let id = wheel.insert(100, 'a');
    assert!(wheel.reschedule(id, 5_000_000)); // to a higher level
    assert_eq!(wheel.advance(4_999_999, drop), 0);
    assert!(wheel.reschedule(id, 4_999_999 + 10));
    assert_eq!(wheel.advance(5_000_008, drop), 0);
    let mut fired = Vec::new();
    wheel.advance(5_000_009, |v| fired.push(v));
    assert_eq!(fired, ['a']);
    assert!(
        !wheel.reschedule(id, 1),
        "fired timers cannot be rescheduled"
    );
}

#[test]
fn values_are_dropped_once_whatever_their_fate() {
    let token = Rc::new(());
    {
        let mut wheel = TimerWheel::with_tick(1).unwrap();
        let cancelled = wheel.insert(1, Rc::clone(&token));
        wheel.insert(2, Rc::clone(&token)); // fires
        wheel.insert(1 << 40, Rc::clone(&token)); // still pending at drop (overflow)
        wheel.insert(3_000, Rc::clone(&token)); // still pending at drop (level 1)
        assert_eq!(Rc::strong_count(&token), 5);
        drop(wheel.cancel(cancelled));
        assert_eq!(wheel.advance(2, drop), 1);
        assert_eq!(Rc::strong_count(&token), 3);
    }
    assert_eq!(
        Rc::strong_count(&token),
        1,
        "wheel drop must drop pending values"
    );
}

#[test]
fn wheel_is_send_when_values_are() {
    fn assert_send<S: Send>(_: &S) {}
    let wheel: TimerWheel<String> = TimerWheel::new();
    assert_send(&wheel);
    let moved = std::thread::spawn(move || {
        let mut wheel = wheel;
        wheel.insert(0, String::from("x"));
        wheel.drain_expired(0).collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!(moved, ["x"]);
}
