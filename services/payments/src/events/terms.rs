//! Contracts' terms as contracts announces them: a contract with its
//! milestones, a milestone added later, an approved hourly week (which is
//! then charged, see `hourly`). A message
//! payments cannot read is logged and skipped (retrying it would not make
//! it readable); a repeated one changes nothing.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contracts;
use uuid::Uuid;

use crate::Inner;
use crate::store::terms as store;
use crate::terms::{self, ContractTerms, InvoiceTerms, TermsError};

pub struct Terms {
    inner: Arc<Inner>,
}

impl Terms {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

fn unreadable(what: &str, error: &TermsError) {
    tracing::warn!(what, %error, "contracts' event is not readable; skipped");
}

#[async_trait::async_trait]
impl On<contracts::ContractCreated> for Terms {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::ContractCreated,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        match ContractTerms::from_event(&event) {
            Ok(terms) => {
                store::record_contract(txn, &terms, self.inner.clock.now()).await?;
            }
            Err(error) => unreadable("ContractCreated", &error),
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contracts::MilestoneAdded> for Terms {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::MilestoneAdded,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let Ok(contract_id) = Uuid::parse_str(&event.contract_id) else {
            unreadable("MilestoneAdded", &TermsError("contract_id".into()));
            return Ok(());
        };
        let Some(contract) = store::find_contract(txn, contract_id).await? else {
            // Contracts publishes ContractCreated first, in order on one
            // stream: a milestone of a contract never heard of is not ours.
            tracing::warn!(%contract_id, "a milestone added to a contract not known here");
            return Ok(());
        };
        let currency = frevix_platform::money::Currency::from_code(&contract.currency);
        let Some(milestone) = event.milestone.as_ref() else {
            unreadable("MilestoneAdded", &TermsError("no milestone".into()));
            return Ok(());
        };
        match terms::milestone("milestone", milestone, currency) {
            Ok(terms) => {
                store::add_milestone(txn, contract_id, &terms).await?;
            }
            Err(error) => unreadable("MilestoneAdded", &error),
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contracts::HourlyInvoiceApproved> for Terms {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::HourlyInvoiceApproved,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        match InvoiceTerms::from_event(&event) {
            Ok(terms) => {
                let now = self.inner.clock.now();
                if store::record_invoice(txn, &terms, now).await? {
                    // Charged at once, in its own transaction (a timer).
                    let subject = terms.id.to_string();
                    self.inner
                        .timers
                        .schedule(txn, crate::hourly::CHARGE_INVOICE, &subject, now, "")
                        .await?;
                }
            }
            Err(error) => unreadable("HourlyInvoiceApproved", &error),
        }
        Ok(())
    }
}
