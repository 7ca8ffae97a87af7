//! The gRPC face of contracts: check who is calling, read or apply the
//! domain's rules, persist with the outbox events in one transaction,
//! answer.

mod acting;
mod added_milestones;
mod cancellation;
mod deadlines;
mod detail;
mod disputes;
mod hourly;
mod milestones;
mod orders;
mod reading;
mod reviews;

use std::sync::Arc;

use frevix_proto::contracts::v1::{self as pb, contract_service_server::ContractService};
use tonic::{Request, Response, Status};

use crate::Inner;
use crate::error::Result;

/// Implements `frevix.contracts.v1.ContractService`.
pub struct ContractsApi {
    inner: Arc<Inner>,
}

impl ContractsApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

type Answer<T> = std::result::Result<Response<T>, Status>;

fn answer<T>(result: Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl ContractService for ContractsApi {
    async fn get_contract(
        &self,
        request: Request<pb::GetContractRequest>,
    ) -> Answer<pb::GetContractResponse> {
        answer(reading::get(&self.inner, request).await)
    }

    async fn place_order(
        &self,
        request: Request<pb::PlaceOrderRequest>,
    ) -> Answer<pb::PlaceOrderResponse> {
        answer(orders::place(&self.inner, request).await)
    }

    async fn submit_requirements(
        &self,
        request: Request<pb::SubmitRequirementsRequest>,
    ) -> Answer<pb::SubmitRequirementsResponse> {
        answer(orders::submit_requirements(&self.inner, request).await)
    }

    async fn list_contracts(
        &self,
        request: Request<pb::ListContractsRequest>,
    ) -> Answer<pb::ListContractsResponse> {
        answer(reading::list(&self.inner, request).await)
    }

    async fn submit_delivery(
        &self,
        request: Request<pb::SubmitDeliveryRequest>,
    ) -> Answer<pb::SubmitDeliveryResponse> {
        answer(milestones::submit_delivery(&self.inner, request).await)
    }

    async fn request_revision(
        &self,
        request: Request<pb::RequestRevisionRequest>,
    ) -> Answer<pb::RequestRevisionResponse> {
        answer(milestones::request_revision(&self.inner, request).await)
    }

    async fn approve_milestone(
        &self,
        request: Request<pb::ApproveMilestoneRequest>,
    ) -> Answer<pb::ApproveMilestoneResponse> {
        answer(milestones::approve(&self.inner, request).await)
    }

    async fn request_cancellation(
        &self,
        request: Request<pb::RequestCancellationRequest>,
    ) -> Answer<pb::RequestCancellationResponse> {
        answer(cancellation::request(&self.inner, request).await)
    }

    async fn accept_cancellation(
        &self,
        request: Request<pb::AcceptCancellationRequest>,
    ) -> Answer<pb::AcceptCancellationResponse> {
        answer(cancellation::accept(&self.inner, request).await)
    }

    async fn decline_cancellation(
        &self,
        request: Request<pb::DeclineCancellationRequest>,
    ) -> Answer<pb::DeclineCancellationResponse> {
        answer(cancellation::decline(&self.inner, request).await)
    }

    async fn withdraw_cancellation(
        &self,
        request: Request<pb::WithdrawCancellationRequest>,
    ) -> Answer<pb::WithdrawCancellationResponse> {
        answer(cancellation::withdraw(&self.inner, request).await)
    }

    async fn end_contract(
        &self,
        request: Request<pb::EndContractRequest>,
    ) -> Answer<pb::EndContractResponse> {
        answer(cancellation::end(&self.inner, request).await)
    }

    async fn open_dispute(
        &self,
        request: Request<pb::OpenDisputeRequest>,
    ) -> Answer<pb::OpenDisputeResponse> {
        answer(disputes::open(&self.inner, request).await)
    }

    async fn add_dispute_statement(
        &self,
        request: Request<pb::AddDisputeStatementRequest>,
    ) -> Answer<pb::AddDisputeStatementResponse> {
        answer(disputes::add_statement(&self.inner, request).await)
    }

    async fn list_disputes(
        &self,
        request: Request<pb::ListDisputesRequest>,
    ) -> Answer<pb::ListDisputesResponse> {
        answer(disputes::list(&self.inner, request).await)
    }

    async fn resolve_dispute(
        &self,
        request: Request<pb::ResolveDisputeRequest>,
    ) -> Answer<pb::ResolveDisputeResponse> {
        answer(disputes::resolve(&self.inner, request).await)
    }

    async fn request_extension(
        &self,
        request: Request<pb::RequestExtensionRequest>,
    ) -> Answer<pb::RequestExtensionResponse> {
        answer(deadlines::request_extension(&self.inner, request).await)
    }

    async fn accept_extension(
        &self,
        request: Request<pb::AcceptExtensionRequest>,
    ) -> Answer<pb::AcceptExtensionResponse> {
        answer(deadlines::accept_extension(&self.inner, request).await)
    }

    async fn decline_extension(
        &self,
        request: Request<pb::DeclineExtensionRequest>,
    ) -> Answer<pb::DeclineExtensionResponse> {
        answer(deadlines::decline_extension(&self.inner, request).await)
    }

    async fn cancel_late_order(
        &self,
        request: Request<pb::CancelLateOrderRequest>,
    ) -> Answer<pb::CancelLateOrderResponse> {
        answer(deadlines::cancel_late(&self.inner, request).await)
    }

    async fn count_contracts(
        &self,
        request: Request<pb::CountContractsRequest>,
    ) -> Answer<pb::CountContractsResponse> {
        answer(reading::count(&self.inner, request).await)
    }

    async fn submit_review(
        &self,
        request: Request<pb::SubmitReviewRequest>,
    ) -> Answer<pb::SubmitReviewResponse> {
        answer(reviews::submit(&self.inner, request).await)
    }

    async fn reply_to_review(
        &self,
        request: Request<pb::ReplyToReviewRequest>,
    ) -> Answer<pb::ReplyToReviewResponse> {
        answer(reviews::reply(&self.inner, request).await)
    }

    async fn list_reviews(
        &self,
        request: Request<pb::ListReviewsRequest>,
    ) -> Answer<pb::ListReviewsResponse> {
        answer(reviews::list(&self.inner, request).await)
    }

    async fn log_time(&self, request: Request<pb::LogTimeRequest>) -> Answer<pb::LogTimeResponse> {
        answer(hourly::log_time(&self.inner, request).await)
    }

    async fn update_time_entry(
        &self,
        request: Request<pb::UpdateTimeEntryRequest>,
    ) -> Answer<pb::UpdateTimeEntryResponse> {
        answer(hourly::update_entry(&self.inner, request).await)
    }

    async fn delete_time_entry(
        &self,
        request: Request<pb::DeleteTimeEntryRequest>,
    ) -> Answer<pb::DeleteTimeEntryResponse> {
        answer(hourly::delete_entry(&self.inner, request).await)
    }

    async fn pause_contract(
        &self,
        request: Request<pb::PauseContractRequest>,
    ) -> Answer<pb::PauseContractResponse> {
        answer(hourly::pause(&self.inner, request).await)
    }

    async fn resume_contract(
        &self,
        request: Request<pb::ResumeContractRequest>,
    ) -> Answer<pb::ResumeContractResponse> {
        answer(hourly::resume(&self.inner, request).await)
    }

    async fn set_weekly_limit(
        &self,
        request: Request<pb::SetWeeklyLimitRequest>,
    ) -> Answer<pb::SetWeeklyLimitResponse> {
        answer(hourly::set_weekly_limit(&self.inner, request).await)
    }

    async fn approve_invoice(
        &self,
        request: Request<pb::ApproveInvoiceRequest>,
    ) -> Answer<pb::ApproveInvoiceResponse> {
        answer(hourly::approve_invoice(&self.inner, request).await)
    }

    async fn dispute_invoice(
        &self,
        request: Request<pb::DisputeInvoiceRequest>,
    ) -> Answer<pb::DisputeInvoiceResponse> {
        answer(hourly::dispute_invoice(&self.inner, request).await)
    }

    async fn adjust_invoice(
        &self,
        request: Request<pb::AdjustInvoiceRequest>,
    ) -> Answer<pb::AdjustInvoiceResponse> {
        answer(hourly::adjust_invoice(&self.inner, request).await)
    }

    async fn add_milestone(
        &self,
        request: Request<pb::AddMilestoneRequest>,
    ) -> Answer<pb::AddMilestoneResponse> {
        answer(added_milestones::add(&self.inner, request).await)
    }

    async fn accept_milestone(
        &self,
        request: Request<pb::AcceptMilestoneRequest>,
    ) -> Answer<pb::AcceptMilestoneResponse> {
        answer(added_milestones::accept(&self.inner, request).await)
    }

    async fn decline_milestone(
        &self,
        request: Request<pb::DeclineMilestoneRequest>,
    ) -> Answer<pb::DeclineMilestoneResponse> {
        answer(added_milestones::decline(&self.inner, request).await)
    }
}
