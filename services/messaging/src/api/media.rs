//! MediaService: uploads streamed into the object store while their
//! SHA-256 is computed and their first bytes are checked against the
//! declared type, and downloads streamed back to whoever may read them.
//! Who may read a medium: its uploader; everyone once it is public (an
//! avatar, a portfolio or gallery picture); the members of a conversation
//! it was attached to; the parties of a contract it was delivered to or
//! filed as dispute evidence.

use frevix_platform::malformed::inbound_status;
use std::sync::Arc;

use chrono::Utc;
use frevix_platform::error::FieldViolations;
use frevix_proto::messaging::v1 as pb;
use object_store::{ObjectStoreExt as _, WriteMultipart, path::Path};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status, Streaming};
use uuid::Uuid;

use super::{caller, parse_id};
use crate::Inner;
use crate::convert;
use crate::error::{MessagingError, Result};
use crate::store::{self, media::MediaRow};

/// The largest chunk accepted in an upload frame.
const MAX_CHUNK: usize = 1024 * 1024;
/// How many leading bytes are looked at to tell what a file is.
const SNIFF_BYTES: usize = 8192;

pub type DownloadStream = ReceiverStream<std::result::Result<pb::DownloadResponse, Status>>;

fn path(id: Uuid) -> Path {
    Path::from(format!("media/{}", id.simple()))
}

pub fn message(row: &MediaRow) -> pb::Media {
    pb::Media {
        id: row.id.to_string(),
        owner_id: row.owner_id.to_string(),
        name: row.name.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        public: row.public,
        create_time: Some(convert::timestamp(row.created_at)),
    }
}

fn check_header(inner: &Inner, header: &pb::UploadHeader) -> Result<()> {
    let mut violations = FieldViolations::new();
    let name = header.name.trim();
    if name.is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        violations.add("header.name", "must be 1 to 255 characters without slashes");
    }
    if !inner
        .media_config
        .allowed_types
        .iter()
        .any(|allowed| allowed == &header.content_type)
    {
        violations.add(
            "header.content_type",
            format!(
                "must be one of {}",
                inner.media_config.allowed_types.join(", ")
            ),
        );
    }
    let max = inner.media_config.max_bytes;
    if header.size_bytes < 1 || u64::try_from(header.size_bytes).unwrap_or(u64::MAX) > max {
        violations.add("header.size_bytes", format!("must be 1 to {max} bytes"));
    }
    Ok(violations.finish(())?)
}

/// Whether the first bytes of a file are what its declared type says.
fn check_content(declared: &str, head: &[u8]) -> Result<()> {
    let found = infer::get(head).map(|kind| kind.mime_type());
    let matches = match declared {
        // Text has no signature: it must not look like something else and
        // must be UTF-8 (a character cut at the end of the sample is fine).
        "text/plain" => {
            found.is_none()
                && std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true)
        }
        _ => found == Some(declared),
    };
    if matches {
        return Ok(());
    }
    Err(FieldViolations::single(
        "header.content_type",
        match found {
            Some(found) => format!("the file is {found}, not {declared}"),
            None => format!("the file is not {declared}"),
        },
    )
    .into())
}

pub async fn upload(
    inner: &Inner,
    request: Request<Streaming<pb::UploadRequest>>,
) -> Result<pb::UploadResponse> {
    use pb::upload_request::Part;
    let me = caller(&request)?;
    let mut frames = request.into_inner();
    let header = match frames
        .message()
        .await
        .map_err(|status| MessagingError::Stream(inbound_status(status)))?
    {
        Some(pb::UploadRequest {
            part: Some(Part::Header(header)),
        }) => header,
        _ => {
            return Err(
                FieldViolations::single("header", "the first frame must be the header").into(),
            );
        }
    };
    check_header(inner, &header)?;
    let declared = u64::try_from(header.size_bytes).unwrap_or_default();
    let id = Uuid::now_v7();
    let location = path(id);
    let mut writer = WriteMultipart::new(inner.media.put_multipart(&location).await?);
    let received: Result<String> = async {
        let mut hasher = Sha256::new();
        let mut total: u64 = 0;
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        let mut checked = false;
        while let Some(frame) = frames
            .message()
            .await
            .map_err(|status| MessagingError::Stream(inbound_status(status)))?
        {
            let chunk = match frame.part {
                Some(Part::Chunk(chunk)) => chunk,
                Some(Part::Header(_)) => {
                    return Err(FieldViolations::single(
                        "header",
                        "only the first frame is a header",
                    )
                    .into());
                }
                None => continue,
            };
            if chunk.len() > MAX_CHUNK {
                return Err(FieldViolations::single("chunk", "chunks are at most 1 MiB").into());
            }
            total += chunk.len() as u64;
            if total > declared {
                return Err(FieldViolations::single(
                    "header.size_bytes",
                    "more bytes arrived than were declared",
                )
                .into());
            }
            hasher.update(&chunk);
            if !checked {
                let wanted = SNIFF_BYTES - head.len();
                head.extend_from_slice(&chunk[..wanted.min(chunk.len())]);
                if head.len() == SNIFF_BYTES {
                    check_content(&header.content_type, &head)?;
                    checked = true;
                }
            }
            writer.write(&chunk);
        }
        if total != declared {
            return Err(FieldViolations::single(
                "header.size_bytes",
                format!("{declared} bytes were declared but {total} arrived"),
            )
            .into());
        }
        if !checked {
            check_content(&header.content_type, &head)?;
        }
        Ok(hex::encode(hasher.finalize()))
    }
    .await;
    let sha256 = match received {
        Ok(sha256) => sha256,
        Err(error) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(%abort, "abandoned upload not cleaned up");
            }
            return Err(error);
        }
    };
    writer.finish().await?;
    let row = store::media::insert(
        &inner.db,
        MediaRow {
            id,
            owner_id: me,
            name: header.name.trim().to_owned(),
            content_type: header.content_type,
            size_bytes: header.size_bytes,
            sha256,
            public: false,
            created_at: Utc::now(),
        },
    )
    .await?;
    Ok(pb::UploadResponse {
        media: Some(message(&row)),
    })
}

/// The medium, if `me` may read it; NOT_FOUND otherwise.
pub(crate) async fn readable(inner: &Inner, me: Uuid, id: Uuid) -> Result<MediaRow> {
    let row = store::media::find(&inner.db, id)
        .await?
        .ok_or(MessagingError::MediaNotFound)?;
    if row.owner_id == me || row.public {
        return Ok(row);
    }
    for link in store::media::links(&inner.db, id).await? {
        let conversation = match link.place.as_str() {
            store::media::CONVERSATION => Some(link.place_id),
            store::media::CONTRACT => store::find_by_contract(&inner.db, link.place_id)
                .await?
                .map(|c| c.id),
            _ => None,
        };
        if let Some(conversation) = conversation
            && store::find_member(&inner.db, conversation, me)
                .await?
                .is_some()
        {
            return Ok(row);
        }
    }
    Err(MessagingError::MediaNotFound)
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetMediaRequest>,
) -> Result<pb::GetMediaResponse> {
    let me = caller(&request)?;
    let id = parse_id("media_id", &request.get_ref().media_id)?;
    let row = readable(inner, me, id).await?;
    Ok(pb::GetMediaResponse {
        media: Some(message(&row)),
    })
}

pub async fn download(
    inner: Arc<Inner>,
    request: Request<pb::DownloadRequest>,
) -> Result<DownloadStream> {
    use pb::download_response::Part;
    let me = caller(&request)?;
    let id = parse_id("media_id", &request.get_ref().media_id)?;
    let row = readable(&inner, me, id).await?;
    let mut bytes = inner.media.get(&path(id)).await?.into_stream();
    let (sink, stream) = mpsc::channel(4);
    tokio::spawn(async move {
        let first = pb::DownloadResponse {
            part: Some(Part::Media(message(&row))),
        };
        if sink.send(Ok(first)).await.is_err() {
            return;
        }
        while let Some(chunk) = bytes.next().await {
            let item = match chunk {
                Ok(chunk) => Ok(pb::DownloadResponse {
                    part: Some(Part::Chunk(chunk)),
                }),
                Err(error) => Err(Status::from(MessagingError::Storage(error))),
            };
            let failed = item.is_err();
            if sink.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(ReceiverStream::new(stream))
}
