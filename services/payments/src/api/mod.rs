//! The gRPC face of payments: check who is calling, read the terms and the
//! ledger, ask the provider, answer.

mod balance;
mod disputes;
mod funding;
mod history;
mod methods;
mod parties;
mod payout_accounts;
mod receipts;
mod reconciling;

use std::sync::Arc;

use frevix_proto::payments::v1::{self as pb, payment_service_server::PaymentService};
use tonic::{Request, Response, Status};

use crate::Inner;
use crate::error::Result;

/// Implements `frevix.payments.v1.PaymentService`.
pub struct PaymentsApi {
    inner: Arc<Inner>,
}

impl PaymentsApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

type Answer<T> = std::result::Result<Response<T>, Status>;

fn answer<T>(result: Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl PaymentService for PaymentsApi {
    async fn fund_milestone(
        &self,
        request: Request<pb::FundMilestoneRequest>,
    ) -> Answer<pb::FundMilestoneResponse> {
        answer(funding::fund(&self.inner, request).await)
    }

    async fn get_funding(
        &self,
        request: Request<pb::GetFundingRequest>,
    ) -> Answer<pb::GetFundingResponse> {
        answer(funding::get(&self.inner, request).await)
    }

    async fn get_balance(
        &self,
        request: Request<pb::GetBalanceRequest>,
    ) -> Answer<pb::GetBalanceResponse> {
        answer(balance::get(&self.inner, request).await)
    }

    async fn list_transactions(
        &self,
        request: Request<pb::ListTransactionsRequest>,
    ) -> Answer<pb::ListTransactionsResponse> {
        answer(history::list(&self.inner, request).await)
    }

    async fn create_payout_account(
        &self,
        request: Request<pb::CreatePayoutAccountRequest>,
    ) -> Answer<pb::CreatePayoutAccountResponse> {
        answer(payout_accounts::create(&self.inner, request).await)
    }

    async fn get_payout_onboarding_link(
        &self,
        request: Request<pb::GetPayoutOnboardingLinkRequest>,
    ) -> Answer<pb::GetPayoutOnboardingLinkResponse> {
        answer(payout_accounts::onboarding_link(&self.inner, request).await)
    }

    async fn get_payout_account(
        &self,
        request: Request<pb::GetPayoutAccountRequest>,
    ) -> Answer<pb::GetPayoutAccountResponse> {
        answer(payout_accounts::get(&self.inner, request).await)
    }

    async fn save_payment_method(
        &self,
        request: Request<pb::SavePaymentMethodRequest>,
    ) -> Answer<pb::SavePaymentMethodResponse> {
        answer(methods::save(&self.inner, request).await)
    }

    async fn get_payment_method(
        &self,
        request: Request<pb::GetPaymentMethodRequest>,
    ) -> Answer<pb::GetPaymentMethodResponse> {
        answer(methods::get(&self.inner, request).await)
    }

    async fn get_receipt(
        &self,
        request: Request<pb::GetReceiptRequest>,
    ) -> Answer<pb::GetReceiptResponse> {
        answer(receipts::get(&self.inner, request).await)
    }

    async fn download_receipt(
        &self,
        request: Request<pb::DownloadReceiptRequest>,
    ) -> Answer<pb::DownloadReceiptResponse> {
        answer(receipts::download(&self.inner, request).await)
    }

    async fn reconcile_ledger(
        &self,
        request: Request<pb::ReconcileLedgerRequest>,
    ) -> Answer<pb::ReconcileLedgerResponse> {
        answer(reconciling::reconcile_ledger(&self.inner, request).await)
    }

    async fn list_chargebacks(
        &self,
        request: Request<pb::ListChargebacksRequest>,
    ) -> Answer<pb::ListChargebacksResponse> {
        answer(disputes::list(&self.inner, request).await)
    }
}
