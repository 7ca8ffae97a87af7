//! Stored rows to protobuf messages.

use chrono::{DateTime, Utc};
use frevix_proto::messaging::v1 as pb;

use crate::store::{ConversationRow, MemberRow, MessageRow};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn message(row: &MessageRow) -> pb::Message {
    pb::Message {
        id: row.id.to_string(),
        conversation_id: row.conversation_id.to_string(),
        sequence: row.seq,
        sender_id: row.sender_id.to_string(),
        text: row.text.clone(),
        client_message_id: row.client_message_id.clone(),
        create_time: Some(timestamp(row.created_at)),
    }
}

pub fn conversation(
    row: &ConversationRow,
    members: &[MemberRow],
    me: &MemberRow,
    last: Option<&MessageRow>,
) -> pb::Conversation {
    let kind = match row.kind.as_str() {
        "CONTRACT" => pb::ConversationKind::Contract,
        _ => pb::ConversationKind::Direct,
    };
    pb::Conversation {
        id: row.id.to_string(),
        kind: kind as i32,
        member_ids: members
            .iter()
            .filter(|m| m.conversation_id == row.id)
            .map(|m| m.account_id.to_string())
            .collect(),
        contract_id: row.contract_id.map(|id| id.to_string()).unwrap_or_default(),
        title: row.title.clone(),
        last_message: last.map(message),
        unread_count: (row.last_seq - me.last_read_seq).max(0),
        create_time: Some(timestamp(row.created_at)),
        last_activity_time: Some(timestamp(row.last_activity_at)),
    }
}
