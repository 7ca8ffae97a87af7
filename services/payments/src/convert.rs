//! Rows to protobuf messages.

use chrono::{DateTime, Utc};
use frevix_proto::common::v1 as common;
use frevix_proto::payments::v1 as pb;

use crate::provider::IntentStatus;
use crate::store::fundings::FundingRow;

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn money(currency: &str, minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: currency.to_owned(),
        minor_units,
    })
}

fn status(text: &str) -> pb::FundingStatus {
    match IntentStatus::parse(text) {
        Some(IntentStatus::RequiresPaymentMethod) => pb::FundingStatus::RequiresPaymentMethod,
        Some(IntentStatus::RequiresConfirmation) => pb::FundingStatus::RequiresConfirmation,
        Some(IntentStatus::RequiresAction) => pb::FundingStatus::RequiresAction,
        Some(IntentStatus::Processing) => pb::FundingStatus::Processing,
        Some(IntentStatus::Succeeded) => pb::FundingStatus::Succeeded,
        Some(IntentStatus::Canceled) => pb::FundingStatus::Canceled,
        None => pb::FundingStatus::Unspecified,
    }
}

/// A milestone's payment; the client secret only for the paying client.
pub fn funding(row: &FundingRow, publishable_key: &str, for_client: bool) -> pb::Funding {
    pb::Funding {
        payment_id: row.id.to_string(),
        contract_id: row.contract_id.to_string(),
        milestone_id: row.milestone_id.to_string(),
        amount: money(&row.currency, row.amount_minor),
        status: status(&row.status).into(),
        client_secret: if for_client {
            row.client_secret.clone()
        } else {
            String::new()
        },
        publishable_key: publishable_key.to_owned(),
        provider: row.provider.clone(),
        failure_reason: row.failure_reason.clone().unwrap_or_default(),
        next_action_url: row.next_action_url.clone().unwrap_or_default(),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}
