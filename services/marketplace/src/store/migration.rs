//! Marketplace's schema and seeds, forward-only, for PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::col;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::domain::catalog::{SEED_CATEGORIES, SEED_SKILLS, id_of, slugify};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::db::idempotency::Migration),
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(InitialSchema),
            Box::new(Seeds),
            Box::new(JobsAndProposals),
            Box::new(FullText),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(frevix_platform::auth::deny_feed::AccessDenialsTable),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(Alias::new(name)).to_owned()
}

struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261121_000020_marketplace_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("categories")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("parent_id").uuid().null())
                    .col(col("name").string_len(60).not_null())
                    .col(col("slug").string_len(80).not_null().unique_key())
                    .col(col("position").integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("skills")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("name").string_len(60).not_null())
                    .col(col("slug").string_len(80).not_null().unique_key())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("freelancer_profiles")
                    .col(col("account_id").uuid().not_null().primary_key())
                    .col(col("display_name").string_len(80).not_null())
                    .col(col("headline").string_len(120).not_null())
                    .col(col("bio").text().not_null())
                    .col(col("skills").text().not_null())
                    .col(col("hourly_rate_currency").string_len(3).null())
                    .col(col("hourly_rate_minor").big_integer().null())
                    .col(col("experience_level").integer().not_null())
                    .col(col("languages").text().not_null())
                    .col(col("country").string_len(2).not_null())
                    .col(col("availability").integer().not_null())
                    .col(col("back_on").timestamp_with_time_zone().null())
                    .col(col("portfolio").text().not_null())
                    .col(col("avatar_media_id").uuid().null())
                    .col(col("rating_sum").big_integer().not_null())
                    .col(col("review_count").integer().not_null())
                    .col(col("completed_contracts").integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("client_profiles")
                    .col(col("account_id").uuid().not_null().primary_key())
                    .col(col("display_name").string_len(80).not_null())
                    .col(col("company_name").string_len(100).not_null())
                    .col(col("website").string_len(500).not_null())
                    .col(col("country").string_len(2).not_null())
                    .col(col("about").text().not_null())
                    .col(col("jobs_posted").integer().not_null())
                    .col(col("hires").integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("gigs")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("seller_id").uuid().not_null())
                    .col(col("title").string_len(100).not_null())
                    .col(col("description").text().not_null())
                    .col(col("category_id").uuid().not_null())
                    .col(col("tags").text().not_null())
                    .col(col("packages").text().not_null())
                    .col(col("extras").text().not_null())
                    .col(col("requirements").text().not_null())
                    .col(col("gallery").text().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("min_price_minor").big_integer().not_null())
                    .col(col("min_delivery_days").integer().not_null())
                    .col(col("rating_sum").big_integer().not_null())
                    .col(col("review_count").integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .col(col("published_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("gigs_seller")
                    .table(Alias::new("gigs"))
                    .col(Alias::new("seller_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("gigs_status_category")
                    .table(Alias::new("gigs"))
                    .col(Alias::new("status"))
                    .col(Alias::new("category_id"))
                    .to_owned(),
            )
            .await
    }
}

struct Seeds;

impl MigrationName for Seeds {
    fn name(&self) -> &str {
        "m20261121_000021_marketplace_seeds"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Seeds {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (position, (name, children)) in SEED_CATEGORIES.iter().enumerate() {
            let slug = slugify(name);
            let parent = id_of(&slug);
            insert_category(manager, parent, None, name, &slug, position).await?;
            for (child_position, child) in children.iter().enumerate() {
                let child_slug = slugify(child);
                insert_category(
                    manager,
                    id_of(&child_slug),
                    Some(parent),
                    child,
                    &child_slug,
                    child_position,
                )
                .await?;
            }
        }
        for name in SEED_SKILLS {
            let slug = slugify(name);
            let insert = Query::insert()
                .into_table(Alias::new("skills"))
                .columns([Alias::new("id"), Alias::new("name"), Alias::new("slug")])
                .values_panic([
                    id_of(&format!("skill:{slug}")).into(),
                    (*name).into(),
                    slug.into(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }
}

async fn insert_category(
    manager: &SchemaManager<'_>,
    id: uuid::Uuid,
    parent: Option<uuid::Uuid>,
    name: &str,
    slug: &str,
    position: usize,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(Alias::new("categories"))
        .columns([
            Alias::new("id"),
            Alias::new("parent_id"),
            Alias::new("name"),
            Alias::new("slug"),
            Alias::new("position"),
        ])
        .values_panic([
            id.into(),
            parent.into(),
            name.into(),
            slug.into(),
            <i32 as TryFrom<usize>>::try_from(position)
                .unwrap_or(0)
                .into(),
        ])
        .to_owned();
    manager.exec_stmt(insert).await
}

struct JobsAndProposals;

impl MigrationName for JobsAndProposals {
    fn name(&self) -> &str {
        "m20261121_000022_jobs_and_proposals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for JobsAndProposals {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("jobs")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("client_id").uuid().not_null())
                    .col(col("title").string_len(100).not_null())
                    .col(col("description").text().not_null())
                    .col(col("category_id").uuid().not_null())
                    .col(col("skills").text().not_null())
                    .col(col("hourly").boolean().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("budget_min_minor").big_integer().not_null())
                    .col(col("budget_max_minor").big_integer().not_null())
                    .col(col("expected_duration").integer().not_null())
                    .col(col("experience_level").integer().not_null())
                    .col(col("visibility").integer().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("proposal_count").integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_client")
                    .table(Alias::new("jobs"))
                    .col(Alias::new("client_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("proposals")
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("job_id").uuid().not_null())
                    .col(col("freelancer_id").uuid().not_null())
                    .col(col("cover_letter").text().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("bid_minor").big_integer().not_null())
                    .col(col("estimated_days").integer().not_null())
                    .col(col("milestones").text().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("proposals_one_per_job")
                    .table(Alias::new("proposals"))
                    .col(Alias::new("job_id"))
                    .col(Alias::new("freelancer_id"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("proposals_freelancer")
                    .table(Alias::new("proposals"))
                    .col(Alias::new("freelancer_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }
}

/// Full-text indexes: weighted `tsvector` columns with GIN indexes on
/// PostgreSQL, external-content FTS5 tables kept by triggers on SQLite.
struct FullText;

impl MigrationName for FullText {
    fn name(&self) -> &str {
        "m20261121_000023_full_text"
    }
}

/// (table, [(column, weight)]) for each searchable table.
const SEARCHABLE: &[(&str, &[(&str, &str)])] = &[
    (
        "gigs",
        &[("title", "A"), ("tags", "B"), ("description", "C")],
    ),
    (
        "freelancer_profiles",
        &[
            ("display_name", "A"),
            ("headline", "A"),
            ("skills", "B"),
            ("bio", "C"),
        ],
    ),
    (
        "jobs",
        &[("title", "A"), ("skills", "B"), ("description", "C")],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for FullText {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in SEARCHABLE {
            let statements = match manager.get_database_backend() {
                sea_orm::DatabaseBackend::Postgres => postgres_full_text(table, columns),
                _ => sqlite_full_text(table, columns),
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}

fn postgres_full_text(table: &str, columns: &[(&str, &str)]) -> Vec<String> {
    let vector = columns
        .iter()
        .map(|(column, weight)| {
            format!("setweight(to_tsvector('english', coalesce({column}, '')), '{weight}')")
        })
        .collect::<Vec<_>>()
        .join(" || ");
    vec![
        format!(
            "ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED"
        ),
        format!("CREATE INDEX {table}_search ON {table} USING GIN (search_vector)"),
    ]
}

fn sqlite_full_text(table: &str, columns: &[(&str, &str)]) -> Vec<String> {
    let names: Vec<&str> = columns.iter().map(|(column, _)| *column).collect();
    let list = names.join(", ");
    let new_values = names
        .iter()
        .map(|c| format!("new.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let old_values = names
        .iter()
        .map(|c| format!("old.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let fts = format!("{table}_fts");
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({list}, content='{table}', content_rowid='rowid', tokenize='porter unicode61')"
        ),
        format!(
            "CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.rowid, {new_values}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_update AFTER UPDATE ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.rowid, {old_values}); \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.rowid, {new_values}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.rowid, {old_values}); END"
        ),
    ]
}
