//! What a send needs to know before it is written, in one round trip: the
//! conversation's kind and last sequence, its members (who may write, who
//! archived it, blocks between them and the sender), and whether this sender
//! already stored this client id (a resend). Five lookups on the path of
//! every message became one; on PostgreSQL, `send_contexts` answers many
//! sends' lookups with one statement (see `crate::lookups`).

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::domain::send::Member;
use crate::domain::{ConversationId, ConversationKind};

pub struct SendContext {
    pub kind: ConversationKind,
    pub last_seq: i64,
    pub members: Vec<Member>,
    /// The message this sender already stored with this client id.
    pub existing: Option<Uuid>,
}

/// None when the conversation does not exist.
pub async fn send_context(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
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
            [
                conversation.0.into(),
                sender.into(),
                client_message_id.into(),
            ],
        ))
        .await?;
    context(&rows)
}

/// What one send asks before it is written.
#[derive(Clone)]
pub struct Lookup {
    pub conversation: ConversationId,
    pub sender: Uuid,
    pub client_message_id: String,
}

/// `send_context` for many sends, answered in their order. On PostgreSQL
/// one statement answers them all (the lookups go as arrays), so the
/// statement's planning and round trip are paid once per batch instead of
/// once per message; SQLite has one connection and asks one by one.
pub async fn send_contexts(
    db: &impl ConnectionTrait,
    lookups: &[Lookup],
) -> Result<Vec<Option<SendContext>>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let mut contexts = Vec::with_capacity(lookups.len());
        for l in lookups {
            contexts.push(send_context(db, l.conversation, l.sender, &l.client_message_id).await?);
        }
        return Ok(contexts);
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            BATCH_SQL,
            [
                Value::from(lookups.iter().map(|l| l.conversation.0).collect::<Vec<_>>()),
                Value::from(lookups.iter().map(|l| l.sender).collect::<Vec<_>>()),
                Value::from(
                    lookups
                        .iter()
                        .map(|l| l.client_message_id.clone())
                        .collect::<Vec<_>>(),
                ),
            ],
        ))
        .await?;
    let mut per_lookup: Vec<Vec<QueryResult>> = lookups.iter().map(|_| Vec::new()).collect();
    for row in rows {
        let i: i64 = row.try_get("", "i")?;
        if let Some(slot) = usize::try_from(i - 1)
            .ok()
            .and_then(|i| per_lookup.get_mut(i))
        {
            slot.push(row);
        }
    }
    per_lookup.iter().map(|rows| context(rows)).collect()
}

/// The context in a lookup's rows (one per member); None without rows.
fn context(rows: &[QueryResult]) -> Result<Option<SendContext>, DbErr> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        members.push(Member {
            account: row.try_get("", "account_id")?,
            archived: row.try_get("", "archived")?,
            blocked_by_sender: row.try_get("", "blocked_by_sender")?,
            blocks_sender: row.try_get("", "blocks_sender")?,
        });
    }
    Ok(Some(SendContext {
        kind: ConversationKind::parse(&first.try_get::<String>("", "kind")?),
        last_seq: first.try_get("", "last_seq")?,
        members,
        existing: first.try_get("", "existing")?,
    }))
}

/// `SQL` for many lookups: $1 conversations, $2 senders, $3 client message
/// ids, row `i` (from 1) answering the i-th lookup. The send path's pool
/// plans it once for any array (a generic plan), which guesses ten rows for
/// `unnest` and would hash-join them against a scan of every conversation
/// (every send updates its conversation's row, so the table is mostly dead
/// versions between vacuums); `c.id = ANY($1)` keeps it on the primary key.
const BATCH_SQL: &str = "SELECT q.i, c.kind, c.last_seq, m.account_id, m.archived, \
     (SELECT x.id FROM messages x WHERE x.conversation_id = c.id \
        AND x.sender_id = q.sender AND x.client_message_id = q.client) AS existing, \
     EXISTS (SELECT 1 FROM blocks b \
        WHERE b.blocker_id = q.sender AND b.blocked_id = m.account_id) AS blocked_by_sender, \
     EXISTS (SELECT 1 FROM blocks b \
        WHERE b.blocker_id = m.account_id AND b.blocked_id = q.sender) AS blocks_sender \
     FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS q(conversation, sender, client, i) \
     JOIN conversations c ON c.id = q.conversation \
     JOIN members m ON m.conversation_id = c.id \
     WHERE c.id = ANY($1)";

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
