//! Stored rows to protobuf messages, for answers and for events.

use chrono::{DateTime, Utc};
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use uuid::Uuid;

use crate::domain::requirements::{Answer, Question};
use crate::domain::{ContractKind, ContractStatus, MilestoneStatus};
use crate::store::{ContractRow, DeliveryRow, MilestoneRow, OrderRow, TimelineRow};

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
    }
}

pub fn delivery(row: &DeliveryRow) -> pb::Delivery {
    pb::Delivery {
        id: row.id.to_string(),
        message: row.message.clone(),
        attachment_ids: row
            .attachments
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
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
        milestones: milestones
            .iter()
            .filter(|m| m.contract_id == row.id)
            .map(|m| milestone(m, &row.currency))
            .collect(),
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
    }
}
