//! Stored rows to protobuf messages.

use chrono::{DateTime, Utc};
use frevix_platform::ids::SessionId;
use frevix_proto::identity::v1 as pb;

use crate::domain::account::role_to_proto;
use crate::store::accounts::{AccountRow, roles_of, status_of};
use crate::store::sessions::SessionRow;

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The account as others may see it (whether it uses two factors is left
/// out: see [`own_account`]).
pub fn account(row: &AccountRow) -> pb::Account {
    own_account(row, false)
}

/// The account as its owner sees it.
pub fn own_account(row: &AccountRow, two_factor_enabled: bool) -> pb::Account {
    pb::Account {
        two_factor_enabled,
        id: row.id.to_string(),
        email: row.email.clone(),
        display_name: row.display_name.clone(),
        roles: roles_of(row)
            .to_vec()
            .into_iter()
            .map(|role| role_to_proto(role) as i32)
            .collect(),
        status: status_of(row).to_proto() as i32,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn session(row: &SessionRow, current: SessionId) -> pb::Session {
    pb::Session {
        id: row.id.to_string(),
        device_name: row.device_name.clone(),
        user_agent: row.user_agent.clone(),
        ip_address: row.ip_address.clone(),
        create_time: Some(timestamp(row.created_at)),
        last_use_time: Some(timestamp(row.last_used_at)),
        expire_time: Some(timestamp(row.expires_at)),
        current: row.id == current.0,
    }
}
