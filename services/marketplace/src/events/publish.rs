//! The gig events marketplace writes to its outbox with each change.

use frevix_platform::events::Outbox;
use frevix_proto::marketplace::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};

use crate::convert;
use crate::domain::gig::GigEvent;
use crate::store::gigs::GigRow;

pub async fn gig_event(
    outbox: &Outbox,
    db: &impl ConnectionTrait,
    row: &GigRow,
    seller_display_name: &str,
    event: GigEvent,
) -> Result<(), DbErr> {
    let id = row.id.to_string();
    match event {
        GigEvent::Published => {
            let gig = Some(convert::gig(row, seller_display_name));
            outbox
                .publish(db, "gig", &id, &pb::GigPublished { gig })
                .await?;
        }
        GigEvent::Updated => {
            let gig = Some(convert::gig(row, seller_display_name));
            outbox
                .publish(db, "gig", &id, &pb::GigUpdated { gig })
                .await?;
        }
        GigEvent::Archived => {
            let archived = pb::GigArchived {
                gig_id: id.clone(),
                seller_id: row.seller_id.to_string(),
            };
            outbox.publish(db, "gig", &id, &archived).await?;
        }
    }
    Ok(())
}
