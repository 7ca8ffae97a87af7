//! Sequence numbers: each conversation numbers its messages (and their
//! changes) at commit, under a lock on its row, so numbers follow commit
//! order without gaps.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::ConversationId;

use super::entities::conversations;

/// Takes the next sequence number of a conversation (locking its row until
/// the transaction ends, so numbers follow commit order), in one statement.
pub async fn next_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    next_seqs(db, conversation, 1, now).await
}

/// Takes the next sequences of several conversations in one statement
/// (`counts`: conversation, how many) and answers each one's last. On
/// PostgreSQL the rows are locked in id order first, so two transactions
/// taking sequences of the same conversations never wait on each other in a
/// cycle.
pub async fn take_seqs(
    db: &impl ConnectionTrait,
    counts: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        return take_seqs_pg(db, counts, now).await;
    }
    // SQLite: one UPDATE with a CASE per conversation (a writer there
    // holds the whole database, so no row locks to order).
    let mark = |n: usize| format!("?{n}");
    let mut values: Vec<Value> = vec![now.into()];
    let (mut cases, mut ids) = (String::new(), Vec::new());
    for (conversation, count) in counts {
        values.push((*conversation).into());
        let id = mark(values.len());
        values.push((*count).into());
        cases.push_str(&format!(" WHEN {id} THEN {}", mark(values.len())));
        ids.push(id);
    }
    let ids = ids.join(", ");
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE conversations SET last_seq = last_seq + CASE id{cases} END, \
                 last_activity_at = {} WHERE id IN ({ids}) RETURNING id, last_seq",
                mark(1)
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "last_seq")?)))
        .collect()
}

/// `take_seqs` on PostgreSQL, in one statement taking arrays (its text is
/// the same for any batch). The `locked` CTE takes the rows in id order, so
/// two batches (or replicas) never wait on each other in a cycle; the
/// UPDATE only touches rows `locked` has already returned, so it takes no
/// lock of its own in any other order.
async fn take_seqs_pg(
    db: &impl ConnectionTrait,
    counts: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let ids: Vec<Uuid> = counts.iter().map(|(id, _)| *id).collect();
    let adds: Vec<i64> = counts.iter().map(|(_, n)| *n).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "WITH locked AS MATERIALIZED \
               (SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE) \
             UPDATE conversations c SET last_seq = c.last_seq + t.n, last_activity_at = $3 \
             FROM unnest($1::uuid[], $2::int8[]) AS t(id, n) \
             WHERE c.id = t.id AND c.id IN (SELECT id FROM locked) \
             RETURNING c.id, c.last_seq",
            [Value::from(ids), Value::from(adds), now.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "last_seq")?)))
        .collect()
}

/// Takes the next `count` sequences of a conversation (locking its row until
/// the transaction ends) and answers the last of them.
pub async fn next_seqs(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    count: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::LastSeq,
            Expr::col(conversations::Column::LastSeq).add(count),
        )
        .col_expr(conversations::Column::LastActivityAt, Expr::value(now))
        .filter(conversations::Column::Id.eq(conversation))
        .exec_with_returning(db)
        .await?
        .first()
        .map(|row| row.last_seq)
        .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))
}

/// Takes the next change number of a conversation (for an edit or delete).
pub async fn next_change_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<i64, DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::ChangeSeq,
            Expr::col(conversations::Column::ChangeSeq).add(1),
        )
        .filter(conversations::Column::Id.eq(conversation))
        .exec_with_returning(db)
        .await?
        .first()
        .map(|row| row.change_seq)
        .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))
}
