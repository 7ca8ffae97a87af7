//! What a send needs to know before it is written, in one round trip: the
//! conversation's kind and last sequence, its members (who may write, who
//! archived it, blocks between them and the sender), and whether this sender
//! already stored this client id (a resend). Five lookups on the path of
//! every message became one.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use uuid::Uuid;

pub struct Member {
    pub account: Uuid,
    pub archived: bool,
    /// The sender blocked this member.
    pub blocked_by_sender: bool,
    /// This member blocked the sender.
    pub blocks_sender: bool,
}

pub struct SendContext {
    pub kind: String,
    pub last_seq: i64,
    pub members: Vec<Member>,
    /// The message this sender already stored with this client id.
    pub existing: Option<Uuid>,
}

/// None when the conversation does not exist.
pub async fn send_context(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    sender: Uuid,
    client_message_id: &str,
) -> Result<Option<SendContext>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Sqlite => SQL.replace('$', "?"),
        _ => SQL.to_owned(),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [conversation.into(), sender.into(), client_message_id.into()],
        ))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut members = Vec::with_capacity(rows.len());
    for row in &rows {
        members.push(Member {
            account: row.try_get("", "account_id")?,
            archived: row.try_get("", "archived")?,
            blocked_by_sender: row.try_get("", "blocked_by_sender")?,
            blocks_sender: row.try_get("", "blocks_sender")?,
        });
    }
    Ok(Some(SendContext {
        kind: first.try_get("", "kind")?,
        last_seq: first.try_get("", "last_seq")?,
        members,
        existing: first.try_get("", "existing")?,
    }))
}

/// One row per member ($1 conversation, $2 sender, $3 client message id;
/// SQLite reads the same numbers as ?1, ?2, ?3).
const SQL: &str = "SELECT c.kind, c.last_seq, m.account_id, m.archived, \
     (SELECT x.id FROM messages x WHERE x.conversation_id = c.id \
        AND x.sender_id = $2 AND x.client_message_id = $3) AS existing, \
     EXISTS (SELECT 1 FROM blocks b \
        WHERE b.blocker_id = $2 AND b.blocked_id = m.account_id) AS blocked_by_sender, \
     EXISTS (SELECT 1 FROM blocks b \
        WHERE b.blocker_id = m.account_id AND b.blocked_id = $2) AS blocks_sender \
     FROM conversations c JOIN members m ON m.conversation_id = c.id \
     WHERE c.id = $1";
