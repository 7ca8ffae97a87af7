//! Where a live feed starts: each of the account's conversations with the
//! account's read position and how far the conversation has gone, in one
//! statement, so a reconnecting client costs a query per conversation only
//! where it lacks something.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use uuid::Uuid;

/// One conversation of a feed's account.
#[derive(Debug, Clone, Copy)]
pub struct FeedStart {
    pub conversation: Uuid,
    pub last_read_seq: i64,
    /// The conversation's last message sequence.
    pub last_seq: i64,
    /// The conversation's last edit or delete number.
    pub change_seq: i64,
}

pub async fn feed_starts(
    db: &impl ConnectionTrait,
    account: Uuid,
) -> Result<Vec<FeedStart>, DbErr> {
    let backend = db.get_database_backend();
    let me = match backend {
        DatabaseBackend::Postgres => "$1",
        _ => "?1",
    };
    let sql = format!(
        "SELECT m.conversation_id, m.last_read_seq, c.last_seq, c.change_seq \
         FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.account_id = {me}"
    );
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [account.into()],
    ))
    .await?
    .iter()
    .map(|row| {
        Ok(FeedStart {
            conversation: row.try_get("", "conversation_id")?,
            last_read_seq: row.try_get("", "last_read_seq")?,
            last_seq: row.try_get("", "last_seq")?,
            change_seq: row.try_get("", "change_seq")?,
        })
    })
    .collect()
}
