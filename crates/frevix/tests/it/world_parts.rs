//! The states the ownership table names in its `on` column, each made
//! through the public API by a fresh client and freelancer: a call that
//! changes what it names gets a world of its own, so no cell depends on
//! another cell having run first.

use std::collections::BTreeMap;
use std::str::FromStr;

use frevix_proto::contracts::v1 as pb;
use frevix_proto::messaging::v1 as messaging;
use frevix_testkit::{TestApp, TestUser, authed};

use crate::world::*;

/// What a row of the table is called on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// A published gig of the freelancer.
    Gig,
    /// The client's order of that gig, not paid yet.
    Placed,
    /// The client's paid (funded) order of that gig.
    Order,
    /// A paid order of a gig that asks its buyer a question, unanswered.
    Awaiting,
    /// The order with the freelancer's delivery waiting for the client.
    Delivered,
    /// The order with the client's cancellation request waiting.
    Cancelling,
    /// The order in a dispute the client opened.
    Disputed,
    /// The order with the freelancer's extension request waiting.
    Extending,
    /// A notification of the freelancer's (the new order).
    Notified,
    /// A public job of the client with the freelancer's proposal.
    Proposal,
    /// An hourly contract with a time entry in the open week.
    Hourly,
    /// An hourly contract the client ended: its week is an invoice.
    Invoiced,
    /// The invoiced contract with the client disputing the invoice.
    Contested,
    /// The invoiced contract, reviewed by both (so the reviews are
    /// published).
    Reviewed,
    /// A funded fixed-price job contract with a milestone the client
    /// proposed, waiting for the freelancer.
    Added,
    /// Their direct conversation with the client's message (sequence 1)
    /// carrying an uploaded file.
    Direct,
    /// A group conversation the client made with the freelancer in it.
    Group,
    /// The freelancer's session.
    Session,
}

impl FromStr for Part {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "gig" => Part::Gig,
            "placed" => Part::Placed,
            "order" => Part::Order,
            "awaiting" => Part::Awaiting,
            "delivered" => Part::Delivered,
            "cancelling" => Part::Cancelling,
            "disputed" => Part::Disputed,
            "extending" => Part::Extending,
            "notified" => Part::Notified,
            "proposal" => Part::Proposal,
            "hourly" => Part::Hourly,
            "invoiced" => Part::Invoiced,
            "contested" => Part::Contested,
            "reviewed" => Part::Reviewed,
            "added" => Part::Added,
            "direct" => Part::Direct,
            "group" => Part::Group,
            "session" => Part::Session,
            other => return Err(format!("no part is called {other:?}")),
        })
    }
}

/// A part made: the ids its requests carry, and the two parties.
pub struct Built {
    /// Request field name → the id to put in it.
    pub ids: BTreeMap<&'static str, String>,
    pub client: TestUser,
    pub freelancer: TestUser,
}

impl Built {
    fn set(&mut self, field: &'static str, id: &str) {
        self.ids.insert(field, id.to_owned());
    }
}

pub async fn build(app: &TestApp, part: Part) -> Built {
    let client = app.register().await;
    let freelancer = app.register().await;
    let mut built = Built {
        ids: BTreeMap::new(),
        client,
        freelancer,
    };
    let account = built.freelancer.account_id.clone();
    for field in ["account_id", "account_ids", "member_ids", "reviewee_id"] {
        built.set(field, &account);
    }
    match part {
        Part::Gig => built.set("gig_id", &gig(app, &built.freelancer, false).await),
        Part::Placed => {
            let gig = gig(app, &built.freelancer, false).await;
            let (contract, milestone) = placed_order(app, &built.client, &gig).await;
            built.set("gig_id", &gig);
            built.set("contract_id", &contract);
            built.set("milestone_id", &milestone);
            // Payments knows the contract once it refuses the freelancer
            // (only the client pays).
            let probe = frevix_proto::payments::v1::FundMilestoneRequest {
                contract_id: contract,
                milestone_id: milestone,
                payment_method: "pm_card_visa".into(),
            };
            eventually("payments to know the order", || {
                let mut api = app.payments.clone();
                let request = authed(&built.freelancer.access_token, probe.clone());
                async move {
                    match api.fund_milestone(request).await {
                        Err(status) if status.code() == tonic::Code::PermissionDenied => Ok(()),
                        _ => Err(tonic::Status::unavailable("not yet")),
                    }
                }
            })
            .await;
        }
        Part::Order
        | Part::Awaiting
        | Part::Delivered
        | Part::Cancelling
        | Part::Disputed
        | Part::Extending
        | Part::Notified => order(app, &mut built, part).await,
        Part::Proposal => {
            let (job, proposal) =
                job_and_proposal(app, &built.client, &built.freelancer, false).await;
            built.set("job_id", &job);
            built.set("proposal_id", &proposal);
        }
        Part::Hourly | Part::Invoiced | Part::Contested | Part::Reviewed => {
            hourly(app, &mut built, part).await
        }
        Part::Added => added(app, &mut built).await,
        Part::Direct => {
            let media = upload(app, &built.client).await;
            let conversation = conversation(app, &built.client, &built.freelancer, &media).await;
            built.set("conversation_id", &conversation);
            built.set("media_id", &media);
            built.set("attachment_ids", &media);
        }
        Part::Group => group(app, &mut built).await,
        Part::Session => {
            let session = built.freelancer.session_id.clone();
            built.set("session_id", &session);
        }
    }
    built
}

/// A funded order, taken on to `part`'s state.
async fn order(app: &TestApp, built: &mut Built, part: Part) {
    let gig = gig(app, &built.freelancer, part == Part::Awaiting).await;
    let (contract, milestone) = paid_order(app, &built.client, &gig).await;
    built.set("gig_id", &gig);
    built.set("contract_id", &contract);
    built.set("milestone_id", &milestone);
    let funded = pb::MilestoneStatus::Funded as i32;
    contract_when(app, &built.client, &contract, |c| {
        c.milestones[0].status == funded
    })
    .await;
    let mut api = app.contracts.clone();
    let (client, freelancer) = (&built.client.access_token, &built.freelancer.access_token);
    let contract_id = contract.clone();
    match part {
        Part::Delivered => {
            let request = pb::SubmitDeliveryRequest {
                contract_id,
                milestone_id: milestone,
                message: "The logo, as SVG and PNG.".into(),
                attachment_ids: vec![],
            };
            api.submit_delivery(authed(freelancer, request))
                .await
                .unwrap();
        }
        Part::Cancelling => {
            let request = pb::RequestCancellationRequest {
                contract_id,
                reason: "Our plans changed.".into(),
                refund: usd(4_500),
            };
            api.request_cancellation(authed(client, request))
                .await
                .unwrap();
        }
        Part::Disputed => {
            let request = pb::OpenDisputeRequest {
                contract_id,
                reason: "Nothing has been drawn yet.".into(),
                attachment_ids: vec![],
            };
            api.open_dispute(authed(client, request)).await.unwrap();
        }
        Part::Extending => {
            let request = pb::RequestExtensionRequest {
                contract_id,
                days: 2,
                reason: "The client asked for another colour set.".into(),
            };
            api.request_extension(authed(freelancer, request))
                .await
                .unwrap();
        }
        Part::Notified => {
            let notification = notification(app, &built.freelancer).await;
            built.set("notification_ids", &notification);
        }
        _ => {}
    }
}

/// An hourly contract with two hours logged today, taken on to `part`.
async fn hourly(app: &TestApp, built: &mut Built, part: Part) {
    let contract = hire(app, &built.client, &built.freelancer, true).await;
    let mut api = app.contracts.clone();
    let logged = api
        .log_time(authed(
            &built.freelancer.access_token,
            pb::LogTimeRequest {
                contract_id: contract.id.clone(),
                work_date: chrono::Utc::now().date_naive().to_string(),
                minutes: 120,
                memo: "Availability endpoint".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    built.set("contract_id", &contract.id);
    built.set("entry_id", &logged.time_entries[0].id);
    if part == Part::Hourly {
        return;
    }
    api.end_contract(authed(
        &built.client.access_token,
        pb::EndContractRequest {
            contract_id: contract.id.clone(),
            reason: "The booking API is done.".into(),
        },
    ))
    .await
    .unwrap();
    let ended = contract_when(app, &built.client, &contract.id, |c| !c.invoices.is_empty()).await;
    let invoice = ended.invoices[0].id.clone();
    built.set("invoice_id", &invoice);
    if part == Part::Invoiced {
        return;
    }
    if part == Part::Contested {
        let dispute = pb::DisputeInvoiceRequest {
            contract_id: contract.id.clone(),
            invoice_id: invoice,
            reason: "Two hours for one endpoint is more than we agreed.".into(),
        };
        api.dispute_invoice(authed(&built.client.access_token, dispute))
            .await
            .unwrap();
        return;
    }
    let mut reviewed = None;
    for who in [&built.client, &built.freelancer] {
        let review = pb::SubmitReviewRequest {
            contract_id: contract.id.clone(),
            rating: 5,
            sub_ratings: vec![],
            comment: "Clear, kind and on time.".into(),
        };
        let answer = api.submit_review(authed(&who.access_token, review)).await;
        reviewed = Some(answer.unwrap().into_inner().contract.unwrap());
    }
    // The client's review of the freelancer: theirs to answer.
    let client = built.client.account_id.clone();
    let review = reviewed
        .unwrap()
        .reviews
        .into_iter()
        .find(|r| r.reviewer_id == client)
        .unwrap();
    built.set("review_id", &review.id);
}

/// A funded fixed-price job contract and a milestone the client proposes.
async fn added(app: &TestApp, built: &mut Built) {
    let contract = hire(app, &built.client, &built.freelancer, false).await;
    let milestone = contract.milestones[0].id.clone();
    fund(app, &built.client, &contract.id, &milestone).await;
    let active = pb::ContractStatus::Active as i32;
    contract_when(app, &built.client, &contract.id, |c| c.status == active).await;
    let proposed = app
        .contracts
        .clone()
        .add_milestone(authed(
            &built.client.access_token,
            pb::AddMilestoneRequest {
                contract_id: contract.id.clone(),
                title: "A favicon set".into(),
                amount: usd(1_000),
                due_in_days: 5,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    built.set("contract_id", &contract.id);
    built.set("milestone_id", &milestone);
    built.set("proposed_milestone_id", &proposed.proposed_milestones[0].id);
}

/// A group of the client's with the freelancer; a third contact of the
/// client's is who the member RPCs add.
async fn group(app: &TestApp, built: &mut Built) {
    let other = app.register().await;
    for contact in [&built.freelancer, &other] {
        let direct = direct(app, &built.client, contact).await;
        send(
            app,
            &built.client,
            &direct,
            "Shall we work together?",
            vec![],
        )
        .await;
        send(app, contact, &direct, "Gladly.", vec![]).await;
    }
    let group = app
        .messaging
        .clone()
        .create_group_conversation(authed(
            &built.client.access_token,
            messaging::CreateGroupConversationRequest {
                title: "Logo team".into(),
                member_ids: vec![built.freelancer.account_id.clone()],
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    send(app, &built.client, &group.id, "Welcome, both.", vec![]).await;
    built.set("conversation_id", &group.id);
    for field in ["account_ids", "member_ids"] {
        built.set(field, &other.account_id);
    }
}
