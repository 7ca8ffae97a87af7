//! The ledger's tables and the rules the database enforces on them, so
//! that no code path (a bug, a hand-written fix) can unbalance the books:
//!
//! - a transaction is its entries plus a header written last; the header
//!   is refused unless its entries are at least two, all in its currency,
//!   and sum to zero, and once written it seals them (no entry joins a
//!   sealed transaction);
//! - entries and headers are never changed or removed (corrections are
//!   reversing transactions);
//! - each entry adds its amount to its account's balance in the same
//!   statement, and only external accounts may go below zero;
//! - an entry's currency is its account's; a provider object is applied by
//!   one transaction at most.
//!
//! The same rules for PostgreSQL (PL/pgSQL) and SQLite (trigger bodies).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Ledger;

impl MigrationName for Ledger {
    fn name(&self) -> &str {
        "m20261130_000060_ledger"
    }
}

/// What the error of an entry joining a sealed transaction says: another
/// writer posted that transaction meanwhile.
pub const SEALED: &str = "is sealed";

/// What a refused overdraft's error names: the balance's check, or the
/// trigger's own message (the store recognises either).
pub const OVERDRAWN: [&str; 2] = [
    "balance_not_below_zero",
    "ledger account would go below zero",
];

#[async_trait::async_trait]
impl MigrationTrait for Ledger {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("ledger_accounts"))
                    .col(col("key").string_len(100).not_null().primary_key())
                    .col(col("kind").string_len(32).not_null())
                    .col(col("owner").uuid().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("balance_minor").big_integer().not_null())
                    .col(col("may_go_negative").boolean().not_null())
                    .check((
                        "external_accounts_only",
                        Expr::cust(
                            "may_go_negative = (kind IN ('client_funding', 'provider_fees'))",
                        ),
                    ))
                    .check((
                        "balance_not_below_zero",
                        Expr::cust("may_go_negative OR balance_minor >= 0"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("ledger_transactions"))
                    .col(col("id").string_len(200).not_null().primary_key())
                    .col(col("kind").string_len(32).not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("contract_id").uuid().null())
                    .col(col("milestone_id").uuid().null())
                    .col(col("provider_ref").string_len(255).null().unique_key())
                    .col(col("fingerprint").string_len(64).not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("ledger_entries"))
                    .col(col("transaction_id").string_len(200).not_null())
                    .col(col("seq").integer().not_null())
                    .col(col("account_key").string_len(100).not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .check(("no_zero_entries", Expr::cust("amount_minor <> 0")))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("transaction_id"))
                            .col(Alias::new("seq")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("ledger_entries"), Alias::new("account_key"))
                            .to(Alias::new("ledger_accounts"), Alias::new("key")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ledger_entries_by_account",
                "ledger_entries",
                &["account_key"],
            ))
            .await?;
        manager
            .create_index(index(
                "ledger_transactions_by_contract",
                "ledger_transactions",
                &["contract_id"],
            ))
            .await?;
        let rules = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_RULES,
            _ => SQLITE_RULES,
        };
        let db = manager.get_connection();
        for statement in rules {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}

const POSTGRES_RULES: &[&str] = &[
    r"CREATE FUNCTION ledger_entry_applies() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        balance bigint;
        negative_allowed boolean;
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id) THEN
            RAISE EXCEPTION 'ledger transaction % is sealed', NEW.transaction_id;
        END IF;
        UPDATE ledger_accounts SET balance_minor = balance_minor + NEW.amount_minor
            WHERE key = NEW.account_key AND currency = NEW.currency
            RETURNING balance_minor, may_go_negative INTO balance, negative_allowed;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'ledger entry in % for account % of another currency',
                NEW.currency, NEW.account_key;
        END IF;
        IF balance < 0 AND NOT negative_allowed THEN
            RAISE EXCEPTION 'ledger account would go below zero: %', NEW.account_key;
        END IF;
        RETURN NEW;
    END $$",
    r"CREATE TRIGGER ledger_entry_applies BEFORE INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_applies()",
    r"CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        entries bigint;
        total numeric;
        foreign_entries bigint;
    BEGIN
        SELECT count(*), coalesce(sum(amount_minor), 0),
               count(*) FILTER (WHERE currency <> NEW.currency)
            INTO entries, total, foreign_entries
            FROM ledger_entries WHERE transaction_id = NEW.id;
        IF entries < 2 OR total <> 0 OR foreign_entries > 0 THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: % entries, sum %, % in another currency',
                NEW.id, entries, total, foreign_entries;
        END IF;
        RETURN NEW;
    END $$",
    r"CREATE TRIGGER ledger_transaction_balances BEFORE INSERT ON ledger_transactions
        FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances()",
    r"CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END $$",
    r"CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
    r"CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
    r"CREATE TRIGGER ledger_entries_never_truncated BEFORE TRUNCATE ON ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
];

const SQLITE_RULES: &[&str] = &[
    r"CREATE TRIGGER ledger_entry_sealed BEFORE INSERT ON ledger_entries
        WHEN EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id)
        BEGIN SELECT RAISE(ABORT, 'ledger transaction is sealed'); END",
    r"CREATE TRIGGER ledger_entry_currency BEFORE INSERT ON ledger_entries
        WHEN NOT EXISTS (SELECT 1 FROM ledger_accounts
                         WHERE key = NEW.account_key AND currency = NEW.currency)
        BEGIN SELECT RAISE(ABORT, 'ledger entry for an account of another currency'); END",
    r"CREATE TRIGGER ledger_entry_applies AFTER INSERT ON ledger_entries
        BEGIN
            UPDATE ledger_accounts SET balance_minor = balance_minor + NEW.amount_minor
                WHERE key = NEW.account_key;
            SELECT RAISE(ABORT, 'ledger account would go below zero')
                WHERE EXISTS (SELECT 1 FROM ledger_accounts
                              WHERE key = NEW.account_key AND balance_minor < 0
                                AND NOT may_go_negative);
        END",
    r"CREATE TRIGGER ledger_transaction_balances BEFORE INSERT ON ledger_transactions
        WHEN (SELECT count(*) FROM ledger_entries WHERE transaction_id = NEW.id) < 2
          OR (SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries
              WHERE transaction_id = NEW.id) <> 0
          OR EXISTS (SELECT 1 FROM ledger_entries
                     WHERE transaction_id = NEW.id AND currency <> NEW.currency)
        BEGIN SELECT RAISE(ABORT, 'ledger transaction does not balance'); END",
    r"CREATE TRIGGER ledger_entries_not_updated BEFORE UPDATE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END",
    r"CREATE TRIGGER ledger_entries_not_deleted BEFORE DELETE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END",
    r"CREATE TRIGGER ledger_transactions_not_updated BEFORE UPDATE ON ledger_transactions
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END",
    r"CREATE TRIGGER ledger_transactions_not_deleted BEFORE DELETE ON ledger_transactions
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END",
];
