//! Idempotency keys for RPCs that create things. A client sends an
//! `idempotency-key` metadata entry; the first call records its response in
//! the same transaction as its writes, a retry with the same key and the same
//! request gets that response back, and the same key with a different request
//! is ALREADY_EXISTS. The table lives in each service's own database.
//!
//! [`Keyed`] is the whole protocol: the key is claimed by the first
//! statement of the change's transaction, so of two first calls racing
//! with one key, one runs the change and the other waits for its commit
//! and answers what it answered. A change that fails rolls its claim back
//! with it, and the key can be tried again.

use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, OnConflict, Query};
use sea_orm::{ActiveValue::Set, ConnectionTrait};

use super::Txn;
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
    /// The stored response no longer decodes as the RPC's response.
    #[error("the stored response of the idempotency key is unreadable: {0}")]
    Stored(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// How a keyed change begins. It lives for one `match` at the start of a
/// change, so its size difference costs nothing worth an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Start<R> {
    /// An earlier identical call's answer: return it, change nothing.
    Replay(R),
    /// Make the change in the transaction, then [`Once::finish`] it.
    Run(Once),
}

/// A change that runs once per key: its transaction, holding the key's
/// claim when the call carried one.
pub struct Once {
    txn: Txn,
    claim: Option<(String, String)>,
}

impl std::ops::Deref for Once {
    type Target = Txn;

    fn deref(&self) -> &Txn {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Once {
    fn get_database_backend(&self) -> sea_orm::DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: sea_orm::Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

impl Once {
    /// The change's transaction.
    pub fn txn(&self) -> &Txn {
        &self.txn
    }

    /// Records `response` as the key's answer and commits the change.
    pub async fn finish(self, response: &impl Message) -> Result<(), DbErr> {
        if let Some((scope, key)) = &self.claim {
            self.txn.defer(
                &Entity::update_many()
                    .col_expr(Column::Response, Expr::value(response.encode_to_vec()))
                    .filter(Column::Scope.eq(scope.as_str()))
                    .filter(Column::Key.eq(key.as_str())),
            );
        }
        self.txn.commit().await
    }
}

/// A call that may carry an idempotency key, within `scope` (the RPC and
/// the caller).
pub struct Keyed {
    scope: String,
    key: Option<IdempotencyKey>,
    request_hash: String,
}

impl Keyed {
    pub fn new(
        scope: impl Into<String>,
        key: Option<IdempotencyKey>,
        request: &impl Message,
    ) -> Self {
        Self {
            scope: scope.into(),
            key,
            request_hash: request_hash(request),
        }
    }

    /// The answer of an earlier identical call with the key, if there was
    /// one; the key used with another request is a conflict. Ask before
    /// the checks a retry might no longer pass (the first call changed
    /// what they look at).
    pub async fn replay<R: Message + Default>(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Option<R>, IdempotencyError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        match find_prior(db, &self.scope, key, &self.request_hash).await? {
            Prior::Response(bytes) => decode(&bytes).map(Some),
            Prior::None => Ok(None),
        }
    }

    /// Begins the change: a transaction whose first statement claims the
    /// key, or the answer of a racing call that claimed it first (the claim
    /// waits for that call's commit). Without a key, just a transaction.
    /// Everything the change reads or writes from here on goes through the
    /// transaction: on SQLite, once its first statement ran, it holds the
    /// only connection.
    pub async fn begin<R: Message + Default>(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Start<R>, IdempotencyError> {
        let txn = Txn::begin(db).await?;
        let Some(key) = &self.key else {
            return Ok(Start::Run(Once { txn, claim: None }));
        };
        if claim(&txn, &self.scope, key, &self.request_hash).await? {
            return Ok(Start::Run(Once {
                txn,
                claim: Some((self.scope.clone(), key.0.clone())),
            }));
        }
        txn.rollback().await?;
        match self.replay(db).await? {
            Some(answer) => Ok(Start::Replay(answer)),
            None => Err(IdempotencyError::Db(DbErr::Custom(
                "the idempotency key was claimed and then vanished".to_owned(),
            ))),
        }
    }
}

impl Keyed {
    /// The key's claim with `response` as its answer, for a change written
    /// together with others ([`claim_together`]); `None` without a key.
    pub fn claim_answering(&self, response: &impl Message) -> Option<Claim> {
        self.key.as_ref().map(|key| Claim {
            scope: self.scope.clone(),
            key: key.0.clone(),
            request_hash: self.request_hash.clone(),
            response: response.encode_to_vec(),
        })
    }
}

/// A key claimed with its answer already known: a change whose answer is
/// what it writes (a new order) needs no second statement to record it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scope: String,
    pub key: String,
    request_hash: String,
    response: Vec<u8>,
}

/// Claims every key of `claims` in one statement of `txn`, each with its
/// answer; which ones were won, in the order given. A key held by another
/// open transaction waits for its end (PostgreSQL), as [`Keyed::begin`]
/// does; the keys are inserted in key order, so two transactions claiming
/// overlapping keys never wait on each other in a cycle. Each key must
/// appear once.
pub async fn claim_together(txn: &Txn, claims: &[&Claim]) -> Result<Vec<bool>, DbErr> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted: Vec<&Claim> = claims.to_vec();
    sorted.sort_by(|a, b| (&a.scope, &a.key).cmp(&(&b.scope, &b.key)));
    let now = chrono::Utc::now();
    let mut statement = Query::insert();
    statement
        .into_table(Alias::new("idempotency_keys"))
        .columns(COLUMNS.map(Alias::new));
    for claim in &sorted {
        statement.values_panic([
            claim.scope.clone().into(),
            claim.key.clone().into(),
            claim.request_hash.clone().into(),
            claim.response.clone().into(),
            now.into(),
        ]);
    }
    statement
        .on_conflict(unless_claimed())
        .returning(Query::returning().columns([Alias::new("scope"), Alias::new("key")]));
    let backend = txn.get_database_backend();
    let rows = txn.query_all_raw(backend.build(&statement)).await?;
    let mut won = std::collections::HashSet::new();
    for row in rows {
        let scope: String = row.try_get("", "scope")?;
        let key: String = row.try_get("", "key")?;
        won.insert((scope, key));
    }
    Ok(claims
        .iter()
        .map(|claim| won.contains(&(claim.scope.clone(), claim.key.clone())))
        .collect())
}

fn decode<R: Message + Default>(bytes: &[u8]) -> Result<R, IdempotencyError> {
    R::decode(bytes).map_err(|error| IdempotencyError::Stored(error.to_string()))
}

/// Inserts the key with an empty answer unless it is there; whether it was
/// inserted. On PostgreSQL a row another open transaction inserted makes
/// this wait for that transaction's end.
async fn claim(
    txn: &Txn,
    scope: &str,
    key: &IdempotencyKey,
    request_hash: &str,
) -> Result<bool, DbErr> {
    let table = Alias::new("idempotency_keys");
    let statement = Query::insert()
        .into_table(table)
        .columns(COLUMNS.map(Alias::new))
        .values_panic([
            scope.into(),
            key.0.clone().into(),
            request_hash.into(),
            Vec::<u8>::new().into(),
            chrono::Utc::now().into(),
        ])
        .on_conflict(unless_claimed())
        .to_owned();
    Ok(txn.execute(&statement).await?.rows_affected() == 1)
}

/// The columns a claim writes, in the order its values come.
const COLUMNS: [&str; 5] = ["scope", "key", "request_hash", "response", "created_at"];

/// A key already claimed is left as it is (and, on PostgreSQL, one another
/// open transaction claimed is waited for).
fn unless_claimed() -> OnConflict {
    OnConflict::columns([Alias::new("scope"), Alias::new("key")])
        .do_nothing()
        .to_owned()
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
