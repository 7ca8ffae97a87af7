//! Hourly contracts on both backends: time logged within the open week and
//! its limit (30 racing entries never pass it), pause and resume, the week
//! closed into an invoice by its timer on a moved clock, disputed, lowered,
//! approved when its window passes (announced once), payments' failed
//! charge pausing the contract, and the contract ended with its weeks billed.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};

use crate::support::*;

struct Hourly {
    client: TestUser,
    freelancer: TestUser,
    id: String,
}

async fn hire_by_the_hour(app: &TestApp) -> Hourly {
    let client = app.register().await;
    let freelancer = app.register().await;
    let event = accepted(&client, &freelancer, true);
    app.publish_as("marketplace", &event.proposal_id, &event)
        .await;
    let contract = wait_for(app, &client, &event.contract_id).await;
    assert_eq!(contract.hourly.unwrap().rate.unwrap().minor_units, 4_500);
    Hourly {
        client,
        freelancer,
        id: contract.id,
    }
}

async fn log(
    app: &TestApp,
    hourly: &Hourly,
    user: &TestUser,
    date: &str,
    minutes: i32,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .log_time(authed(
            &user.access_token,
            pb::LogTimeRequest {
                contract_id: hourly.id.clone(),
                work_date: date.into(),
                minutes,
                memo: "Booking API: availability endpoint".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn set_limit(app: &TestApp, hourly: &Hourly, minutes: i32) -> pb::Contract {
    app.contracts
        .clone()
        .set_weekly_limit(authed(
            &hourly.client.access_token,
            pb::SetWeeklyLimitRequest {
                contract_id: hourly.id.clone(),
                weekly_limit_minutes: minutes,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap()
}

/// The contract once `done` holds of it (a timer or an event moves it).
async fn until(
    app: &TestApp,
    hourly: &Hourly,
    done: impl Fn(&pb::Contract) -> bool,
) -> pb::Contract {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let contract = get(app, &hourly.client, &hourly.id).await.unwrap();
        if done(&contract) {
            return contract;
        }
        assert!(Instant::now() < deadline, "never happened: {contract:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_week_is_logged_billed_disputed_and_approved(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let hourly = hire_by_the_hour(&app).await;
    let (client, freelancer) = (&hourly.client, &hourly.freelancer);
    // The test clock starts on Monday 2026-11-30, noon.
    let today = "2026-11-30";

    let wrong = log(&app, &hourly, client, today, 60).await.unwrap_err();
    assert_eq!(reason(&wrong), "FREELANCER_ONLY");
    let bad = log(&app, &hourly, freelancer, "30/11/2026", 0)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["work_date", "minutes"]);
    let future = log(&app, &hourly, freelancer, "2026-12-01", 60)
        .await
        .unwrap_err();
    assert_eq!(reason(&future), "OUTSIDE_OPEN_WEEK");
    let last_week = log(&app, &hourly, freelancer, "2026-11-29", 60)
        .await
        .unwrap_err();
    assert_eq!(reason(&last_week), "OUTSIDE_OPEN_WEEK");

    let logged = log(&app, &hourly, freelancer, today, 120).await.unwrap();
    let first = logged.time_entries[0].id.clone();
    assert_eq!(logged.time_entries[0].week_start, today);
    let limited = set_limit(&app, &hourly, 180).await;
    assert_eq!(limited.hourly.unwrap().weekly_limit_minutes, 180);
    let over = log(&app, &hourly, freelancer, today, 61).await.unwrap_err();
    assert_eq!(reason(&over), "WEEKLY_LIMIT_REACHED");
    log(&app, &hourly, freelancer, today, 60).await.unwrap();

    // Paused: nothing is logged until the client resumes.
    let mut contracts = app.contracts.clone();
    let paused = contracts
        .pause_contract(authed(
            &client.access_token,
            pb::PauseContractRequest {
                contract_id: hourly.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert!(paused.hourly.unwrap().paused);
    let held = log(&app, &hourly, freelancer, today, 1).await.unwrap_err();
    assert_eq!(reason(&held), "CONTRACT_PAUSED");
    use frevix_proto::messaging::v1::NotificationKind as N;
    notified(&app, freelancer, N::ContractPaused).await;
    contracts
        .resume_contract(authed(
            &client.access_token,
            pb::ResumeContractRequest {
                contract_id: hourly.id.clone(),
            },
        ))
        .await
        .unwrap();
    let update = |minutes| pb::UpdateTimeEntryRequest {
        contract_id: hourly.id.clone(),
        entry_id: first.clone(),
        minutes,
        memo: "Availability endpoint and its tests".into(),
    };
    contracts
        .update_time_entry(authed(&freelancer.access_token, update(100)))
        .await
        .unwrap();

    // Monday 00:00 UTC: the week closes into an invoice of 160 minutes.
    clock.advance(chrono::Duration::hours(156) + chrono::Duration::seconds(1));
    let billed = until(&app, &hourly, |c| !c.invoices.is_empty()).await;
    let invoice = billed.invoices[0].clone();
    assert_eq!(invoice.week_start, today);
    assert_eq!(invoice.minutes, 160);
    assert_eq!(invoice.amount.as_ref().unwrap().minor_units, 12_000);
    assert_eq!(invoice.status, pb::InvoiceStatus::PendingReview as i32);
    assert!(
        billed
            .time_entries
            .iter()
            .all(|e| e.invoice_id == invoice.id)
    );
    let closed = contracts
        .update_time_entry(authed(&freelancer.access_token, update(90)))
        .await
        .unwrap_err();
    assert_eq!(reason(&closed), "WEEK_CLOSED");

    let disputed = contracts
        .dispute_invoice(authed(
            &client.access_token,
            pb::DisputeInvoiceRequest {
                contract_id: hourly.id.clone(),
                invoice_id: invoice.id.clone(),
                reason: "Monday was a holiday for us.".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(
        disputed.invoices[0].status,
        pb::InvoiceStatus::Disputed as i32
    );
    let adjusted = contracts
        .adjust_invoice(authed(
            &freelancer.access_token,
            pb::AdjustInvoiceRequest {
                contract_id: hourly.id.clone(),
                invoice_id: invoice.id.clone(),
                minutes: 120,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    let again = &adjusted.invoices[0];
    assert_eq!(again.status, pb::InvoiceStatus::PendingReview as i32);
    assert_eq!(again.amount.as_ref().unwrap().minor_units, 9_000);

    // Its review window passes: approved and announced once.
    clock.advance(chrono::Duration::days(5) + chrono::Duration::seconds(1));
    // (Approved, then at once PAYMENT_FAILED: see below.)
    until(&app, &hourly, |c| {
        c.invoices[0].status != pb::InvoiceStatus::PendingReview as i32
    })
    .await;
    let approved = published::<pb::HourlyInvoiceApproved>(&app, 1).await;
    notified(&app, freelancer, N::InvoiceApproved).await;
    notified(&app, freelancer, N::ContractResumed).await;
    assert_eq!(approved[0].minutes, 120);
    assert_eq!(approved[0].amount.as_ref().unwrap().minor_units, 9_000);

    // Payments cannot charge it (the client saved no card): the real
    // payments service says so, and the contract pauses.
    let stopped = until(&app, &hourly, |c| c.hourly.as_ref().unwrap().paused).await;
    assert_eq!(
        stopped.invoices[0].status,
        pb::InvoiceStatus::PaymentFailed as i32
    );
    let pauses = published::<pb::ContractPaused>(&app, 2).await;
    assert_eq!(pauses[1].reason, pb::PauseReason::PaymentFailed as i32);

    let ended = contracts
        .end_contract(authed(
            &client.access_token,
            pb::EndContractRequest {
                contract_id: hourly.id.clone(),
                reason: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(ended.status, pb::ContractStatus::Completed as i32);
    assert!(
        ended.review_close_time.is_some(),
        "billed work opens reviews"
    );
}

async fn racing_entries_never_pass_the_weekly_limit(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let hourly = hire_by_the_hour(&app).await;
    set_limit(&app, &hourly, 180).await;
    let today = clock.now().format("%Y-%m-%d").to_string();
    let mut racers = Vec::new();
    for _ in 0..30 {
        let mut contracts = app.contracts.clone();
        let request = pb::LogTimeRequest {
            contract_id: hourly.id.clone(),
            work_date: today.clone(),
            minutes: 10,
            memo: String::new(),
        };
        let token = hourly.freelancer.access_token.clone();
        racers.push(tokio::spawn(async move {
            contracts.log_time(authed(&token, request)).await
        }));
    }
    let mut logged = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => logged += 1,
            Err(status) => assert_eq!(reason(&status), "WEEKLY_LIMIT_REACHED"),
        }
    }
    assert_eq!(logged, 18, "180 minutes in entries of 10");
    let contract = get(&app, &hourly.client, &hourly.id).await.unwrap();
    let total: i32 = contract.time_entries.iter().map(|e| e.minutes).sum();
    assert_eq!(total, 180);
}

on_both_backends!(
    a_week_is_logged_billed_disputed_and_approved,
    racing_entries_never_pass_the_weekly_limit,
);
