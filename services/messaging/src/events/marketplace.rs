//! Marketplace's events: proposals notify the other side; a published gig's
//! gallery and a profile's avatar and portfolio become public media.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::marketplace::v1 as marketplace_events;
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::apply::{Apply, money};

#[async_trait::async_trait]
impl On<marketplace_events::ProposalSubmitted> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: marketplace_events::ProposalSubmitted,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .notify(
                &e.client_id,
                pb::NotificationKind::ProposalSubmitted,
                "New proposal on your job".to_owned(),
                format!("A freelancer bid {}.", money(e.bid.as_ref())),
                &e.job_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<marketplace_events::ProposalAccepted> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: marketplace_events::ProposalAccepted,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .notify(
                &e.freelancer_id,
                pb::NotificationKind::ProposalAccepted,
                format!("You were hired for “{}”", e.job_title),
                "The contract starts once the client funds it.".to_owned(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<marketplace_events::GigPublished> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: marketplace_events::GigPublished,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply.gallery(e.gig.as_ref()).await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<marketplace_events::GigUpdated> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: marketplace_events::GigUpdated,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply.gallery(e.gig.as_ref()).await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<marketplace_events::FreelancerProfileUpdated> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: marketplace_events::FreelancerProfileUpdated,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        if let Some(profile) = e.profile {
            let mut media = vec![profile.avatar_media_id.clone()];
            for item in &profile.portfolio {
                media.extend(item.media_ids.iter().cloned());
            }
            apply.make_public(&profile.account_id, &media).await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}
