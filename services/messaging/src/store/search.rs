//! Full-text search over the messages of the caller's conversations, newest
//! first. PostgreSQL matches a `tsvector` column (the `simple` dictionary:
//! chat is multilingual, so no stemming), SQLite an FTS5 table; every word
//! is a prefix and all must match. Deleted messages never match.

use sea_orm::{ColumnTrait, FromQueryResult};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement, Value};
use uuid::Uuid;

use crate::domain::{ConversationId, MessageId};

use super::MessageRow;
use super::entities::messages;

/// Lower-case words of letters and digits, at most 10.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(10)
        .collect()
}

#[derive(FromQueryResult)]
struct Hit {
    id: Uuid,
}

/// Messages of `account`'s conversations (or of `conversation` only) that
/// contain every word of `words`, newest first, older than `before`.
pub async fn search(
    db: &impl ConnectionTrait,
    account: Uuid,
    words: &[String],
    conversation: Option<ConversationId>,
    before: Option<MessageId>,
    limit: u64,
) -> Result<Vec<MessageRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut params: Vec<Value> = Vec::new();
    let mut bind = |value: Value| {
        params.push(value);
        match backend {
            DbBackend::Postgres => format!("${}", params.len()),
            _ => format!("?{}", params.len()),
        }
    };
    let who = bind(account.into());
    let (with, matched) = if backend == DbBackend::Postgres {
        let query = words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ");
        let query = bind(query.into());
        (
            String::new(),
            format!("m.search_vector @@ to_tsquery('simple', {query})"),
        )
    } else {
        let query = words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ");
        let query = bind(query.into());
        (
            format!(
                "WITH f AS MATERIALIZED (SELECT rowid AS r FROM messages_fts \
                 WHERE messages_fts MATCH {query}) "
            ),
            "m.rowid IN (SELECT r FROM f)".to_owned(),
        )
    };
    let mut sql = format!(
        "{with}SELECT m.id AS id FROM messages m \
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.account_id = {who} \
         WHERE m.deleted = {false} AND {matched}",
        false = if backend == DbBackend::Postgres {
            "false"
        } else {
            "0"
        }
    );
    if let Some(conversation) = conversation {
        let c = bind(conversation.into());
        sql.push_str(&format!(" AND m.conversation_id = {c}"));
    }
    if let Some(before) = before {
        let b = bind(before.into());
        sql.push_str(&format!(" AND m.id < {b}"));
    }
    sql.push_str(&format!(" ORDER BY m.id DESC LIMIT {limit}"));
    let ids: Vec<Uuid> =
        Hit::find_by_statement(Statement::from_sql_and_values(backend, sql, params))
            .all(db)
            .await?
            .into_iter()
            .map(|hit| hit.id)
            .collect();
    let mut rows = messages::Entity::find()
        .filter(messages::Column::Id.is_in(ids))
        .all(db)
        .await?;
    rows.sort_by_key(|row| std::cmp::Reverse(row.id));
    Ok(rows)
}
