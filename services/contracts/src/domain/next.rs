//! What each party may do next on a contract, named by the RPC an app
//! offers as a button (a milestone's or an invoice's id after a colon). It
//! mirrors the refusals of the steps themselves, so an app that shows only
//! these never shows a button that would be refused for the contract's
//! state (a step may still lose a race).

use super::{ContractKind, ContractStatus, MilestoneStatus, Party};

/// A contract as far as its next steps go.
#[derive(Debug, Clone, Default)]
pub struct Situation {
    pub kind: Option<ContractKind>,
    pub status: Option<ContractStatus>,
    /// Each milestone: its id, status and revisions asked so far.
    pub milestones: Vec<(String, MilestoneStatus, i32)>,
    /// Revisions a gig order allows (`None`: no limit).
    pub revisions_allowed: Option<i32>,
    /// A funded gig order still waiting for the buyer's answers.
    pub requirements_pending: bool,
    /// A gig order with its delivery clock running.
    pub has_deadline: bool,
    /// Past its due time with the delivery still owed.
    pub late: bool,
    pub extension_pending: bool,
    /// Who asked for the cancellation waiting for an answer.
    pub cancellation_by: Option<Party>,
    /// Escrow holds money for milestones in progress.
    pub escrow_in_progress: bool,
    /// Escrow holds money bound to the work (in progress, approved or
    /// being settled).
    pub escrow_bound: bool,
    /// Proposed milestones waiting for the freelancer.
    pub proposals: Vec<String>,
    pub paused: bool,
    /// Hourly invoices waiting for review and disputed ones.
    pub invoices_in_review: Vec<String>,
    pub invoices_disputed: Vec<String>,
    /// Reviews are open and who has not written theirs.
    pub reviews_open: bool,
    pub client_reviewed: bool,
    pub freelancer_reviewed: bool,
}

/// The steps open to each side: (client's, freelancer's).
pub fn next_actions(s: &Situation) -> (Vec<String>, Vec<String>) {
    let mut client = Vec::new();
    let mut freelancer = Vec::new();
    let mut both = |name: &str| {
        client.push(name.to_owned());
        freelancer.push(name.to_owned());
    };
    match s.status {
        None => return (Vec::new(), Vec::new()),
        Some(ContractStatus::Completed | ContractStatus::Cancelled) => {
            if s.reviews_open {
                if !s.client_reviewed {
                    client.push("SubmitReview".to_owned());
                }
                if !s.freelancer_reviewed {
                    freelancer.push("SubmitReview".to_owned());
                }
            }
            return (client, freelancer);
        }
        Some(ContractStatus::Disputed) => {
            both("AddDisputeStatement");
            return (client, freelancer);
        }
        Some(ContractStatus::PendingFunding | ContractStatus::Active) => {}
    }
    if let Some(by) = s.cancellation_by {
        let (asker, answerer) = match by {
            Party::Client => (&mut client, &mut freelancer),
            Party::Freelancer => (&mut freelancer, &mut client),
        };
        asker.push("WithdrawCancellation".to_owned());
        answerer.push("AcceptCancellation".to_owned());
        answerer.push("DeclineCancellation".to_owned());
        for side in [&mut client, &mut freelancer] {
            side.push("OpenDispute".to_owned());
        }
        return (client, freelancer);
    }
    if s.escrow_in_progress {
        both("RequestCancellation");
        both("OpenDispute");
    }
    if !s.escrow_bound {
        both("EndContract");
    }
    work(s, &mut client, &mut freelancer);
    (client, freelancer)
}

/// The steps of the work itself while nothing holds it.
fn work(s: &Situation, client: &mut Vec<String>, freelancer: &mut Vec<String>) {
    let step = |name: &str, id: &str| format!("{name}:{id}");
    if s.requirements_pending {
        client.push("SubmitRequirements".to_owned());
    }
    for (id, status, revisions) in &s.milestones {
        match status {
            MilestoneStatus::Pending => client.push(step("FundMilestone", id)),
            MilestoneStatus::Funded | MilestoneStatus::RevisionRequested
                if !s.requirements_pending =>
            {
                freelancer.push(step("SubmitDelivery", id));
            }
            MilestoneStatus::Submitted => {
                client.push(step("ApproveMilestone", id));
                if s.revisions_allowed
                    .is_none_or(|allowed| *revisions < allowed)
                {
                    client.push(step("RequestRevision", id));
                }
            }
            _ => {}
        }
    }
    if s.has_deadline && s.milestones.iter().any(|m| !m.1.is_closed()) {
        if s.extension_pending {
            client.push("AcceptExtension".to_owned());
            client.push("DeclineExtension".to_owned());
        } else {
            freelancer.push("RequestExtension".to_owned());
        }
        if s.late {
            client.push("CancelLateOrder".to_owned());
        }
    }
    match s.kind {
        Some(ContractKind::FixedPrice) => {
            client.push("AddMilestone".to_owned());
            for id in &s.proposals {
                freelancer.push(step("AcceptMilestone", id));
                freelancer.push(step("DeclineMilestone", id));
            }
        }
        Some(ContractKind::Hourly) => {
            if s.paused {
                client.push("ResumeContract".to_owned());
            } else {
                client.push("PauseContract".to_owned());
                freelancer.push("LogTime".to_owned());
            }
            client.push("SetWeeklyLimit".to_owned());
            for id in &s.invoices_in_review {
                client.push(step("ApproveInvoice", id));
                client.push(step("DisputeInvoice", id));
            }
            for id in &s.invoices_disputed {
                client.push(step("ApproveInvoice", id));
                freelancer.push(step("AdjustInvoice", id));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(milestones: Vec<(String, MilestoneStatus, i32)>) -> Situation {
        Situation {
            kind: Some(ContractKind::GigOrder),
            status: Some(ContractStatus::Active),
            milestones,
            revisions_allowed: Some(1),
            has_deadline: true,
            escrow_in_progress: true,
            escrow_bound: true,
            ..Situation::default()
        }
    }

    #[test]
    fn a_delivery_waits_for_the_clients_answer() {
        let s = active(vec![("m".into(), MilestoneStatus::Submitted, 0)]);
        let (client, freelancer) = next_actions(&s);
        assert!(client.contains(&"ApproveMilestone:m".to_owned()));
        assert!(client.contains(&"RequestRevision:m".to_owned()));
        assert!(!freelancer.iter().any(|a| a.starts_with("SubmitDelivery")));
        assert!(freelancer.contains(&"RequestExtension".to_owned()));
        // Revisions used up: only approval.
        let used = active(vec![("m".into(), MilestoneStatus::Submitted, 1)]);
        assert!(
            !next_actions(&used)
                .0
                .contains(&"RequestRevision:m".to_owned())
        );
    }

    #[test]
    fn a_waiting_request_leaves_only_its_answers() {
        let mut s = active(vec![("m".into(), MilestoneStatus::Funded, 0)]);
        s.cancellation_by = Some(Party::Freelancer);
        let (client, freelancer) = next_actions(&s);
        assert_eq!(
            client,
            ["AcceptCancellation", "DeclineCancellation", "OpenDispute"]
        );
        assert_eq!(freelancer, ["WithdrawCancellation", "OpenDispute"]);
    }

    #[test]
    fn an_ended_contract_offers_the_reviews_not_yet_written() {
        let s = Situation {
            status: Some(ContractStatus::Completed),
            reviews_open: true,
            client_reviewed: true,
            ..Situation::default()
        };
        let (client, freelancer) = next_actions(&s);
        assert!(client.is_empty());
        assert_eq!(freelancer, ["SubmitReview"]);
    }

    #[test]
    fn a_paused_hourly_contract_logs_nothing() {
        let s = Situation {
            kind: Some(ContractKind::Hourly),
            status: Some(ContractStatus::Active),
            paused: true,
            ..Situation::default()
        };
        let (client, freelancer) = next_actions(&s);
        assert!(client.contains(&"ResumeContract".to_owned()));
        assert_eq!(freelancer, ["EndContract"]);
    }
}
