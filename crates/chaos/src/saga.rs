//! One hire saga, end to end through the gateway: a seller and a buyer sign
//! up, the seller onboards for payouts, both chat, the buyer orders the
//! seller's published gig or hires them through a job and a proposal, and
//! pays; then the saga ends one of three ways — delivered,
//! sent back for a revision, delivered again, approved, released and paid
//! out, and both review each other; cancelled with everything refunded; or
//! disputed and split by an admin.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1::{
    self as pb, MilestoneStatus as M, contract_service_client::ContractServiceClient,
};
use frevix_proto::marketplace::v1::{
    self as market, marketplace_service_client::MarketplaceServiceClient,
};
use frevix_proto::messaging::v1::{self as chat, messaging_service_client::MessagingServiceClient};
use frevix_proto::payments::v1::{self as payments, payment_service_client::PaymentServiceClient};
use tonic::Code;

use crate::api::{Api, anonymous, authed};
use crate::people::{self, Person};
use crate::steps::{milestone, milestone_is, until, wait};

pub const PRICE: i64 = 4_500;
/// What a disputed saga's admin gives back to the client.
pub const CLIENT_SHARE_BPS: i32 = 5_000;
/// Chat messages each side sends.
pub const MESSAGES_EACH: usize = 3;

/// How the contract comes to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    GigOrder,
    Job,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ending {
    Completed,
    Cancelled,
    Disputed,
}

/// What a saga did, for the checker.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub way: Way,
    pub ending: Ending,
    pub contract_id: String,
    pub buyer: Person,
    pub conversation_id: String,
    /// The client message ids it sent.
    pub sent: Vec<String>,
    pub took: Duration,
}

pub struct Saga {
    pub name: String,
    pub way: Way,
    pub ending: Ending,
    pub api: Api,
    pub mail: PathBuf,
    pub admin: std::sync::Arc<crate::admin::Admin>,
}

fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

impl Saga {
    pub async fn run(self) -> anyhow::Result<Outcome> {
        let started = Instant::now();
        let api = &self.api;
        let email = |who: &str| format!("{who}-{}@chaos.frevix.test", self.name);
        let seller = people::sign_up(api, &self.mail, &email("seller")).await?;
        let buyer = people::sign_up(api, &self.mail, &email("buyer")).await?;
        people::onboard(api, &seller).await?;
        let (conversation_id, sent) = self.chat(&buyer, &seller).await?;
        let order = match self.way {
            Way::GigOrder => {
                let gig = self.gig(&seller).await?;
                self.order(&buyer, &gig).await?
            }
            Way::Job => self.hire(&buyer, &seller).await?,
        };
        let id = order.id.clone();
        let milestone_id = milestone(&order)
            .ok_or_else(|| anyhow!("order {id} has no milestone"))?
            .id
            .clone();
        self.fund(&buyer, &id, &milestone_id).await?;
        wait(api, &buyer, &id, "FUNDED", |c| {
            milestone_is(c, &[M::Funded])
        })
        .await?;
        match self.ending {
            Ending::Completed => self.complete(&buyer, &seller, &id, &milestone_id).await?,
            Ending::Cancelled => self.cancel(&buyer, &seller, &id).await?,
            Ending::Disputed => self.dispute(&buyer, &seller, &id, &milestone_id).await?,
        }
        Ok(Outcome {
            way: self.way,
            ending: self.ending,
            contract_id: id,
            buyer,
            conversation_id,
            sent,
            took: started.elapsed(),
        })
    }

    /// A leaf of the category tree: the first top category's first child.
    async fn category(&self) -> anyhow::Result<String> {
        let categories = self
            .api
            .call("ListCategories", &[], |channel| {
                let request = anonymous(None, market::ListCategoriesRequest {});
                async move {
                    MarketplaceServiceClient::new(channel)
                        .list_categories(request)
                        .await
                }
            })
            .await?
            .categories;
        let top = categories.first().ok_or_else(|| anyhow!("no categories"))?;
        Ok(top.children.first().unwrap_or(top).id.clone())
    }

    /// A published gig of `seller` at [`PRICE`].
    async fn gig(&self, seller: &Person) -> anyhow::Result<String> {
        let api = &self.api;
        let category = self.category().await?;
        let create = market::CreateGigRequest {
            gig: Some(market::Gig {
                title: format!("A hand-drawn logo, saga {}", self.name),
                description: "A logo drawn by hand, delivered as SVG and PNG files.".into(),
                category_id: category,
                packages: vec![market::GigPackage {
                    tier: market::PackageTier::Basic as i32,
                    name: "Basic".into(),
                    description: "One concept".into(),
                    price: usd(PRICE),
                    delivery_days: 3,
                    revisions: 1,
                    features: vec![],
                }],
                ..Default::default()
            }),
        };
        let key = format!("gig-{}", self.name);
        let gig = api
            .call("CreateGig", &[], |channel| {
                let request = authed(&seller.token, Some(&key), create.clone());
                async move {
                    MarketplaceServiceClient::new(channel)
                        .create_gig(request)
                        .await
                }
            })
            .await
            .context("CreateGig")?
            .gig
            .ok_or_else(|| anyhow!("CreateGig answered no gig"))?;
        let publish = market::PublishGigRequest {
            gig_id: gig.id.clone(),
        };
        let published = api
            .call("PublishGig", &[], |channel| {
                let request = authed(&seller.token, None, publish.clone());
                async move {
                    MarketplaceServiceClient::new(channel)
                        .publish_gig(request)
                        .await
                }
            })
            .await;
        match published {
            Ok(_) => {}
            // Published by an attempt whose answer was lost.
            Err(status) if status.code() == Code::FailedPrecondition => {}
            Err(status) => return Err(anyhow!("PublishGig: {status:?}")),
        }
        Ok(gig.id)
    }

    /// A direct conversation where each sends [`MESSAGES_EACH`] messages.
    async fn chat(&self, buyer: &Person, seller: &Person) -> anyhow::Result<(String, Vec<String>)> {
        let api = &self.api;
        let open = chat::OpenDirectConversationRequest {
            account_id: seller.id.clone(),
        };
        let conversation = api
            // NOT_FOUND until messaging has heard of the new account.
            .call("OpenDirectConversation", &[Code::NotFound], |channel| {
                let request = authed(&buyer.token, None, open.clone());
                async move {
                    MessagingServiceClient::new(channel)
                        .open_direct_conversation(request)
                        .await
                }
            })
            .await
            .context("OpenDirectConversation")?
            .conversation
            .ok_or_else(|| anyhow!("no conversation"))?;
        let mut sent = Vec::new();
        for turn in 0..MESSAGES_EACH * 2 {
            let (who, side) = if turn % 2 == 0 {
                (buyer, "b")
            } else {
                (seller, "s")
            };
            let client_message_id = format!("{}-{side}{turn}", self.name);
            let send = chat::SendMessageRequest {
                conversation_id: conversation.id.clone(),
                text: format!("Message {turn} of saga {}", self.name),
                client_message_id: client_message_id.clone(),
                ..Default::default()
            };
            api.call("SendMessage", &[], |channel| {
                let request = authed(&who.token, None, send.clone());
                async move {
                    MessagingServiceClient::new(channel)
                        .send_message(request)
                        .await
                }
            })
            .await
            .context("SendMessage")?;
            sent.push(client_message_id);
        }
        Ok((conversation.id, sent))
    }

    async fn order(&self, buyer: &Person, gig: &str) -> anyhow::Result<pb::Contract> {
        let place = pb::PlaceOrderRequest {
            gig_id: gig.into(),
            package_tier: market::PackageTier::Basic as i32,
            extra_ids: vec![],
            quantity: 1,
        };
        let key = format!("order-{}", self.name);
        // NOT_FOUND / FAILED_PRECONDITION until contracts has the gig.
        self.api
            .call(
                "PlaceOrder",
                &[Code::NotFound, Code::FailedPrecondition],
                |channel| {
                    let request = authed(&buyer.token, Some(&key), place.clone());
                    async move {
                        ContractServiceClient::new(channel)
                            .place_order(request)
                            .await
                    }
                },
            )
            .await
            .context("PlaceOrder")?
            .contract
            .ok_or_else(|| anyhow!("PlaceOrder answered no contract"))
    }

    async fn fund(&self, buyer: &Person, id: &str, milestone_id: &str) -> anyhow::Result<()> {
        let fund = payments::FundMilestoneRequest {
            contract_id: id.into(),
            milestone_id: milestone_id.into(),
            payment_method: "pm_card_visa".into(),
        };
        let key = format!("fund-{milestone_id}");
        until(
            &self.api,
            buyer,
            id,
            "FundMilestone",
            |c| !milestone_is(c, &[M::Pending]),
            |channel| {
                let request = authed(&buyer.token, Some(&key), fund.clone());
                async move {
                    PaymentServiceClient::new(channel)
                        .fund_milestone(request)
                        .await
                }
            },
        )
        .await?;
        Ok(())
    }

    async fn deliver(
        &self,
        seller: &Person,
        id: &str,
        milestone_id: &str,
        nth: usize,
    ) -> anyhow::Result<()> {
        let deliver = pb::SubmitDeliveryRequest {
            contract_id: id.into(),
            milestone_id: milestone_id.into(),
            message: format!("Delivery {nth}: the logo as SVG and PNG."),
            attachment_ids: vec![],
        };
        until(
            &self.api,
            seller,
            id,
            "SubmitDelivery",
            |c| milestone(c).is_some_and(|m| m.deliveries.len() >= nth),
            |channel| {
                let request = authed(&seller.token, None, deliver.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .submit_delivery(request)
                        .await
                }
            },
        )
        .await?;
        Ok(())
    }
}

mod endings;
mod hiring;
