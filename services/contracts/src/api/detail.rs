//! A contract in full, as GetContract and every change's answer show it:
//! milestones with their deliveries and clocks, the order's terms, the
//! latest cancellation request and dispute, hourly weeks, proposed
//! milestones, the reviews the viewer may see, what each party may do
//! next, and the timeline.

use chrono::{DateTime, Utc};
use frevix_platform::auth::Principal;
use frevix_proto::contracts::v1 as pb;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::Inner;
use crate::convert;
use crate::domain::next::{Situation, next_actions};
use crate::domain::{ContractId, ContractKind, ContractStatus, DisputeId, MilestoneStatus, Party};
use crate::ending::AUTO_ACCEPT;
use crate::error::Result;
use crate::steps::AUTO_APPROVE;
use crate::store::{
    self, CancellationRow, ContractRow, DeliveryRow, DisputeRow, InvoiceRow, MilestoneRow,
    OrderRow, ProposalRow, ReviewRow, StatementRow, TimeEntryRow, TimelineRow,
};

/// What a contract's answer is made of besides its row.
#[derive(Default)]
pub(crate) struct Parts {
    pub milestones: Vec<MilestoneRow>,
    pub timeline: Vec<TimelineRow>,
    pub deliveries: Vec<DeliveryRow>,
    pub order: Option<OrderRow>,
    /// The latest cancellation request, and when it is accepted by itself.
    pub cancellation: Option<(CancellationRow, Option<DateTime<Utc>>)>,
    pub dispute: Option<(DisputeRow, Vec<StatementRow>)>,
    pub entries: Vec<TimeEntryRow>,
    pub invoices: Vec<InvoiceRow>,
    pub proposals: Vec<ProposalRow>,
    pub reviews: Vec<ReviewRow>,
    /// When each waiting delivery is approved by itself, by milestone.
    pub auto_approve: Vec<(Uuid, DateTime<Utc>)>,
}

/// Parts a change read and left as they were: its answer need not read
/// them again. `None`: not read (the answer reads it).
#[derive(Default)]
pub(crate) struct Known {
    pub order: Option<Option<OrderRow>>,
    pub cancellation: Option<Option<CancellationRow>>,
    /// The contract's milestones as the change left them.
    pub milestones: Option<Vec<MilestoneRow>>,
    /// The contract's row as the change left it.
    pub contract: Option<ContractRow>,
}

impl Parts {
    /// Reads what `row` has. Only what can exist is read: deliveries once a
    /// milestone was delivered, an order for gig orders, a dispute once one
    /// was opened (its contract is disputed, or cancelled by the
    /// resolution), weeks on hourly contracts, proposed milestones on
    /// fixed-price ones, reviews once they opened.
    pub async fn read(inner: &Inner, db: &impl ConnectionTrait, row: &ContractRow) -> Result<Self> {
        Self::read_knowing(inner, db, row, Known::default()).await
    }

    /// Reads what `row` has beyond what is `known`.
    pub async fn read_knowing(
        inner: &Inner,
        db: &impl ConnectionTrait,
        row: &ContractRow,
        known: Known,
    ) -> Result<Self> {
        let id = ContractId(row.id);
        let kind = ContractKind::parse(&row.kind);
        let milestones = match known.milestones {
            Some(milestones) => milestones,
            None => store::milestones_of(db, &[id]).await?,
        };
        let mut parts = Parts {
            milestones,
            timeline: store::timeline_of(db, id).await?,
            ..Parts::default()
        };
        let delivered = parts.milestones.iter().any(|m| {
            m.revisions_used > 0
                || !matches!(
                    MilestoneStatus::parse(&m.status),
                    Some(
                        MilestoneStatus::Pending
                            | MilestoneStatus::Funded
                            | MilestoneStatus::Cancelled
                    )
                )
        });
        if delivered {
            parts.deliveries = store::deliveries_of(db, id).await?;
        }
        parts.order = match known.order {
            Some(order) => order,
            None if kind == Some(ContractKind::GigOrder) => store::find_order(db, id).await?,
            None => None,
        };
        let cancellation = match known.cancellation {
            Some(cancellation) => cancellation,
            None => store::latest_cancellation(db, id).await?,
        };
        if let Some(request) = cancellation {
            let auto_accept = inner
                .timers
                .find(db, AUTO_ACCEPT, &request.id.to_string())
                .await?
                .map(|timer| timer.due_at);
            parts.cancellation = Some((request, auto_accept));
        }
        let ever_disputed = matches!(
            ContractStatus::parse(&row.status),
            Some(ContractStatus::Disputed | ContractStatus::Cancelled)
        );
        if ever_disputed && let Some(dispute) = store::latest_dispute(db, id).await? {
            let statements = store::statements_of(db, DisputeId(dispute.id)).await?;
            parts.dispute = Some((dispute, statements));
        }
        if row.hourly_rate_minor.is_some() {
            parts.entries = store::entries_of(db, id).await?;
            parts.invoices = store::invoices_of(db, id).await?;
        }
        if kind == Some(ContractKind::FixedPrice) {
            parts.proposals = store::proposals_of(db, id).await?;
        }
        if row.reviews_close_at.is_some() {
            parts.reviews = store::reviews_of(db, id).await?;
        }
        for milestone in &parts.milestones {
            // The review window runs while a delivery waits.
            if milestone.status == MilestoneStatus::Submitted.as_str()
                && let Some(timer) = inner
                    .timers
                    .find(db, AUTO_APPROVE, &milestone.id.to_string())
                    .await?
            {
                parts.auto_approve.push((milestone.id, timer.due_at));
            }
        }
        Ok(parts)
    }
}

/// The contract with everything GetContract shows to `viewer`: milestones
/// with their deliveries and automatic-approval times, the latest
/// cancellation request and dispute, the reviews, and the timeline.
/// Read through `db`: a snapshot, or a change's transaction (which sees
/// its own writes).
pub(crate) async fn full(
    inner: &Inner,
    db: &impl ConnectionTrait,
    row: &ContractRow,
    viewer: &Principal,
) -> Result<pb::Contract> {
    let parts = Parts::read(inner, db, row).await?;
    Ok(assemble(inner, row, &parts, viewer))
}

/// The contract as `viewer` sees it, from its row and parts.
pub(crate) fn assemble(
    inner: &Inner,
    row: &ContractRow,
    parts: &Parts,
    viewer: &Principal,
) -> pb::Contract {
    let mut contract = convert::contract(row, &parts.milestones, &parts.timeline);
    contract.order = parts.order.as_ref().map(convert::order);
    contract.cancellation = parts
        .cancellation
        .as_ref()
        .map(|(request, auto_accept)| convert::cancellation(request, &row.currency, *auto_accept));
    contract.dispute = parts
        .dispute
        .as_ref()
        .map(|(dispute, statements)| convert::dispute(dispute, statements));
    contract.time_entries = parts.entries.iter().map(convert::time_entry).collect();
    contract.invoices = parts
        .invoices
        .iter()
        .map(|invoice| convert::invoice(invoice, &row.currency))
        .collect();
    contract.proposed_milestones = parts
        .proposals
        .iter()
        .map(|p| convert::proposed_milestone(p, &row.currency))
        .collect();
    let now = inner.clock.now();
    let reviews_open = row.reviews_close_at.is_some_and(|close| close > now);
    // Double-blind: the other party's review only once published.
    contract.reviews = parts
        .reviews
        .iter()
        .filter(|r| {
            r.published_at.is_some() || r.reviewer_id == viewer.account_id.0 || viewer.is_admin()
        })
        .map(convert::review)
        .collect();
    contract.next_actions = Some(next(
        row,
        &parts.milestones,
        &parts.order,
        &contract,
        (now, reviews_open),
    ));
    for milestone in &mut contract.milestones {
        milestone.deliveries = parts
            .deliveries
            .iter()
            .filter(|d| d.milestone_id.to_string() == milestone.id)
            .map(convert::delivery)
            .collect();
        milestone.auto_approve_time = parts
            .auto_approve
            .iter()
            .find(|(id, _)| id.to_string() == milestone.id)
            .map(|(_, due)| convert::timestamp(*due));
    }
    contract
}

/// What each party may do next, from what the answer holds.
fn next(
    row: &ContractRow,
    milestones: &[MilestoneRow],
    order: &Option<OrderRow>,
    contract: &pb::Contract,
    (now, reviews_open): (chrono::DateTime<chrono::Utc>, bool),
) -> pb::NextActions {
    let statuses: Vec<(String, MilestoneStatus, i32)> = milestones
        .iter()
        .filter_map(|m| {
            MilestoneStatus::parse(&m.status).map(|s| (m.id.to_string(), s, m.revisions_used))
        })
        .collect();
    let owes = statuses.iter().any(|(_, s, _)| {
        matches!(
            s,
            MilestoneStatus::Funded | MilestoneStatus::RevisionRequested
        )
    });
    let cancellation_by = contract
        .cancellation
        .as_ref()
        .filter(|c| c.status == pb::CancellationStatus::Open as i32)
        .map(|c| {
            if c.requested_by == row.client_id.to_string() {
                Party::Client
            } else {
                Party::Freelancer
            }
        });
    let invoices = |status: pb::InvoiceStatus| -> Vec<String> {
        contract
            .invoices
            .iter()
            .filter(|i| i.status == status as i32)
            .map(|i| i.id.clone())
            .collect()
    };
    let reviewed = |id: uuid::Uuid| {
        let id = id.to_string();
        contract.reviews.iter().any(|r| r.reviewer_id == id)
    };
    let situation = Situation {
        kind: ContractKind::parse(&row.kind),
        status: ContractStatus::parse(&row.status),
        revisions_allowed: order.as_ref().map(|o| o.revisions_included),
        requirements_pending: order.as_ref().is_some_and(|o| o.requirements_at.is_none()) && owes,
        has_deadline: order.as_ref().is_some_and(|o| o.due_at.is_some()),
        late: owes
            && order
                .as_ref()
                .and_then(|o| o.due_at)
                .is_some_and(|due| due <= now),
        extension_pending: order.as_ref().is_some_and(|o| o.extension_days.is_some()),
        cancellation_by,
        escrow_in_progress: !crate::ending::held(milestones).is_empty(),
        escrow_bound: crate::ending::anything_in_escrow(milestones),
        proposals: contract
            .proposed_milestones
            .iter()
            .map(|p| p.id.clone())
            .collect(),
        paused: row.paused,
        invoices_in_review: invoices(pb::InvoiceStatus::PendingReview),
        invoices_disputed: invoices(pb::InvoiceStatus::Disputed),
        reviews_open,
        client_reviewed: reviewed(row.client_id),
        freelancer_reviewed: reviewed(row.freelancer_id),
        milestones: statuses,
    };
    let (client, freelancer) = next_actions(&situation);
    pb::NextActions { client, freelancer }
}
