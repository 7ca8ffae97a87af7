//! A contract in full, as GetContract and every change's answer show it:
//! milestones with their deliveries and clocks, the order's terms, the
//! latest cancellation request and dispute, hourly weeks, proposed
//! milestones, the reviews the viewer may see, what each party may do
//! next, and the timeline.

use frevix_platform::auth::Principal;
use frevix_proto::contracts::v1 as pb;
use sea_orm::ConnectionTrait;

use crate::Inner;
use crate::convert;
use crate::domain::next::{Situation, next_actions};
use crate::domain::{ContractId, ContractKind, ContractStatus, DisputeId, MilestoneStatus, Party};
use crate::ending::AUTO_ACCEPT;
use crate::error::Result;
use crate::steps::AUTO_APPROVE;
use crate::store::{self, ContractRow, MilestoneRow, OrderRow};

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
    let id = ContractId(row.id);
    let kind = ContractKind::parse(&row.kind);
    let status = ContractStatus::parse(&row.status);
    let milestones = store::milestones_of(db, &[id]).await?;
    let timeline = store::timeline_of(db, id).await?;
    // Only what can exist is read: deliveries once a milestone was
    // delivered, an order for gig orders, a dispute once one was opened
    // (its contract is disputed, or cancelled by the resolution), proposed
    // milestones on fixed-price contracts, reviews once they opened.
    let delivered = milestones.iter().any(|m| {
        m.revisions_used > 0
            || !matches!(
                MilestoneStatus::parse(&m.status),
                Some(
                    MilestoneStatus::Pending | MilestoneStatus::Funded | MilestoneStatus::Cancelled
                )
            )
    });
    let deliveries = if delivered {
        store::deliveries_of(db, id).await?
    } else {
        Vec::new()
    };
    let mut contract = convert::contract(row, &milestones, &timeline);
    let order = if kind == Some(ContractKind::GigOrder) {
        store::find_order(db, id).await?
    } else {
        None
    };
    contract.order = order.as_ref().map(convert::order);
    if let Some(request) = store::latest_cancellation(db, id).await? {
        let auto_accept = inner
            .timers
            .find(db, AUTO_ACCEPT, &request.id.to_string())
            .await?
            .map(|timer| timer.due_at);
        contract.cancellation = Some(convert::cancellation(&request, &row.currency, auto_accept));
    }
    let ever_disputed = matches!(
        status,
        Some(ContractStatus::Disputed | ContractStatus::Cancelled)
    );
    if ever_disputed && let Some(dispute) = store::latest_dispute(db, id).await? {
        let statements = store::statements_of(db, DisputeId(dispute.id)).await?;
        contract.dispute = Some(convert::dispute(&dispute, &statements));
    }
    if row.hourly_rate_minor.is_some() {
        contract.time_entries = store::entries_of(db, id)
            .await?
            .iter()
            .map(convert::time_entry)
            .collect();
        contract.invoices = store::invoices_of(db, id)
            .await?
            .iter()
            .map(|invoice| convert::invoice(invoice, &row.currency))
            .collect();
    }
    if kind == Some(ContractKind::FixedPrice) {
        contract.proposed_milestones = store::proposals_of(db, id)
            .await?
            .iter()
            .map(|p| convert::proposed_milestone(p, &row.currency))
            .collect();
    }
    // Double-blind: the other party's review only once published.
    let reviews = if row.reviews_close_at.is_some() {
        store::reviews_of(db, id).await?
    } else {
        Vec::new()
    };
    let reviews_open = row
        .reviews_close_at
        .is_some_and(|close| close > inner.clock.now());
    contract.reviews = reviews
        .iter()
        .filter(|r| {
            r.published_at.is_some() || r.reviewer_id == viewer.account_id.0 || viewer.is_admin()
        })
        .map(convert::review)
        .collect();
    let now = inner.clock.now();
    contract.next_actions = Some(next(
        row,
        &milestones,
        &order,
        &contract,
        (now, reviews_open),
    ));
    for milestone in &mut contract.milestones {
        milestone.deliveries = deliveries
            .iter()
            .filter(|d| d.milestone_id.to_string() == milestone.id)
            .map(convert::delivery)
            .collect();
        // The review window runs while a delivery waits.
        if milestone.status == pb::MilestoneStatus::Submitted as i32 {
            milestone.auto_approve_time = inner
                .timers
                .find(db, AUTO_APPROVE, &milestone.id)
                .await?
                .map(|timer| convert::timestamp(timer.due_at));
        }
    }
    Ok(contract)
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
