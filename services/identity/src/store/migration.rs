//! Identity's schema, forward-only. Types come from sea-query so the same
//! migration runs on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

/// Every identity migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::db::idempotency::Migration),
            Box::new(InitialSchema),
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(super::migration_login_failures::LoginFailures),
            Box::new(super::migration_account_security::AccountSecurity),
            Box::new(frevix_platform::mail::schema::MailOutboxTable),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}

struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261121_000002_identity_schema"
    }
}

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("accounts")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("email").string_len(254).not_null().unique_key())
                    .col(col("display_name").string_len(80).not_null())
                    .col(col("password_hash").string().not_null())
                    .col(col("status").string_len(32).not_null())
                    .col(col("is_client").boolean().not_null())
                    .col(col("is_freelancer").boolean().not_null())
                    .col(col("is_admin").boolean().not_null())
                    .col(col("failed_logins").integer().not_null())
                    .col(
                        col("last_failed_login_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(col("email_verified_at").timestamp_with_time_zone().null())
                    .col(col("suspension_reason").string().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("email_codes")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("account_id").uuid().not_null())
                    .col(col("purpose").string_len(32).not_null())
                    .col(col("code_hash").string().not_null())
                    .col(col("attempts").integer().not_null())
                    .col(col("expires_at").timestamp_with_time_zone().not_null())
                    .col(col("consumed_at").timestamp_with_time_zone().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("email_codes"), Alias::new("account_id"))
                            .to(Alias::new("accounts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "email_codes_account_purpose",
                "email_codes",
                &["account_id", "purpose"],
            ))
            .await?;
        manager
            .create_table(
                table("sessions")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("account_id").uuid().not_null())
                    .col(col("device_name").string_len(100).not_null())
                    .col(col("user_agent").string_len(300).not_null())
                    .col(col("ip_address").string_len(64).not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("last_used_at").timestamp_with_time_zone().not_null())
                    .col(col("expires_at").timestamp_with_time_zone().not_null())
                    .col(col("revoked_at").timestamp_with_time_zone().null())
                    .col(col("revoke_reason").string_len(64).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("sessions"), Alias::new("account_id"))
                            .to(Alias::new("accounts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("sessions_account", "sessions", &["account_id"]))
            .await?;
        manager
            .create_table(
                table("refresh_tokens")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("session_id").uuid().not_null())
                    .col(col("token_hash").string_len(64).not_null().unique_key())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("used_at").timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("refresh_tokens"), Alias::new("session_id"))
                            .to(Alias::new("sessions"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "refresh_tokens_session",
                "refresh_tokens",
                &["session_id"],
            ))
            .await?;
        manager
            .create_table(
                table("signing_keys")
                    .col(col("kid").string_len(64).not_null().primary_key())
                    .col(col("private_key_pem").text().not_null())
                    .col(col("public_jwk").text().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("sign_until").timestamp_with_time_zone().not_null())
                    .col(col("publish_until").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }
}
