//! The gRPC face of messaging. Every call needs a token, and a conversation
//! exists only for its members: anyone else gets NOT_FOUND.

mod admission;
mod blocking;
mod chat;
mod conversations;
mod edits;
mod feed_sink;
mod groups;
mod live;
mod media;
mod messages;
mod notifications;
mod search;
mod subscribe;

use std::sync::Arc;

use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1::{
    self as pb, media_service_server::MediaService, messaging_service_server::MessagingService,
    notification_service_server::NotificationService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::Inner;
use crate::domain::ConversationId;
use crate::error::Result;
use crate::store::{self, ConversationRow, MemberRow};

pub struct MessagingApi {
    inner: Arc<Inner>,
}

impl MessagingApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

/// The media service's face.
pub struct MediaApi {
    inner: Arc<Inner>,
}

impl MediaApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

#[tonic::async_trait]
impl MediaService for MediaApi {
    async fn upload(
        &self,
        request: Request<tonic::Streaming<pb::UploadRequest>>,
    ) -> Answer<pb::UploadResponse> {
        answer(media::upload(&self.inner, request).await)
    }

    type DownloadStream = media::DownloadStream;

    async fn download(
        &self,
        request: Request<pb::DownloadRequest>,
    ) -> Answer<Self::DownloadStream> {
        answer(media::download(self.inner.clone(), request).await)
    }

    async fn get_media(
        &self,
        request: Request<pb::GetMediaRequest>,
    ) -> Answer<pb::GetMediaResponse> {
        answer(media::get(&self.inner, request).await)
    }
}

/// The notification service's face.
pub struct NotificationApi {
    inner: Arc<Inner>,
}

impl NotificationApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Answer<pb::ListNotificationsResponse> {
        answer(notifications::list(&self.inner, request).await)
    }

    async fn mark_notifications_read(
        &self,
        request: Request<pb::MarkNotificationsReadRequest>,
    ) -> Answer<pb::MarkNotificationsReadResponse> {
        answer(notifications::mark_read(&self.inner, request).await)
    }

    async fn get_notification_preferences(
        &self,
        request: Request<pb::GetNotificationPreferencesRequest>,
    ) -> Answer<pb::GetNotificationPreferencesResponse> {
        answer(notifications::get_preferences(&self.inner, request).await)
    }

    async fn update_notification_preferences(
        &self,
        request: Request<pb::UpdateNotificationPreferencesRequest>,
    ) -> Answer<pb::UpdateNotificationPreferencesResponse> {
        answer(notifications::update_preferences(&self.inner, request).await)
    }
}

type Answer<T> = std::result::Result<Response<T>, Status>;

fn answer<T>(result: Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

/// The caller's account id.
fn caller<T>(request: &Request<T>) -> Result<Uuid> {
    Ok(frevix_platform::request::caller(request)?.account_id.0)
}

/// The id in request field `field`, as its type (a `ConversationId`, a
/// `MediaId`, or an account's `Uuid`).
fn parse_id<I: From<Uuid>>(field: &str, text: &str) -> Result<I> {
    Ok(frevix_platform::request::parse_id(field, text)?)
}

/// The ids two fields name, or one answer listing each that is bad.
fn parse_two<A: From<Uuid>, B: From<Uuid>>(
    (first_field, first): (&str, &str),
    (second_field, second): (&str, &str),
) -> Result<(A, B)> {
    let mut violations = FieldViolations::new();
    let first = frevix_platform::ids::parse_uuid(first_field, first, &mut violations);
    let second = frevix_platform::ids::parse_uuid(second_field, second, &mut violations);
    match violations.finish((first, second))? {
        (Some(first), Some(second)) => Ok((first.into(), second.into())),
        _ => Err(ApiError::NotFound("conversation").into()),
    }
}

/// The conversation and the caller's membership, or NOT_FOUND.
async fn membership(
    inner: &Inner,
    conversation: ConversationId,
    account: Uuid,
) -> Result<(ConversationRow, MemberRow)> {
    let member = store::find_member(&inner.db, conversation, account)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let row = store::find_conversation(&inner.db, conversation)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    Ok((row, member))
}

#[tonic::async_trait]
impl MessagingService for MessagingApi {
    async fn open_direct_conversation(
        &self,
        request: Request<pb::OpenDirectConversationRequest>,
    ) -> Answer<pb::OpenDirectConversationResponse> {
        answer(conversations::open_direct(&self.inner, request).await)
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> Answer<pb::ListConversationsResponse> {
        answer(conversations::list(&self.inner, request).await)
    }

    async fn get_conversation(
        &self,
        request: Request<pb::GetConversationRequest>,
    ) -> Answer<pb::GetConversationResponse> {
        answer(conversations::get(&self.inner, request).await)
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> Answer<pb::SendMessageResponse> {
        answer(messages::send(&self.inner, request).await)
    }

    async fn get_messages(
        &self,
        request: Request<pb::GetMessagesRequest>,
    ) -> Answer<pb::GetMessagesResponse> {
        answer(messages::get(&self.inner, request).await)
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Answer<pb::MarkReadResponse> {
        answer(messages::mark_read(&self.inner, request).await)
    }

    type SubscribeStream = subscribe::Feed;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Answer<Self::SubscribeStream> {
        answer(subscribe::subscribe(self.inner.clone(), request).await)
    }

    type ChatStream = chat::Stream;

    async fn chat(
        &self,
        request: Request<tonic::Streaming<pb::ChatRequest>>,
    ) -> Answer<Self::ChatStream> {
        answer(chat::chat(self.inner.clone(), request).await)
    }

    async fn create_group_conversation(
        &self,
        request: Request<pb::CreateGroupConversationRequest>,
    ) -> Answer<pb::CreateGroupConversationResponse> {
        answer(groups::create(&self.inner, request).await)
    }

    async fn add_members(
        &self,
        request: Request<pb::AddMembersRequest>,
    ) -> Answer<pb::AddMembersResponse> {
        answer(groups::add(&self.inner, request).await)
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Answer<pb::RemoveMemberResponse> {
        answer(groups::remove(&self.inner, request).await)
    }

    async fn set_admin(
        &self,
        request: Request<pb::SetAdminRequest>,
    ) -> Answer<pb::SetAdminResponse> {
        answer(groups::set_admin(&self.inner, request).await)
    }

    async fn edit_message(
        &self,
        request: Request<pb::EditMessageRequest>,
    ) -> Answer<pb::EditMessageResponse> {
        answer(edits::edit(&self.inner, request).await)
    }

    async fn delete_message(
        &self,
        request: Request<pb::DeleteMessageRequest>,
    ) -> Answer<pb::DeleteMessageResponse> {
        answer(edits::delete(&self.inner, request).await)
    }

    async fn list_message_edits(
        &self,
        request: Request<pb::ListMessageEditsRequest>,
    ) -> Answer<pb::ListMessageEditsResponse> {
        answer(edits::list_edits(&self.inner, request).await)
    }

    async fn search_messages(
        &self,
        request: Request<pb::SearchMessagesRequest>,
    ) -> Answer<pb::SearchMessagesResponse> {
        answer(search::search(&self.inner, request).await)
    }

    async fn update_conversation_settings(
        &self,
        request: Request<pb::UpdateConversationSettingsRequest>,
    ) -> Answer<pb::UpdateConversationSettingsResponse> {
        answer(conversations::update_settings(&self.inner, request).await)
    }

    async fn block_account(
        &self,
        request: Request<pb::BlockAccountRequest>,
    ) -> Answer<pb::BlockAccountResponse> {
        answer(blocking::block(&self.inner, request).await)
    }

    async fn unblock_account(
        &self,
        request: Request<pb::UnblockAccountRequest>,
    ) -> Answer<pb::UnblockAccountResponse> {
        answer(blocking::unblock(&self.inner, request).await)
    }

    async fn list_blocked_accounts(
        &self,
        request: Request<pb::ListBlockedAccountsRequest>,
    ) -> Answer<pb::ListBlockedAccountsResponse> {
        answer(blocking::list(&self.inner, request).await)
    }

    async fn set_typing(
        &self,
        request: Request<pb::SetTypingRequest>,
    ) -> Answer<pb::SetTypingResponse> {
        answer(live::set_typing(&self.inner, request).await)
    }

    async fn get_presence(
        &self,
        request: Request<pb::GetPresenceRequest>,
    ) -> Answer<pb::GetPresenceResponse> {
        answer(live::get_presence(&self.inner, request).await)
    }

    async fn set_presence_visibility(
        &self,
        request: Request<pb::SetPresenceVisibilityRequest>,
    ) -> Answer<pb::SetPresenceVisibilityResponse> {
        answer(live::set_visibility(&self.inner, request).await)
    }
}
