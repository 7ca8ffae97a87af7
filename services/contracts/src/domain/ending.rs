//! How a contract ends early: a cancellation request and its answer, a
//! dispute and its resolution, and what either does to the work under way.
//!
//! ```text
//! request ─▶ OPEN ─accept / window passes─▶ ACCEPTED (contract CANCELLED)
//!              ├─decline─▶ DECLINED   (work goes on; either may dispute)
//!              ├─withdraw─▶ WITHDRAWN
//!              └─a dispute opens─▶ SUPERSEDED
//! dispute ─▶ OPEN (contract DISPUTED, every clock stopped) ─ADMIN─▶ RESOLVED
//! ```
//!
//! While a request is open or a dispute waits, the parties take no step on
//! a milestone: the escrow a request proposes to divide must still be there
//! when it is accepted.

use super::ContractStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancellationStatus {
    Open,
    Accepted,
    Declined,
    Withdrawn,
    Superseded,
}

impl CancellationStatus {
    const ALL: [CancellationStatus; 5] = [
        CancellationStatus::Open,
        CancellationStatus::Accepted,
        CancellationStatus::Declined,
        CancellationStatus::Withdrawn,
        CancellationStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CancellationStatus::Open => "OPEN",
            CancellationStatus::Accepted => "ACCEPTED",
            CancellationStatus::Declined => "DECLINED",
            CancellationStatus::Withdrawn => "WITHDRAWN",
            CancellationStatus::Superseded => "SUPERSEDED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeStatus {
    Open,
    Resolved,
}

impl DisputeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "OPEN",
            DisputeStatus::Resolved => "RESOLVED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DisputeStatus::Open, DisputeStatus::Resolved]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Why the parties may not act on the contract's work now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Held {
    #[error("the contract has ended")]
    Ended,
    #[error("a dispute is open; an ADMIN will decide")]
    Disputed,
    #[error("a cancellation request waits for an answer")]
    CancellationPending,
}

impl Held {
    pub fn reason(self) -> &'static str {
        match self {
            Held::Ended => "CONTRACT_ENDED",
            Held::Disputed => "CONTRACT_DISPUTED",
            Held::CancellationPending => "CANCELLATION_PENDING",
        }
    }
}

/// Whether the parties may take a step on the contract's work (deliver,
/// approve, ask for changes, ask to cancel, open a dispute).
pub fn check_workable(status: ContractStatus, cancellation_open: bool) -> Result<(), Held> {
    match status {
        ContractStatus::Completed | ContractStatus::Cancelled => Err(Held::Ended),
        ContractStatus::Disputed => Err(Held::Disputed),
        _ if cancellation_open => Err(Held::CancellationPending),
        ContractStatus::PendingFunding | ContractStatus::Active => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_stops_while_a_request_or_dispute_waits() {
        assert_eq!(check_workable(ContractStatus::Active, false), Ok(()));
        assert_eq!(
            check_workable(ContractStatus::Active, true),
            Err(Held::CancellationPending)
        );
        assert_eq!(
            check_workable(ContractStatus::Disputed, false),
            Err(Held::Disputed)
        );
        assert_eq!(
            check_workable(ContractStatus::Cancelled, false),
            Err(Held::Ended)
        );
        assert_eq!(
            check_workable(ContractStatus::Completed, true),
            Err(Held::Ended)
        );
    }

    #[test]
    fn names_read_back_as_stored() {
        for status in CancellationStatus::ALL {
            assert_eq!(CancellationStatus::parse(status.as_str()), Some(status));
        }
        for status in [DisputeStatus::Open, DisputeStatus::Resolved] {
            assert_eq!(DisputeStatus::parse(status.as_str()), Some(status));
        }
    }
}
