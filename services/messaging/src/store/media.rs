//! Uploaded media and the places they are attached to.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

use crate::domain::MediaId;

use super::entities::{media, media_links};

pub use media::Model as MediaRow;
pub use media_links::Model as LinkRow;

/// A conversation's members may read the medium.
pub const CONVERSATION: &str = "conversation";
/// A contract's parties may read the medium.
pub const CONTRACT: &str = "contract";

pub async fn insert(db: &impl ConnectionTrait, row: MediaRow) -> Result<MediaRow, DbErr> {
    media::ActiveModel {
        id: Set(row.id),
        owner_id: Set(row.owner_id),
        name: Set(row.name),
        content_type: Set(row.content_type),
        size_bytes: Set(row.size_bytes),
        sha256: Set(row.sha256),
        public: Set(row.public),
        created_at: Set(row.created_at),
        thumbnail_type: Set(row.thumbnail_type),
    }
    .insert(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: MediaId) -> Result<Option<MediaRow>, DbErr> {
    media::Entity::find_by_id(id.0).one(db).await
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[MediaId]) -> Result<Vec<MediaRow>, DbErr> {
    media::Entity::find()
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// Attaches `media` to a place (nothing if it already is).
pub async fn link(
    db: &impl ConnectionTrait,
    media: MediaId,
    place: &str,
    place_id: Uuid,
) -> Result<(), DbErr> {
    media_links::Entity::insert(media_links::ActiveModel {
        media_id: Set(media.0),
        place: Set(place.to_owned()),
        place_id: Set(place_id),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(())
}

/// Detaches `media` from a place (nothing if it was not attached).
pub async fn unlink(
    db: &impl ConnectionTrait,
    media: MediaId,
    place: &str,
    place_id: Uuid,
) -> Result<(), DbErr> {
    media_links::Entity::delete_many()
        .filter(media_links::Column::MediaId.eq(media))
        .filter(media_links::Column::Place.eq(place))
        .filter(media_links::Column::PlaceId.eq(place_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn links(db: &impl ConnectionTrait, media: MediaId) -> Result<Vec<LinkRow>, DbErr> {
    media_links::Entity::find()
        .filter(media_links::Column::MediaId.eq(media))
        .all(db)
        .await
}

/// Makes `owner`'s media among `ids` public (media of others stay as they are).
pub async fn make_public(
    db: &impl ConnectionTrait,
    owner: Uuid,
    ids: &[MediaId],
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    media::Entity::update_many()
        .col_expr(media::Column::Public, Expr::value(true))
        .filter(media::Column::OwnerId.eq(owner))
        .filter(media::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
