//! Who may see a contract's money: its two parties and ADMINs. Anyone else
//! is told it does not exist.

use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::parse_uuid;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::Result;
use crate::store::terms::{self, ContractRow, MilestoneRow};

/// Parses a contract id and a milestone id, naming every bad field.
pub fn parse_ids(contract: &str, milestone: &str) -> Result<(Uuid, Uuid)> {
    let mut violations = FieldViolations::new();
    let contract = parse_uuid("contract_id", contract, &mut violations);
    let milestone = parse_uuid("milestone_id", milestone, &mut violations);
    match (contract, milestone) {
        (Some(contract), Some(milestone)) => Ok((contract, milestone)),
        _ => Err(ApiError::from(violations).into()),
    }
}

/// The contract and its milestone, if `caller` is a party or an ADMIN.
pub async fn milestone(
    db: &impl ConnectionTrait,
    caller: &Principal,
    contract: Uuid,
    milestone: Uuid,
) -> Result<(ContractRow, MilestoneRow)> {
    let contract = terms::find_contract(db, contract)
        .await?
        .filter(|row| is_party(row, caller) || caller.is_admin())
        .ok_or(ApiError::NotFound("contract"))?;
    let milestone = terms::find_milestone(db, milestone)
        .await?
        .filter(|row| row.contract_id == contract.id)
        .ok_or(ApiError::NotFound("milestone"))?;
    Ok((contract, milestone))
}

pub fn is_party(row: &ContractRow, caller: &Principal) -> bool {
    row.client_id == caller.account_id.0 || row.freelancer_id == caller.account_id.0
}
