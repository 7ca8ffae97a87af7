//! Gig orders on both backends: priced from contracts' copy of the gig as
//! marketplace published it, refused for one's own gig, a paused or
//! archived one, a package or extra it does not have; one order for 30
//! racing retries with one idempotency key; the package's revisions and no
//! more.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use uuid::Uuid;

use crate::support::*;

struct Shop {
    seller: TestUser,
    gig: marketplace::Gig,
    extra: String,
}

fn gig(seller: &TestUser, status: marketplace::GigStatus) -> marketplace::Gig {
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

fn order(shop: &Shop, tier: marketplace::PackageTier, quantity: i32) -> pb::PlaceOrderRequest {
    pb::PlaceOrderRequest {
        gig_id: shop.gig.id.clone(),
        package_tier: tier as i32,
        extra_ids: vec![shop.extra.clone()],
        quantity,
    }
}

async fn place(
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
async fn open_shop(app: &TestApp) -> Shop {
    let seller = app.register().await;
    let gig = gig(&seller, marketplace::GigStatus::Published);
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

/// Publishes a gig event and waits until orders see its effect.
async fn change_gig<E: prost::Name>(
    app: &TestApp,
    shop: &Shop,
    event: &E,
    buyer: &TestUser,
    expect: &str,
) {
    app.publish_as("marketplace", &shop.gig.id, event).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = place(
            app,
            buyer,
            order(shop, marketplace::PackageTier::Premium, 1),
            None,
        )
        .await;
        let got = answer.as_ref().err().map(reason).unwrap_or_default();
        if got == expect {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the gig change never arrived: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_buyer_orders_a_gig_at_its_published_price(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    let contract = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Standard, 2),
        None,
    )
    .await
    .unwrap();
    assert_eq!(contract.kind, pb::ContractKind::GigOrder as i32);
    assert_eq!(contract.status, pb::ContractStatus::PendingFunding as i32);
    assert_eq!(contract.client_id, buyer.account_id);
    assert_eq!(contract.freelancer_id, shop.seller.account_id);
    assert_eq!(contract.gig_id, shop.gig.id);
    // (9,000 + 2,000) × 2, one milestone for the whole order.
    assert_eq!(contract.total, usd(22_000));
    assert_eq!(contract.milestones.len(), 1);
    assert_eq!(contract.milestones[0].amount, usd(22_000));
    assert_eq!(contract.milestones[0].title, "Standard package");
    let terms = contract.order.clone().unwrap();
    assert_eq!(
        (
            terms.quantity,
            terms.delivery_days,
            terms.revisions_included
        ),
        (2, 6, 2)
    );
    assert_eq!(terms.extra_ids, std::slice::from_ref(&shop.extra));
    assert_eq!(terms.questions, shop.gig.requirements);
    assert!(
        terms.requirements_time.is_none(),
        "the clock waits for funding and answers"
    );
    assert_eq!(contract.timeline[0].action, "ORDER_PLACED");
    assert_eq!(
        get(&app, &shop.seller, &contract.id).await.unwrap().order,
        Some(terms)
    );
    let created: Vec<pb::ContractCreated> = published(&app, 1).await;
    assert_eq!(created[0].gig_id, shop.gig.id);
    assert_eq!(created[0].kind, pb::ContractKind::GigOrder as i32);
    assert_eq!(created[0].milestones[0].amount, usd(22_000));
}

async fn what_cannot_be_ordered_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    let own = place(
        &app,
        &shop.seller,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&own), "OWN_GIG");
    let mut wrong = order(&shop, marketplace::PackageTier::Basic, 0);
    wrong.extra_ids = vec![
        Uuid::now_v7().to_string(),
        shop.extra.clone(),
        shop.extra.clone(),
    ];
    let refused = place(&app, &buyer, wrong, None).await.unwrap_err();
    assert_eq!(
        violated_fields(&refused),
        ["quantity", "extra_ids[0]", "extra_ids[2]"]
    );
    let no_package = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Premium, 1),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&no_package), ["package_tier"]);
    let unknown = pb::PlaceOrderRequest {
        gig_id: Uuid::now_v7().to_string(),
        ..order(&shop, marketplace::PackageTier::Basic, 1)
    };
    assert_eq!(
        place(&app, &buyer, unknown, None).await.unwrap_err().code(),
        tonic::Code::NotFound
    );

    let paused = marketplace::GigUpdated {
        gig: Some(gig_as(&shop, marketplace::GigStatus::Paused)),
    };
    change_gig(&app, &shop, &paused, &buyer, "GIG_NOT_AVAILABLE").await;
    let refused = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&refused), "GIG_NOT_AVAILABLE");
    // Published again, then archived for good: a late update does not revive it.
    let published = marketplace::GigUpdated {
        gig: Some(gig_as(&shop, marketplace::GigStatus::Published)),
    };
    app.publish_as("marketplace", &shop.gig.id, &published)
        .await;
    let archived = marketplace::GigArchived {
        gig_id: shop.gig.id.clone(),
        seller_id: shop.seller.account_id.clone(),
    };
    app.publish_as("marketplace", &shop.gig.id, &archived).await;
    app.publish_as("marketplace", &shop.gig.id, &published)
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let refused = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&refused), "GIG_NOT_AVAILABLE");
    let none = list(&app, &buyer, pb::ListContractsRequest::default()).await;
    assert!(none.contracts.is_empty(), "nothing refused made an order");
}

fn gig_as(shop: &Shop, status: marketplace::GigStatus) -> marketplace::Gig {
    marketplace::Gig {
        status: status as i32,
        ..shop.gig.clone()
    }
}

async fn thirty_retries_with_one_key_make_one_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    let mut racers = Vec::new();
    for _ in 0..30 {
        let mut client = app.contracts.clone();
        let mut request = authed(
            &buyer.access_token,
            order(&shop, marketplace::PackageTier::Basic, 1),
        );
        request
            .metadata_mut()
            .insert("idempotency-key", "order-1".parse().unwrap());
        racers.push(tokio::spawn(
            async move { client.place_order(request).await },
        ));
    }
    let mut ids = Vec::new();
    for racer in racers {
        ids.push(
            racer
                .await
                .unwrap()
                .unwrap()
                .into_inner()
                .contract
                .unwrap()
                .id,
        );
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one order for every retry");
    assert_eq!(
        list(&app, &buyer, pb::ListContractsRequest::default())
            .await
            .contracts
            .len(),
        1
    );
    // The same key with another request is refused, not a second order.
    let other = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Standard, 1),
        Some("order-1"),
    )
    .await
    .unwrap_err();
    assert_eq!(other.code(), tonic::Code::AlreadyExists);
}

async fn a_gig_order_allows_its_packages_revisions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    // Basic includes one revision.
    let contract = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let milestone = contract.milestones[0].clone();
    let funded = payments::EscrowFunded {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        client_id: buyer.account_id.clone(),
        freelancer_id: shop.seller.account_id.clone(),
        amount: milestone.amount.clone(),
    };
    app.publish_as("payments", &contract.id, &funded).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while get(&app, &buyer, &contract.id).await.unwrap().milestones[0].status
        != pb::MilestoneStatus::Funded as i32
    {
        assert!(Instant::now() < deadline, "never funded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut contracts = app.contracts.clone();
    let early = contracts
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
                message: "Too soon.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&early), "REQUIREMENTS_PENDING");
    let answers = |with_required: bool| pb::SubmitRequirementsRequest {
        contract_id: contract.id.clone(),
        answers: [(0, "Acme", with_required), (1, "Dark blue", true)]
            .into_iter()
            .filter(|(_, _, keep)| *keep)
            .map(|(i, text, _)| pb::RequirementAnswer {
                question_id: shop.gig.requirements[i].id.clone(),
                answer: text.into(),
            })
            .collect(),
    };
    let not_seller = contracts
        .submit_requirements(authed(&shop.seller.access_token, answers(true)))
        .await
        .unwrap_err();
    assert_eq!(reason(&not_seller), "CLIENT_ONLY");
    let missing = contracts
        .submit_requirements(authed(&buyer.access_token, answers(false)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), ["answers"]);
    let started = contracts
        .submit_requirements(authed(&buyer.access_token, answers(true)))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    let terms = started.order.unwrap();
    let since = terms.requirements_time.unwrap().seconds;
    // Basic's 3 days and the extra's 1.
    assert_eq!(terms.due_time.unwrap().seconds - since, 4 * 24 * 3600);
    assert_eq!(started.milestones[0].due_time, terms.due_time);
    assert_eq!(terms.answers.len(), 2);
    let again = contracts
        .submit_requirements(authed(&buyer.access_token, answers(true)))
        .await
        .unwrap_err();
    assert_eq!(reason(&again), "REQUIREMENTS_ALREADY_SUBMITTED");
    let deliver = || pb::SubmitDeliveryRequest {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        message: "Three concepts attached.".into(),
        attachment_ids: vec![],
    };
    let revise = || pb::RequestRevisionRequest {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        reason: "A darker blue, please.".into(),
    };
    let mut contracts = app.contracts.clone();
    contracts
        .submit_delivery(authed(&shop.seller.access_token, deliver()))
        .await
        .unwrap();
    contracts
        .request_revision(authed(&buyer.access_token, revise()))
        .await
        .unwrap();
    let answer = contracts
        .submit_delivery(authed(&shop.seller.access_token, deliver()))
        .await
        .unwrap();
    let delivered = answer.into_inner().contract.unwrap();
    assert_eq!(delivered.milestones[0].deliveries.len(), 2);
    // The order gets a shorter review window than a job milestone.
    let window = delivered.milestones[0].auto_approve_time.unwrap().seconds
        - delivered.timeline.last().unwrap().time.unwrap().seconds;
    assert!((window - 3 * 24 * 3600).abs() <= 1, "{window} s");
    let exhausted = contracts
        .request_revision(authed(&buyer.access_token, revise()))
        .await
        .unwrap_err();
    assert_eq!(exhausted.code(), tonic::Code::FailedPrecondition);
    assert_eq!(reason(&exhausted), "REVISIONS_EXHAUSTED");
}

async fn a_gig_that_asks_nothing_starts_its_clock_when_funded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let mut silent = gig(&seller, marketplace::GigStatus::Published);
    silent.requirements.clear();
    let extra = silent.extras[0].id.clone();
    app.publish_as(
        "marketplace",
        &silent.id,
        &marketplace::GigPublished {
            gig: Some(silent.clone()),
        },
    )
    .await;
    let shop = Shop {
        seller,
        gig: silent,
        extra,
    };
    let buyer = app.register().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let contract = loop {
        match place(
            &app,
            &buyer,
            order(&shop, marketplace::PackageTier::Basic, 1),
            None,
        )
        .await
        {
            Ok(contract) => break contract,
            Err(status) if status.code() == tonic::Code::NotFound && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    };
    let milestone = contract.milestones[0].clone();
    let funded = payments::EscrowFunded {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        client_id: buyer.account_id.clone(),
        freelancer_id: shop.seller.account_id.clone(),
        amount: milestone.amount.clone(),
    };
    app.publish_as("payments", &contract.id, &funded).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let terms = loop {
        let now = get(&app, &buyer, &contract.id).await.unwrap();
        if now.milestones[0].status == pb::MilestoneStatus::Funded as i32 {
            break now.order.unwrap();
        }
        assert!(Instant::now() < deadline, "never funded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        terms.requirements_time.is_some(),
        "nothing asked: the clock runs from funding"
    );
    assert_eq!(
        terms.due_time.unwrap().seconds - terms.requirements_time.unwrap().seconds,
        4 * 24 * 3600
    );
    app.contracts
        .clone()
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
                message: "Done.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap();
}

on_both_backends!(
    a_buyer_orders_a_gig_at_its_published_price,
    what_cannot_be_ordered_is_refused,
    thirty_retries_with_one_key_make_one_order,
    a_gig_order_allows_its_packages_revisions,
    a_gig_that_asks_nothing_starts_its_clock_when_funded,
);
