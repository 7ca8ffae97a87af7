//! The review window's timer: a delivery nobody answered in time is
//! approved, as if the client had, with `automatic` set on the event. A
//! revision request or an approval cancels the timer in its own
//! transaction; if the milestone moved on anyway, firing changes nothing.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::timers::{OnTimer, Timer};
use uuid::Uuid;

use crate::Inner;
use crate::domain::{ContractId, MilestoneCommand, MilestoneId};
use crate::error::ContractsError;
use crate::steps::{self, Note};
use crate::store;

pub struct AutoApprove {
    pub inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl OnTimer for AutoApprove {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id in timer: {text:?}")))
        };
        let contract_id = ContractId(parse(&timer.payload)?);
        let milestone_id = MilestoneId(parse(&timer.subject)?);
        let Some(contract) = store::find_contract(txn, contract_id).await? else {
            return Ok(());
        };
        let Some(milestone) = store::find_milestone(txn, contract_id, milestone_id).await? else {
            return Ok(());
        };
        let note = Note {
            automatic: true,
            ..Note::default()
        };
        match steps::apply(
            &self.inner,
            txn,
            &contract,
            &milestone,
            MilestoneCommand::Approve,
            &note,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(ContractsError::Milestone(refusal)) if steps::is_stale(refusal) => Ok(()),
            Err(error) => Err(HandlerError(error.to_string())),
        }
    }
}
