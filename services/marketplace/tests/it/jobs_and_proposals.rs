//! Jobs and proposals: one proposal per freelancer per job, milestones that
//! sum to the bid, who sees what, and hiring that emits ProposalAccepted once.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::jobs::{post, proposal, submit};
use crate::support::*;
use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;

async fn hiring_from_a_job_emits_proposal_accepted_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let alice = app.register().await;
    let bob = app.register().await;
    let job = post(&app, &client, pb::JobVisibility::Public).await;
    assert_eq!(job.status, pb::JobStatus::Open as i32);

    let mine = submit(&app, &alice, proposal(&job, &[100_000, 150_000]))
        .await
        .unwrap();
    let other = submit(&app, &bob, proposal(&job, &[280_000]))
        .await
        .unwrap();
    let twice = submit(&app, &alice, proposal(&job, &[10_000]))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists);
    assert_eq!(reason(&twice), "PROPOSAL_EXISTS");

    // Only the job's owner sees its proposals; a freelancer sees their own.
    let listed = app
        .marketplace
        .clone()
        .list_job_proposals(authed(
            &client.access_token,
            pb::ListJobProposalsRequest {
                job_id: job.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .proposals;
    assert_eq!(
        listed.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        [mine.id.clone(), other.id.clone()]
    );
    let snooping = app
        .marketplace
        .clone()
        .list_job_proposals(authed(
            &bob.access_token,
            pb::ListJobProposalsRequest {
                job_id: job.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(snooping.code(), Code::PermissionDenied);
    let hidden = app
        .marketplace
        .clone()
        .get_proposal(authed(
            &bob.access_token,
            pb::GetProposalRequest {
                proposal_id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);

    app.marketplace
        .clone()
        .shortlist_proposal(authed(
            &client.access_token,
            pb::ShortlistProposalRequest {
                proposal_id: mine.id.clone(),
            },
        ))
        .await
        .unwrap();
    let not_yours = app
        .marketplace
        .clone()
        .accept_proposal(authed(
            &alice.access_token,
            pb::AcceptProposalRequest {
                proposal_id: mine.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(not_yours.code(), Code::PermissionDenied);

    let accept = || {
        let mut request = authed(
            &client.access_token,
            pb::AcceptProposalRequest {
                proposal_id: mine.id.clone(),
            },
        );
        request
            .metadata_mut()
            .insert("idempotency-key", "hire-alice".parse().unwrap());
        request
    };
    let hired = app
        .marketplace
        .clone()
        .accept_proposal(accept())
        .await
        .unwrap()
        .into_inner();
    let retried = app
        .marketplace
        .clone()
        .accept_proposal(accept())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hired, retried);
    assert_eq!(
        hired.job.as_ref().unwrap().status,
        pb::JobStatus::Filled as i32
    );
    assert_eq!(
        hired.proposal.as_ref().unwrap().status,
        pb::ProposalStatus::Accepted as i32
    );

    let accepted = app
        .wait_for_event::<pb::ProposalAccepted>("marketplace", |e| e.proposal_id == mine.id)
        .await;
    assert_eq!(accepted.contract_id, hired.contract_id);
    assert_eq!(accepted.freelancer_id, alice.account_id);
    assert_eq!(accepted.client_id, client.account_id);
    assert_eq!(
        accepted
            .milestones
            .iter()
            .map(|m| m.amount.as_ref().unwrap().minor_units)
            .collect::<Vec<_>>(),
        [100_000, 150_000]
    );
    let all_accepted = app
        .published_events("marketplace")
        .await
        .into_iter()
        .filter(|e| e.is::<pb::ProposalAccepted>())
        .count();
    assert_eq!(all_accepted, 1, "ProposalAccepted once, retries or not");

    let too_late = app
        .marketplace
        .clone()
        .accept_proposal(authed(
            &client.access_token,
            pb::AcceptProposalRequest {
                proposal_id: other.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(too_late.code(), Code::FailedPrecondition);
    assert_eq!(reason(&too_late), "JOB_NOT_OPEN");
    let withdraw_late = app
        .marketplace
        .clone()
        .withdraw_proposal(authed(
            &bob.access_token,
            pb::WithdrawProposalRequest {
                proposal_id: other.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&withdraw_late), "JOB_NOT_OPEN");
}

async fn proposals_are_checked_and_editable_while_the_job_is_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let job = post(&app, &client, pb::JobVisibility::Public).await;

    let mut uneven = proposal(&job, &[100_000, 150_000]);
    uneven.bid = usd(300_000);
    let error = submit(&app, &freelancer, uneven).await.unwrap_err();
    assert_eq!(violated_fields(&error), ["proposal.milestones"]);
    let mut euros = proposal(&job, &[100_000]);
    euros.bid = Some(Money {
        currency_code: "EUR".into(),
        minor_units: 100_000,
    });
    euros.cover_letter = "too short".into();
    let error = submit(&app, &freelancer, euros).await.unwrap_err();
    assert_eq!(
        violated_fields(&error),
        ["proposal.cover_letter", "proposal.bid.currency_code"]
    );
    let own = submit(&app, &client, proposal(&job, &[100_000]))
        .await
        .unwrap_err();
    assert_eq!(reason(&own), "OWN_JOB");

    let submitted = submit(&app, &freelancer, proposal(&job, &[100_000]))
        .await
        .unwrap();
    let edited = app
        .marketplace
        .clone()
        .update_proposal(authed(
            &freelancer.access_token,
            pb::UpdateProposalRequest {
                proposal: Some(pb::Proposal {
                    id: submitted.id.clone(),
                    bid: usd(90_000),
                    milestones: vec![pb::ProposedMilestone {
                        title: "Everything".into(),
                        amount: usd(90_000),
                        due_in_days: 15,
                    }],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["bid".into(), "milestones".into()],
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .proposal
        .unwrap();
    assert_eq!(edited.bid.unwrap().minor_units, 90_000);
    assert_eq!(edited.cover_letter, submitted.cover_letter);

    let withdrawn = app
        .marketplace
        .clone()
        .withdraw_proposal(authed(
            &freelancer.access_token,
            pb::WithdrawProposalRequest {
                proposal_id: submitted.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .proposal
        .unwrap();
    assert_eq!(withdrawn.status, pb::ProposalStatus::Withdrawn as i32);
    let withdrawn_event = app
        .wait_for_event::<pb::ProposalWithdrawn>("marketplace", |e| e.proposal_id == submitted.id)
        .await;
    assert_eq!(withdrawn_event.client_id, client.account_id);

    let closed = app
        .marketplace
        .clone()
        .close_job(authed(
            &client.access_token,
            pb::CloseJobRequest {
                job_id: job.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(closed.status, pb::JobStatus::Closed as i32);
    let late = submit(&app, &app.register().await, proposal(&job, &[100_000]))
        .await
        .unwrap_err();
    assert_eq!(reason(&late), "JOB_NOT_OPEN");
}

async fn private_jobs_are_hidden_and_clients_only_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let stranger = app.register().await;
    let job = post(&app, &client, pb::JobVisibility::Private).await;
    let hidden = app
        .marketplace
        .clone()
        .get_job(pb::GetJobRequest {
            job_id: job.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let proposed = submit(&app, &stranger, proposal(&job, &[100_000]))
        .await
        .unwrap_err();
    assert_eq!(proposed.code(), Code::NotFound);
    let mine = app
        .marketplace
        .clone()
        .list_my_jobs(authed(
            &client.access_token,
            pb::ListMyJobsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .jobs;
    assert_eq!(mine.len(), 1);
    let posted = app
        .wait_for_event::<pb::JobPosted>("marketplace", |e| {
            e.job.as_ref().is_some_and(|j| j.id == job.id)
        })
        .await;
    assert_eq!(posted.job.unwrap().client_id, client.account_id);

    let admin = app.admin().await;
    let not_client = app
        .marketplace
        .clone()
        .post_job(authed(
            &admin.access_token,
            pb::PostJobRequest {
                job: Some(pb::Job::default()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&not_client), "CLIENT_ROLE_REQUIRED");
    let bad = app
        .marketplace
        .clone()
        .post_job(authed(
            &client.access_token,
            pb::PostJobRequest {
                job: Some(pb::Job {
                    title: "Short".into(),
                    skills: vec!["basket-weaving".into()],
                    budget: Some(pb::job::Budget::Hourly(pb::HourlyRange {
                        min: usd(5_000),
                        max: usd(1_000),
                    })),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        [
            "job.title",
            "job.description",
            "job.category_id",
            "job.hourly.max",
            "job.expected_duration"
        ]
    );
}

on_both_backends!(
    hiring_from_a_job_emits_proposal_accepted_once,
    proposals_are_checked_and_editable_while_the_job_is_open,
    private_jobs_are_hidden_and_clients_only_post,
);

mod editing {
    //! Owners edit open jobs with a field mask.

    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    async fn an_open_job_is_edited_by_its_owner_only(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let client = app.register().await;
        let stranger = app.register().await;
        let job = post(&app, &client, pb::JobVisibility::Public).await;
        let update = |token: &str, paths: &[&str], changes: pb::Job| {
            authed(
                token,
                pb::UpdateJobRequest {
                    job: Some(pb::Job {
                        id: job.id.clone(),
                        ..changes
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                    }),
                },
            )
        };
        let edited = app
            .marketplace
            .clone()
            .update_job(update(
                &client.access_token,
                &["title", "budget"],
                pb::Job {
                    title: "Build our booking API in Rust, with payments".into(),
                    budget: Some(pb::job::Budget::Hourly(pb::HourlyRange {
                        min: usd(5_000),
                        max: usd(9_000),
                    })),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .job
            .unwrap();
        assert_eq!(edited.title, "Build our booking API in Rust, with payments");
        assert!(matches!(edited.budget, Some(pb::job::Budget::Hourly(_))));
        assert_eq!(edited.description, job.description, "fields not named stay");
        let event = app
            .wait_for_event::<pb::JobUpdated>("marketplace", |e| {
                e.job.as_ref().is_some_and(|j| j.id == job.id)
            })
            .await;
        assert_eq!(event.job.unwrap().title, edited.title);

        let denied = app
            .marketplace
            .clone()
            .update_job(update(
                &stranger.access_token,
                &["title"],
                pb::Job::default(),
            ))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let bad = app
            .marketplace
            .clone()
            .update_job(update(
                &client.access_token,
                &["title", "status"],
                pb::Job {
                    title: "x".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&bad), ["update_mask.paths", "job.title"]);

        app.marketplace
            .clone()
            .close_job(authed(
                &client.access_token,
                pb::CloseJobRequest {
                    job_id: job.id.clone(),
                },
            ))
            .await
            .unwrap();
        let closed = app
            .marketplace
            .clone()
            .update_job(update(
                &client.access_token,
                &["title"],
                pb::Job {
                    title: "A title that is long enough".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(reason(&closed), "JOB_NOT_OPEN");
    }

    on_both_backends!(an_open_job_is_edited_by_its_owner_only);
}
