//! Queries on `categories` and `skills`.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{categories, skills};
use crate::domain::ids::CategoryId;

pub use categories::Model as CategoryRow;
pub use skills::Model as SkillRow;

pub async fn list_categories(db: &impl ConnectionTrait) -> Result<Vec<CategoryRow>, DbErr> {
    categories::Entity::find()
        .order_by_asc(categories::Column::Position)
        .order_by_asc(categories::Column::Name)
        .all(db)
        .await
}

pub async fn find_category(
    db: &impl ConnectionTrait,
    id: CategoryId,
) -> Result<Option<CategoryRow>, DbErr> {
    categories::Entity::find_by_id(id.0).one(db).await
}

pub async fn insert_category(
    db: &impl ConnectionTrait,
    row: CategoryRow,
) -> Result<CategoryRow, DbErr> {
    categories::ActiveModel {
        id: Set(row.id),
        parent_id: Set(row.parent_id),
        name: Set(row.name),
        slug: Set(row.slug),
        position: Set(row.position),
    }
    .insert(db)
    .await
}

pub async fn count_children(db: &impl ConnectionTrait, parent: CategoryId) -> Result<u64, DbErr> {
    categories::Entity::find()
        .filter(categories::Column::ParentId.eq(parent))
        .count(db)
        .await
}

/// Skills whose slug starts with `slug_prefix`, alphabetically.
pub async fn skills_with_prefix(
    db: &impl ConnectionTrait,
    slug_prefix: &str,
    limit: u64,
) -> Result<Vec<SkillRow>, DbErr> {
    skills::Entity::find()
        .filter(skills::Column::Slug.starts_with(slug_prefix))
        .order_by_asc(skills::Column::Slug)
        .limit(limit)
        .all(db)
        .await
}

/// Which of `slugs` are not skills of the catalog.
pub async fn unknown_skills(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> Result<Vec<String>, DbErr> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<String> = skills::Entity::find()
        .filter(skills::Column::Slug.is_in(slugs.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.slug)
        .collect();
    Ok(slugs
        .iter()
        .filter(|slug| !known.contains(slug))
        .cloned()
        .collect())
}
