//! MediaService: uploads streamed into the object store while their
//! SHA-256 is computed and their first bytes are checked against the
//! declared type (PDFs also for active content; images are decoded whole
//! and written anew, see `content`), and downloads streamed back to whoever
//! may read them.
//! Who may read a medium: its uploader; everyone once it is public (an
//! avatar, a portfolio or gallery picture); the members of a conversation
//! it was attached to; the parties of a contract it was delivered to or
//! filed as dispute evidence.

use frevix_platform::malformed::inbound_status;
use std::sync::Arc;

use chrono::Utc;
use frevix_platform::error::{ApiError, FieldViolations};
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
use crate::domain::content::{self, PdfScan};
use crate::domain::{ConversationId, MediaId};
use crate::error::{MessagingError, Result};
use crate::store::{self, media::MediaRow};

/// The largest chunk accepted in an upload frame.
const MAX_CHUNK: usize = 1024 * 1024;
/// How many leading bytes are looked at to tell what a file is.
const SNIFF_BYTES: usize = 8192;

pub type DownloadStream = ReceiverStream<std::result::Result<pb::DownloadResponse, Status>>;

fn path(id: MediaId) -> Path {
    Path::from(format!("media/{}", id.0.simple()))
}

fn thumbnail_path(id: MediaId) -> Path {
    Path::from(format!("media/{}.thumbnail", id.0.simple()))
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
        thumbnail_content_type: row.thumbnail_type.clone().unwrap_or_default(),
    }
}

fn check_header(inner: &Inner, header: &pb::UploadHeader) -> Result<()> {
    let mut violations = FieldViolations::new();
    let name = header.name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.contains(['/', '\\']) {
        violations.add("header.name", "must be 1 to 255 characters without slashes");
    } else if let Some(problem) = frevix_platform::text::label_problem(name) {
        violations.add("header.name", problem);
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

fn refused_content(problem: String) -> MessagingError {
    FieldViolations::single("header.content_type", problem).into()
}

/// Where received bytes go: straight to the store, or (images) into memory
/// to be decoded and written anew once complete.
enum Sink {
    Stream(Box<WriteMultipart>, Option<PdfScan>),
    Buffer(Vec<u8>),
}

impl Sink {
    fn write(&mut self, chunk: &[u8]) {
        match self {
            Sink::Stream(writer, pdf) => {
                if let Some(pdf) = pdf {
                    pdf.feed(chunk);
                }
                writer.write(chunk);
            }
            Sink::Buffer(bytes) => bytes.extend_from_slice(chunk),
        }
    }

    async fn abort(self) {
        if let Sink::Stream(writer, _) = self
            && let Err(abort) = writer.abort().await
        {
            tracing::warn!(%abort, "abandoned upload not cleaned up");
        }
    }
}

/// The bytes of an upload after its header, checked as they come.
async fn receive(
    frames: &mut Streaming<pb::UploadRequest>,
    header: &pb::UploadHeader,
    sink: &mut Sink,
) -> Result<String> {
    use pb::upload_request::Part;
    let declared = u64::try_from(header.size_bytes).unwrap_or_default();
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
                return Err(
                    FieldViolations::single("header", "only the first frame is a header").into(),
                );
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
                content::check_head(&header.content_type, &head).map_err(refused_content)?;
                checked = true;
            }
        }
        sink.write(&chunk);
    }
    if total != declared {
        return Err(FieldViolations::single(
            "header.size_bytes",
            format!("{declared} bytes were declared but {total} arrived"),
        )
        .into());
    }
    if !checked {
        content::check_head(&header.content_type, &head).map_err(refused_content)?;
    }
    Ok(hex::encode(hasher.finalize()))
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
    let id = MediaId::generate();
    let location = path(id);
    let mut sink = if content::is_image(&header.content_type) {
        Sink::Buffer(Vec::new())
    } else {
        let pdf = (header.content_type == "application/pdf").then(PdfScan::default);
        Sink::Stream(
            Box::new(WriteMultipart::new(
                inner.media.put_multipart(&location).await?,
            )),
            pdf,
        )
    };
    let sha256 = match receive(&mut frames, &header, &mut sink).await {
        Ok(sha256) => sha256,
        Err(error) => {
            sink.abort().await;
            return Err(error);
        }
    };
    let (size_bytes, sha256, thumbnail_type) = match sink {
        Sink::Stream(writer, pdf) => {
            if let Some(name) = pdf.and_then(PdfScan::finish) {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%abort, "refused upload not cleaned up");
                }
                tracing::info!(account_id = %me, name, "pdf with active content refused");
                return Err(refused_content(format!(
                    "PDFs that run actions when opened (/{name}) are not accepted"
                )));
            }
            writer.finish().await?;
            (header.size_bytes, sha256, None)
        }
        Sink::Buffer(bytes) => {
            let content_type = header.content_type.clone();
            let clean =
                tokio::task::spawn_blocking(move || content::clean_image(&content_type, &bytes))
                    .await
                    .map_err(|e| ApiError::internal(e.to_string()))?
                    .map_err(refused_content)?;
            let size = i64::try_from(clean.bytes.len()).unwrap_or(i64::MAX);
            let sha256 = hex::encode(Sha256::digest(&clean.bytes));
            inner.media.put(&location, clean.bytes.into()).await?;
            inner
                .media
                .put(&thumbnail_path(id), clean.thumbnail.into())
                .await?;
            (size, sha256, Some(clean.thumbnail_type.to_owned()))
        }
    };
    let row = store::media::insert(
        &inner.db,
        MediaRow {
            id: id.0,
            owner_id: me,
            name: header.name.trim().to_owned(),
            content_type: header.content_type,
            size_bytes,
            sha256,
            public: false,
            created_at: Utc::now(),
            thumbnail_type,
        },
    )
    .await?;
    Ok(pb::UploadResponse {
        media: Some(message(&row)),
    })
}

/// The medium, if `me` may read it; NOT_FOUND otherwise.
pub(crate) async fn readable(inner: &Inner, me: Uuid, id: MediaId) -> Result<MediaRow> {
    let row = store::media::find(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("media"))?;
    if row.owner_id == me || row.public {
        return Ok(row);
    }
    for link in store::media::links(&inner.db, id).await? {
        let conversation = match link.place.as_str() {
            store::media::CONVERSATION => Some(ConversationId(link.place_id)),
            store::media::CONTRACT => store::find_by_contract(&inner.db, link.place_id)
                .await?
                .map(|c| c.typed_id()),
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
    Err(ApiError::NotFound("media").into())
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
    let location = if request.get_ref().thumbnail {
        if row.thumbnail_type.is_none() {
            return Err(ApiError::precondition(
                "NO_THUMBNAIL",
                "thumbnail",
                "only images uploaded as such have thumbnails",
            )
            .into());
        }
        thumbnail_path(id)
    } else {
        path(id)
    };
    let mut bytes = inner.media.get(&location).await?.into_stream();
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
                Err(error) => Err(Status::from(MessagingError::from(error))),
            };
            let failed = item.is_err();
            if sink.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(ReceiverStream::new(stream))
}
