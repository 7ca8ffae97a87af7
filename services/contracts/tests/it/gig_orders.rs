//! Gig orders on both backends: priced from contracts' copy of the gig as
//! marketplace published it, refused for one's own gig, a paused or
//! archived one, a package or extra it does not have; one order for 30
//! racing retries with one idempotency key; forty orders at once, written
//! together, each once.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use uuid::Uuid;

use crate::shop::*;
use crate::support::*;

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
        get(&app, &buyer, &contract.id).await.unwrap(),
        contract,
        "the answer is the order as GetContract shows it"
    );
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
    // Every bad field in one answer: the repeat and the quantity checked at
    // once, the unknown extra once the gig is found.
    let mut fields = violated_fields(&refused);
    fields.sort();
    assert_eq!(fields, ["extra_ids[0]", "extra_ids[2]", "quantity"]);
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

/// Forty orders at once from four buyers, the writers' batches mixing
/// orders without a key and five keys each sent three times: every order
/// written once, each key's three calls answered with one order, and one
/// ContractCreated for each.
async fn forty_orders_at_once_are_each_written_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let mut buyers = Vec::new();
    for _ in 0..4 {
        buyers.push(app.register().await);
    }
    let mut racers = Vec::new();
    for i in 0..40 {
        // Calls 25..40 carry keys: five keys, three calls each, each key
        // always from the same buyer (keys are the caller's own).
        let key = (i >= 25).then(|| (i - 25) % 5);
        let buyer = buyers[key.unwrap_or(i) % buyers.len()].clone();
        let key = key.map(|k| format!("crowd-{k}"));
        let app_contracts = app.contracts.clone();
        let request = order(&shop, marketplace::PackageTier::Basic, 1);
        racers.push(tokio::spawn(async move {
            let mut request = authed(&buyer.access_token, request);
            if let Some(key) = &key {
                request
                    .metadata_mut()
                    .insert("idempotency-key", key.parse().unwrap());
            }
            let answer = app_contracts.clone().place_order(request).await;
            (buyer.account_id, key, answer)
        }));
    }
    let mut unkeyed = Vec::new();
    let mut keyed: std::collections::HashMap<(String, String), Vec<String>> =
        std::collections::HashMap::new();
    for racer in racers {
        let (buyer, key, answer) = racer.await.unwrap();
        let id = answer.unwrap().into_inner().contract.unwrap().id;
        match key {
            None => unkeyed.push(id),
            Some(key) => keyed.entry((buyer, key)).or_default().push(id),
        }
    }
    let mut distinct: Vec<String> = unkeyed.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 25, "each order without a key is its own");
    assert_eq!(keyed.len(), 5);
    for ((_, key), ids) in &keyed {
        assert_eq!(ids.len(), 3);
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "{key}: one order, {ids:?}"
        );
        distinct.push(ids[0].clone());
    }
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 30);
    let mut listed = 0;
    for buyer in &buyers {
        // Ten orders each at most: one page.
        let request = pb::ListContractsRequest::default();
        listed += list(&app, buyer, request).await.contracts.len();
    }
    assert_eq!(listed, 30, "as many orders stored as answered");
    // Each as its buyer reads it: its milestone and its first step.
    for (i, id) in distinct.iter().enumerate() {
        let mut read = None;
        for buyer in &buyers {
            if let Ok(contract) = get(&app, buyer, id).await {
                read = Some(contract);
            }
        }
        let contract = read.unwrap_or_else(|| panic!("order {i} unreadable"));
        assert_eq!(contract.milestones.len(), 1);
        assert_eq!(contract.timeline[0].action, "ORDER_PLACED");
    }
    let created = published::<pb::ContractCreated>(&app, 30).await;
    let mut announced: Vec<String> = created.into_iter().map(|e| e.contract_id).collect();
    announced.sort();
    assert_eq!(announced, distinct, "one ContractCreated for each order");
}

on_both_backends!(
    a_buyer_orders_a_gig_at_its_published_price,
    what_cannot_be_ordered_is_refused,
    thirty_retries_with_one_key_make_one_order,
    forty_orders_at_once_are_each_written_once,
);
