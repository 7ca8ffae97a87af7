//! Clients' saved cards: one each, the newest replacing the one before.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

use super::entities::payment_methods;

pub type MethodRow = payment_methods::Model;

pub async fn find(db: &impl ConnectionTrait, client: Uuid) -> Result<Option<MethodRow>, DbErr> {
    payment_methods::Entity::find_by_id(client).one(db).await
}

/// Saves the client's card, replacing the one saved before.
pub async fn save(db: &impl ConnectionTrait, row: MethodRow) -> Result<(), DbErr> {
    let model: payment_methods::ActiveModel = row.into();
    payment_methods::Entity::insert(model)
        .on_conflict(
            OnConflict::column(payment_methods::Column::ClientId)
                .update_columns([
                    payment_methods::Column::CustomerId,
                    payment_methods::Column::PaymentMethod,
                    payment_methods::Column::Brand,
                    payment_methods::Column::Last4,
                    payment_methods::Column::SavedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
