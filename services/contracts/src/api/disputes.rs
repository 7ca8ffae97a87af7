//! OpenDispute, AddDisputeStatement, ListDisputes and ResolveDispute: when
//! the parties cannot agree, an ADMIN decides how the escrow of the work in
//! progress is divided. Opening one stops every clock of the contract and
//! replaces an open cancellation request; the resolution ends the contract.

use chrono::{DateTime, Duration, Utc};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::request::caller;
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::acting::{attachments, begin, finish, party_of, stored, text};
use crate::Inner;
use crate::convert;
use crate::domain::ending::check_workable;
use crate::domain::settlement::{ALL_BPS, refund_for_share};
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, ContractStatus, DisputeId, DisputeStatus,
};
use crate::ending::{self, AUTO_ACCEPT, ESCALATE};
use crate::error::Result;
use crate::store::{self, DisputeRow, MAX_STATEMENTS, StatementRow};

const MAX_TEXT: usize = 5000;
const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

fn no_dispute(id: ContractId) -> ApiError {
    ApiError::precondition(
        "NO_OPEN_DISPUTE",
        id.to_string(),
        "no dispute of this contract waits for a decision",
    )
}

fn admin_only() -> ApiError {
    ApiError::permission_denied("ADMIN_ONLY", "only ADMINs see and decide disputes")
}

/// An ADMIN, signed in with a second factor within the last 10 minutes,
/// as every ADMIN action asks.
fn recent_admin(caller: &frevix_platform::auth::Principal) -> Result<()> {
    if !caller.is_admin() {
        return Err(admin_only().into());
    }
    frevix_platform::auth::require_step_up(caller, true).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    Ok(())
}

pub async fn open(
    inner: &Inner,
    request: Request<pb::OpenDisputeRequest>,
) -> Result<pb::OpenDisputeResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 1, MAX_TEXT, &mut violations);
    let files = attachments("attachment_ids", &req.attachment_ids, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let change = begin(inner, &caller, id).await?;
    party_of(&change.contract, &caller)?;
    let status = ContractStatus::parse(&change.contract.status)
        .ok_or_else(|| ApiError::internal("stored contract status is not readable"))?;
    if status == ContractStatus::Disputed
        && store::latest_dispute(&change.txn, id)
            .await?
            .is_some_and(|d| d.opened_by == caller.account_id.0)
    {
        // A retry of the caller's own dispute.
        change.txn.rollback().await?;
        return Ok(pb::OpenDisputeResponse {
            contract: Some(super::acting::read(inner, id, &caller).await?),
        });
    }
    // An open cancellation request gives way to the dispute.
    check_workable(status, false)?;
    let milestones = store::milestones_of(&change.txn, &[id]).await?;
    let held: i64 = ending::held(&milestones).iter().map(|(_, held)| held).sum();
    if held == 0 {
        return Err(ApiError::precondition(
            "NOTHING_IN_ESCROW",
            id.to_string(),
            "nothing is in escrow for work in progress; there is nothing to decide",
        )
        .into());
    }
    let now = inner.clock.now();
    if let Some(request) = store::latest_cancellation(&change.txn, id)
        .await?
        .filter(|r| r.status == CancellationStatus::Open.as_str())
    {
        let cancellation = CancellationId(request.id);
        store::answer_cancellation(
            &change.txn,
            cancellation,
            CancellationStatus::Superseded,
            now,
            Some(caller.account_id.0),
            "a dispute was opened",
        )
        .await?;
        inner
            .timers
            .forget(&change.txn, AUTO_ACCEPT, &cancellation.to_string());
    }
    ending::pause_review_windows(inner, &change.txn, id).await?;
    let dispute = DisputeId::generate();
    let contract = &change.contract;
    store::insert_dispute(
        &change.txn,
        DisputeRow {
            id: dispute.0,
            contract_id: id.0,
            client_id: contract.client_id,
            freelancer_id: contract.freelancer_id,
            opened_by: caller.account_id.0,
            reason: reason.clone(),
            attachments: stored(&files),
            currency: contract.currency.clone(),
            amount_minor: held,
            status: DisputeStatus::Open.as_str().to_owned(),
            opened_at: now,
            escalated_at: None,
            resolved_at: None,
            resolved_by: None,
            client_share_bps: None,
            decision: String::new(),
        },
    )
    .await?;
    let escalate_at = now + Duration::hours(i64::from(inner.dispute_escalation_hours));
    inner
        .timers
        .schedule(
            &change.txn,
            ESCALATE,
            &dispute.to_string(),
            escalate_at,
            &id.to_string(),
        )
        .await?;
    store::set_contract_status(&change.txn, id, ContractStatus::Disputed, now).await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "DISPUTE_OPENED",
        None,
        format!("A dispute was opened: {reason}"),
    )
    .await?;
    let event = pb::DisputeOpened {
        contract_id: id.to_string(),
        dispute_id: dispute.to_string(),
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        opened_by: caller.account_id.to_string(),
        reason,
        attachment_ids: files.iter().map(ToString::to_string).collect(),
    };
    inner
        .outbox
        .publish(&change.txn, "contract", &event.contract_id, &event)
        .await?;
    Ok(pb::OpenDisputeResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn add_statement(
    inner: &Inner,
    request: Request<pb::AddDisputeStatementRequest>,
) -> Result<pb::AddDisputeStatementResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let said = text("text", &req.text, 1, MAX_TEXT, &mut violations);
    let files = attachments("attachment_ids", &req.attachment_ids, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let change = begin(inner, &caller, id).await?;
    party_of(&change.contract, &caller)?;
    let dispute = store::latest_dispute(&change.txn, id)
        .await?
        .filter(|d| d.status == DisputeStatus::Open.as_str())
        .ok_or_else(|| no_dispute(id))?;
    let dispute_id = DisputeId(dispute.id);
    let said_so_far = store::statements_of(&change.txn, dispute_id).await?.len();
    if said_so_far as u64 >= MAX_STATEMENTS {
        return Err(ApiError::precondition(
            "STATEMENTS_EXHAUSTED",
            dispute_id.to_string(),
            format!("a dispute takes at most {MAX_STATEMENTS} statements"),
        )
        .into());
    }
    let now = inner.clock.now();
    store::insert_statement(
        &change.txn,
        StatementRow {
            id: Uuid::now_v7(),
            dispute_id: dispute.id,
            author_id: caller.account_id.0,
            text: said,
            attachments: stored(&files),
            at: now,
        },
    )
    .await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "DISPUTE_STATEMENT",
        None,
        "A statement was added to the dispute".to_owned(),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::AddDisputeStatementResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListDisputesRequest>,
) -> Result<pb::ListDisputesResponse> {
    let caller = caller(&request)?;
    recent_admin(&caller)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let status = match pb::DisputeStatus::try_from(req.status) {
        Ok(pb::DisputeStatus::Unspecified | pb::DisputeStatus::Open) => DisputeStatus::Open,
        Ok(pb::DisputeStatus::Resolved) => DisputeStatus::Resolved,
        Err(_) => {
            violations.add("status", "must be OPEN, RESOLVED or unspecified");
            DisputeStatus::Open
        }
    };
    let fingerprint = fingerprint(&status.as_str());
    let page = parse_page::<(DateTime<Utc>, Uuid)>(
        req.page.as_ref(),
        LIMITS,
        &fingerprint,
        &mut violations,
    );
    violations.finish(())?;
    let rows = store::list_disputes(&inner.db, status, page.after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &fingerprint, |row| (row.opened_at, row.id));
    Ok(pb::ListDisputesResponse {
        disputes: rows.iter().map(|row| convert::dispute(row, &[])).collect(),
        page: Some(page),
    })
}

pub async fn resolve(
    inner: &Inner,
    request: Request<pb::ResolveDisputeRequest>,
) -> Result<pb::ResolveDisputeResponse> {
    let caller = caller(&request)?;
    recent_admin(&caller)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let decision = text("decision", &req.decision, 1, MAX_TEXT, &mut violations);
    if !(0..=ALL_BPS).contains(&req.client_share_bps) {
        violations.add("client_share_bps", "must be 0 to 10,000 basis points");
    }
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let bps = req.client_share_bps;
    let change = begin(inner, &caller, id).await?;
    let Some(dispute) = store::latest_dispute(&change.txn, id).await? else {
        return Err(no_dispute(id).into());
    };
    if dispute.status != DisputeStatus::Open.as_str() {
        if dispute.client_share_bps == Some(bps) && dispute.decision == decision {
            // A retry of the same decision.
            change.txn.rollback().await?;
            return Ok(pb::ResolveDisputeResponse {
                contract: Some(super::acting::read(inner, id, &caller).await?),
            });
        }
        return Err(no_dispute(id).into());
    }
    let dispute_id = DisputeId(dispute.id);
    let now = inner.clock.now();
    if !store::resolve_dispute(
        &change.txn,
        dispute_id,
        now,
        caller.account_id.0,
        bps,
        &decision,
    )
    .await?
    {
        return Err(no_dispute(id).into());
    }
    inner
        .timers
        .forget(&change.txn, ESCALATE, &dispute_id.to_string());
    let milestones = store::milestones_of(&change.txn, &[id]).await?;
    let held: i64 = ending::held(&milestones).iter().map(|(_, held)| held).sum();
    let refund = refund_for_share(held, bps)
        .map_err(|error| FieldViolations::single("client_share_bps", error.to_string()))?;
    let by = Some(caller.account_id);
    let settlements = ending::settle(inner, &change.txn, &change.contract, refund, by).await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        by,
        "DISPUTE_RESOLVED",
        None,
        format!(
            "The dispute was resolved: {}% back to the client. {decision}",
            f64::from(bps) / 100.0
        ),
    )
    .await?;
    let contract = &change.contract;
    let event = pb::DisputeResolved {
        contract_id: id.to_string(),
        dispute_id: dispute_id.to_string(),
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        client_share_bps: bps,
        settlements,
        decision,
    };
    inner
        .outbox
        .publish(&change.txn, "contract", &event.contract_id, &event)
        .await?;
    Ok(pb::ResolveDisputeResponse {
        contract: Some(finish(inner, change).await?),
    })
}
