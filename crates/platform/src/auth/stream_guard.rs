//! Long streams are re-authorized, not just opened with a token: a guarded
//! stream ends with UNAUTHENTICATED (reason `TOKEN_EXPIRED`,
//! `SESSION_REVOKED` or `ACCOUNT_SUSPENDED`) when its token expires, unless
//! the client renews it on the stream ([`Renewal`]), and at once when the
//! deny list refuses its caller. The client reconnects with a fresh token
//! and its positions; nothing is lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::Status;

use super::claims::Principal;
use super::layer::Authenticator;
use super::verifier::AuthError;

/// A stream that ends when its caller is no longer authorized.
pub struct Guarded<S> {
    inner: S,
    end: Pin<Box<dyn Future<Output = Status> + Send>>,
    done: bool,
}

/// Renews a guarded stream's authorization with a fresh access token.
pub struct Renewal {
    auth: Arc<Authenticator>,
    principal: Principal,
    expiry: watch::Sender<DateTime<Utc>>,
}

/// Guards `inner`, opened by the caller of `request` (which the
/// authentication middleware has let through).
pub fn guard<T, S>(request: &tonic::Request<T>, inner: S) -> Result<(Guarded<S>, Renewal), Status> {
    let auth = request
        .extensions()
        .get::<Arc<Authenticator>>()
        .cloned()
        .ok_or_else(|| AuthError::Missing.into_status())?;
    let principal = super::principal(request)?;
    let (expiry, expiry_watch) = watch::channel(principal.expires_at);
    let end = Box::pin(until_unauthorized(
        auth.clone(),
        principal.clone(),
        expiry_watch,
    ));
    Ok((
        Guarded {
            inner,
            end,
            done: false,
        },
        Renewal {
            auth,
            principal,
            expiry,
        },
    ))
}

impl Renewal {
    /// Extends the stream to `token`'s expiry. The token must be valid, of
    /// the same account and session, and not denied.
    pub async fn renew(&self, token: &str) -> Result<DateTime<Utc>, AuthError> {
        let fresh = self.auth.verifier().verify(token).await?;
        if fresh.account_id != self.principal.account_id
            || fresh.session_id != self.principal.session_id
        {
            return Err(AuthError::Invalid);
        }
        if let Some(denial) = self.auth.deny_list().denial(&fresh, Utc::now()) {
            return Err(denial.into());
        }
        self.expiry.send_if_modified(|current| {
            let later = fresh.expires_at > *current;
            if later {
                *current = fresh.expires_at;
            }
            later
        });
        Ok(fresh.expires_at)
    }
}

/// Resolves with the status that ends the stream.
async fn until_unauthorized(
    auth: Arc<Authenticator>,
    principal: Principal,
    mut expiry: watch::Receiver<DateTime<Utc>>,
) -> Status {
    let deny = auth.deny_list();
    let mut changes = deny.changes();
    let mut renewable = true;
    loop {
        let now = Utc::now();
        if let Some(denial) = deny.denial(&principal, now) {
            return AuthError::from(denial).into_status();
        }
        let expires_at = *expiry.borrow_and_update();
        let Ok(left) = (expires_at - now).to_std() else {
            return AuthError::Expired.into_status();
        };
        if left.is_zero() {
            return AuthError::Expired.into_status();
        }
        tokio::select! {
            () = tokio::time::sleep(left) => {}
            _ = changes.changed() => {}
            renewed = expiry.changed(), if renewable => renewable = renewed.is_ok(),
        }
    }
}

impl<S, T> Stream for Guarded<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(status) = self.end.as_mut().poll(cx) {
            self.done = true;
            tracing::info!(reason = %status.message(), "stream ended: authorization lapsed");
            return Poll::Ready(Some(Err(status)));
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.done = true;
        }
        next
    }
}
