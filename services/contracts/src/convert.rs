//! Stored rows to protobuf messages, for answers and for events.

use chrono::{DateTime, Utc};
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use uuid::Uuid;

use crate::domain::hourly::InvoiceStatus;
use crate::domain::requirements::{Answer, Question};
use crate::domain::review::Aspect;
use crate::domain::{
    CancellationStatus, ContractKind, ContractStatus, DisputeStatus, MilestoneStatus, Stage,
};
use crate::store::{
    CancellationRow, ContractRow, DeliveryRow, DisputeRow, InvoiceRow, MilestoneRow, OrderRow,
    ProposalRow, ReviewRow, StatementRow, TimeEntryRow, TimelineRow,
};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn money(currency: &str, minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: currency.to_owned(),
        minor_units,
    })
}

fn id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub fn kind(kind: ContractKind) -> pb::ContractKind {
    match kind {
        ContractKind::GigOrder => pb::ContractKind::GigOrder,
        ContractKind::FixedPrice => pb::ContractKind::FixedPrice,
        ContractKind::Hourly => pb::ContractKind::Hourly,
    }
}

pub fn status(status: ContractStatus) -> pb::ContractStatus {
    match status {
        ContractStatus::PendingFunding => pb::ContractStatus::PendingFunding,
        ContractStatus::Active => pb::ContractStatus::Active,
        ContractStatus::Completed => pb::ContractStatus::Completed,
        ContractStatus::Cancelled => pb::ContractStatus::Cancelled,
        ContractStatus::Disputed => pb::ContractStatus::Disputed,
    }
}

pub fn stage(stage: Stage) -> pb::ContractStage {
    match stage {
        Stage::PendingFunding => pb::ContractStage::PendingFunding,
        Stage::Active => pb::ContractStage::Active,
        Stage::Late => pb::ContractStage::Late,
        Stage::Delivered => pb::ContractStage::Delivered,
        Stage::Completed => pb::ContractStage::Completed,
        Stage::Cancelled => pb::ContractStage::Cancelled,
        Stage::Disputed => pb::ContractStage::Disputed,
    }
}

pub fn milestone_status(status: MilestoneStatus) -> pb::MilestoneStatus {
    match status {
        MilestoneStatus::Pending => pb::MilestoneStatus::Pending,
        MilestoneStatus::Funded => pb::MilestoneStatus::Funded,
        MilestoneStatus::Submitted => pb::MilestoneStatus::Submitted,
        MilestoneStatus::RevisionRequested => pb::MilestoneStatus::RevisionRequested,
        MilestoneStatus::Approved => pb::MilestoneStatus::Approved,
        MilestoneStatus::Settling => pb::MilestoneStatus::Settling,
        MilestoneStatus::Released => pb::MilestoneStatus::Released,
        MilestoneStatus::Refunded => pb::MilestoneStatus::Refunded,
        MilestoneStatus::Split => pb::MilestoneStatus::Split,
        MilestoneStatus::Cancelled => pb::MilestoneStatus::Cancelled,
    }
}

pub fn milestone(row: &MilestoneRow, currency: &str) -> pb::Milestone {
    let status = MilestoneStatus::parse(&row.status)
        .map_or(pb::MilestoneStatus::Unspecified, milestone_status);
    pb::Milestone {
        id: row.id.to_string(),
        title: row.title.clone(),
        amount: money(currency, row.amount_minor),
        status: status as i32,
        position: row.position,
        due_time: row.due_at.map(timestamp),
        revisions_used: row.revisions_used,
        deliveries: Vec::new(),
        auto_approve_time: None,
        settled_refund: row
            .settled_refund_minor
            .and_then(|refund| money(currency, refund)),
    }
}

/// Media ids as stored (separated by spaces).
fn files(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_owned).collect()
}

pub fn cancellation(
    row: &CancellationRow,
    currency: &str,
    auto_accept: Option<DateTime<Utc>>,
) -> pb::Cancellation {
    let status = match CancellationStatus::parse(&row.status) {
        Some(CancellationStatus::Open) => pb::CancellationStatus::Open,
        Some(CancellationStatus::Accepted) => pb::CancellationStatus::Accepted,
        Some(CancellationStatus::Declined) => pb::CancellationStatus::Declined,
        Some(CancellationStatus::Withdrawn) => pb::CancellationStatus::Withdrawn,
        Some(CancellationStatus::Superseded) => pb::CancellationStatus::Superseded,
        None => pb::CancellationStatus::Unspecified,
    };
    pb::Cancellation {
        id: row.id.to_string(),
        requested_by: row.requested_by.to_string(),
        reason: row.reason.clone(),
        refund: money(currency, row.refund_minor),
        status: status as i32,
        request_time: Some(timestamp(row.requested_at)),
        auto_accept_time: auto_accept.map(timestamp),
        answer_time: row.answered_at.map(timestamp),
        answered_by: id(row.answered_by),
        answer_reason: row.answer_reason.clone(),
    }
}

pub fn dispute(row: &DisputeRow, statements: &[StatementRow]) -> pb::Dispute {
    let status = match DisputeStatus::parse(&row.status) {
        Some(DisputeStatus::Open) => pb::DisputeStatus::Open,
        Some(DisputeStatus::Resolved) => pb::DisputeStatus::Resolved,
        None => pb::DisputeStatus::Unspecified,
    };
    pb::Dispute {
        id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        opened_by: row.opened_by.to_string(),
        reason: row.reason.clone(),
        attachment_ids: files(&row.attachments),
        status: status as i32,
        open_time: Some(timestamp(row.opened_at)),
        escalated: row.escalated_at.is_some(),
        amount: money(&row.currency, row.amount_minor),
        statements: statements
            .iter()
            .map(|s| pb::DisputeStatement {
                author_id: s.author_id.to_string(),
                text: s.text.clone(),
                attachment_ids: files(&s.attachments),
                time: Some(timestamp(s.at)),
            })
            .collect(),
        client_share_bps: row.client_share_bps.unwrap_or(0),
        decision: row.decision.clone(),
        resolve_time: row.resolved_at.map(timestamp),
        resolved_by: id(row.resolved_by),
        client_id: row.client_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
    }
}

pub fn delivery(row: &DeliveryRow) -> pb::Delivery {
    pb::Delivery {
        id: row.id.to_string(),
        message: row.message.clone(),
        attachment_ids: files(&row.attachments),
        submit_time: Some(timestamp(row.submitted_at)),
    }
}

pub fn timeline(row: &TimelineRow) -> pb::TimelineEntry {
    pb::TimelineEntry {
        time: Some(timestamp(row.at)),
        actor_id: id(row.actor_id),
        action: row.action.clone(),
        milestone_id: id(row.milestone_id),
        details: row.details.clone(),
    }
}

/// A contract with `milestones` (any contract's: its own are picked) and
/// `timeline` (its own).
pub fn contract(
    row: &ContractRow,
    milestones: &[MilestoneRow],
    timeline: &[TimelineRow],
) -> pb::Contract {
    let kind_of = ContractKind::parse(&row.kind);
    let hourly = kind_of == Some(ContractKind::Hourly);
    let own: Vec<MilestoneRow> = milestones
        .iter()
        .filter(|m| m.contract_id == row.id)
        .cloned()
        .collect();
    let in_escrow: i64 = crate::ending::held(&own).iter().map(|(_, held)| held).sum();
    pb::Contract {
        id: row.id.to_string(),
        kind: kind_of.map_or(pb::ContractKind::Unspecified, kind) as i32,
        status: ContractStatus::parse(&row.status).map_or(pb::ContractStatus::Unspecified, status)
            as i32,
        client_id: row.client_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
        title: row.title.clone(),
        total: if hourly {
            None
        } else {
            money(&row.currency, row.total_minor)
        },
        milestones: own.iter().map(|m| milestone(m, &row.currency)).collect(),
        hourly: hourly.then(|| pb::HourlyTerms {
            rate: money(&row.currency, row.hourly_rate_minor.unwrap_or(0)),
            weekly_limit_minutes: row.weekly_limit_minutes.unwrap_or(0),
            paused: row.paused,
        }),
        proposal_id: id(row.proposal_id),
        job_id: id(row.job_id),
        gig_id: id(row.gig_id),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        timeline: timeline.iter().map(self::timeline).collect(),
        order: None,
        cancellation: None,
        dispute: None,
        in_escrow: money(&row.currency, in_escrow),
        stage: Stage::parse(&row.stage).map_or(pb::ContractStage::Unspecified, stage) as i32,
        reviews: Vec::new(),
        review_close_time: row.reviews_close_at.map(timestamp),
        time_entries: Vec::new(),
        invoices: Vec::new(),
        proposed_milestones: Vec::new(),
        conversation_id: frevix_platform::ids::conversation_id_for_contract(row.id).to_string(),
        next_actions: None,
    }
}

pub fn order(row: &OrderRow) -> pb::OrderTerms {
    pb::OrderTerms {
        package_tier: row.package_tier,
        package_name: row.package_name.clone(),
        quantity: row.quantity,
        extra_ids: row.extras.split_whitespace().map(str::to_owned).collect(),
        delivery_days: row.delivery_days,
        revisions_included: row.revisions_included,
        questions: serde_json::from_str::<Vec<Question>>(&row.questions)
            .unwrap_or_default()
            .into_iter()
            .map(|q| marketplace::RequirementQuestion {
                id: q.id,
                question: q.question,
                required: q.required,
            })
            .collect(),
        answers: serde_json::from_str::<Vec<Answer>>(&row.answers)
            .unwrap_or_default()
            .into_iter()
            .map(|a| pb::RequirementAnswer {
                question_id: a.question_id,
                answer: a.answer,
            })
            .collect(),
        requirements_time: row.requirements_at.map(timestamp),
        due_time: row.due_at.map(timestamp),
        late_time: row.late_at.map(timestamp),
        pending_extension: row.extension_days.map(|days| pb::ExtensionRequest {
            days,
            reason: row.extension_reason.clone(),
            request_time: row.extension_requested_at.map(timestamp),
        }),
    }
}

pub fn aspect(aspect: Aspect) -> pb::ReviewAspect {
    match aspect {
        Aspect::Communication => pb::ReviewAspect::Communication,
        Aspect::Quality => pb::ReviewAspect::Quality,
        Aspect::Value => pb::ReviewAspect::Value,
        Aspect::Clarity => pb::ReviewAspect::Clarity,
        Aspect::PaymentPromptness => pb::ReviewAspect::PaymentPromptness,
    }
}

pub fn review(row: &ReviewRow) -> pb::Review {
    let role = match row.reviewer_role.as_str() {
        "CLIENT" => pb::ContractRole::Client,
        "FREELANCER" => pb::ContractRole::Freelancer,
        _ => pb::ContractRole::Unspecified,
    };
    pb::Review {
        id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        reviewer_id: row.reviewer_id.to_string(),
        reviewee_id: row.reviewee_id.to_string(),
        reviewer_role: role as i32,
        rating: row.rating,
        sub_ratings: serde_json::from_str::<Vec<(Aspect, i32)>>(&row.sub_ratings)
            .unwrap_or_default()
            .into_iter()
            .map(|(a, rating)| pb::SubRating {
                aspect: aspect(a) as i32,
                rating,
            })
            .collect(),
        comment: row.comment.clone(),
        gig_id: id(row.gig_id),
        submit_time: Some(timestamp(row.submitted_at)),
        publish_time: row.published_at.map(timestamp),
        reply: row.reply.clone(),
        reply_time: row.reply_at.map(timestamp),
    }
}

fn day(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn time_entry(row: &TimeEntryRow) -> pb::TimeEntry {
    pb::TimeEntry {
        id: row.id.to_string(),
        work_date: day(row.work_date),
        minutes: row.minutes,
        memo: row.memo.clone(),
        week_start: day(row.week_start),
        invoice_id: id(row.invoice_id),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn invoice(row: &InvoiceRow, currency: &str) -> pb::Invoice {
    let status = match InvoiceStatus::parse(&row.status) {
        Some(InvoiceStatus::PendingReview) => pb::InvoiceStatus::PendingReview,
        Some(InvoiceStatus::Disputed) => pb::InvoiceStatus::Disputed,
        Some(InvoiceStatus::Approved) => pb::InvoiceStatus::Approved,
        Some(InvoiceStatus::PaymentFailed) => pb::InvoiceStatus::PaymentFailed,
        None => pb::InvoiceStatus::Unspecified,
    };
    pb::Invoice {
        id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        week_start: day(row.week_start),
        minutes: row.minutes,
        amount: money(currency, row.amount_minor),
        status: status as i32,
        review_end_time: row.review_until.map(timestamp),
        dispute_reason: row.dispute_reason.clone(),
        create_time: Some(timestamp(row.created_at)),
        approve_time: row.approved_at.map(timestamp),
    }
}

pub fn proposed_milestone(row: &ProposalRow, currency: &str) -> pb::ProposedMilestone {
    pb::ProposedMilestone {
        id: row.id.to_string(),
        title: row.title.clone(),
        amount: money(currency, row.amount_minor),
        due_in_days: row.due_in_days,
        propose_time: Some(timestamp(row.proposed_at)),
    }
}
