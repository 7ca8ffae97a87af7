//! A contract as a whole: its kind, its parties, and its status, which
//! follows from its milestones unless a cancellation or a dispute decides
//! it. Who may give each party command lives here too.

use super::milestone::{MilestoneCommand, MilestoneStatus};

/// How the contract came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractKind {
    /// A buyer ordered a gig: one milestone, requirements, a deadline.
    GigOrder,
    /// A job's accepted proposal with a fixed price in milestones.
    FixedPrice,
    /// A job's accepted proposal at an hourly rate, billed weekly.
    Hourly,
}

impl ContractKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractKind::GigOrder => "GIG_ORDER",
            ContractKind::FixedPrice => "FIXED_PRICE",
            ContractKind::Hourly => "HOURLY",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ContractKind::GigOrder,
            ContractKind::FixedPrice,
            ContractKind::Hourly,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractStatus {
    /// Nothing in escrow yet.
    PendingFunding,
    Active,
    /// Every milestone released.
    Completed,
    Cancelled,
    /// A dispute waits for an ADMIN.
    Disputed,
}

impl ContractStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::PendingFunding => "PENDING_FUNDING",
            ContractStatus::Active => "ACTIVE",
            ContractStatus::Completed => "COMPLETED",
            ContractStatus::Cancelled => "CANCELLED",
            ContractStatus::Disputed => "DISPUTED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ContractStatus::PendingFunding,
            ContractStatus::Active,
            ContractStatus::Completed,
            ContractStatus::Cancelled,
            ContractStatus::Disputed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// No more work or money moves (reviews may still come).
    pub fn is_ended(self) -> bool {
        matches!(self, ContractStatus::Completed | ContractStatus::Cancelled)
    }
}

/// One side of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The buyer of a gig, or the client of a job.
    Client,
    /// The seller of a gig, or the freelancer of a job.
    Freelancer,
}

impl Party {
    pub fn other(self) -> Party {
        match self {
            Party::Client => Party::Freelancer,
            Party::Freelancer => Party::Client,
        }
    }
}

/// The party who may give `command`; `None` for what only payments' events,
/// cancellations, disputes and timers do.
pub fn party_for(command: MilestoneCommand) -> Option<Party> {
    match command {
        MilestoneCommand::Submit => Some(Party::Freelancer),
        MilestoneCommand::RequestRevision { .. } | MilestoneCommand::Approve => Some(Party::Client),
        MilestoneCommand::Fund { .. }
        | MilestoneCommand::Cancel
        | MilestoneCommand::Settle
        | MilestoneCommand::Release { .. }
        | MilestoneCommand::Refund { .. } => None,
    }
}

/// What decides a contract's status besides its milestones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overrides {
    /// A dispute is open.
    pub disputed: bool,
    /// Both parties (or a late order's buyer, or a resolution) ended it.
    pub cancelled: bool,
}

/// The contract's status: an open dispute first, then a cancellation, then
/// what its milestones say. An hourly contract has no milestones and is
/// active until it ends.
pub fn status_of(
    kind: ContractKind,
    milestones: &[MilestoneStatus],
    overrides: Overrides,
) -> ContractStatus {
    if overrides.disputed {
        return ContractStatus::Disputed;
    }
    if overrides.cancelled {
        return ContractStatus::Cancelled;
    }
    if kind == ContractKind::Hourly {
        return ContractStatus::Active;
    }
    let live: Vec<MilestoneStatus> = milestones
        .iter()
        .copied()
        .filter(|status| *status != MilestoneStatus::Cancelled)
        .collect();
    if !live.is_empty()
        && live
            .iter()
            .all(|status| *status == MilestoneStatus::Released)
    {
        return ContractStatus::Completed;
    }
    if live
        .iter()
        .all(|status| *status == MilestoneStatus::Pending)
    {
        return ContractStatus::PendingFunding;
    }
    ContractStatus::Active
}

#[cfg(test)]
mod tests {
    use super::*;
    use MilestoneStatus as M;

    #[test]
    fn a_contract_follows_its_milestones() {
        let fixed = ContractKind::FixedPrice;
        let none = Overrides::default();
        assert_eq!(
            status_of(fixed, &[M::Pending, M::Pending], none),
            ContractStatus::PendingFunding
        );
        assert_eq!(
            status_of(fixed, &[M::Funded, M::Pending], none),
            ContractStatus::Active
        );
        assert_eq!(
            status_of(fixed, &[M::Released, M::Pending], none),
            ContractStatus::Active
        );
        assert_eq!(
            status_of(fixed, &[M::Released, M::Released], none),
            ContractStatus::Completed
        );
        // A milestone dropped before funding does not hold completion back.
        assert_eq!(
            status_of(fixed, &[M::Released, M::Cancelled], none),
            ContractStatus::Completed
        );
        let disputed = Overrides {
            disputed: true,
            cancelled: false,
        };
        assert_eq!(
            status_of(fixed, &[M::Submitted], disputed),
            ContractStatus::Disputed
        );
        let cancelled = Overrides {
            disputed: false,
            cancelled: true,
        };
        assert_eq!(
            status_of(fixed, &[M::Refunded], cancelled),
            ContractStatus::Cancelled
        );
        assert_eq!(
            status_of(ContractKind::Hourly, &[], none),
            ContractStatus::Active
        );
    }

    #[test]
    fn each_party_command_has_its_party() {
        assert_eq!(party_for(MilestoneCommand::Submit), Some(Party::Freelancer));
        assert_eq!(party_for(MilestoneCommand::Approve), Some(Party::Client));
        assert_eq!(party_for(MilestoneCommand::Release { amount: 1 }), None);
        assert_eq!(Party::Client.other(), Party::Freelancer);
    }

    #[test]
    fn names_read_back_as_stored() {
        for kind in [
            ContractKind::GigOrder,
            ContractKind::FixedPrice,
            ContractKind::Hourly,
        ] {
            assert_eq!(ContractKind::parse(kind.as_str()), Some(kind));
        }
        for status in [
            ContractStatus::PendingFunding,
            ContractStatus::Active,
            ContractStatus::Completed,
            ContractStatus::Cancelled,
            ContractStatus::Disputed,
        ] {
            assert_eq!(ContractStatus::parse(status.as_str()), Some(status));
        }
    }
}

#[cfg(test)]
#[path = "contract_tests.rs"]
mod sequences;
