//! The gRPC face of messaging. Every call needs a token, and a conversation
//! exists only for its members: anyone else gets NOT_FOUND.

mod chat;
mod conversations;
mod messages;
mod subscribe;

use std::sync::Arc;

use frevix_platform::auth::principal;
use frevix_platform::error::FieldViolations;
use frevix_proto::messaging::v1::{self as pb, messaging_service_server::MessagingService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::Inner;
use crate::error::{MessagingError, Result};
use crate::store::{self, ConversationRow, MemberRow};

pub struct MessagingApi {
    inner: Arc<Inner>,
}

impl MessagingApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

type Answer<T> = std::result::Result<Response<T>, Status>;

fn answer<T>(result: Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

/// The caller's account id.
fn caller<T>(request: &Request<T>) -> Result<Uuid> {
    Ok(principal(request)
        .map_err(|_| frevix_platform::auth::AuthError::Missing)?
        .account_id
        .0)
}

fn parse_id(field: &str, text: &str) -> Result<Uuid> {
    let mut violations = FieldViolations::new();
    let id = frevix_platform::ids::parse_uuid(field, text, &mut violations);
    Ok(violations.finish(id)?.unwrap_or_default())
}

/// The conversation and the caller's membership, or NOT_FOUND.
async fn membership(
    inner: &Inner,
    conversation: Uuid,
    account: Uuid,
) -> Result<(ConversationRow, MemberRow)> {
    let member = store::find_member(&inner.db, conversation, account)
        .await?
        .ok_or(MessagingError::ConversationNotFound)?;
    let row = store::find_conversation(&inner.db, conversation)
        .await?
        .ok_or(MessagingError::ConversationNotFound)?;
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
}
