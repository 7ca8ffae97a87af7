//! The events contracts writes to its outbox with each change.

use frevix_platform::db::Txn;
use frevix_platform::events::Outbox;
use frevix_proto::contracts::v1 as pb;
use sea_orm::DbErr;

use crate::convert;
use crate::store::{ContractRow, MilestoneRow};

/// ContractCreated, with what payments needs to fund it.
pub async fn contract_created(
    outbox: &Outbox,
    txn: &Txn,
    row: &ContractRow,
    milestones: &[MilestoneRow],
) -> Result<(), DbErr> {
    let contract = convert::contract(row, milestones, &[]);
    let event = pb::ContractCreated {
        contract_id: contract.id.clone(),
        client_id: contract.client_id,
        freelancer_id: contract.freelancer_id,
        title: contract.title,
        proposal_id: contract.proposal_id,
        gig_id: contract.gig_id,
        kind: contract.kind,
        milestones: contract.milestones,
        hourly: contract.hourly,
        job_id: contract.job_id,
    };
    outbox
        .publish(txn, "contract", &contract.id, &event)
        .await?;
    Ok(())
}
