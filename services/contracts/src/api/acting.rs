//! What every change of a contract by a caller shares: the caller must see
//! the contract (anyone else is told it does not exist), the change runs
//! in one transaction under the contract's lock, and the answer is the
//! contract as the change leaves it. Text and attachment checks
//! of requests live here too.

use frevix_platform::auth::Principal;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::contracts::v1 as pb;
use uuid::Uuid;

use super::detail::{Known, Parts, assemble};
use super::reading::{full, is_visible};
use crate::Inner;
use crate::domain::{ContractId, Party};
use crate::error::Result;
use crate::store::{self, ContractRow};

/// At most this many files go with a delivery, a dispute or a statement.
pub const MAX_ATTACHMENTS: usize = 10;

/// A change under way: its transaction and the locked contract.
pub struct Change {
    pub txn: Txn,
    pub contract: ContractRow,
    /// Who asks: the answer is the contract as they see it.
    pub viewer: Principal,
    /// What the change read and left as it was (the answer reuses it).
    pub known: Known,
}

/// Begins a change of contract `id` by `caller` (a party or an ADMIN).
pub async fn begin(inner: &Inner, caller: &Principal, id: ContractId) -> Result<Change> {
    let txn = Txn::begin(&inner.db).await?;
    let contract = store::lock_contract(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    if !is_visible(&contract, caller) {
        return Err(ApiError::NotFound("contract").into());
    }
    Ok(Change {
        txn,
        contract,
        viewer: caller.clone(),
        known: Known::default(),
    })
}

/// The caller's side of the contract; an ADMIN sees contracts but takes no
/// party's step.
pub fn party_of(contract: &ContractRow, caller: &Principal) -> Result<Party> {
    if contract.client_id == caller.account_id.0 {
        Ok(Party::Client)
    } else if contract.freelancer_id == caller.account_id.0 {
        Ok(Party::Freelancer)
    } else {
        Err(ApiError::permission_denied(
            "NOT_A_PARTY",
            "only the contract's parties take this step",
        )
        .into())
    }
}

/// Answers the contract as the change leaves it, read in the change's own
/// transaction (it holds the contract's lock, so nothing else moves the
/// contract meanwhile), then commits.
pub async fn finish(inner: &Inner, mut change: Change) -> Result<pb::Contract> {
    let id = ContractId(change.contract.id);
    let contract = match change.known.contract.take() {
        Some(contract) => contract,
        None => store::find_contract(&change.txn, id)
            .await?
            .ok_or(ApiError::NotFound("contract"))?,
    };
    let parts = Parts::read_knowing(inner, &change.txn, &contract, change.known).await?;
    let answer = assemble(inner, &contract, &parts, &change.viewer);
    change.txn.commit().await?;
    Ok(answer)
}

/// The contract as GetContract shows it to `viewer`, from one snapshot.
pub async fn read(inner: &Inner, id: ContractId, viewer: &Principal) -> Result<pb::Contract> {
    let snapshot = store::snapshot(&inner.db).await?;
    let contract = store::find_contract(&snapshot, id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    let answer = full(inner, &snapshot, &contract, viewer).await?;
    snapshot.commit().await?;
    Ok(answer)
}

/// `text` trimmed, checked to be `min` to `max` characters.
pub fn text(
    field: &str,
    text: &str,
    min: usize,
    max: usize,
    violations: &mut FieldViolations,
) -> String {
    let text = text.trim();
    let length = text.chars().count();
    if length < min || length > max {
        if min == 0 {
            violations.add(field, format!("must be at most {max} characters"));
        } else {
            violations.add(field, format!("must be {min} to {max} characters"));
        }
    }
    text.to_owned()
}

/// Media ids of files sent with a request: at most [`MAX_ATTACHMENTS`],
/// each a UUID, repeats dropped.
pub fn attachments(field: &str, ids: &[String], violations: &mut FieldViolations) -> Vec<Uuid> {
    if ids.len() > MAX_ATTACHMENTS {
        violations.add(field, format!("at most {MAX_ATTACHMENTS} files"));
        return Vec::new();
    }
    let mut files = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = frevix_platform::ids::parse_uuid(&format!("{field}[{i}]"), id, violations)
            && !files.contains(&id)
        {
            files.push(id);
        }
    }
    files
}

/// Media ids as stored: separated by spaces.
pub fn stored(files: &[Uuid]) -> String {
    files
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
