//! SavePaymentMethod and GetPaymentMethod: the card a client's hourly
//! weeks are charged to.

use frevix_platform::auth::Role;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller_with;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use crate::Inner;
use crate::convert::timestamp;
use crate::error::Result;
use crate::hourly;
use crate::provider::{NewMethod, ProviderError};
use crate::store::methods::{self, MethodRow};

const MAX_PAYMENT_METHOD: usize = 255;

fn saved(row: &MethodRow) -> pb::SavedPaymentMethod {
    pb::SavedPaymentMethod {
        brand: row.brand.clone(),
        last4: row.last4.clone(),
        saved_at: Some(timestamp(row.saved_at)),
    }
}

pub async fn save(
    inner: &Inner,
    request: Request<pb::SavePaymentMethodRequest>,
) -> Result<pb::SavePaymentMethodResponse> {
    let caller = caller_with(&request, Role::Client)?;
    let client = caller.account_id.0;
    let payment_method = request.get_ref().payment_method.trim();
    let mut violations = FieldViolations::new();
    violations.check(
        !payment_method.is_empty() && payment_method.len() <= MAX_PAYMENT_METHOD,
        "payment_method",
        "must name the provider's payment method, at most 255 characters",
    );
    violations.finish(())?;
    let method = match inner
        .provider
        .save_payment_method(&NewMethod {
            idempotency_key: format!("customer:{client}"),
            owner: client,
            payment_method: payment_method.to_owned(),
        })
        .await
    {
        Ok(method) => method,
        Err(ProviderError::Invalid(message)) => {
            return Err(ApiError::from(FieldViolations::single("payment_method", message)).into());
        }
        Err(other) => return Err(other.into()),
    };
    let row = MethodRow {
        client_id: client,
        customer_id: method.customer,
        payment_method: method.payment_method,
        brand: method.brand,
        last4: method.last4,
        saved_at: inner.clock.now(),
    };
    let txn = Txn::begin(&inner.db).await?;
    methods::save(&txn, row.clone()).await?;
    hourly::charge_unpaid(inner, &txn, client).await?;
    txn.commit().await?;
    Ok(pb::SavePaymentMethodResponse {
        payment_method: Some(saved(&row)),
    })
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetPaymentMethodRequest>,
) -> Result<pb::GetPaymentMethodResponse> {
    let caller = caller_with(&request, Role::Client)?;
    let row = methods::find(&inner.db, caller.account_id.0)
        .await?
        .ok_or(ApiError::NotFound("payment method"))?;
    Ok(pb::GetPaymentMethodResponse {
        payment_method: Some(saved(&row)),
    })
}
