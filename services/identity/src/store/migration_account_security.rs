//! Account protection: the TOTP second factor and its recovery codes, the
//! per-account security log, and what each session proved and when (for
//! actions that need a recent authentication).

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct AccountSecurity;

impl MigrationName for AccountSecurity {
    fn name(&self) -> &str {
        "m20261130_000002_account_security"
    }
}

fn add_column(table: &str, column: &mut ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(Alias::new(table))
        .add_column(column)
        .to_owned()
}

fn owned_by_account(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Alias::new(table), Alias::new("account_id"))
        .to(Alias::new("accounts"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for AccountSecurity {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("two_factor"))
                    .col(col("account_id").uuid().not_null().primary_key())
                    .col(col("secret_sealed").text().not_null())
                    .col(col("confirmed_at").timestamp_with_time_zone().null())
                    .col(col("last_used_step").big_integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .foreign_key(&mut owned_by_account("two_factor"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("recovery_codes"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("account_id").uuid().not_null())
                    .col(col("code_hash").string_len(64).not_null())
                    .col(col("used_at").timestamp_with_time_zone().null())
                    .foreign_key(&mut owned_by_account("recovery_codes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "recovery_codes_account",
                "recovery_codes",
                &["account_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("security_events"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("account_id").uuid().not_null())
                    .col(col("kind").string_len(32).not_null())
                    .col(col("ip_address").string_len(64).not_null())
                    .col(col("user_agent").string_len(300).not_null())
                    .col(col("device_name").string_len(100).not_null())
                    .col(col("new_device").boolean().not_null())
                    .col(col("detail").string_len(200).not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .foreign_key(&mut owned_by_account("security_events"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "security_events_account",
                "security_events",
                &["account_id", "id"],
            ))
            .await?;
        manager
            .alter_table(add_column(
                "sessions",
                col("authenticated_at").timestamp_with_time_zone().null(),
            ))
            .await?;
        manager
            .alter_table(add_column(
                "sessions",
                col("second_factor").boolean().not_null().default(false),
            ))
            .await
    }
}
