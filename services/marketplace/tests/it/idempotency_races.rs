//! Two first calls with one idempotency key, many times at once: the
//! change happens once and every caller gets the same answer (the key is
//! claimed by the change's transaction, so the losers wait and replay).

use crate::gigs::a_gig;
use crate::support::jobs::{post, proposal, submit};
use crate::support::subcategory;
use frevix_proto::common::v1::PageRequest;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

/// Callers racing with the same key.
const RACERS: usize = 30;

fn keyed<T>(token: &str, key: &str, message: T) -> tonic::Request<T> {
    let mut request = authed(token, message);
    request
        .metadata_mut()
        .insert("idempotency-key", key.parse().unwrap());
    request
}

/// Runs every call at once and collects their answers.
async fn race<F, T>(calls: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let running: Vec<_> = calls.map(tokio::spawn).collect();
    let mut answers = Vec::new();
    for call in running {
        answers.push(call.await.unwrap());
    }
    answers
}

/// Every answer equal to the first; returns it.
fn one_answer<T: PartialEq + std::fmt::Debug>(answers: Vec<Result<T, tonic::Status>>) -> T {
    let answers: Vec<T> = answers
        .into_iter()
        .map(|answer| answer.expect("every racer gets the answer"))
        .collect();
    assert_eq!(answers.len(), RACERS);
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0]);
    }
    answers.into_iter().next().unwrap()
}

async fn racing_create_gig_with_one_key_drafts_one_gig(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let category = subcategory(&app, "web-development").await;
    let calls = (0..RACERS).map(|_| {
        let mut client = app.marketplace.clone();
        let request = keyed(
            &seller.access_token,
            "one-gig",
            pb::CreateGigRequest {
                gig: Some(a_gig(category.clone())),
            },
        );
        async move { client.create_gig(request).await.map(|r| r.into_inner()) }
    });
    let answer = one_answer(race(calls).await);
    let drafted = app
        .marketplace
        .clone()
        .list_my_gigs(authed(
            &seller.access_token,
            pb::ListMyGigsRequest {
                page: Some(PageRequest {
                    page_size: 100,
                    page_token: String::new(),
                }),
                status: pb::GigStatus::Draft as i32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .gigs;
    assert_eq!(drafted.len(), 1, "{drafted:?}");
    assert_eq!(drafted[0].id, answer.gig.unwrap().id);
}

async fn racing_post_job_with_one_key_posts_one_job(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    // The first post makes the client's profile, so the race is only the key's.
    let template = post(&app, &client, pb::JobVisibility::Public).await;
    let job = pb::Job {
        title: "Port our billing jobs to Rust".into(),
        ..template.clone()
    };
    let calls = (0..RACERS).map(|_| {
        let mut marketplace = app.marketplace.clone();
        let request = keyed(
            &client.access_token,
            "one-job",
            pb::PostJobRequest {
                job: Some(pb::Job {
                    id: String::new(),
                    ..job.clone()
                }),
            },
        );
        async move { marketplace.post_job(request).await.map(|r| r.into_inner()) }
    });
    let answer = one_answer(race(calls).await);
    let posted = answer.job.unwrap();
    let mine = app
        .marketplace
        .clone()
        .list_my_jobs(authed(
            &client.access_token,
            pb::ListMyJobsRequest {
                page: Some(PageRequest {
                    page_size: 100,
                    page_token: String::new(),
                }),
                status: pb::JobStatus::Open as i32,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .jobs;
    let ids: Vec<&str> = mine.iter().map(|job| job.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "the template and one raced job: {ids:?}");
    assert!(ids.contains(&posted.id.as_str()));
    let announced = app
        .published_events("marketplace")
        .await
        .iter()
        .filter_map(|event| event.decode::<pb::JobPosted>().ok())
        .filter(|event| event.job.as_ref().is_some_and(|job| job.id == posted.id))
        .count();
    assert_eq!(announced, 1);
}

async fn racing_accept_proposal_with_one_key_hires_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let job = post(&app, &client, pb::JobVisibility::Public).await;
    let offer = submit(&app, &freelancer, proposal(&job, &[100_000, 200_000]))
        .await
        .unwrap();
    let calls = (0..RACERS).map(|_| {
        let mut marketplace = app.marketplace.clone();
        let request = keyed(
            &client.access_token,
            "hire",
            pb::AcceptProposalRequest {
                proposal_id: offer.id.clone(),
            },
        );
        async move {
            marketplace
                .accept_proposal(request)
                .await
                .map(|r| r.into_inner())
        }
    });
    let answer = one_answer(race(calls).await);
    assert_eq!(
        answer.proposal.unwrap().status,
        pb::ProposalStatus::Accepted as i32
    );
    let hired = app
        .published_events("marketplace")
        .await
        .iter()
        .filter_map(|event| event.decode::<pb::ProposalAccepted>().ok())
        .filter(|event| event.proposal_id == offer.id)
        .count();
    assert_eq!(hired, 1);
}

async fn racing_accepts_of_one_proposal_all_hire_and_another_proposal_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let (ada, bob) = (app.register().await, app.register().await);
    let job = post(&app, &client, pb::JobVisibility::Public).await;
    let first = submit(&app, &ada, proposal(&job, &[100_000]))
        .await
        .unwrap();
    let second = submit(&app, &bob, proposal(&job, &[90_000])).await.unwrap();
    // Each proposal accepted 20 times at once: a third without a key, a
    // third each with a key of its own, a third sharing one key.
    let calls = [&first, &second].into_iter().flat_map(|offer| {
        (0..20).map(|i| {
            let mut marketplace = app.marketplace.clone();
            let message = pb::AcceptProposalRequest {
                proposal_id: offer.id.clone(),
            };
            let request = match i % 3 {
                0 => authed(&client.access_token, message),
                1 => keyed(&client.access_token, &format!("{}-{i}", offer.id), message),
                _ => keyed(&client.access_token, &offer.id, message),
            };
            let proposal = offer.id.clone();
            async move {
                let answer = marketplace
                    .accept_proposal(request)
                    .await
                    .map(|r| r.into_inner());
                (proposal, answer)
            }
        })
    });
    let answers = race(calls).await;
    let winners: std::collections::HashSet<String> = answers
        .iter()
        .filter(|(_, answer)| answer.is_ok())
        .map(|(proposal, _)| proposal.clone())
        .collect();
    assert_eq!(winners.len(), 1, "one proposal hired: {winners:?}");
    let winner = winners.into_iter().next().unwrap();
    let contract = frevix_platform::ids::contract_id_for_proposal(winner.parse().unwrap());
    for (proposal, answer) in &answers {
        if *proposal == winner {
            let answer = answer
                .as_ref()
                .expect("every accept of the hire is answered as one");
            assert_eq!(answer.contract_id, contract.to_string());
            assert_eq!(
                answer.proposal.as_ref().unwrap().status,
                pb::ProposalStatus::Accepted as i32
            );
        } else {
            let refused = answer.as_ref().unwrap_err();
            assert_eq!(
                refused.code(),
                tonic::Code::FailedPrecondition,
                "{refused:?}"
            );
            assert_eq!(frevix_testkit::status::reason(refused), "JOB_NOT_OPEN");
        }
    }
    let hired = app
        .published_events("marketplace")
        .await
        .iter()
        .filter_map(|event| event.decode::<pb::ProposalAccepted>().ok())
        .count();
    assert_eq!(hired, 1);
}

on_both_backends!(
    racing_accepts_of_one_proposal_all_hire_and_another_proposal_is_refused,
    racing_create_gig_with_one_key_drafts_one_gig,
    racing_post_job_with_one_key_posts_one_job,
    racing_accept_proposal_with_one_key_hires_once,
);
