//! The gRPC face of marketplace: parse the request (bad input names every
//! bad field), check who is calling, apply the domain rules, persist with the
//! outbox events in one transaction, answer.

mod accept;
mod catalog;
pub(crate) mod category_tree;
mod gigs;
mod jobs;
mod profiles;
mod proposals;
mod search;

use std::sync::Arc;

use frevix_platform::auth::{Principal, Role};
use frevix_proto::marketplace::v1::{self as pb, marketplace_service_server::MarketplaceService};
use tonic::{Request, Response, Status};

use crate::Inner;
use crate::error::Result;

/// Implements `frevix.marketplace.v1.MarketplaceService`.
pub struct MarketplaceApi {
    inner: Arc<Inner>,
}

impl MarketplaceApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

type Answer<T> = std::result::Result<Response<T>, Status>;

fn answer<T>(result: Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

/// The caller, who must hold `role`.
fn caller_with<T>(request: &Request<T>, role: Role) -> Result<Principal> {
    Ok(frevix_platform::request::caller_with(request, role)?)
}

#[tonic::async_trait]
impl MarketplaceService for MarketplaceApi {
    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Answer<pb::ListCategoriesResponse> {
        answer(catalog::list_categories(&self.inner, request).await)
    }

    async fn create_category(
        &self,
        request: Request<pb::CreateCategoryRequest>,
    ) -> Answer<pb::CreateCategoryResponse> {
        answer(catalog::create_category(&self.inner, request).await)
    }

    async fn search_skills(
        &self,
        request: Request<pb::SearchSkillsRequest>,
    ) -> Answer<pb::SearchSkillsResponse> {
        answer(catalog::search_skills(&self.inner, request).await)
    }

    async fn get_freelancer_profile(
        &self,
        request: Request<pb::GetFreelancerProfileRequest>,
    ) -> Answer<pb::GetFreelancerProfileResponse> {
        answer(profiles::get_freelancer(&self.inner, request).await)
    }

    async fn update_freelancer_profile(
        &self,
        request: Request<pb::UpdateFreelancerProfileRequest>,
    ) -> Answer<pb::UpdateFreelancerProfileResponse> {
        answer(profiles::update_freelancer(&self.inner, request).await)
    }

    async fn get_client_profile(
        &self,
        request: Request<pb::GetClientProfileRequest>,
    ) -> Answer<pb::GetClientProfileResponse> {
        answer(profiles::get_client(&self.inner, request).await)
    }

    async fn update_client_profile(
        &self,
        request: Request<pb::UpdateClientProfileRequest>,
    ) -> Answer<pb::UpdateClientProfileResponse> {
        answer(profiles::update_client(&self.inner, request).await)
    }

    async fn create_gig(
        &self,
        request: Request<pb::CreateGigRequest>,
    ) -> Answer<pb::CreateGigResponse> {
        answer(gigs::create_gig(&self.inner, request).await)
    }

    async fn update_gig(
        &self,
        request: Request<pb::UpdateGigRequest>,
    ) -> Answer<pb::UpdateGigResponse> {
        answer(gigs::update_gig(&self.inner, request).await)
    }

    async fn get_gig(&self, request: Request<pb::GetGigRequest>) -> Answer<pb::GetGigResponse> {
        answer(gigs::get_gig(&self.inner, request).await)
    }

    async fn list_my_gigs(
        &self,
        request: Request<pb::ListMyGigsRequest>,
    ) -> Answer<pb::ListMyGigsResponse> {
        answer(gigs::list_my_gigs(&self.inner, request).await)
    }

    async fn publish_gig(
        &self,
        request: Request<pb::PublishGigRequest>,
    ) -> Answer<pb::PublishGigResponse> {
        let id = request.get_ref().gig_id.clone();
        answer(
            gigs::change_status(
                &self.inner,
                &request,
                &id,
                crate::domain::gig::GigAction::Publish,
            )
            .await
            .map(|gig| pb::PublishGigResponse { gig: Some(gig) }),
        )
    }

    async fn pause_gig(
        &self,
        request: Request<pb::PauseGigRequest>,
    ) -> Answer<pb::PauseGigResponse> {
        let id = request.get_ref().gig_id.clone();
        answer(
            gigs::change_status(
                &self.inner,
                &request,
                &id,
                crate::domain::gig::GigAction::Pause,
            )
            .await
            .map(|gig| pb::PauseGigResponse { gig: Some(gig) }),
        )
    }

    async fn archive_gig(
        &self,
        request: Request<pb::ArchiveGigRequest>,
    ) -> Answer<pb::ArchiveGigResponse> {
        let id = request.get_ref().gig_id.clone();
        answer(
            gigs::change_status(
                &self.inner,
                &request,
                &id,
                crate::domain::gig::GigAction::Archive,
            )
            .await
            .map(|gig| pb::ArchiveGigResponse { gig: Some(gig) }),
        )
    }

    async fn post_job(&self, request: Request<pb::PostJobRequest>) -> Answer<pb::PostJobResponse> {
        answer(jobs::post_job(&self.inner, request).await)
    }

    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Answer<pb::GetJobResponse> {
        answer(jobs::get_job(&self.inner, request).await)
    }

    async fn list_my_jobs(
        &self,
        request: Request<pb::ListMyJobsRequest>,
    ) -> Answer<pb::ListMyJobsResponse> {
        answer(jobs::list_my_jobs(&self.inner, request).await)
    }

    async fn close_job(
        &self,
        request: Request<pb::CloseJobRequest>,
    ) -> Answer<pb::CloseJobResponse> {
        answer(jobs::close_job(&self.inner, request).await)
    }

    async fn submit_proposal(
        &self,
        request: Request<pb::SubmitProposalRequest>,
    ) -> Answer<pb::SubmitProposalResponse> {
        answer(proposals::submit(&self.inner, request).await)
    }

    async fn update_proposal(
        &self,
        request: Request<pb::UpdateProposalRequest>,
    ) -> Answer<pb::UpdateProposalResponse> {
        answer(proposals::update(&self.inner, request).await)
    }

    async fn withdraw_proposal(
        &self,
        request: Request<pb::WithdrawProposalRequest>,
    ) -> Answer<pb::WithdrawProposalResponse> {
        answer(proposals::withdraw(&self.inner, request).await)
    }

    async fn get_proposal(
        &self,
        request: Request<pb::GetProposalRequest>,
    ) -> Answer<pb::GetProposalResponse> {
        answer(proposals::get(&self.inner, request).await)
    }

    async fn list_job_proposals(
        &self,
        request: Request<pb::ListJobProposalsRequest>,
    ) -> Answer<pb::ListJobProposalsResponse> {
        answer(proposals::list_for_job(&self.inner, request).await)
    }

    async fn list_my_proposals(
        &self,
        request: Request<pb::ListMyProposalsRequest>,
    ) -> Answer<pb::ListMyProposalsResponse> {
        answer(proposals::list_mine(&self.inner, request).await)
    }

    async fn shortlist_proposal(
        &self,
        request: Request<pb::ShortlistProposalRequest>,
    ) -> Answer<pb::ShortlistProposalResponse> {
        answer(proposals::shortlist(&self.inner, request).await)
    }

    async fn decline_proposal(
        &self,
        request: Request<pb::DeclineProposalRequest>,
    ) -> Answer<pb::DeclineProposalResponse> {
        answer(proposals::decline(&self.inner, request).await)
    }

    async fn accept_proposal(
        &self,
        request: Request<pb::AcceptProposalRequest>,
    ) -> Answer<pb::AcceptProposalResponse> {
        answer(accept::accept(&self.inner, request).await)
    }

    async fn search_gigs(
        &self,
        request: Request<pb::SearchGigsRequest>,
    ) -> Answer<pb::SearchGigsResponse> {
        answer(search::search_gigs(&self.inner, request).await)
    }

    async fn search_freelancers(
        &self,
        request: Request<pb::SearchFreelancersRequest>,
    ) -> Answer<pb::SearchFreelancersResponse> {
        answer(search::search_freelancers(&self.inner, request).await)
    }

    async fn search_jobs(
        &self,
        request: Request<pb::SearchJobsRequest>,
    ) -> Answer<pb::SearchJobsResponse> {
        answer(search::search_jobs(&self.inner, request).await)
    }

    async fn update_job(
        &self,
        request: Request<pb::UpdateJobRequest>,
    ) -> Answer<pb::UpdateJobResponse> {
        answer(jobs::update_job(&self.inner, request).await)
    }
}
