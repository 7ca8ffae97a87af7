//! Shorthands every service's migrations build with, so a schema reads as
//! its columns and indexes rather than as builder plumbing.

use sea_orm_migration::prelude::*;

/// A column named `name` (its type and constraints follow).
pub fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

/// A (non-unique) index `name` on `table`'s `columns`, in that order.
pub fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}
