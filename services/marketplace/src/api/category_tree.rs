//! The category tree every app screen asks for, kept in memory: it changes
//! only when an ADMIN adds a category, yet ListCategories read and rebuilt
//! it from the database on every call. The copy is built on first use and
//! again once it is older than [`MAX_AGE`]; the replica that adds a
//! category drops its copy at once. Other replicas list a new category
//! within `MAX_AGE`: an event would reach only one replica of the service
//! (its consumers share a durable subscription), and a broadcast can be lost
//! when the broker is away, so an age bound would be needed anyway.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frevix_proto::marketplace::v1 as pb;
use sea_orm::DatabaseConnection;

use crate::convert;
use crate::error::Result;
use crate::store::catalog;

/// How old a copy may be before it is built again.
pub const MAX_AGE: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct CategoryTree {
    copy: Mutex<Option<(Instant, Arc<pb::ListCategoriesResponse>)>>,
}

impl CategoryTree {
    /// The tree: top-level categories in order, each with its children.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<pb::ListCategoriesResponse>> {
        if let Some(tree) = self.fresh() {
            return Ok(tree);
        }
        // Calls that miss together each build it: a few reads at most, and
        // no lock held across the database call.
        let tree = Arc::new(build(db).await?);
        if let Ok(mut copy) = self.copy.lock() {
            *copy = Some((Instant::now(), tree.clone()));
        }
        Ok(tree)
    }

    /// Forgets the copy: the next call reads the database.
    pub fn clear(&self) {
        if let Ok(mut copy) = self.copy.lock() {
            *copy = None;
        }
    }

    fn fresh(&self) -> Option<Arc<pb::ListCategoriesResponse>> {
        let copy = self.copy.lock().ok()?;
        let (built, tree) = copy.as_ref()?;
        (built.elapsed() < MAX_AGE).then(|| tree.clone())
    }
}

async fn build(db: &DatabaseConnection) -> Result<pb::ListCategoriesResponse> {
    let rows = catalog::list_categories(db).await?;
    let mut tops: Vec<pb::Category> = rows
        .iter()
        .filter(|r| r.parent_id.is_none())
        .map(convert::category)
        .collect();
    for top in &mut tops {
        top.children = rows
            .iter()
            .filter(|r| r.parent_id.map(|p| p.to_string()).as_deref() == Some(top.id.as_str()))
            .map(convert::category)
            .collect();
    }
    Ok(pb::ListCategoriesResponse { categories: tops })
}
