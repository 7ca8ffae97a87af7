//! Login attempts counted per account and client address, so an attacker
//! guessing from one place is slowed without locking the owner out from
//! another (the account-wide count stays on `accounts`).

use sea_orm_migration::prelude::*;

pub struct LoginFailures;

impl MigrationName for LoginFailures {
    fn name(&self) -> &str {
        "m20261130_000001_login_failures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for LoginFailures {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new("login_attempts");
        manager
            .create_table(
                Table::create()
                    .table(table.clone())
                    .col(ColumnDef::new(Alias::new("account_id")).uuid().not_null())
                    .col(
                        ColumnDef::new(Alias::new("client_address"))
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Alias::new("attempts")).integer().not_null())
                    .col(
                        ColumnDef::new(Alias::new("last_attempt_at"))
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Alias::new("account_id"))
                            .col(Alias::new("client_address")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(table.clone(), Alias::new("account_id"))
                            .to(Alias::new("accounts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}
