//! Contract conversations open themselves from ContractCreated; every sent
//! message is announced as MessageSent (for notifications).

use std::sync::Arc;

use chrono::Utc;
use frevix_platform::db::is_unique_violation;
use frevix_platform::events::{
    Background, BusError, ConsumerSpec, EventBus, EventHandler, HandlerError, ReceivedEvent,
};
use frevix_proto::contracts::v1 as contracts;
use prost::Name;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use uuid::Uuid;

use crate::store::{self, NewConversation};

pub async fn consume(bus: &EventBus, db: &DatabaseConnection) -> Result<Vec<Background>, BusError> {
    let spec = ConsumerSpec {
        event_types: vec![contracts::ContractCreated::full_name()],
        ..ConsumerSpec::new("messaging-contracts", "contracts")
    };
    Ok(vec![
        bus.consume(spec, db.clone(), Arc::new(ContractConversations))
            .await?,
    ])
}

struct ContractConversations;

fn id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text}")))
}

#[async_trait::async_trait]
impl EventHandler for ContractConversations {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        event: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let created: contracts::ContractCreated = event.decode()?;
        let contract = id(&created.contract_id)?;
        if store::find_by_contract(txn, contract).await?.is_some() {
            return Ok(());
        }
        let members = [id(&created.client_id)?, id(&created.freelancer_id)?];
        let new = NewConversation {
            kind: "CONTRACT",
            direct_key: None,
            contract_id: Some(contract),
            title: created.title.chars().take(200).collect(),
            members: &members,
        };
        match store::insert_conversation(txn, new, Utc::now()).await {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
