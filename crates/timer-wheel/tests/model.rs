//! Differential test: random insert / cancel / reschedule / advance sequences run against
//! the wheel and against a `BTreeMap` model of what must be pending and what must fire.
//!
//! Checked after every step: the same values fire (none lost, none duplicated), none before
//! its deadline, each at the first advance that reaches its deadline's tick (so within one
//! tick of it), in due-tick order; `cancel`/`reschedule` agree with the model (fired and
//! cancelled ids stay dead even after their entries are reused); `len`, `is_empty` and the
//! bounds of `next_deadline` hold. Deadlines cover every level, the level boundaries and
//! beyond the top level, plus past deadlines.

use std::collections::BTreeMap;

use proptest::prelude::*;
use timer_wheel::{TimerId, TimerWheel};

#[derive(Debug, Clone)]
enum Op {
    Insert { kind: u8, raw: u64 },
    Cancel { pick: u64 },
    Reschedule { pick: u64, kind: u8, raw: u64 },
    Advance { kind: u8, raw: u64 },
}

impl Op {
    /// Decodes a plain tuple into an operation: 50% insert, 10% cancel, 10% reschedule,
    /// 30% advance. (Generating plain tuples and decoding them is far cheaper under Miri
    /// than a `prop_oneof!` of mapped strategies, and shrinks towards small inserts.)
    fn decode((selector, a, b): (u8, u64, u64)) -> Op {
        match selector % 10 {
            0..=4 => Op::Insert {
                kind: (a % 10) as u8,
                raw: b,
            },
            5 => Op::Cancel { pick: a },
            6 => Op::Reschedule {
                pick: a,
                kind: (b % 10) as u8,
                raw: b / 10,
            },
            _ => Op::Advance {
                kind: (a % 8) as u8,
                raw: b,
            },
        }
    }
}

fn cases() -> u32 {
    if cfg!(miri) {
        4
    } else if std::env::var_os("VERIFY_THOROUGH").is_some() {
        4096
    } else {
        256
    }
}

/// Operations per case (fewer under Miri, which runs each one ~1000× slower).
fn max_ops() -> usize {
    if cfg!(miri) {
        64
    } else {
        100
    }
}

/// What the model remembers about a pending timer.
#[derive(Debug, Clone, Copy)]
struct Pending {
    deadline: u64,
    /// The tick at which it must fire: the deadline rounded up to the tick grid, or, for a
    /// deadline not after the latest `now` (a past one), the current tick: the next advance.
    due_tick: u64,
}

struct Harness {
    wheel: TimerWheel<u64>,
    shift: u32,
    now: u64,
    /// The model: value -> pending timer.
    model: BTreeMap<u64, Pending>,
    /// Every id ever issued, with its value (fired and cancelled ones included).
    issued: Vec<(TimerId, u64)>,
    next_value: u64,
}

impl Harness {
    fn tick(&self) -> u64 {
        1 << self.shift
    }

    fn span(&self, level: u32) -> u64 {
        1 << (self.shift + 10 * (level + 1))
    }

    fn now_tick(&self) -> u64 {
        self.now >> self.shift
    }

    /// A deadline spread over every level, its boundaries, beyond the top, and the past.
    fn deadline(&self, kind: u8, raw: u64) -> u64 {
        let (t, now) = (self.tick(), self.now);
        let near = |span: u64| now + span - 2 * t + raw % (4 * t + 1);
        match kind {
            0 => now + raw % (4 * t),
            1 => now + raw % (2 * self.span(0)),
            2 => near(self.span(0)),
            3 => now + raw % (2 * self.span(1)),
            4 => near(self.span(1)),
            5 => now + raw % (2 * self.span(2)),
            6 => near(self.span(2)),
            7 => now + self.span(2) + raw % (5 * self.span(2)),
            8 => now.saturating_sub(raw % (2 * self.span(0))),
            _ => {
                // Around the next aligned boundary of a level (where cascades happen):
                // one tick before, exactly at, one tick after, or one ns either side.
                let span = self.span((raw % 3) as u32);
                let boundary = (now / span + 1) * span;
                match (raw / 3) % 5 {
                    0 => boundary - t,
                    1 => boundary,
                    2 => boundary + t,
                    3 => boundary - 1,
                    _ => boundary + 1,
                }
            }
        }
    }

    fn due_tick(&self, deadline: u64) -> u64 {
        if deadline <= self.now {
            // Already past: due at once, on the next advance.
            return self.now_tick();
        }
        deadline.div_ceil(self.tick())
    }

    fn insert(&mut self, deadline: u64) {
        let value = self.next_value;
        self.next_value += 1;
        let id = self.wheel.insert(deadline, value);
        let due_tick = self.due_tick(deadline);
        self.model.insert(value, Pending { deadline, due_tick });
        self.issued.push((id, value));
    }

    /// One of the ids issued so far (pending, fired or cancelled alike).
    fn pick(&self, pick: u64) -> Option<(TimerId, u64)> {
        let len = self.issued.len() as u64;
        (len > 0).then(|| self.issued[(pick % len) as usize])
    }

    fn cancel(&mut self, pick: u64) {
        let Some((id, value)) = self.pick(pick) else {
            return;
        };
        let expected = self.model.remove(&value).map(|_| value);
        assert_eq!(self.wheel.cancel(id), expected, "cancel({id:?})");
        assert!(!self.wheel.contains(id));
    }

    fn reschedule(&mut self, pick: u64, deadline: u64) {
        let Some((id, value)) = self.pick(pick) else {
            return;
        };
        let pending = self.model.contains_key(&value);
        assert_eq!(self.wheel.reschedule(id, deadline), pending, "reschedule");
        if pending {
            let due_tick = self.due_tick(deadline);
            self.model.insert(value, Pending { deadline, due_tick });
        }
    }

    fn advance_to(&mut self, target: u64, style: u64) {
        let previous_next = self.wheel.next_deadline();
        self.now = self.now.max(target);
        let now = self.now;
        let mut fired = Vec::new();
        match style % 3 {
            0 => {
                let n = self.wheel.advance(now, |v| fired.push(v));
                assert_eq!(n, fired.len());
            }
            1 => fired.extend(self.wheel.drain_expired(now)),
            _ => {
                while let Some(v) = self.wheel.poll_expired(now) {
                    fired.push(v);
                }
            }
        }
        let now_tick = self.now_tick();
        let mut last_due = 0;
        for &value in &fired {
            let p = self
                .model
                .remove(&value)
                .unwrap_or_else(|| panic!("value {value} fired but was not pending"));
            assert!(
                p.deadline <= now,
                "value {value} fired early: {p:?} at {now}"
            );
            assert!(
                p.due_tick <= now_tick,
                "fired before its tick: {p:?} at {now}"
            );
            assert!(
                p.due_tick >= last_due,
                "out of tick order: {p:?} after {last_due}"
            );
            last_due = p.due_tick;
        }
        if let Some((value, p)) = self.model.iter().find(|(_, p)| p.due_tick <= now_tick) {
            panic!("value {value} ({p:?}) was due at {now} but did not fire");
        }
        // Advancing to `next_deadline` always makes progress: something fires or the
        // reported time moves on (no park/wake loop that never ends).
        if previous_next == Some(target) && fired.is_empty() {
            assert_ne!(
                self.wheel.next_deadline(),
                previous_next,
                "no progress at {target}"
            );
        }
    }

    fn check(&self) {
        assert_eq!(self.wheel.len(), self.model.len());
        assert_eq!(self.wheel.is_empty(), self.model.is_empty());
        let next = self.wheel.next_deadline();
        match self.model.values().map(|p| p.due_tick).min() {
            None => assert_eq!(next, None),
            Some(due) => {
                let next = next.expect("next_deadline is None with timers pending");
                let due_ns = due.saturating_mul(self.tick());
                assert!(
                    next <= due_ns,
                    "next_deadline {next} after the earliest due {due_ns}"
                );
                let current = self.now_tick() << self.shift;
                assert!(
                    next >= current,
                    "next_deadline {next} before the current tick"
                );
            }
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Insert { kind, raw } => {
                let deadline = self.deadline(kind, raw);
                self.insert(deadline);
            }
            Op::Cancel { pick } => self.cancel(pick),
            Op::Reschedule { pick, kind, raw } => {
                let deadline = self.deadline(kind, raw);
                self.reschedule(pick, deadline);
            }
            Op::Advance { kind, raw } => {
                let (t, now) = (self.tick(), self.now);
                let target = match kind {
                    0 => now + raw % (4 * t),
                    1 => now + raw % self.span(0),
                    2 => now + raw % self.span(1),
                    3 => now + raw % self.span(2),
                    4 => now + self.span(2) + raw % (3 * self.span(2)),
                    5 => self.wheel.next_deadline().unwrap_or(now + t),
                    6 => {
                        // Exactly at the earliest deadline, or 1 ns before it.
                        let earliest = self.model.values().map(|p| p.deadline).min();
                        earliest.map_or(now, |d| d.saturating_sub(raw & 1))
                    }
                    _ => now,
                };
                self.advance_to(target, raw / 7);
            }
        }
        self.check();
    }
}

fn run(shift: u32, ops: Vec<Op>) {
    let mut h = Harness {
        wheel: TimerWheel::with_tick(1 << shift).unwrap(),
        shift,
        now: 0,
        model: BTreeMap::new(),
        issued: Vec::new(),
        next_value: 0,
    };
    for op in ops {
        h.apply(op);
    }
    // Drain everything: nothing may be lost, however far out.
    let end = h.now + 8 * h.span(2);
    h.advance_to(end, 0);
    assert!(h.model.is_empty());
    assert!(h.wheel.is_empty());
    assert_eq!(h.wheel.next_deadline(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn wheel_matches_btreemap_model(
        shift in prop_oneof![Just(0u32), Just(1), Just(7), Just(20)],
        ops in prop::collection::vec(any::<(u8, u64, u64)>(), 1..max_ops()),
    ) {
        run(shift, ops.into_iter().map(Op::decode).collect());
    }
}
