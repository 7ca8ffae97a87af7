//! One API call as Stripe serves it: the secret key checked, the
//! `Stripe-Account` header naming a connected account that exists, the
//! `Idempotency-Key` honoured (the same key and parameters answer the
//! first answer again; the same key with other parameters is an
//! `idempotency_error`), injected failures, the change made under one lock,
//! its events queued for the webhooks, and the body checked against
//! async-stripe's types.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use rand::Rng;
use serde_json::Value;

use crate::check::{Shape, answer};
use crate::form::{ApiError, Form};
use crate::objects::{Book, Kept};
use crate::{Event, StandIn};

/// What a handler gets: the parameters and who calls.
pub struct Call {
    pub form: Form,
    /// The connected account the call acts for (`Stripe-Account`).
    pub account: Option<String>,
    /// The stand-in's own address, for URLs in answers.
    pub base: String,
}

/// What a change leaves: its events, in order.
#[derive(Default)]
pub struct Events(pub Vec<Event>);

impl Events {
    pub fn push(&mut self, kind: &'static str, object: Value) {
        self.0.push(Event {
            kind,
            object,
            account: None,
        });
    }

    pub fn push_for(&mut self, account: &str, kind: &'static str, object: Value) {
        self.0.push(Event {
            kind,
            object,
            account: Some(account.to_owned()),
        });
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn authorized(headers: &HeaderMap) -> bool {
    header(headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.starts_with("sk_") || key.starts_with("rk_"))
}

impl StandIn {
    /// Serves one call; `change` runs under the book's lock.
    pub(crate) async fn call(
        &self,
        headers: &HeaderMap,
        method: Method,
        path: &str,
        form: Form,
        shape: Shape,
        change: impl FnOnce(&mut Book, &Call, &mut Events) -> Result<Value, ApiError>,
    ) -> Response {
        if !authorized(headers) {
            return error_answer(&ApiError::unauthorized());
        }
        let faults = self.faults();
        if faults.fail_rate > 0.0 && rand::thread_rng().gen_bool(faults.fail_rate) {
            return error_answer(&ApiError::unavailable());
        }
        let account = header(headers, "stripe-account").map(str::to_owned);
        let key = (method == Method::POST)
            .then(|| header(headers, "idempotency-key"))
            .flatten()
            .map(str::to_owned);
        let fingerprint = format!("{method} {path}?{}", form.fingerprint());
        let call = Call {
            form,
            account: account.clone(),
            base: self.base().to_owned(),
        };
        let mut events = Events::default();
        let (status, body) = {
            let mut book = self.lock();
            if let Some(acct) = &account
                && !book.accounts.contains_key(acct)
            {
                let error = ApiError {
                    status: StatusCode::FORBIDDEN,
                    ..ApiError::state(
                        "account_invalid",
                        format!(
                            "The provided key does not have access to account '{acct}' (or that account does not exist)."
                        ),
                    )
                };
                return error_answer(&error);
            }
            let scope = (
                account.clone().unwrap_or_default(),
                key.clone().unwrap_or_default(),
            );
            if let Some(kept) = key.as_ref().and_then(|_| book.kept.get(&scope)) {
                if kept.fingerprint != fingerprint {
                    return error_answer(&ApiError::idempotency(&scope.1));
                }
                let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
                let shape = if status.is_success() {
                    shape
                } else {
                    Shape::Error
                };
                return answer(status, shape, &kept.body);
            }
            let (status, body) = match change(&mut book, &call, &mut events) {
                Ok(body) => (StatusCode::OK, body),
                Err(error) => (error.status, error.body()),
            };
            if key.is_some() && !status.is_server_error() {
                book.kept.insert(
                    scope,
                    Kept {
                        fingerprint,
                        status: status.as_u16(),
                        body: body.clone(),
                    },
                );
            }
            (status, body)
        };
        for event in events.0 {
            self.queue(event);
        }
        if status.is_success()
            && faults.lose_rate > 0.0
            && rand::thread_rng().gen_bool(faults.lose_rate)
        {
            // Done, but the answer is lost on the way: only a retry with
            // the same key tells the caller what happened.
            return error_answer(&ApiError::unavailable());
        }
        if faults.stall_rate > 0.0 && rand::thread_rng().gen_bool(faults.stall_rate) {
            // Done, but answered after the caller has given up waiting.
            tokio::time::sleep(faults.stall).await;
        }
        let shape = if status.is_success() {
            shape
        } else {
            Shape::Error
        };
        answer(status, shape, &body)
    }
}

/// An error as Stripe answers it, its body checked too.
pub fn error_answer(error: &ApiError) -> Response {
    answer(error.status, Shape::Error, &error.body())
}
