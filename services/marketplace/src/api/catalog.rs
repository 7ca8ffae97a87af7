//! ListCategories (from the in-memory tree, [`super::category_tree`]),
//! CreateCategory, SearchSkills.

use frevix_platform::auth::Role;
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::marketplace::v1 as pb;
use tonic::Request;

use super::caller_with;
use crate::Inner;
use crate::convert;
use crate::domain::catalog::{id_of, slugify};
use crate::domain::ids::CategoryId;
use crate::domain::text::bounded;
use crate::error::{MarketplaceError, Result};
use crate::store::catalog::{self, CategoryRow};

pub async fn list_categories(
    inner: &Inner,
    _request: Request<pb::ListCategoriesRequest>,
) -> Result<pb::ListCategoriesResponse> {
    Ok(inner.categories.get(&inner.db).await?.as_ref().clone())
}

pub async fn create_category(
    inner: &Inner,
    request: Request<pb::CreateCategoryRequest>,
) -> Result<pb::CreateCategoryResponse> {
    let admin = caller_with(&request, Role::Admin)?;
    // An ADMIN acts only after signing in with a second factor, recently.
    frevix_platform::auth::require_step_up(&admin, true).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let name = bounded("name", &req.name, 2, 60, &mut violations);
    let parent = if req.parent_id.is_empty() {
        None
    } else {
        CategoryId::parse_field("parent_id", &req.parent_id, &mut violations)
    };
    let name = violations.finish(name)?.unwrap_or_default();
    if let Some(parent) = parent {
        match catalog::find_category(&inner.db, parent).await? {
            Some(row) if row.parent_id.is_none() => {}
            Some(_) => {
                return Err(FieldViolations::single(
                    "parent_id",
                    "must be a top-level category (two levels only)",
                )
                .into());
            }
            None => return Err(FieldViolations::single("parent_id", "is not a category").into()),
        }
    }
    let slug = slugify(&name);
    if slug.is_empty() {
        return Err(FieldViolations::single("name", "must contain letters or digits").into());
    }
    let position = match parent {
        Some(parent) => catalog::count_children(&inner.db, parent).await?,
        None => 100,
    };
    let row = CategoryRow {
        id: id_of(&slug),
        parent_id: parent.map(|p| p.0),
        name,
        slug,
        position: i32::try_from(position).unwrap_or(i32::MAX),
    };
    let inserted = catalog::insert_category(&inner.db, row).await;
    inner.categories.clear();
    match inserted {
        Ok(row) => Ok(pb::CreateCategoryResponse {
            category: Some(convert::category(&row)),
        }),
        Err(error) if is_unique_violation(&error) => Err(MarketplaceError::CategoryExists),
        Err(error) => Err(error.into()),
    }
}

pub async fn search_skills(
    inner: &Inner,
    request: Request<pb::SearchSkillsRequest>,
) -> Result<pb::SearchSkillsResponse> {
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let prefix = slugify(&req.prefix);
    if prefix.is_empty() || req.prefix.chars().count() > 60 {
        violations.add(
            "prefix",
            "must be 1 to 60 characters with a letter or digit",
        );
    }
    let limit = match req.limit {
        0 => 10,
        n if (1..=50).contains(&n) => n,
        _ => {
            violations.add("limit", "must be 1 to 50");
            10
        }
    };
    violations.finish(())?;
    let rows =
        catalog::skills_with_prefix(&inner.db, &prefix, u64::try_from(limit).unwrap_or(10)).await?;
    Ok(pb::SearchSkillsResponse {
        skills: rows.iter().map(convert::skill).collect(),
    })
}
