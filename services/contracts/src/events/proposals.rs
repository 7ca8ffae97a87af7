//! A proposal accepted in marketplace becomes a job contract: fixed-price
//! with the proposal's milestones, or hourly at the bid's rate. The
//! contract's id is the one marketplace put in the event (derived from the
//! proposal), so a replayed or repeated event finds it and makes nothing.

use std::sync::Arc;

use chrono::Duration;
use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_platform::ids::AccountId;
use frevix_platform::money::Money;
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1::ProposalAccepted;
use uuid::Uuid;

use super::publish;
use crate::Inner;
use crate::domain::contract::{Overrides, status_of};
use crate::domain::{ContractId, ContractKind, MilestoneId, MilestoneStatus};
use crate::store::{self, ContractRow, MilestoneRow};

pub struct Proposals {
    inner: Arc<Inner>,
}

impl Proposals {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

fn id(field: &str, text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("{field} is not a UUID: {text:?}")))
}

fn money(field: &str, money: Option<&common::Money>) -> Result<Money, HandlerError> {
    money
        .and_then(|m| Money::from_stored(&m.currency_code, m.minor_units))
        .filter(|m| m.minor_units > 0)
        .ok_or_else(|| HandlerError(format!("{field} is not a positive amount")))
}

#[async_trait::async_trait]
impl On<ProposalAccepted> for Proposals {
    async fn on(
        &self,
        txn: &Txn,
        event: ProposalAccepted,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let contract = ContractId(id("contract_id", &event.contract_id)?);
        if store::find_contract(txn, contract).await?.is_some() {
            return Ok(());
        }
        let now = self.inner.clock.now();
        let bid = money("bid", event.bid.as_ref())?;
        let kind = if event.hourly {
            ContractKind::Hourly
        } else {
            ContractKind::FixedPrice
        };
        let mut milestones = Vec::new();
        if kind == ContractKind::FixedPrice {
            for (i, proposed) in event.milestones.iter().enumerate() {
                let amount = money("milestones.amount", proposed.amount.as_ref())?;
                if amount.currency != bid.currency {
                    return Err(HandlerError(
                        "a milestone is not in the bid's currency".into(),
                    ));
                }
                milestones.push(MilestoneRow {
                    id: MilestoneId::generate().0,
                    contract_id: contract.0,
                    position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    title: proposed.title.chars().take(200).collect(),
                    amount_minor: amount.minor_units,
                    status: MilestoneStatus::Pending.as_str().to_owned(),
                    funded_minor: 0,
                    released_minor: 0,
                    refunded_minor: 0,
                    revisions_used: 0,
                    due_at: Some(now + Duration::days(i64::from(proposed.due_in_days.max(1)))),
                    settled_refund_minor: None,
                });
            }
            if milestones.is_empty() {
                // A fixed price without milestones is one milestone.
                milestones.push(MilestoneRow {
                    id: MilestoneId::generate().0,
                    contract_id: contract.0,
                    position: 1,
                    title: "The whole project".to_owned(),
                    amount_minor: bid.minor_units,
                    status: MilestoneStatus::Pending.as_str().to_owned(),
                    funded_minor: 0,
                    released_minor: 0,
                    refunded_minor: 0,
                    revisions_used: 0,
                    due_at: None,
                    settled_refund_minor: None,
                });
            }
        }
        let statuses: Vec<MilestoneStatus> = milestones
            .iter()
            .map(|_| MilestoneStatus::Pending)
            .collect();
        let status = status_of(kind, &statuses, Overrides::default());
        let client = AccountId(id("client_id", &event.client_id)?);
        let hourly = kind == ContractKind::Hourly;
        let row = ContractRow {
            id: contract.0,
            kind: kind.as_str().to_owned(),
            status: status.as_str().to_owned(),
            client_id: client.0,
            freelancer_id: id("freelancer_id", &event.freelancer_id)?,
            title: event.job_title.chars().take(200).collect(),
            currency: bid.currency.code().to_owned(),
            total_minor: milestones.iter().map(|m| m.amount_minor).sum(),
            proposal_id: Some(id("proposal_id", &event.proposal_id)?),
            job_id: Some(id("job_id", &event.job_id)?),
            gig_id: None,
            hourly_rate_minor: hourly.then_some(bid.minor_units),
            weekly_limit_minutes: hourly.then_some(self.inner.default_weekly_limit_minutes),
            paused: false,
            stage: crate::domain::stage::stage_of(status, &statuses, false)
                .as_str()
                .to_owned(),
            reviews_close_at: None,
            created_at: now,
            updated_at: now,
        };
        let row = store::insert_contract(txn, row, milestones.clone()).await?;
        if hourly {
            crate::hourly::start_weeks(&self.inner, txn, contract)
                .await
                .map_err(|error| HandlerError(error.to_string()))?;
        }
        let details = if hourly {
            format!("Hired at {bid} an hour")
        } else {
            format!("Hired for {bid} in {} milestone(s)", milestones.len())
        };
        store::add_timeline(
            txn,
            contract,
            now,
            Some(client),
            "CONTRACT_CREATED",
            None,
            details,
        )
        .await?;
        publish::contract_created(&self.inner.outbox, txn, &row, &milestones).await?;
        Ok(())
    }
}
