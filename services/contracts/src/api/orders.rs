//! PlaceOrder: a buyer orders a gig. Priced from contracts' copy of the gig
//! (its packages and extras as last published), one milestone for the
//! whole order, waiting for funding. A retry with the same idempotency key
//! answers the same order.

use frevix_platform::auth::Role;
use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Start};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::money::Money;
use frevix_platform::request::caller_with;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use prost::Message as _;
use tonic::Request;
use uuid::Uuid;

use super::reading::full;
use crate::Inner;
use crate::domain::order::{ExtraTerms, PackageTerms, quote};
use crate::domain::{ContractId, ContractKind, ContractStatus, MilestoneId, MilestoneStatus};
use crate::error::Result;
use crate::events::publish;
use crate::store::{self, ContractRow, MilestoneRow, OrderRow};

const SCOPE: &str = "contracts.PlaceOrder";

fn unavailable() -> ApiError {
    ApiError::precondition(
        "GIG_NOT_AVAILABLE",
        "gig",
        "this gig is paused or no longer for sale",
    )
}

pub async fn place(
    inner: &Inner,
    request: Request<pb::PlaceOrderRequest>,
) -> Result<pb::PlaceOrderResponse> {
    let caller = caller_with(&request, Role::Client)?;
    let mut violations = FieldViolations::new();
    let key = IdempotencyKey::from_metadata(request.metadata(), &mut violations);
    let req = request.into_inner();
    let gig_id = frevix_platform::ids::parse_uuid("gig_id", &req.gig_id, &mut violations);
    let tier = match marketplace::PackageTier::try_from(req.package_tier) {
        Ok(marketplace::PackageTier::Unspecified) | Err(_) => {
            violations.add("package_tier", "must be BASIC, STANDARD or PREMIUM");
            None
        }
        Ok(tier) => Some(tier as i32),
    };
    let mut extras = Vec::new();
    for (i, id) in req.extra_ids.iter().enumerate() {
        if let Some(id) =
            frevix_platform::ids::parse_uuid(&format!("extra_ids[{i}]"), id, &mut violations)
        {
            extras.push(id);
        }
    }
    let (Some(gig_id), Some(tier)) = violations.finish((gig_id, tier))? else {
        return Err(ApiError::NotFound("gig").into());
    };
    let keyed = Keyed::new(format!("{SCOPE}:{}", caller.account_id), key, &req);
    if let Some(answer) = keyed.replay(&inner.db).await? {
        return Ok(answer);
    }
    let row = store::find_gig(&inner.db, gig_id)
        .await?
        .ok_or(ApiError::NotFound("gig"))?;
    if row.status != "PUBLISHED" {
        return Err(unavailable().into());
    }
    if row.seller_id == caller.account_id.0 {
        return Err(ApiError::precondition("OWN_GIG", "gig", "you cannot buy your own gig").into());
    }
    let gig = marketplace::Gig::decode(row.body.as_slice())
        .map_err(|error| ApiError::internal(format!("stored gig {gig_id}: {error}")))?;
    let package = gig
        .packages
        .iter()
        .find(|p| p.tier == tier)
        .ok_or_else(|| FieldViolations::single("package_tier", "this gig has no such package"))?;
    let terms = PackageTerms {
        tier,
        price: stored_money(package.price.as_ref())?,
        delivery_days: package.delivery_days,
        revisions: package.revisions,
    };
    let offered = gig
        .extras
        .iter()
        .map(|extra| {
            Ok(ExtraTerms {
                id: Uuid::parse_str(&extra.id)
                    .map_err(|_| ApiError::internal("stored extra id"))?,
                price: stored_money(extra.price.as_ref())?,
                extra_days: extra.extra_days,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let quote = quote(&terms, &offered, &extras, req.quantity)?;
    let once = match keyed.begin(&inner.db).await? {
        Start::Replay(answer) => return Ok(answer),
        Start::Run(once) => once,
    };
    let now = inner.clock.now();
    let contract_id = ContractId::generate();
    let milestone = MilestoneRow {
        id: MilestoneId::generate().0,
        contract_id: contract_id.0,
        position: 1,
        title: format!("{} package", package.name),
        amount_minor: quote.total.minor_units,
        status: MilestoneStatus::Pending.as_str().to_owned(),
        funded_minor: 0,
        released_minor: 0,
        refunded_minor: 0,
        revisions_used: 0,
        due_at: None,
    };
    let contract = ContractRow {
        id: contract_id.0,
        kind: ContractKind::GigOrder.as_str().to_owned(),
        status: ContractStatus::PendingFunding.as_str().to_owned(),
        client_id: caller.account_id.0,
        freelancer_id: row.seller_id,
        title: gig.title.chars().take(200).collect(),
        currency: quote.total.currency.code().to_owned(),
        total_minor: quote.total.minor_units,
        proposal_id: None,
        job_id: None,
        gig_id: Some(gig_id),
        hourly_rate_minor: None,
        weekly_limit_minutes: None,
        paused: false,
        created_at: now,
        updated_at: now,
    };
    let contract = store::insert_contract(&once, contract, vec![milestone.clone()]).await?;
    store::insert_order(
        &once,
        OrderRow {
            contract_id: contract_id.0,
            gig_id,
            package_tier: tier,
            package_name: package.name.clone(),
            quantity: req.quantity,
            extras: quote
                .extras
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            delivery_days: quote.delivery_days,
            revisions_included: quote.revisions,
        },
    )
    .await?;
    store::add_timeline(
        &once,
        contract_id,
        now,
        Some(AccountId(caller.account_id.0)),
        "ORDER_PLACED",
        None,
        format!(
            "Ordered {} × {} for {}",
            req.quantity, package.name, quote.total
        ),
    )
    .await?;
    publish::contract_created(&inner.outbox, &once, &contract, &[milestone]).await?;
    let response = pb::PlaceOrderResponse {
        contract: Some(full(inner, &once, &contract).await?),
    };
    once.finish(&response).await?;
    tracing::info!(contract_id = %contract_id, gig_id = %gig_id, "gig ordered");
    Ok(response)
}

fn stored_money(money: Option<&frevix_proto::common::v1::Money>) -> Result<Money> {
    money
        .and_then(|m| Money::from_stored(&m.currency_code, m.minor_units))
        .ok_or_else(|| ApiError::internal("a stored price is not readable").into())
}
