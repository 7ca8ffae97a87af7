//! Stored rows to protobuf messages.

use chrono::{DateTime, Utc};
use frevix_proto::messaging::v1 as pb;
use uuid::Uuid;

use crate::domain::{ConversationKind, MessageKind};
use crate::store::{ConversationRow, MemberRow, MessageRow};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A message as members see it (never the unmasked original).
pub fn message(row: &MessageRow) -> pb::Message {
    let system = MessageKind::parse(&row.kind) == MessageKind::System;
    pb::Message {
        id: row.id.to_string(),
        conversation_id: row.conversation_id.to_string(),
        sequence: row.seq,
        sender_id: if row.sender_id == Uuid::nil() {
            String::new()
        } else {
            row.sender_id.to_string()
        },
        text: row.text.clone(),
        client_message_id: if system {
            String::new()
        } else {
            row.client_message_id.clone()
        },
        create_time: Some(timestamp(row.created_at)),
        kind: if system {
            pb::MessageKind::System
        } else {
            pb::MessageKind::User
        } as i32,
        reply_to_sequence: row.reply_to_seq,
        attachment_ids: attachments(&row.attachments)
            .iter()
            .map(ToString::to_string)
            .collect(),
        edit_time: row.edited_at.map(timestamp),
        deleted: row.deleted,
        masked: row.masked,
        system_code: row.system_code.clone(),
    }
}

/// The media ids stored with a message.
pub fn attachments(stored: &str) -> Vec<Uuid> {
    stored
        .split_whitespace()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

pub fn conversation(
    row: &ConversationRow,
    members: &[MemberRow],
    me: &MemberRow,
    last: Option<&MessageRow>,
) -> pb::Conversation {
    let kind = ConversationKind::parse(&row.kind).to_proto();
    let mine = || members.iter().filter(|m| m.conversation_id == row.id);
    pb::Conversation {
        id: row.id.to_string(),
        kind: kind as i32,
        member_ids: mine().map(|m| m.account_id.to_string()).collect(),
        contract_id: row.contract_id.map(|id| id.to_string()).unwrap_or_default(),
        title: row.title.clone(),
        last_message: last.map(message),
        unread_count: (row.last_seq - me.last_read_seq).max(0),
        create_time: Some(timestamp(row.created_at)),
        last_activity_time: Some(timestamp(row.last_activity_at)),
        admin_ids: mine()
            .filter(|m| m.admin)
            .map(|m| m.account_id.to_string())
            .collect(),
        archived: me.archived,
        muted: me.muted,
    }
}
