//! The gig events marketplace writes to its outbox with each change.

use frevix_platform::db::Txn;
use frevix_platform::events::Outbox;
use frevix_proto::marketplace::v1 as pb;
use sea_orm::DbErr;

use crate::convert;
use crate::domain::gig::GigEvent;
use crate::store::gigs::GigRow;
use crate::store::jobs::{JobRow, ProposalRow};

pub async fn gig_event(
    outbox: &Outbox,
    db: &Txn,
    row: &GigRow,
    seller_display_name: &str,
    event: GigEvent,
) -> Result<(), DbErr> {
    let id = row.id.to_string();
    match event {
        GigEvent::Published => {
            let gig = Some(convert::gig(row, seller_display_name));
            outbox
                .publish(db, "gig", &id, &pb::GigPublished { gig })
                .await?;
        }
        GigEvent::Updated => {
            let gig = Some(convert::gig(row, seller_display_name));
            outbox
                .publish(db, "gig", &id, &pb::GigUpdated { gig })
                .await?;
        }
        GigEvent::Archived => {
            let archived = pb::GigArchived {
                gig_id: id.clone(),
                seller_id: row.seller_id.to_string(),
            };
            outbox.publish(db, "gig", &id, &archived).await?;
        }
    }
    Ok(())
}

pub async fn job_posted(outbox: &Outbox, db: &Txn, row: &JobRow) -> Result<(), DbErr> {
    let event = pb::JobPosted {
        job: Some(convert::job(row)),
    };
    outbox
        .publish(db, "job", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn job_closed(
    outbox: &Outbox,
    db: &Txn,
    row: &JobRow,
    status: pb::JobStatus,
) -> Result<(), DbErr> {
    let event = pb::JobClosed {
        job_id: row.id.to_string(),
        client_id: row.client_id.to_string(),
        status: status as i32,
    };
    outbox
        .publish(db, "job", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn proposal_submitted(
    outbox: &Outbox,
    db: &Txn,
    job: &JobRow,
    row: &ProposalRow,
) -> Result<(), DbErr> {
    let event = pb::ProposalSubmitted {
        proposal_id: row.id.to_string(),
        job_id: job.id.to_string(),
        client_id: job.client_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
        bid: convert::bid(row),
    };
    outbox
        .publish(db, "proposal", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn proposal_withdrawn(
    outbox: &Outbox,
    db: &Txn,
    job: &JobRow,
    row: &ProposalRow,
) -> Result<(), DbErr> {
    let event = pb::ProposalWithdrawn {
        proposal_id: row.id.to_string(),
        job_id: job.id.to_string(),
        client_id: job.client_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
    };
    outbox
        .publish(db, "proposal", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn proposal_accepted(
    outbox: &Outbox,
    db: &Txn,
    job: &JobRow,
    row: &ProposalRow,
    contract_id: uuid::Uuid,
) -> Result<(), DbErr> {
    let event = pb::ProposalAccepted {
        proposal_id: row.id.to_string(),
        job_id: job.id.to_string(),
        client_id: job.client_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
        contract_id: contract_id.to_string(),
        job_title: job.title.clone(),
        bid: convert::bid(row),
        hourly: job.hourly,
        milestones: convert::milestones(row),
    };
    outbox
        .publish(db, "proposal", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn job_updated(outbox: &Outbox, db: &Txn, row: &JobRow) -> Result<(), DbErr> {
    let event = pb::JobUpdated {
        job: Some(convert::job(row)),
    };
    outbox
        .publish(db, "job", &row.id.to_string(), &event)
        .await
        .map(|_| ())
}
