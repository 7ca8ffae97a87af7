//! Where a contract stands for the "orders" pages of both sides: one tab
//! each, no contract in two. It refines the status of an active contract
//! by who owes the next move: the freelancer (ACTIVE, or LATE once a gig
//! order's due time passed) or the client (DELIVERED: a delivery waits).
//! It is stored with the contract, so that lists filter and count on it.

use super::{ContractStatus, MilestoneStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    PendingFunding,
    /// Work under way.
    Active,
    /// A gig order past its due time, the seller still to deliver.
    Late,
    /// A delivery waits for the client's answer.
    Delivered,
    Completed,
    Cancelled,
    Disputed,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::PendingFunding,
        Stage::Active,
        Stage::Late,
        Stage::Delivered,
        Stage::Completed,
        Stage::Cancelled,
        Stage::Disputed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PendingFunding => "PENDING_FUNDING",
            Stage::Active => "ACTIVE",
            Stage::Late => "LATE",
            Stage::Delivered => "DELIVERED",
            Stage::Completed => "COMPLETED",
            Stage::Cancelled => "CANCELLED",
            Stage::Disputed => "DISPUTED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stage| stage.as_str() == text)
    }
}

/// The stage of a contract in `status` with `milestones`; `late`: a gig
/// order whose due time passed (and was not extended).
pub fn stage_of(status: ContractStatus, milestones: &[MilestoneStatus], late: bool) -> Stage {
    match status {
        ContractStatus::PendingFunding => Stage::PendingFunding,
        ContractStatus::Completed => Stage::Completed,
        ContractStatus::Cancelled => Stage::Cancelled,
        ContractStatus::Disputed => Stage::Disputed,
        ContractStatus::Active => {
            if milestones.contains(&MilestoneStatus::Submitted) {
                Stage::Delivered
            } else if late && owes_work(milestones) {
                Stage::Late
            } else {
                Stage::Active
            }
        }
    }
}

/// The freelancer has work to deliver: a milestone funded or sent back.
pub fn owes_work(milestones: &[MilestoneStatus]) -> bool {
    milestones.iter().any(|m| {
        matches!(
            m,
            MilestoneStatus::Funded | MilestoneStatus::RevisionRequested
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContractStatus as C;
    use MilestoneStatus as M;

    #[test]
    fn an_active_contract_is_placed_by_who_owes_the_next_move() {
        assert_eq!(stage_of(C::Active, &[M::Funded], false), Stage::Active);
        assert_eq!(stage_of(C::Active, &[M::Funded], true), Stage::Late);
        assert_eq!(
            stage_of(C::Active, &[M::RevisionRequested], true),
            Stage::Late
        );
        assert_eq!(stage_of(C::Active, &[M::Submitted], true), Stage::Delivered);
        // Approved, waiting for payments: nobody owes work.
        assert_eq!(stage_of(C::Active, &[M::Approved], true), Stage::Active);
        assert_eq!(
            stage_of(C::Disputed, &[M::Submitted], true),
            Stage::Disputed
        );
        assert_eq!(
            stage_of(C::PendingFunding, &[M::Pending], false),
            Stage::PendingFunding
        );
    }

    #[test]
    fn names_read_back_as_stored() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
    }
}
