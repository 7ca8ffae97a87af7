//! A milestone's life and where its money stands.
//!
//! ```text
//! PENDING ─fund─▶ FUNDED ─submit─▶ SUBMITTED ─approve─▶ APPROVED ─release─▶ RELEASED
//!    │              │  ▲              │
//!  cancel           │  └──submit── REVISION_REQUESTED ◀─request revision─┘
//!    ▼              │
//! CANCELLED      settle (a cancellation or a dispute's split, from FUNDED,
//!                SUBMITTED or REVISION_REQUESTED) ─▶ SETTLING ─release/refund─▶
//!                RELEASED | REFUNDED | SPLIT
//! ```
//!
//! Money is counted in the milestone's minor units: `funded` is what
//! payments holds for it (all of `amount` or nothing), `released` and
//! `refunded` what left escrow each way. What is held is funded minus both,
//! and it never goes below zero: an approved milestone holds its whole
//! amount until released, and only a settlement divides escrow between
//! the parties.

use frevix_platform::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MilestoneStatus {
    /// Agreed, not yet in escrow.
    Pending,
    /// In escrow; the freelancer may deliver.
    Funded,
    /// Delivered; the client approves or asks for changes.
    Submitted,
    /// The client asked for changes; the freelancer delivers again.
    RevisionRequested,
    /// Approved; payments releases the escrow.
    Approved,
    /// A cancellation or dispute decided how escrow is divided; payments
    /// moves it.
    Settling,
    /// All of it went to the freelancer.
    Released,
    /// All of it went back to the client.
    Refunded,
    /// Divided between the two.
    Split,
    /// Ended before it was funded.
    Cancelled,
}

impl MilestoneStatus {
    pub const ALL: [MilestoneStatus; 10] = [
        MilestoneStatus::Pending,
        MilestoneStatus::Funded,
        MilestoneStatus::Submitted,
        MilestoneStatus::RevisionRequested,
        MilestoneStatus::Approved,
        MilestoneStatus::Settling,
        MilestoneStatus::Released,
        MilestoneStatus::Refunded,
        MilestoneStatus::Split,
        MilestoneStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneStatus::Pending => "PENDING",
            MilestoneStatus::Funded => "FUNDED",
            MilestoneStatus::Submitted => "SUBMITTED",
            MilestoneStatus::RevisionRequested => "REVISION_REQUESTED",
            MilestoneStatus::Approved => "APPROVED",
            MilestoneStatus::Settling => "SETTLING",
            MilestoneStatus::Released => "RELEASED",
            MilestoneStatus::Refunded => "REFUNDED",
            MilestoneStatus::Split => "SPLIT",
            MilestoneStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Nothing more happens to it.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            MilestoneStatus::Released
                | MilestoneStatus::Refunded
                | MilestoneStatus::Split
                | MilestoneStatus::Cancelled
        )
    }

    /// Money is in escrow and the work goes on (a cancellation or dispute
    /// may divide it).
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            MilestoneStatus::Funded
                | MilestoneStatus::Submitted
                | MilestoneStatus::RevisionRequested
        )
    }
}

/// What can happen to a milestone. The parties give `Submit`,
/// `RequestRevision` and `Approve`; payments' events give `Fund`, `Release`
/// and `Refund`; cancellations and disputes give `Settle` and `Cancel`; the
/// review window's timer gives `Approve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneCommand {
    /// Payments holds `amount` minor units in escrow for it.
    Fund {
        amount: i64,
    },
    Submit,
    /// `allowed`: how many revisions the order allows (`None`: no limit,
    /// as for job contracts).
    RequestRevision {
        allowed: Option<i32>,
    },
    Approve,
    /// Ends an unfunded milestone.
    Cancel,
    /// A cancellation or a dispute decided to divide the escrow.
    Settle,
    /// Payments moved `amount` of the escrow to the freelancer (before fees).
    Release {
        amount: i64,
    },
    /// Payments gave `amount` of the escrow back to the client.
    Refund {
        amount: i64,
    },
}

/// Why a command cannot apply, with the stable reason clients see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the milestone is not funded yet")]
    NotFunded,
    #[error("the milestone is already funded")]
    AlreadyFunded,
    #[error("the amount does not match the milestone's")]
    AmountMismatch,
    #[error("the milestone has been delivered and awaits the client's answer")]
    AlreadySubmitted,
    #[error("the milestone has not been delivered")]
    NotSubmitted,
    #[error("every revision this order includes has been used")]
    RevisionsExhausted,
    #[error("the milestone is not approved")]
    NotApproved,
    #[error("no cancellation or dispute is dividing this milestone's escrow")]
    NotSettling,
    #[error("more than the milestone holds in escrow")]
    MoreThanHeld,
    #[error("the milestone is closed")]
    Closed,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotFunded => "MILESTONE_NOT_FUNDED",
            Refusal::AlreadyFunded => "MILESTONE_ALREADY_FUNDED",
            Refusal::AmountMismatch => "AMOUNT_MISMATCH",
            Refusal::AlreadySubmitted => "MILESTONE_ALREADY_SUBMITTED",
            Refusal::NotSubmitted => "MILESTONE_NOT_SUBMITTED",
            Refusal::RevisionsExhausted => "REVISIONS_EXHAUSTED",
            Refusal::NotApproved => "MILESTONE_NOT_APPROVED",
            Refusal::NotSettling => "MILESTONE_NOT_SETTLING",
            Refusal::MoreThanHeld => "MORE_THAN_HELD",
            Refusal::Closed => "MILESTONE_CLOSED",
        }
    }
}

/// A milestone's state and money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    pub status: MilestoneStatus,
    /// What it is worth, as agreed.
    pub amount: Money,
    pub funded: i64,
    pub released: i64,
    pub refunded: i64,
    /// Revisions asked for so far.
    pub revisions_used: i32,
}

impl Milestone {
    /// A milestone just agreed.
    pub fn new(amount: Money) -> Self {
        Self {
            status: MilestoneStatus::Pending,
            amount,
            funded: 0,
            released: 0,
            refunded: 0,
            revisions_used: 0,
        }
    }

    /// What escrow holds for it now.
    pub fn held(&self) -> i64 {
        self.funded - self.released - self.refunded
    }

    /// The milestone after `command`. Repeating an approval is harmless
    /// (a retried click, or the clock racing the client): it changes
    /// nothing, so `Ok` with the same milestone.
    pub fn apply(&self, command: MilestoneCommand) -> Result<Milestone, Refusal> {
        use MilestoneStatus as S;
        let mut next = *self;
        if self.status.is_closed() {
            return Err(Refusal::Closed);
        }
        match command {
            MilestoneCommand::Fund { amount } => {
                if self.status != S::Pending {
                    return Err(Refusal::AlreadyFunded);
                }
                if amount != self.amount.minor_units {
                    return Err(Refusal::AmountMismatch);
                }
                next.funded = amount;
                next.status = S::Funded;
            }
            MilestoneCommand::Submit => match self.status {
                S::Funded | S::RevisionRequested => next.status = S::Submitted,
                S::Pending => return Err(Refusal::NotFunded),
                S::Submitted => return Err(Refusal::AlreadySubmitted),
                _ => return Err(Refusal::Closed),
            },
            MilestoneCommand::RequestRevision { allowed } => {
                if self.status != S::Submitted {
                    return Err(Refusal::NotSubmitted);
                }
                if allowed.is_some_and(|allowed| self.revisions_used >= allowed) {
                    return Err(Refusal::RevisionsExhausted);
                }
                next.revisions_used += 1;
                next.status = S::RevisionRequested;
            }
            MilestoneCommand::Approve => match self.status {
                S::Submitted => next.status = S::Approved,
                S::Approved => {}
                _ => return Err(Refusal::NotSubmitted),
            },
            MilestoneCommand::Cancel => match self.status {
                S::Pending => next.status = S::Cancelled,
                _ => return Err(Refusal::AlreadyFunded),
            },
            MilestoneCommand::Settle => match self.status {
                s if s.is_in_progress() => next.status = S::Settling,
                S::Pending => return Err(Refusal::NotFunded),
                _ => return Err(Refusal::Closed),
            },
            MilestoneCommand::Release { amount } => {
                match self.status {
                    // All of it, at once.
                    S::Approved if amount == self.held() => {}
                    S::Approved => return Err(Refusal::AmountMismatch),
                    S::Settling if amount > 0 && amount <= self.held() => {}
                    S::Settling => return Err(Refusal::MoreThanHeld),
                    _ => return Err(Refusal::NotApproved),
                }
                next.released += amount;
                next.status = next.settled_status();
            }
            MilestoneCommand::Refund { amount } => {
                if self.status != S::Settling {
                    return Err(Refusal::NotSettling);
                }
                if amount <= 0 || amount > self.held() {
                    return Err(Refusal::MoreThanHeld);
                }
                next.refunded += amount;
                next.status = next.settled_status();
            }
        }
        Ok(next)
    }

    /// Once escrow is empty, where the money went; until then, as it is.
    fn settled_status(&self) -> MilestoneStatus {
        if self.held() > 0 {
            return self.status;
        }
        match (self.released > 0, self.refunded > 0) {
            (true, false) => MilestoneStatus::Released,
            (false, true) => MilestoneStatus::Refunded,
            _ => MilestoneStatus::Split,
        }
    }
}

#[cfg(test)]
#[path = "milestone_tests.rs"]
mod tests;
