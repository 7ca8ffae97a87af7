//! Who counts as someone an account has talked with: a member of a shared
//! conversation where both have sent a message. Presence is shown only to
//! them, and only they may put the account into a group without asking.
//! One statement that starts from the account's memberships and joins
//! (never a list of all its conversations sent as parameters, which broke
//! on accounts in tens of thousands of groups), with each "has sent here"
//! answered by the `messages_client_id` index's (conversation, sender)
//! prefix.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// The accounts `account` has talked with, at most `limit`, or only those
/// among `among` (at most a request's worth: it is sent as parameters).
pub async fn talked_with(
    db: &impl ConnectionTrait,
    account: Uuid,
    among: Option<&[Uuid]>,
    limit: usize,
) -> Result<Vec<Uuid>, DbErr> {
    if among.is_some_and(<[Uuid]>::is_empty) {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values: Vec<Value> = vec![account.into(), limit.into()];
    let p = |n: usize| match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let among_filter = match (among, backend) {
        (None, _) => String::new(),
        (Some(among), DatabaseBackend::Postgres) => {
            values.push(Value::from(among.to_vec()));
            "AND o.account_id = ANY($3::uuid[])".to_owned()
        }
        (Some(among), _) => {
            let mut placeholders = Vec::with_capacity(among.len());
            for id in among {
                values.push((*id).into());
                placeholders.push(p(values.len()));
            }
            format!("AND o.account_id IN ({})", placeholders.join(", "))
        }
    };
    let sql = format!(
        "SELECT DISTINCT o.account_id AS account_id \
         FROM members me \
         JOIN members o ON o.conversation_id = me.conversation_id AND o.account_id <> me.account_id \
         WHERE me.account_id = {me} {among_filter} \
           AND EXISTS (SELECT 1 FROM messages m \
                       WHERE m.conversation_id = me.conversation_id AND m.sender_id = me.account_id) \
           AND EXISTS (SELECT 1 FROM messages m \
                       WHERE m.conversation_id = o.conversation_id AND m.sender_id = o.account_id) \
         LIMIT {limit}",
        me = p(1),
        limit = p(2),
    );
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "account_id"))
        .collect()
}
