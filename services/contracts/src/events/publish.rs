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
    let event = created(row, milestones);
    outbox
        .publish(txn, "contract", &event.contract_id, &event)
        .await?;
    Ok(())
}

/// [`contract_created`] for contracts written together: one outbox insert.
pub fn contracts_created(
    outbox: &Outbox,
    txn: &Txn,
    contracts: &[(&ContractRow, &[MilestoneRow])],
) {
    let events: Vec<(String, pb::ContractCreated)> = contracts
        .iter()
        .map(|(row, milestones)| {
            let event = created(row, milestones);
            (event.contract_id.clone(), event)
        })
        .collect();
    outbox.publish_together(txn, "contract", &events);
}

fn created(row: &ContractRow, milestones: &[MilestoneRow]) -> pb::ContractCreated {
    let contract = convert::contract(row, milestones, &[]);
    pb::ContractCreated {
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
    }
}
