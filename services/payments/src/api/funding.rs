//! FundMilestone and GetFunding: a milestone's payment into escrow. The
//! amount is the milestone's as contracts agreed it; the provider's intent
//! is keyed by the milestone, so retries and racing calls share one intent
//! and one charge.

use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use super::parties;
use crate::Inner;
use crate::convert;
use crate::error::Result;
use crate::ledger::{TransactionId, TransactionKind};
use crate::provider::{IntentStatus, NewIntent, ProviderError};
use crate::store::fundings::{self, FundingRow, Heard};
use crate::store::terms::{ContractRow, MilestoneRow};
use crate::store::{self};

/// The longest payment method id accepted (Stripe's are about 30).
const MAX_PAYMENT_METHOD: usize = 255;

pub async fn fund(
    inner: &Inner,
    request: Request<pb::FundMilestoneRequest>,
) -> Result<pb::FundMilestoneResponse> {
    let caller = caller(&request)?;
    let request = request.get_ref();
    let (contract_id, milestone_id) =
        parties::parse_ids(&request.contract_id, &request.milestone_id)?;
    let mut violations = FieldViolations::new();
    violations.check_len(
        "payment_method",
        request.payment_method.len(),
        MAX_PAYMENT_METHOD,
    );
    violations.finish(())?;
    let (contract, milestone) =
        parties::milestone(&inner.db, &caller, contract_id, milestone_id).await?;
    if contract.client_id != caller.account_id.0 {
        return Err(ApiError::permission_denied(
            "NOT_CONTRACT_CLIENT",
            "only the contract's client funds its milestones",
        )
        .into());
    }
    refuse_if_funded(inner, &milestone).await?;
    if contract.ended_at.is_some() {
        return Err(ApiError::precondition(
            "CONTRACT_ENDED",
            "contract",
            "the contract has ended; nothing more is funded",
        )
        .into());
    }
    let mut funding = match fundings::find_for_milestone(&inner.db, milestone.id).await? {
        Some(funding) => funding,
        None => create(inner, &contract, &milestone).await?,
    };
    if funding.status == IntentStatus::Succeeded.as_str() {
        return Err(funded());
    }
    if !request.payment_method.is_empty() {
        funding = confirm(inner, funding, &request.payment_method).await?;
    }
    Ok(pb::FundMilestoneResponse {
        funding: Some(convert::funding(
            &funding,
            inner.provider.publishable_key(),
            true,
        )),
    })
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetFundingRequest>,
) -> Result<pb::GetFundingResponse> {
    let caller = caller(&request)?;
    let request = request.get_ref();
    let (contract_id, milestone_id) =
        parties::parse_ids(&request.contract_id, &request.milestone_id)?;
    let (contract, milestone) =
        parties::milestone(&inner.db, &caller, contract_id, milestone_id).await?;
    let funding = fundings::find_for_milestone(&inner.db, milestone.id)
        .await?
        .ok_or(ApiError::NotFound("funding"))?;
    Ok(pb::GetFundingResponse {
        funding: Some(convert::funding(
            &funding,
            inner.provider.publishable_key(),
            contract.client_id == caller.account_id.0,
        )),
    })
}

fn funded() -> crate::error::PaymentsError {
    ApiError::precondition(
        "MILESTONE_FUNDED",
        "milestone",
        "the milestone is funded already",
    )
    .into()
}

/// The ledger says whether money is in escrow for the milestone.
async fn refuse_if_funded(inner: &Inner, milestone: &MilestoneRow) -> Result<()> {
    let fund = TransactionId::of(TransactionKind::Fund, milestone.id);
    if store::find_transaction(&inner.db, &fund).await?.is_some() {
        return Err(funded());
    }
    Ok(())
}

/// The milestone's intent at the provider (keyed by the milestone, so a
/// crash between the provider's answer and the row finds the same intent
/// again), recorded as its payment.
async fn create(
    inner: &Inner,
    contract: &ContractRow,
    milestone: &MilestoneRow,
) -> Result<FundingRow> {
    let amount =
        frevix_platform::money::Money::from_stored(&contract.currency, milestone.amount_minor)
            .ok_or_else(|| {
                ApiError::internal(format!("stored currency {:?}", contract.currency))
            })?;
    let intent = inner
        .provider
        .create_intent(&NewIntent {
            idempotency_key: format!("fund:{}", milestone.id),
            amount,
            contract: contract.id,
            subject: milestone.id,
        })
        .await?;
    let row = fundings::new_row(
        contract,
        milestone,
        inner.provider.name(),
        &intent,
        inner.clock.now(),
    );
    Ok(fundings::insert(&inner.db, row).await?)
}

/// Confirms the payment with `payment_method`. Of racing confirmations
/// the provider lets one through; the others answer the payment as it
/// then stands.
async fn confirm(inner: &Inner, funding: FundingRow, payment_method: &str) -> Result<FundingRow> {
    let confirmable =
        IntentStatus::parse(&funding.status).is_some_and(IntentStatus::is_confirmable);
    if !confirmable {
        return Ok(funding);
    }
    let attempt = fundings::next_confirmation(&inner.db, funding.id).await?;
    let key = format!("confirm:{}:{attempt}", funding.milestone_id);
    match inner
        .provider
        .confirm_intent(&funding.intent_id, payment_method, &key)
        .await
    {
        Ok(intent) => {
            let heard = Heard {
                status: intent.status,
                failure: intent.failure.as_deref(),
                next_action_url: intent.next_action_url.as_deref(),
            };
            fundings::hear(&inner.db, &intent.id, heard, inner.clock.now()).await?;
        }
        Err(ProviderError::Invalid(message)) => {
            return Err(ApiError::from(FieldViolations::single("payment_method", message)).into());
        }
        Err(ProviderError::UnexpectedState(message)) => {
            tracing::info!(milestone = %funding.milestone_id, %message, "a racing confirmation went first");
        }
        Err(other) => return Err(other.into()),
    }
    fundings::find_for_milestone(&inner.db, funding.milestone_id)
        .await?
        .ok_or_else(|| ApiError::internal("the payment vanished").into())
}
