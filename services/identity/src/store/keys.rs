//! Queries on `signing_keys`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::signing_keys::{self, Entity as SigningKeys};

pub use signing_keys::Model as SigningKeyRow;

/// Keys still published at `now`, newest first.
pub async fn list_published_keys(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<SigningKeyRow>, DbErr> {
    SigningKeys::find()
        .filter(signing_keys::Column::PublishUntil.gt(now))
        .order_by_desc(signing_keys::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn insert_key(db: &impl ConnectionTrait, row: SigningKeyRow) -> Result<(), DbErr> {
    signing_keys::ActiveModel {
        kid: Set(row.kid),
        private_key_pem: Set(row.private_key_pem),
        public_jwk: Set(row.public_jwk),
        created_at: Set(row.created_at),
        sign_until: Set(row.sign_until),
        publish_until: Set(row.publish_until),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Replaces a key's stored private part (to seal one stored in plain text).
pub async fn update_private_key(
    db: &impl ConnectionTrait,
    kid: &str,
    private_key: &str,
) -> Result<(), DbErr> {
    SigningKeys::update_many()
        .col_expr(
            signing_keys::Column::PrivateKeyPem,
            sea_orm::sea_query::Expr::value(private_key.to_owned()),
        )
        .filter(signing_keys::Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(())
}
