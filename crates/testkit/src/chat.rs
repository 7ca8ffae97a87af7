//! A Chat stream opened as an app opens it: a Hello first (no positions,
//! so the feed starts from the account's read positions), then whatever
//! frames the test sends.

use frevix_proto::messaging::v1::{self as pb, messaging_service_client::MessagingServiceClient};
use tokio::sync::mpsc;
use tonic::transport::Channel;

use crate::authed;

/// One open Chat stream: the frames to send, and the server's answers.
pub struct ChatDevice {
    pub frames: mpsc::Sender<pb::ChatRequest>,
    pub events: tonic::Streaming<pb::ChatResponse>,
}

impl ChatDevice {
    /// Opens a Chat stream through `client` as the account of `token`.
    pub async fn open(mut client: MessagingServiceClient<Channel>, token: &str) -> Self {
        let (frames, outbound) = mpsc::channel(64);
        frames
            .send(pb::ChatRequest {
                frame_id: String::new(),
                frame: Some(pb::chat_request::Frame::Hello(pb::Hello::default())),
            })
            .await
            .unwrap();
        let outbound = tokio_stream::wrappers::ReceiverStream::new(outbound);
        let events = client
            .chat(authed(token, outbound))
            .await
            .unwrap()
            .into_inner();
        Self { frames, events }
    }
}
