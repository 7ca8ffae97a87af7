//! GetContract and ListContracts: what the parties (and ADMINs) see.

use chrono::{DateTime, Utc};
use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::request::{caller, parse_id};
use frevix_proto::contracts::v1 as pb;
use sea_orm::ConnectionTrait;
use tonic::Request;
use uuid::Uuid;

pub(crate) use super::detail::full;
use crate::Inner;
use crate::convert;
use crate::domain::{ContractId, ContractStatus, Party, Stage};
use crate::error::Result;
use crate::store::{self, ContractRow, ListFilter};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// The contract, if `caller` is one of its parties or an ADMIN; anyone else
/// is told it does not exist.
pub(crate) async fn visible(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id: ContractId,
) -> Result<ContractRow> {
    let row = store::find_contract(db, id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    if !is_visible(&row, caller) {
        return Err(ApiError::NotFound("contract").into());
    }
    Ok(row)
}

/// One of the contract's parties, or an ADMIN.
pub(crate) fn is_visible(row: &ContractRow, caller: &Principal) -> bool {
    row.client_id == caller.account_id.0
        || row.freelancer_id == caller.account_id.0
        || caller.is_admin()
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetContractRequest>,
) -> Result<pb::GetContractResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    let snapshot = store::snapshot(&inner.db).await?;
    let row = visible(&snapshot, &caller, id).await?;
    let contract = full(inner, &snapshot, &row, &caller).await?;
    snapshot.commit().await?;
    Ok(pb::GetContractResponse {
        contract: Some(contract),
    })
}

fn side(role: i32, violations: &mut FieldViolations) -> Option<Party> {
    match pb::ContractRole::try_from(role) {
        Ok(pb::ContractRole::Unspecified) => None,
        Ok(pb::ContractRole::Client) => Some(Party::Client),
        Ok(pb::ContractRole::Freelancer) => Some(Party::Freelancer),
        Err(_) => {
            violations.add("role", "must be CLIENT, FREELANCER or unspecified");
            None
        }
    }
}

fn status(status: i32, violations: &mut FieldViolations) -> Option<&'static str> {
    let wanted = match pb::ContractStatus::try_from(status) {
        Ok(pb::ContractStatus::Unspecified) => return None,
        Ok(pb::ContractStatus::PendingFunding) => ContractStatus::PendingFunding,
        Ok(pb::ContractStatus::Active) => ContractStatus::Active,
        Ok(pb::ContractStatus::Completed) => ContractStatus::Completed,
        Ok(pb::ContractStatus::Cancelled) => ContractStatus::Cancelled,
        Ok(pb::ContractStatus::Disputed) => ContractStatus::Disputed,
        Err(_) => {
            violations.add("status", "is not a known status");
            return None;
        }
    };
    Some(wanted.as_str())
}

fn stage(stage: i32, violations: &mut FieldViolations) -> Option<&'static str> {
    let wanted = match pb::ContractStage::try_from(stage) {
        Ok(pb::ContractStage::Unspecified) => return None,
        Ok(pb::ContractStage::PendingFunding) => Stage::PendingFunding,
        Ok(pb::ContractStage::Active) => Stage::Active,
        Ok(pb::ContractStage::Late) => Stage::Late,
        Ok(pb::ContractStage::Delivered) => Stage::Delivered,
        Ok(pb::ContractStage::Completed) => Stage::Completed,
        Ok(pb::ContractStage::Cancelled) => Stage::Cancelled,
        Ok(pb::ContractStage::Disputed) => Stage::Disputed,
        Err(_) => {
            violations.add("stage", "is not a known stage");
            return None;
        }
    };
    Some(wanted.as_str())
}

/// Each tab's count for the caller, zeros included.
pub async fn count(
    inner: &Inner,
    request: Request<pb::CountContractsRequest>,
) -> Result<pb::CountContractsResponse> {
    let caller = caller(&request)?;
    let mut violations = FieldViolations::new();
    let side = side(request.get_ref().role, &mut violations);
    violations.finish(())?;
    let counted = store::count_stages(&inner.db, caller.account_id, side).await?;
    Ok(pb::CountContractsResponse {
        counts: Stage::ALL
            .into_iter()
            .map(|stage| pb::StageCount {
                stage: convert::stage(stage) as i32,
                count: counted
                    .iter()
                    .find(|(name, _)| name == stage.as_str())
                    .map_or(0, |(_, count)| *count),
            })
            .collect(),
    })
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListContractsRequest>,
) -> Result<pb::ListContractsResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let filter = ListFilter {
        account: caller.account_id,
        side: side(req.role, &mut violations),
        status: status(req.status, &mut violations),
        stage: stage(req.stage, &mut violations),
    };
    let fingerprint = fingerprint(&(caller.account_id.0, req.role, req.status, req.stage));
    let page = parse_page::<(DateTime<Utc>, Uuid)>(
        req.page.as_ref(),
        LIMITS,
        &fingerprint,
        &mut violations,
    );
    violations.finish(())?;
    let snapshot = store::snapshot(&inner.db).await?;
    let rows = store::list_for(&snapshot, &filter, page.after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &fingerprint, |row| {
        (row.updated_at, row.id)
    });
    let ids: Vec<ContractId> = rows.iter().map(|row| ContractId(row.id)).collect();
    let milestones = store::milestones_of(&snapshot, &ids).await?;
    snapshot.commit().await?;
    Ok(pb::ListContractsResponse {
        contracts: rows
            .iter()
            .map(|row| convert::contract(row, &milestones, &[]))
            .collect(),
        page: Some(page),
    })
}
