//! A whole contract under random sequences of everything that can happen
//! to it — funding, deliveries, revisions, approvals, payments' releases
//! and refunds, a cancellation or a dispute dividing the escrow — applied
//! with the same rules the service applies (each milestone's machine, the
//! settlement split, the contract's status). However the sequence goes,
//! money stays consistent: escrow never below what is approved, no
//! milestone both released and refunded in full, a settlement's refunds
//! adding up to what was agreed, and the status following the milestones.

use frevix_platform::money::{Currency, Money};
use proptest::prelude::*;
use uuid::Uuid;

use crate::domain::contract::{ContractKind, ContractStatus, Overrides, status_of};
use crate::domain::ids::MilestoneId;
use crate::domain::milestone::{Milestone, MilestoneCommand, MilestoneStatus};
use crate::domain::settlement::{ALL_BPS, refund_for_share, split};

#[derive(Debug, Clone, Copy)]
enum Step {
    Fund(usize),
    Submit(usize),
    Revise(usize),
    Approve(usize),
    /// Payments releases an approved milestone.
    Release(usize),
    /// The parties agree to cancel, giving back this share of escrow.
    Cancel(i32),
    /// An ADMIN resolves a dispute with this share to the client.
    Resolve(i32),
    /// Payments moves a settling milestone's shares.
    Settle(usize),
}

fn step(milestones: usize) -> impl Strategy<Value = Step> {
    let i = 0..milestones;
    prop_oneof![
        4 => i.clone().prop_map(Step::Fund),
        4 => i.clone().prop_map(Step::Submit),
        2 => i.clone().prop_map(Step::Revise),
        3 => i.clone().prop_map(Step::Approve),
        3 => i.clone().prop_map(Step::Release),
        1 => (0..=ALL_BPS).prop_map(Step::Cancel),
        1 => (0..=ALL_BPS).prop_map(Step::Resolve),
        3 => i.prop_map(Step::Settle),
    ]
}

struct Contract {
    ids: Vec<MilestoneId>,
    milestones: Vec<Milestone>,
    /// Each settling milestone's agreed refund.
    shares: Vec<Option<i64>>,
    ended: bool,
}

impl Contract {
    fn new(amounts: &[i64]) -> Self {
        Self {
            ids: amounts
                .iter()
                .map(|_| MilestoneId(Uuid::new_v4()))
                .collect(),
            milestones: amounts
                .iter()
                .map(|a| Milestone::new(Money::new(Currency::USD, *a)))
                .collect(),
            shares: vec![None; amounts.len()],
            ended: false,
        }
    }

    /// Applies `command` to milestone `i` if the rules allow it.
    fn try_apply(&mut self, i: usize, command: MilestoneCommand) {
        if let Ok(next) = self.milestones[i].apply(command) {
            self.milestones[i] = next;
        }
    }

    /// A cancellation or resolution: the escrow of the milestones in
    /// progress divided, those not funded dropped.
    fn end(&mut self, client_share_bps: i32) {
        if self.ended {
            return;
        }
        let held: Vec<(MilestoneId, i64)> = self
            .milestones
            .iter()
            .zip(&self.ids)
            .filter(|(m, _)| m.status.is_in_progress())
            .map(|(m, id)| (*id, m.held()))
            .collect();
        let total: i64 = held.iter().map(|(_, h)| h).sum();
        let refund = refund_for_share(total, client_share_bps).unwrap();
        let shares = split(&held, refund).unwrap();
        assert_eq!(shares.iter().map(|s| s.refund).sum::<i64>(), refund);
        for share in shares {
            let i = self
                .ids
                .iter()
                .position(|id| *id == share.milestone)
                .unwrap();
            self.try_apply(i, MilestoneCommand::Settle);
            assert_eq!(self.milestones[i].status, MilestoneStatus::Settling);
            self.shares[i] = Some(share.refund);
        }
        for i in 0..self.milestones.len() {
            self.try_apply(i, MilestoneCommand::Cancel);
        }
        self.ended = true;
    }

    fn apply(&mut self, step: Step) {
        let working = !self.ended;
        match step {
            Step::Fund(i) => {
                let amount = self.milestones[i].amount.minor_units;
                self.try_apply(i, MilestoneCommand::Fund { amount });
            }
            Step::Submit(i) if working => self.try_apply(i, MilestoneCommand::Submit),
            Step::Revise(i) if working => {
                self.try_apply(i, MilestoneCommand::RequestRevision { allowed: Some(2) });
            }
            Step::Approve(i) if working => self.try_apply(i, MilestoneCommand::Approve),
            Step::Release(i) => {
                let amount = self.milestones[i].held();
                if self.milestones[i].status == MilestoneStatus::Approved {
                    self.try_apply(i, MilestoneCommand::Release { amount });
                }
            }
            Step::Cancel(bps) | Step::Resolve(bps) => self.end(bps),
            Step::Settle(i) => {
                if let Some(refund) = self.shares[i].take() {
                    let release = self.milestones[i].held() - refund;
                    if refund > 0 {
                        self.try_apply(i, MilestoneCommand::Refund { amount: refund });
                    }
                    if release > 0 {
                        self.try_apply(i, MilestoneCommand::Release { amount: release });
                    }
                    assert!(self.milestones[i].status.is_closed());
                }
            }
            Step::Submit(_) | Step::Revise(_) | Step::Approve(_) => {}
        }
    }

    fn status(&self) -> ContractStatus {
        let statuses: Vec<MilestoneStatus> = self.milestones.iter().map(|m| m.status).collect();
        let overrides = Overrides {
            disputed: false,
            cancelled: self.ended,
        };
        status_of(ContractKind::FixedPrice, &statuses, overrides)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_sequence_leaves_a_contracts_money_inconsistent(
        amounts in prop::collection::vec(1i64..5_000_000, 1..5),
        steps in prop::collection::vec(step(4), 0..60),
    ) {
        let mut contract = Contract::new(&amounts);
        for step in steps {
            let step = match step {
                Step::Fund(i) | Step::Submit(i) | Step::Revise(i) | Step::Approve(i)
                | Step::Release(i) | Step::Settle(i) if i >= amounts.len() => continue,
                other => other,
            };
            contract.apply(step);
            for m in &contract.milestones {
                prop_assert!(m.held() >= 0);
                prop_assert!(m.released + m.refunded <= m.funded);
                if m.status == MilestoneStatus::Approved {
                    prop_assert_eq!(m.held(), m.amount.minor_units, "escrow below what is approved");
                }
                if m.status == MilestoneStatus::Released {
                    prop_assert_eq!(m.refunded, 0);
                }
                if m.status == MilestoneStatus::Refunded {
                    prop_assert_eq!(m.released, 0);
                }
            }
            let status = contract.status();
            if contract.ended {
                prop_assert_eq!(status, ContractStatus::Cancelled);
            } else if contract.milestones.iter().all(|m| m.status == MilestoneStatus::Released) {
                prop_assert_eq!(status, ContractStatus::Completed);
            }
        }
    }
}
