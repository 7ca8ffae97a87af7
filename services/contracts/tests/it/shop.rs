//! A seller's gig as marketplace publishes it, and ordering it: what the
//! gig-order tests share.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{TestApp, TestUser, authed};
use uuid::Uuid;

use crate::support::*;

pub struct Shop {
    pub seller: TestUser,
    pub gig: marketplace::Gig,
    pub extra: String,
}

pub fn gig(seller: &TestUser, status: marketplace::GigStatus) -> marketplace::Gig {
    let package = |tier: marketplace::PackageTier, name: &str, price, days, revisions| {
        marketplace::GigPackage {
            tier: tier as i32,
            name: name.into(),
            price: usd(price),
            delivery_days: days,
            revisions,
            ..Default::default()
        }
    };
    marketplace::Gig {
        id: Uuid::now_v7().to_string(),
        seller_id: seller.account_id.clone(),
        title: "A minimal logo for your startup".into(),
        packages: vec![
            package(marketplace::PackageTier::Basic, "Basic", 5_000, 3, 1),
            package(marketplace::PackageTier::Standard, "Standard", 9_000, 5, 2),
        ],
        extras: vec![marketplace::GigExtra {
            id: Uuid::now_v7().to_string(),
            title: "Source files".into(),
            price: usd(2_000),
            extra_days: 1,
        }],
        requirements: vec![
            marketplace::RequirementQuestion {
                id: Uuid::now_v7().to_string(),
                question: "What is your brand's name?".into(),
                required: true,
            },
            marketplace::RequirementQuestion {
                id: Uuid::now_v7().to_string(),
                question: "Any colours you like?".into(),
                required: false,
            },
        ],
        status: status as i32,
        ..Default::default()
    }
}

pub fn order(shop: &Shop, tier: marketplace::PackageTier, quantity: i32) -> pb::PlaceOrderRequest {
    pb::PlaceOrderRequest {
        gig_id: shop.gig.id.clone(),
        package_tier: tier as i32,
        extra_ids: vec![shop.extra.clone()],
        quantity,
    }
}

pub async fn place(
    app: &TestApp,
    buyer: &TestUser,
    request: pb::PlaceOrderRequest,
    key: Option<&str>,
) -> Result<pb::Contract, tonic::Status> {
    let mut request = authed(&buyer.access_token, request);
    if let Some(key) = key {
        request
            .metadata_mut()
            .insert("idempotency-key", key.parse().unwrap());
    }
    app.contracts
        .clone()
        .place_order(request)
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

/// Publishes the seller's gig and waits until contracts knows it.
pub async fn open_shop(app: &TestApp) -> Shop {
    let seller = app.register().await;
    let gig = gig(&seller, marketplace::GigStatus::Published);
    open(app, seller, gig).await
}

/// `open_shop` with a gig that asks the buyer nothing.
pub async fn open_quiet_shop(app: &TestApp) -> Shop {
    let seller = app.register().await;
    let mut gig = gig(&seller, marketplace::GigStatus::Published);
    gig.requirements.clear();
    open(app, seller, gig).await
}

async fn open(app: &TestApp, seller: TestUser, gig: marketplace::Gig) -> Shop {
    let extra = gig.extras[0].id.clone();
    app.publish_as(
        "marketplace",
        &gig.id,
        &marketplace::GigPublished {
            gig: Some(gig.clone()),
        },
    )
    .await;
    let shop = Shop { seller, gig, extra };
    // Asking with a package the gig lacks changes nothing, and tells
    // whether the gig has arrived (NOT_FOUND until then).
    let probe = app.register().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = place(
            app,
            &probe,
            order(&shop, marketplace::PackageTier::Premium, 1),
            None,
        )
        .await;
        if answer
            .as_ref()
            .is_err_and(|s| s.code() != tonic::Code::NotFound)
        {
            return shop;
        }
        assert!(
            Instant::now() < deadline,
            "the gig never reached contracts: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn gig_as(shop: &Shop, status: marketplace::GigStatus) -> marketplace::Gig {
    marketplace::Gig {
        status: status as i32,
        ..shop.gig.clone()
    }
}

/// Funds an order's milestone as payments would, and waits until it is.
pub async fn fund(
    app: &TestApp,
    shop: &Shop,
    buyer: &TestUser,
    contract: &pb::Contract,
) -> pb::Contract {
    let milestone = &contract.milestones[0];
    let funded = payments::EscrowFunded {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        client_id: buyer.account_id.clone(),
        freelancer_id: shop.seller.account_id.clone(),
        amount: milestone.amount.clone(),
        invoice_id: String::new(),
    };
    app.publish_as("payments", &contract.id, &funded).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = get(app, buyer, &contract.id).await.unwrap();
        if now.milestones[0].status == pb::MilestoneStatus::Funded as i32 {
            return now;
        }
        assert!(Instant::now() < deadline, "never funded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
