//! MediaService: streamed uploads checked against an allow-list, the size
//! limit and the bytes themselves, stored with their SHA-256, and read back
//! only by those allowed: the uploader, a conversation's members once
//! attached there, a contract's parties for deliveries, everyone for
//! avatars and galleries.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::support::{open, try_send};
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use sha2::{Digest, Sha256};
use tokio_stream::StreamExt as _;
use tonic::Code;

/// A ZIP signature followed by filler: a file kept byte for byte.
fn archive(size: usize) -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..size - bytes.len()).map(|i| (i % 251) as u8));
    bytes
}

/// A real PNG picture.
fn png_picture(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(width, height)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

async fn upload_frames(
    app: &TestApp,
    who: &TestUser,
    header: pb::UploadHeader,
    bytes: &[u8],
) -> Result<pb::Media, tonic::Status> {
    use pb::upload_request::Part;
    let mut frames = vec![pb::UploadRequest {
        part: Some(Part::Header(header)),
    }];
    for chunk in bytes.chunks(1024 * 1024) {
        frames.push(pb::UploadRequest {
            part: Some(Part::Chunk(chunk.to_vec().into())),
        });
    }
    app.media
        .clone()
        .upload(authed(&who.access_token, tokio_stream::iter(frames)))
        .await
        .map(|r| r.into_inner().media.unwrap())
}

async fn upload(
    app: &TestApp,
    who: &TestUser,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<pb::Media, tonic::Status> {
    let header = pb::UploadHeader {
        name: name.into(),
        content_type: content_type.into(),
        size_bytes: bytes.len() as i64,
    };
    upload_frames(app, who, header, bytes).await
}

async fn download(app: &TestApp, who: &TestUser, id: &str) -> Result<Vec<u8>, tonic::Status> {
    fetch(app, who, id, false).await
}

async fn fetch(
    app: &TestApp,
    who: &TestUser,
    id: &str,
    thumbnail: bool,
) -> Result<Vec<u8>, tonic::Status> {
    use pb::download_response::Part;
    let mut stream = app
        .media
        .clone()
        .download(authed(
            &who.access_token,
            pb::DownloadRequest {
                media_id: id.into(),
                thumbnail,
            },
        ))
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    let first = stream.next().await.unwrap()?;
    assert!(
        matches!(first.part, Some(Part::Media(_))),
        "the description comes first"
    );
    while let Some(frame) = stream.next().await {
        if let Some(Part::Chunk(chunk)) = frame?.part {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok(bytes)
}

async fn uploads_are_checked_and_stored_with_their_digest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let picture = archive(3 * 1024 * 1024 + 17);
    let media = upload(&app, &ada, "moodboard.zip", "application/zip", &picture)
        .await
        .unwrap();
    assert_eq!(media.size_bytes, picture.len() as i64);
    assert_eq!(media.sha256, hex::encode(Sha256::digest(&picture)));
    assert!(!media.public);
    assert_eq!(download(&app, &ada, &media.id).await.unwrap(), picture);

    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let lying = upload(&app, &ada, "brief.png", "image/png", &pdf)
        .await
        .unwrap_err();
    assert_eq!(lying.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&lying), vec!["header.content_type"]);
    let why = tonic_types::StatusExt::get_details_bad_request(&lying).unwrap();
    assert_eq!(
        why.field_violations[0].description,
        "the file is application/pdf, not image/png"
    );
    upload(&app, &ada, "brief.pdf", "application/pdf", &pdf)
        .await
        .unwrap();

    let exe = upload(
        &app,
        &ada,
        "setup.exe",
        "application/x-msdownload",
        b"MZ\x90\0",
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&exe), vec!["header.content_type"]);
    let huge = upload_frames(
        &app,
        &ada,
        pb::UploadHeader {
            name: "huge.png".into(),
            content_type: "image/png".into(),
            size_bytes: 1 << 30,
        },
        &[],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&huge), vec!["header.size_bytes"]);
    let short = upload_frames(
        &app,
        &ada,
        pb::UploadHeader {
            name: "short.zip".into(),
            content_type: "application/zip".into(),
            size_bytes: 5000,
        },
        &archive(100),
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&short), vec!["header.size_bytes"]);
    let notes = upload(&app, &ada, "../notes.txt", "text/plain", b"plain words")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&notes), vec!["header.name"]);
    upload(
        &app,
        &ada,
        "notes.txt",
        "text/plain",
        "plain wörds".as_bytes(),
    )
    .await
    .unwrap();
}

async fn media_are_read_only_where_they_are_attached(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let eve = app.register().await;
    let picture = archive(40_000);
    let media = upload(&app, &ada, "draft.zip", "application/zip", &picture)
        .await
        .unwrap();
    let hidden = download(&app, &bob, &media.id).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(reason(&hidden), "MEDIA_NOT_FOUND");

    // Bob cannot pass off Ada's file as his.
    let with_eve = open(&app, &bob, &eve).await;
    let send = async |who: &TestUser, conversation: &str, client_id: &str| {
        try_send(
            &app,
            who,
            pb::SendMessageRequest {
                conversation_id: conversation.into(),
                text: String::new(),
                client_message_id: client_id.into(),
                attachment_ids: vec![media.id.clone()],
                ..Default::default()
            },
        )
        .await
    };
    let stolen = send(&bob, &with_eve.id, "s-1").await.unwrap_err();
    assert_eq!(violated_fields(&stolen), vec!["attachment_ids[0]"]);

    let chat = open(&app, &ada, &bob).await;
    let sent = send(&ada, &chat.id, "a-1").await.unwrap();
    assert_eq!(sent.attachment_ids, vec![media.id.clone()]);
    assert_eq!(download(&app, &bob, &media.id).await.unwrap(), picture);
    assert_eq!(
        download(&app, &eve, &media.id).await.unwrap_err().code(),
        Code::NotFound
    );
    // Forwarding within the same conversation is fine.
    let forwarded = send(&bob, &chat.id, "b-1").await.unwrap();

    // A deleted message takes its files out of the conversation, unless
    // another message there still carries them; the uploader keeps them.
    let delete = async |who: &TestUser, sequence: i64| {
        app.messaging
            .clone()
            .delete_message(authed(
                &who.access_token,
                pb::DeleteMessageRequest {
                    conversation_id: chat.id.clone(),
                    sequence,
                },
            ))
            .await
            .unwrap();
    };
    delete(&ada, sent.sequence).await;
    assert_eq!(download(&app, &bob, &media.id).await.unwrap(), picture);
    delete(&bob, forwarded.sequence).await;
    let gone = download(&app, &bob, &media.id).await.unwrap_err();
    assert_eq!(reason(&gone), "MEDIA_NOT_FOUND");
    assert_eq!(download(&app, &ada, &media.id).await.unwrap(), picture);

    // Delivered to a contract: its client may read it.
    let client = app.register().await;
    let delivery = upload(&app, &ada, "final.zip", "application/zip", &archive(2_000))
        .await
        .unwrap();
    let contract = uuid::Uuid::new_v4().to_string();
    app.publish_as(
        "contracts",
        &contract,
        &contracts::MilestoneSubmitted {
            contract_id: contract.clone(),
            milestone_id: uuid::Uuid::new_v4().to_string(),
            client_id: client.account_id.clone(),
            freelancer_id: ada.account_id.clone(),
            title: "Final logo".into(),
            attachment_ids: vec![delivery.id.clone()],
        },
    )
    .await;
    wait_until_readable(&app, &client, &delivery.id).await;
    assert_eq!(
        download(&app, &eve, &delivery.id).await.unwrap_err().code(),
        Code::NotFound
    );

    // An avatar is public.
    let avatar = upload(&app, &ada, "me.png", "image/png", &png_picture(64, 64))
        .await
        .unwrap();
    app.marketplace
        .clone()
        .update_freelancer_profile(authed(
            &ada.access_token,
            marketplace::UpdateFreelancerProfileRequest {
                profile: Some(marketplace::FreelancerProfile {
                    avatar_media_id: avatar.id.clone(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["avatar_media_id".into()],
                }),
            },
        ))
        .await
        .unwrap();
    wait_until_readable(&app, &eve, &avatar.id).await;
}

async fn images_are_written_anew_and_disguised_files_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;

    // Whatever follows the image is not kept; a thumbnail is made.
    let mut sent = png_picture(600, 300);
    sent.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let media = upload(&app, &ada, "banner.png", "image/png", &sent)
        .await
        .unwrap();
    let kept = download(&app, &ada, &media.id).await.unwrap();
    assert_eq!(media.sha256, hex::encode(Sha256::digest(&kept)));
    assert_eq!(media.size_bytes, kept.len() as i64);
    assert!(!String::from_utf8_lossy(&kept).contains("<script"));
    let decoded = image::load_from_memory(&kept).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (600, 300));
    assert_eq!(media.thumbnail_content_type, "image/png");
    let thumbnail =
        image::load_from_memory(&fetch(&app, &ada, &media.id, true).await.unwrap()).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (256, 128));

    // A PNG signature in front of a web page is not a PNG.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(b"<html><body><script>alert(1)</script></body></html>");
    let refused = upload(&app, &ada, "cat.png", "image/png", &fake)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["header.content_type"]);

    // Script as "text".
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let refused = upload(&app, &ada, "notes.txt", "text/plain", svg)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["header.content_type"]);

    // A PDF that runs JavaScript when opened.
    let pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\nendobj\n";
    let refused = upload(&app, &ada, "brief.pdf", "application/pdf", pdf)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["header.content_type"]);

    // A name that reads backwards from where the override starts.
    let refused = upload(
        &app,
        &ada,
        "invoice\u{202E}gpj.exe",
        "application/zip",
        &archive(100),
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&refused), vec!["header.name"]);

    // Files that are not images have no thumbnail.
    let zip = upload(&app, &ada, "files.zip", "application/zip", &archive(100))
        .await
        .unwrap();
    assert_eq!(zip.thumbnail_content_type, "");
    let none = fetch(&app, &ada, &zip.id, true).await.unwrap_err();
    assert_eq!(reason(&none), "NO_THUMBNAIL");
}

async fn wait_until_readable(app: &TestApp, who: &TestUser, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = app
            .media
            .clone()
            .get_media(authed(
                &who.access_token,
                pb::GetMediaRequest {
                    media_id: id.into(),
                },
            ))
            .await;
        if got.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never became readable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends!(
    images_are_written_anew_and_disguised_files_are_refused,
    uploads_are_checked_and_stored_with_their_digest,
    media_are_read_only_where_they_are_attached,
);
