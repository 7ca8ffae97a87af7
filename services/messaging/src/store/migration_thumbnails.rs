//! Images are written anew on upload with a thumbnail beside them; the
//! thumbnail's type is kept with the medium (none for other files and for
//! media uploaded before).

use sea_orm_migration::prelude::*;

pub struct MediaThumbnails;

impl MigrationName for MediaThumbnails {
    fn name(&self) -> &str {
        "m20261130_000033_media_thumbnails"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MediaThumbnails {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("media"))
                    .add_column(
                        ColumnDef::new(Alias::new("thumbnail_type"))
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
