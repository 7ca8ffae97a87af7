//! The security log (ListSecurityEvents) and the alerts mailed to the
//! account's owner: a sign-in from a new device, every password or
//! two-factor change, a recovery code used.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::FieldViolations;
use frevix_platform::ids::AccountId;
use frevix_platform::mail::Mail;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::server::{client_address, user_agent};
use frevix_proto::identity::v1 as pb;
use sea_orm::ConnectionTrait;
use tonic::Request;
use uuid::Uuid;

use super::convert::timestamp;
use crate::Inner;
use crate::domain::ids::SecurityEventId;
use crate::error::Result;
use crate::store::accounts::AccountRow;
use crate::store::security_events::{self as log, Origin, SecurityEventRow};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// What happened, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    PasswordChanged,
    PasswordReset,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    SessionEnded,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::SignIn,
        Kind::PasswordChanged,
        Kind::PasswordReset,
        Kind::TwoFactorEnabled,
        Kind::TwoFactorDisabled,
        Kind::RecoveryCodeUsed,
        Kind::RecoveryCodesRegenerated,
        Kind::SessionEnded,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Kind::SignIn => "SIGN_IN",
            Kind::PasswordChanged => "PASSWORD_CHANGED",
            Kind::PasswordReset => "PASSWORD_RESET",
            Kind::TwoFactorEnabled => "TWO_FACTOR_ENABLED",
            Kind::TwoFactorDisabled => "TWO_FACTOR_DISABLED",
            Kind::RecoveryCodeUsed => "RECOVERY_CODE_USED",
            Kind::RecoveryCodesRegenerated => "RECOVERY_CODES_REGENERATED",
            Kind::SessionEnded => "SESSION_ENDED",
        }
    }

    fn to_proto(self) -> pb::SecurityEventKind {
        match self {
            Kind::SignIn => pb::SecurityEventKind::SignIn,
            Kind::PasswordChanged => pb::SecurityEventKind::PasswordChanged,
            Kind::PasswordReset => pb::SecurityEventKind::PasswordReset,
            Kind::TwoFactorEnabled => pb::SecurityEventKind::TwoFactorEnabled,
            Kind::TwoFactorDisabled => pb::SecurityEventKind::TwoFactorDisabled,
            Kind::RecoveryCodeUsed => pb::SecurityEventKind::RecoveryCodeUsed,
            Kind::RecoveryCodesRegenerated => pb::SecurityEventKind::RecoveryCodesRegenerated,
            Kind::SessionEnded => pb::SecurityEventKind::SessionEnded,
        }
    }

    fn parse(text: &str) -> pb::SecurityEventKind {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .map_or(pb::SecurityEventKind::Unspecified, Kind::to_proto)
    }
}

/// Where a request came from, for the log.
pub fn origin<T>(request: &Request<T>, trust_forwarded_for: bool, device_name: &str) -> Origin {
    Origin {
        ip_address: client_address(request, trust_forwarded_for),
        user_agent: user_agent(request),
        device_name: device_name.to_owned(),
    }
}

impl Inner {
    /// Adds an event to the account's security log (in the caller's transaction).
    pub async fn record(
        &self,
        db: &impl ConnectionTrait,
        account: AccountId,
        kind: Kind,
        origin: &Origin,
        new_device: bool,
        detail: &str,
    ) -> Result<()> {
        log::insert_event(
            db,
            account,
            kind.as_str(),
            origin,
            new_device,
            detail,
            Utc::now(),
        )
        .await?;
        Ok(())
    }

    /// Mails the account's owner about a change to their account's
    /// security, after it is committed.
    pub async fn alert(
        &self,
        txn: &Txn,
        account: &AccountRow,
        what: &str,
        origin: &Origin,
    ) -> Result<()> {
        let mail = Mail {
            to: account.email.clone(),
            subject: format!("Frevix security: {what}"),
            text: format!(
                "Hello {name},\\n\\n{what} on your Frevix account, {time} (UTC), from {ip}{device}.\\n\\n\\
                 If this was you, there is nothing to do. If not, reset your password now and\\n\\
                 review your sessions and security log in your account settings.\\n",
                name = account.display_name,
                time = Utc::now().format("%Y-%m-%d %H:%M"),
                ip = if origin.ip_address.is_empty() {
                    "an unknown address"
                } else {
                    &origin.ip_address
                },
                device = if origin.device_name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", origin.device_name)
                },
            ),
        };
        self.mail.queue(txn, &mail).await?;
        Ok(())
    }
}

fn event(row: &SecurityEventRow) -> pb::SecurityEvent {
    pb::SecurityEvent {
        id: row.id.to_string(),
        kind: Kind::parse(&row.kind) as i32,
        create_time: Some(timestamp(row.created_at)),
        ip_address: row.ip_address.clone(),
        user_agent: row.user_agent.clone(),
        device_name: row.device_name.clone(),
        new_device: row.new_device,
        detail: row.detail.clone(),
    }
}

pub async fn list_security_events(
    inner: &Inner,
    request: Request<pb::ListSecurityEventsRequest>,
) -> Result<pb::ListSecurityEventsResponse> {
    let (principal, _) = inner.live_caller(&request).await?;
    let mut violations = FieldViolations::new();
    let filters = fingerprint(&principal.account_id.0);
    let page = parse_page::<Uuid>(
        request.get_ref().page.as_ref(),
        LIMITS,
        &filters,
        &mut violations,
    );
    violations.finish(())?;
    let rows = log::list_events(
        &inner.db,
        principal.account_id,
        page.after.map(SecurityEventId),
        page.size + 1,
    )
    .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::ListSecurityEventsResponse {
        events: rows.iter().map(event).collect(),
        page: Some(page),
    })
}
