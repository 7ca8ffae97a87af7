//! What a send needs to know of its conversation, in one round trip: its
//! kind and last sequence, its members (who may write, who archived it) and,
//! in a direct conversation, whether either member blocked the other. These
//! facts are kept in memory (`crate::facts`) and loaded here when missing;
//! on PostgreSQL one statement loads many conversations' facts.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

use crate::domain::send::Member;
use crate::domain::{ConversationId, ConversationKind};

/// A conversation's facts as a send checks them.
#[derive(Debug, Clone)]
pub struct SendFacts {
    pub kind: ConversationKind,
    pub last_seq: i64,
    pub members: Arc<[Member]>,
}

/// Each conversation's facts, in the order asked; None for one that does
/// not exist. On PostgreSQL one statement answers them all (the ids go as
/// an array); SQLite has one connection and asks one by one.
pub async fn send_facts(
    db: &impl ConnectionTrait,
    conversations: &[ConversationId],
) -> Result<Vec<Option<SendFacts>>, DbErr> {
    let backend = db.get_database_backend();
    if backend != DatabaseBackend::Postgres {
        let mut found = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    SQL,
                    [conversation.0.into()],
                ))
                .await?;
            found.push(facts(&rows)?);
        }
        return Ok(found);
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            BATCH_SQL,
            [Value::from(
                conversations.iter().map(|c| c.0).collect::<Vec<_>>(),
            )],
        ))
        .await?;
    let mut per_conversation: Vec<Vec<QueryResult>> =
        conversations.iter().map(|_| Vec::new()).collect();
    for row in rows {
        let i: i64 = row.try_get("", "i")?;
        if let Some(slot) = usize::try_from(i - 1)
            .ok()
            .and_then(|i| per_conversation.get_mut(i))
        {
            slot.push(row);
        }
    }
    per_conversation.iter().map(|rows| facts(rows)).collect()
}

/// The facts in a conversation's rows (one per member); None without rows.
fn facts(rows: &[QueryResult]) -> Result<Option<SendFacts>, DbErr> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        members.push(Member {
            account: row.try_get("", "account_id")?,
            archived: row.try_get("", "archived")?,
            blocks_other: row.try_get("", "blocks_other")?,
        });
    }
    Ok(Some(SendFacts {
        kind: ConversationKind::parse(&first.try_get::<String>("", "kind")?),
        last_seq: first.try_get("", "last_seq")?,
        members: members.into(),
    }))
}

/// `SQL` for many conversations: $1 their ids, row `i` (from 1) answering
/// the i-th. The send path's pool plans it once for any array (a generic
/// plan), which guesses ten rows for `unnest` and would hash-join them
/// against a scan of every conversation (every send updates its
/// conversation's row, so the table is mostly dead versions between
/// vacuums); `c.id = ANY($1)` keeps it on the primary key.
const BATCH_SQL: &str = "SELECT q.i, c.kind, c.last_seq, m.account_id, m.archived, \
     CASE WHEN c.kind = 'DIRECT' THEN EXISTS (SELECT 1 FROM blocks b \
        JOIN members o ON o.conversation_id = c.id AND o.account_id = b.blocked_id \
        WHERE b.blocker_id = m.account_id) ELSE false END AS blocks_other \
     FROM unnest($1::uuid[]) WITH ORDINALITY AS q(conversation, i) \
     JOIN conversations c ON c.id = q.conversation \
     JOIN members m ON m.conversation_id = c.id \
     WHERE c.id = ANY($1)";

/// One row per member of conversation ?1 (SQLite). In a direct
/// conversation `blocks_other` says the member blocked the other one;
/// blocks do not silence groups and contracts, so it is false there.
const SQL: &str = "SELECT c.kind, c.last_seq, m.account_id, m.archived, \
     CASE WHEN c.kind = 'DIRECT' THEN EXISTS (SELECT 1 FROM blocks b \
        JOIN members o ON o.conversation_id = c.id AND o.account_id = b.blocked_id \
        WHERE b.blocker_id = m.account_id) ELSE false END AS blocks_other \
     FROM conversations c JOIN members m ON m.conversation_id = c.id \
     WHERE c.id = ?1";
