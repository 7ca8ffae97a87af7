//! Idempotency keys for RPCs that create things. A client sends an
//! `idempotency-key` metadata entry; the first call records its response in
//! the same transaction as its writes, a retry with the same key and the same
//! request gets that response back, and the same key with a different request
//! is ALREADY_EXISTS. The table lives in each service's own database.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;

use crate::error::FieldViolations;

/// The metadata entry clients send.
pub const METADATA_KEY: &str = "idempotency-key";

/// A validated idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Reads the key from request metadata; absent is `None`, malformed is a violation.
    pub fn from_metadata(
        metadata: &MetadataMap,
        violations: &mut FieldViolations,
    ) -> Option<IdempotencyKey> {
        let value = metadata.get(METADATA_KEY)?;
        match value.to_str() {
            Ok(text) if (1..=128).contains(&text.len()) => Some(IdempotencyKey(text.to_owned())),
            _ => {
                violations.add(METADATA_KEY, "must be 1 to 128 visible ASCII characters");
                None
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an earlier call with the same key left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// No earlier call: do the work and [`record`] its response.
    None,
    /// The encoded response of the earlier, identical call.
    Response(Vec<u8>),
}

/// Why a keyed call cannot proceed.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The key was used before with a different request: ALREADY_EXISTS.
    #[error("the idempotency key was already used with a different request")]
    Conflict,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A stable hash of an encoded request.
pub fn request_hash(request: &impl prost::Message) -> String {
    let digest = Sha256::digest(request.encode_to_vec());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Looks up `key` within `scope` (the RPC and the caller).
pub async fn find_prior<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<Prior, IdempotencyError> {
    let found = Entity::find_by_id((scope.to_owned(), key.0.clone()))
        .one(db)
        .await?;
    match found {
        None => Ok(Prior::None),
        Some(row) if row.request_hash == request_hash => Ok(Prior::Response(row.response)),
        Some(_) => Err(IdempotencyError::Conflict),
    }
}

/// Records the response of a keyed call; run it in the call's transaction.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &IdempotencyKey,
    request_hash: &str,
    response: &impl prost::Message,
) -> Result<(), DbErr> {
    ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.0.clone()),
        request_hash: Set(request_hash.to_owned()),
        response: Set(response.encode_to_vec()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The stored row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub request_hash: String,
    pub response: Vec<u8>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub use migration::Migration;

mod migration {
    use sea_orm_migration::prelude::*;

    /// Creates the `idempotency_keys` table; every service's migrator includes it.
    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261121_000001_idempotency_keys"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("idempotency_keys"))
                        .col(ColumnDef::new(Alias::new("scope")).string().not_null())
                        .col(ColumnDef::new(Alias::new("key")).string().not_null())
                        .col(
                            ColumnDef::new(Alias::new("request_hash"))
                                .string()
                                .not_null(),
                        )
                        .col(ColumnDef::new(Alias::new("response")).blob().not_null())
                        .col(
                            ColumnDef::new(Alias::new("created_at"))
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .primary_key(
                            Index::create()
                                .col(Alias::new("scope"))
                                .col(Alias::new("key")),
                        )
                        .to_owned(),
                )
                .await
        }
    }
}
