//! Property test (`docs/testing.md` §5): random sequences of producer events and consumer steps
//! against a reference model of the permit counter.
//!
//! The model knows every source's contents, so it can say exactly how many permits the waker
//! must hold: one per 0→1 of a status bit (observed as the newly set bits of `status()`) or per
//! explicit release, capped at `MAX_PERMITS`, minus the acquisitions. From that follow the
//! properties: a status bit that went 0→1 and has not been consumed leaves `permits ≥ 1`,
//! permits never exceed `MAX_PERMITS`, and once the consumer drains every source and unmarks
//! everything, the status is 0 and the permits drain to exactly zero.
#![cfg(not(loom))]

use proptest::prelude::*;
use proptest::test_runner::RngAlgorithm;
use signal_waker::{
    partition_summary_bit, partition_summary_group, SignalWaker, MAX_PERMITS, QUEUE_GROUPS,
    STATUS_BIT_PARTITION, STATUS_BIT_YIELD,
};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

#[derive(Debug, Clone)]
enum Op {
    /// Producer: push one item to queue group `g` and mark it.
    PushGroup(u32),
    /// Producer: push several groups' items, then one `mark_active_mask` for all of them.
    PushMask(u64),
    /// Producer: push to the yield queue and mark it.
    PushYield,
    /// Producer: push to leaf `l`; on the leaf's 0→1, mark its summary bit.
    PushLeaf(usize),
    /// Runtime: a permit without a status bit.
    ReleasePermit,
    /// Consumer: `try_acquire`.
    Acquire,
    /// Consumer: drain group `g` and `try_unmark_if_empty`.
    DrainGroup(u32),
    /// Consumer: drain the yield queue and `try_unmark_yield`.
    DrainYield,
    /// Consumer: drain the group behind summary bit `b` and `clear_partition_leaf`.
    DrainSummaryBit(u32),
    /// Consumer: `sync_partition_summary` over the whole partition.
    Sync,
}

/// A few groups get most of the traffic so bits are often already set; any group may appear.
fn group() -> impl Strategy<Value = u32> {
    prop_oneof![3 => 0u32..4, 1 => 0..QUEUE_GROUPS]
}

fn op(leaves: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => group().prop_map(Op::PushGroup),
        1 => any::<u64>().prop_map(|m| Op::PushMask(m & 0xF000_0000_0000_000F)),
        1 => Just(Op::PushYield),
        3 => (0..leaves).prop_map(Op::PushLeaf),
        1 => Just(Op::ReleasePermit),
        4 => Just(Op::Acquire),
        2 => group().prop_map(Op::DrainGroup),
        1 => Just(Op::DrainYield),
        2 => (0u32..64).prop_map(Op::DrainSummaryBit),
        1 => Just(Op::Sync),
    ]
}

struct Harness {
    w: SignalWaker,
    groups: Vec<u64>,
    yields: u64,
    leaves: Vec<AtomicU64>,
    /// The permits the waker must hold.
    model_permits: u64,
}

impl Harness {
    fn new(leaves: usize) -> Self {
        Harness {
            w: SignalWaker::new(),
            groups: vec![0; QUEUE_GROUPS as usize],
            yields: 0,
            leaves: (0..leaves).map(|_| AtomicU64::new(0)).collect(),
            model_permits: 0,
        }
    }

    fn len(&self) -> usize {
        self.leaves.len()
    }

    fn release(&mut self, n: u64) {
        self.model_permits = (self.model_permits + n).min(MAX_PERMITS);
    }

    fn drain_summary_bit(&self, bit: u32) {
        let group = partition_summary_group(bit, self.len());
        for l in group.clone() {
            self.leaves[l].store(0, SeqCst);
        }
        let leaves = &self.leaves;
        self.w
            .clear_partition_leaf(bit, || group.clone().all(|l| leaves[l].load(SeqCst) == 0));
    }

    /// Applies `op` and checks every invariant.
    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        self.step(op)?;
        self.check(op)
    }

    /// Applies `op` and updates the model; checks only what `op` itself must return.
    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before = self.w.status();
        match *op {
            Op::PushGroup(g) => {
                self.groups[g as usize] += 1;
                self.w.mark_active(g);
            }
            Op::PushMask(mask) => {
                let mask = mask & ((1 << QUEUE_GROUPS) - 1);
                for g in (0..QUEUE_GROUPS).filter(|g| mask & (1 << g) != 0) {
                    self.groups[g as usize] += 1;
                }
                let newly = self.w.mark_active_mask(mask);
                prop_assert_eq!(u64::from(newly), (mask & !before).count_ones() as u64);
            }
            Op::PushYield => {
                self.yields += 1;
                self.w.mark_yield();
            }
            Op::PushLeaf(l) => {
                if self.leaves[l].fetch_add(1, SeqCst) == 0 {
                    self.w
                        .mark_partition_leaf_active(partition_summary_bit(l, self.len()));
                }
            }
            Op::ReleasePermit => {
                self.w.release_permit();
                self.release(1);
            }
            Op::Acquire => {
                let got = self.w.try_acquire();
                prop_assert_eq!(got, self.model_permits > 0, "try_acquire vs model");
                self.model_permits -= u64::from(got);
            }
            Op::DrainGroup(g) => {
                self.groups[g as usize] = 0;
                prop_assert!(self.w.try_unmark_if_empty(g, || true) == (before & (1 << g) != 0));
            }
            Op::DrainYield => {
                self.yields = 0;
                self.w.try_unmark_yield(|| true);
            }
            Op::DrainSummaryBit(bit) => self.drain_summary_bit(bit),
            Op::Sync => {
                let len = self.len();
                let r = self
                    .w
                    .sync_partition_summary(0, len, self.leaves.as_slice());
                prop_assert_eq!(r, self.w.partition_summary() != 0);
            }
        }
        // Every newly set status bit is one 0→1 transition and must have brought its permit.
        let newly = self.w.status() & !before;
        self.release(u64::from(newly.count_ones()));
        Ok(())
    }

    fn check(&self, op: &Op) -> Result<(), TestCaseError> {
        let (status, summary, permits) = (
            self.w.status(),
            self.w.partition_summary(),
            self.w.permits(),
        );
        prop_assert!(permits <= MAX_PERMITS, "permits {} after {:?}", permits, op);
        prop_assert_eq!(
            permits,
            self.model_permits,
            "permits vs model after {:?}",
            op
        );
        for (g, &n) in self.groups.iter().enumerate() {
            prop_assert!(
                n == 0 || status & (1 << g) != 0,
                "group {} non-empty, bit clear",
                g
            );
        }
        prop_assert!(self.yields == 0 || status & STATUS_BIT_YIELD != 0);
        for (l, word) in self.leaves.iter().enumerate() {
            if word.load(SeqCst) != 0 {
                let bit = partition_summary_bit(l, self.len());
                prop_assert!(
                    summary & (1 << bit) != 0,
                    "leaf {} non-empty, summary bit clear",
                    l
                );
            }
        }
        prop_assert!(
            summary == 0 || status & STATUS_BIT_PARTITION != 0,
            "summary ⇒ PARTITION"
        );
        Ok(())
    }

    /// The consumer drains every source and unmarks everything; then the permits drain to zero.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for g in 0..QUEUE_GROUPS {
            self.step(&Op::DrainGroup(g))?;
        }
        self.step(&Op::DrainYield)?;
        for bit in 0..64 {
            self.step(&Op::DrainSummaryBit(bit))?;
        }
        self.apply(&Op::Sync)?;
        prop_assert_eq!(self.w.status(), 0, "everything drained and unmarked");
        prop_assert_eq!(self.w.partition_summary(), 0);
        let mut taken = 0;
        while self.w.try_acquire() {
            taken += 1;
            prop_assert!(taken <= MAX_PERMITS);
        }
        prop_assert_eq!(
            taken,
            self.model_permits,
            "permits drained to zero, none missing"
        );
        prop_assert_eq!(self.w.permits(), 0);
        Ok(())
    }
}

/// Longest event sequence per case (shorter under Miri, where each case is far slower).
const MAX_OPS: usize = if cfg!(miri) { 40 } else { 200 };

proptest! {
    #![proptest_config(ProptestConfig {
        // Under Miri the default ChaCha generator dominates the run time; XorShift is plenty for
        // choosing events.
        rng_algorithm: if cfg!(miri) { RngAlgorithm::XorShift } else { RngAlgorithm::default() },
        ..ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 })
    })]

    #[test]
    fn property_signal_waker_permit_consistency(
        (leaves, ops) in prop_oneof![Just(8usize), Just(64), Just(100), Just(256)]
            .prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 0..MAX_OPS)))
    ) {
        let mut h = Harness::new(leaves);
        for op in &ops {
            h.apply(op)?;
        }
        h.finish()?;
    }
}
