//! PlaceOrder: a buyer orders a gig. Priced from contracts' copy of the gig
//! (its packages and extras as last published), one milestone for the
//! whole order, waiting for funding. A retry with the same idempotency key
//! answers the same order.

use frevix_platform::auth::Role;
use frevix_platform::db::Txn;
use frevix_platform::db::idempotency::{IdempotencyKey, Keyed};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::money::Money;
use frevix_platform::request::{caller, caller_with};
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use prost::Message as _;
use tonic::Request;
use uuid::Uuid;

use super::detail::{Parts, assemble};
use super::reading::{full, visible};
use crate::Inner;
use crate::domain::order::{ExtraTerms, MAX_EXTRAS, MAX_QUANTITY, PackageTerms, quote};
use crate::domain::requirements::{self, Answer, Question};
use crate::domain::{
    ContractId, ContractKind, ContractStatus, MilestoneId, MilestoneStatus, Refusal,
};
use crate::error::Result;
use crate::placing::{NewOrder, Placed};
use crate::steps;
use crate::store::{self, ContractRow, MilestoneRow, OrderRow, PlacedRows, TimelineRow};

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
    violations.check(
        (1..=MAX_QUANTITY).contains(&req.quantity),
        "quantity",
        "must be 1 to 10",
    );
    let mut extras = Vec::new();
    if violations.check_len("extra_ids", req.extra_ids.len(), MAX_EXTRAS) {
        for (i, id) in req.extra_ids.iter().enumerate() {
            let field = format!("extra_ids[{i}]");
            match frevix_platform::ids::parse_uuid(&field, id, &mut violations) {
                Some(id) if extras.contains(&id) => violations.add(field, "is named twice"),
                Some(id) => extras.push(id),
                None => {}
            }
        }
    }
    // Without a gig and a package there is nothing to look up: what is
    // wrong so far is the answer. Otherwise the gig's own rules join it.
    let (Some(gig_id), Some(tier)) = (gig_id, tier) else {
        return Err(ApiError::from(violations).into());
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
    let Some(package) = gig.packages.iter().find(|p| p.tier == tier) else {
        violations.absorb(FieldViolations::single(
            "package_tier",
            "this gig has no such package",
        ));
        return Err(ApiError::from(violations).into());
    };
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
    let quote = match quote(&terms, &offered, &extras, req.quantity) {
        Ok(quote) => violations.finish(quote)?,
        Err(priced) => {
            violations.absorb(priced);
            return Err(ApiError::from(violations).into());
        }
    };
    // Stored as the database keeps them (microseconds): the answer is what
    // a later read finds.
    let now = store::stored_time(inner.clock.now());
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
        settled_refund_minor: None,
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
        stage: crate::domain::Stage::PendingFunding.as_str().to_owned(),
        reviews_close_at: None,
        created_at: now,
        updated_at: now,
    };
    let order = OrderRow {
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
        questions: questions_json(&gig),
        answers: "[]".to_owned(),
        requirements_at: None,
        due_at: None,
        late_at: None,
        extension_days: None,
        extension_reason: String::new(),
        extension_requested_at: None,
    };
    let placed = TimelineRow {
        id: Uuid::now_v7(),
        contract_id: contract_id.0,
        at: now,
        actor_id: Some(caller.account_id.0),
        action: "ORDER_PLACED".to_owned(),
        milestone_id: None,
        details: format!(
            "Ordered {} × {} for {}",
            req.quantity, package.name, quote.total
        ),
    };
    // Everything the answer shows is what is about to be written: nothing
    // to read back.
    let parts = Parts {
        milestones: vec![milestone.clone()],
        timeline: vec![placed.clone()],
        order: Some(order.clone()),
        ..Parts::default()
    };
    let response = pb::PlaceOrderResponse {
        contract: Some(assemble(inner, &contract, &parts, &caller)),
    };
    let new = NewOrder {
        claim: keyed.claim_answering(&response),
        rows: PlacedRows {
            contract,
            milestone,
            order,
            placed,
        },
    };
    match inner.placer.ask(new).await {
        Some(Ok(Placed::Written)) => {
            tracing::info!(contract_id = %contract_id, gig_id = %gig_id, "gig ordered");
            Ok(response)
        }
        // A call with the same key got there first: its answer is ours.
        Some(Ok(Placed::KeyTaken)) => keyed.replay(&inner.db).await?.ok_or_else(|| {
            ApiError::internal("the idempotency key was claimed and then vanished").into()
        }),
        Some(Err(error)) => Err(error),
        // The writer's task ended without an answer (it panicked).
        None => Err(ApiError::internal("the order was not answered by its writer").into()),
    }
}

fn stored_money(money: Option<&frevix_proto::common::v1::Money>) -> Result<Money> {
    money
        .and_then(|m| Money::from_stored(&m.currency_code, m.minor_units))
        .ok_or_else(|| ApiError::internal("a stored price is not readable").into())
}

/// The gig's requirement questions as the order keeps them.
fn questions_json(gig: &marketplace::Gig) -> String {
    let questions: Vec<Question> = gig
        .requirements
        .iter()
        .map(|q| Question {
            id: q.id.clone(),
            question: q.question.clone(),
            required: q.required,
        })
        .collect();
    serde_json::to_string(&questions).unwrap_or_else(|_| "[]".to_owned())
}

pub async fn submit_requirements(
    inner: &Inner,
    request: Request<pb::SubmitRequirementsRequest>,
) -> Result<pb::SubmitRequirementsResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let contract_id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    if violations.check_len("answers", req.answers.len(), requirements::MAX_QUESTIONS) {
        for (i, answer) in req.answers.iter().enumerate() {
            violations.check(
                !answer.question_id.is_empty(),
                &format!("answers[{i}].question_id"),
                "is required",
            );
            violations.check(
                answer.answer.trim().chars().count() <= requirements::MAX_ANSWER,
                &format!("answers[{i}].answer"),
                "must be at most 2,000 characters",
            );
        }
    }
    let contract_id = violations
        .finish(contract_id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let contract = visible(&inner.db, &caller, contract_id).await?;
    if contract.client_id != caller.account_id.0 {
        return Err(ApiError::permission_denied(
            "CLIENT_ONLY",
            "only the buyer sends the order's requirements",
        )
        .into());
    }
    let order = store::find_order(&inner.db, contract_id)
        .await?
        .ok_or_else(|| {
            ApiError::precondition(
                "NOT_A_GIG_ORDER",
                contract_id.to_string(),
                "only gig orders have requirements",
            )
        })?;
    if order.requirements_at.is_some() {
        return Err(ApiError::precondition(
            "REQUIREMENTS_ALREADY_SUBMITTED",
            contract_id.to_string(),
            "the requirements were sent already; write to the seller in the order's conversation",
        )
        .into());
    }
    let milestones = store::milestones_of(&inner.db, &[contract_id]).await?;
    let Some(milestone) = milestones.first() else {
        return Err(ApiError::internal("a gig order without its milestone").into());
    };
    if milestone.status == MilestoneStatus::Pending.as_str() {
        return Err(crate::error::ContractsError::Milestone(Refusal::NotFunded));
    }
    let questions: Vec<Question> = serde_json::from_str(&order.questions).unwrap_or_default();
    let given: Vec<Answer> = req
        .answers
        .iter()
        .map(|a| Answer {
            question_id: a.question_id.clone(),
            answer: a.answer.clone(),
        })
        .collect();
    let answers = requirements::check(&questions, &given)?;
    let answers = serde_json::to_string(&answers).unwrap_or_else(|_| "[]".to_owned());
    let txn = Txn::begin(&inner.db).await?;
    let locked = store::lock_contract(&txn, contract_id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    if let Some(status) = ContractStatus::parse(&locked.status) {
        crate::domain::ending::check_workable(status, false)?;
    }
    let milestone_id = MilestoneId(milestone.id);
    if !steps::start_delivery_clock(
        inner,
        &txn,
        contract_id,
        milestone_id,
        order.delivery_days,
        answers,
    )
    .await?
    {
        return Err(ApiError::precondition(
            "REQUIREMENTS_ALREADY_SUBMITTED",
            contract_id.to_string(),
            "the requirements were sent already",
        )
        .into());
    }
    let now = inner.clock.now();
    store::add_timeline(
        &txn,
        contract_id,
        now,
        Some(caller.account_id),
        "REQUIREMENTS_SUBMITTED",
        None,
        format!(
            "Requirements sent; delivery due in {} days",
            order.delivery_days
        ),
    )
    .await?;
    store::touch_contract(&txn, contract_id, now).await?;
    txn.commit().await?;
    let snapshot = store::snapshot(&inner.db).await?;
    let contract = store::find_contract(&snapshot, contract_id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    let answer = full(inner, &snapshot, &contract, &caller).await?;
    snapshot.commit().await?;
    Ok(pb::SubmitRequirementsResponse {
        contract: Some(answer),
    })
}
