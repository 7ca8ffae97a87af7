//! NotificationService: the caller's notifications and which channels each
//! kind uses.

use frevix_platform::error::FieldViolations;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::caller;
use crate::Inner;
use crate::error::Result;
use crate::notify::{self, KINDS};
use crate::store::{self, notes::PreferenceRow};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListNotificationsRequest>,
) -> Result<pb::ListNotificationsResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let filters = fingerprint(&(me, req.unread_only));
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let rows =
        store::notes::list(&inner.db, me, req.unread_only, page.after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::ListNotificationsResponse {
        notifications: rows.iter().map(notify::message).collect(),
        page: Some(page),
        unread_count: i64::try_from(store::notes::unread_count(&inner.db, me).await?)
            .unwrap_or(i64::MAX),
    })
}

pub async fn mark_read(
    inner: &Inner,
    request: Request<pb::MarkNotificationsReadRequest>,
) -> Result<pb::MarkNotificationsReadResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    if req.all != req.notification_ids.is_empty() {
        violations.add(
            "notification_ids",
            "list 1 to 500 notifications, or set `all` instead",
        );
    }
    if req.notification_ids.len() > 500 {
        violations.add("notification_ids", "at most 500 at a time");
    }
    let mut ids = Vec::new();
    for (i, id) in req.notification_ids.iter().enumerate() {
        if let Some(id) =
            frevix_platform::ids::parse_uuid(&format!("notification_ids[{i}]"), id, &mut violations)
        {
            ids.push(id);
        }
    }
    violations.finish(())?;
    store::notes::mark_read(&inner.db, me, (!req.all).then_some(ids)).await?;
    Ok(pb::MarkNotificationsReadResponse {
        unread_count: i64::try_from(store::notes::unread_count(&inner.db, me).await?)
            .unwrap_or(i64::MAX),
    })
}

async fn all_preferences(inner: &Inner, me: Uuid) -> Result<Vec<pb::NotificationPreference>> {
    let mut preferences = Vec::with_capacity(KINDS.len());
    for kind in KINDS {
        let (in_app, email) = notify::channels(&inner.db, me, *kind).await?;
        preferences.push(pb::NotificationPreference {
            kind: *kind as i32,
            in_app,
            email,
        });
    }
    Ok(preferences)
}

pub async fn get_preferences(
    inner: &Inner,
    request: Request<pb::GetNotificationPreferencesRequest>,
) -> Result<pb::GetNotificationPreferencesResponse> {
    let me = caller(&request)?;
    Ok(pb::GetNotificationPreferencesResponse {
        preferences: all_preferences(inner, me).await?,
    })
}

pub async fn update_preferences(
    inner: &Inner,
    request: Request<pb::UpdateNotificationPreferencesRequest>,
) -> Result<pb::UpdateNotificationPreferencesResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    if req.preferences.is_empty() {
        violations.add("preferences", "list at least one kind");
    }
    // One entry per kind at most: a longer list is refused unread.
    let listed = if violations.check_len("preferences", req.preferences.len(), KINDS.len()) {
        req.preferences.as_slice()
    } else {
        &[]
    };
    let mut rows = Vec::new();
    for (i, preference) in listed.iter().enumerate() {
        match pb::NotificationKind::try_from(preference.kind) {
            Ok(kind) if KINDS.contains(&kind) => rows.push(PreferenceRow {
                account_id: me,
                kind: kind.as_str_name().to_owned(),
                in_app: preference.in_app,
                email: preference.email,
            }),
            _ => violations.add(
                format!("preferences[{i}].kind"),
                "must be a notification kind",
            ),
        }
    }
    violations.finish(())?;
    for row in rows {
        store::notes::set_preference(&inner.db, row).await?;
    }
    Ok(pb::UpdateNotificationPreferencesResponse {
        preferences: all_preferences(inner, me).await?,
    })
}
