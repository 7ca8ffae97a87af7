//! Hostile HTTP/2 and gRPC callers against the real server: an oversized
//! message, a compressed bomb or garbage marked compressed (and gzip as
//! the honest use it), more streams than one connection may hold,
//! and a rapid-reset flood. Each meets a configured limit with a clear
//! answer, and the server keeps serving everyone else meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use frevix_testkit::{Backend, TestApp, on_both_backends};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::authorization::raw_call;

const LOGIN: &str = "frevix.identity.v1.IdentityService/Login";
const REFLECTION: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
/// The streams one connection may hold open in these tests.
const STREAMS: u32 = 8;

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.server.max_concurrent_streams = STREAMS;
    })
    .await
}

async fn channel(app: &TestApp) -> Channel {
    Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Whether the server answers a health check on a connection of its own
/// within a few seconds.
async fn serves_others(app: &TestApp) -> bool {
    let check = async {
        HealthClient::new(channel(app).await)
            .check(HealthCheckRequest::default())
            .await
            .map(|r| r.into_inner().status == ServingStatus::Serving as i32)
            .unwrap_or(false)
    };
    tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .unwrap_or(false)
}

/// A raw HTTP/2 connection to the server, once the server's settings
/// are known (a ping answered comes after them).
async fn h2(app: &TestApp) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (send, mut connection) = h2::client::handshake(tcp).await.unwrap();
    let mut ping = connection.ping_pong().unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    ping.ping(h2::Ping::opaque()).await.unwrap();
    send.ready().await.unwrap()
}

fn grpc_request(path: &str, encoding: Option<&str>) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://frevix{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(encoding) = encoding {
        request = request.header("grpc-encoding", encoding);
    }
    request.body(()).unwrap()
}

/// The gRPC status of an answer: from its headers (a trailers-only
/// answer) or its trailers.
async fn grpc_status(response: h2::client::ResponseFuture) -> (Option<i32>, String) {
    let response = response.await.unwrap();
    let from = |headers: &http::HeaderMap| {
        (
            headers
                .get("grpc-status")
                .and_then(|v| v.to_str().ok()?.parse().ok()),
            headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let (code, message) = from(response.headers());
    if code.is_some() {
        return (code, message);
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let _ = chunk;
    }
    match body.trailers().await.unwrap() {
        Some(trailers) => from(&trailers),
        None => (None, String::new()),
    }
}

async fn an_oversized_message_is_refused_and_the_next_is_served(backend: Backend) {
    let app = spawn(backend).await;
    let channel = channel(&app).await;
    let limit = app.config.server.max_message_bytes;
    let refused = raw_call(&channel, LOGIN, (false, false), None, vec![0x0a; limit + 1])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    assert!(refused.message().contains("too large"), "{refused:?}");
    // The same connection goes on: a well-formed login is answered.
    let answered = raw_call(&channel, LOGIN, (false, false), None, Vec::new()).await;
    assert!(
        answered.is_ok() || answered.as_ref().unwrap_err().code() == Code::InvalidArgument,
        "{answered:?}"
    );
    assert!(serves_others(&app).await);
}

async fn a_compressed_bomb_is_refused_without_being_opened(backend: Backend) {
    let app = spawn(backend).await;
    // 64 MiB of zeros in about 64 KiB.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gzip.write_all(&zeros).unwrap();
    }
    let (code, message) = send_compressed(&app, &gzip.finish().unwrap()).await;
    // Decompressed into at most the message size limit, then refused.
    assert_eq!(code, Some(Code::ResourceExhausted as i32), "{message}");
    assert!(message.contains("size limit"), "{message}");
    assert!(serves_others(&app).await);
}

async fn a_compressed_message_that_is_not_gzip_is_the_callers_mistake(backend: Backend) {
    let app = spawn(backend).await;
    let (code, message) = send_compressed(&app, b"certainly not gzip").await;
    assert_eq!(code, Some(Code::InvalidArgument as i32), "{message}");
    assert!(message.contains("compression"), "{message}");
    assert!(serves_others(&app).await);
}

/// Sends `compressed` as one gzip-flagged Login message; the answer's status.
async fn send_compressed(app: &TestApp, compressed: &[u8]) -> (Option<i32>, String) {
    let mut frame = vec![1u8];
    frame.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
    frame.extend_from_slice(compressed);
    let mut send = h2(app).await;
    let (response, mut body) = send
        .send_request(grpc_request(&format!("/{LOGIN}"), Some("gzip")), false)
        .unwrap();
    // The server may answer before the body has all left.
    let _ = body.send_data(Bytes::from(frame), true);
    let (code, message) = grpc_status(response).await;
    // grpc-message is percent-encoded.
    (code, message.replace("%20", " "))
}

async fn gzip_is_accepted_and_answers_are_compressed_for_clients_that_offer_it(backend: Backend) {
    use frevix_proto::marketplace::v1::{
        ListCategoriesRequest, marketplace_service_client::MarketplaceServiceClient,
    };
    use tonic::codec::CompressionEncoding::Gzip;
    let app = spawn(backend).await;
    let plain = MarketplaceServiceClient::new(channel(&app).await);
    let zipped = plain.clone().send_compressed(Gzip).accept_compressed(Gzip);
    let answer = zipped
        .clone()
        .list_categories(ListCategoriesRequest {})
        .await
        .expect("a gzip request is served");
    assert_eq!(
        answer
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip"),
        "answered in gzip to a client that offers it"
    );
    let categories = answer.into_inner().categories;
    assert!(!categories.is_empty());
    let answer = plain
        .clone()
        .list_categories(ListCategoriesRequest {})
        .await
        .unwrap();
    assert!(
        answer.metadata().get("grpc-encoding").is_none(),
        "answered plain to a client that does not"
    );
    assert_eq!(answer.into_inner().categories, categories);
}

async fn a_connection_holds_at_most_its_streams_while_others_are_served(backend: Backend) {
    let app = spawn(backend).await;
    let mut send = h2(&app).await;
    // Streams the server keeps open: reflection waits for requests.
    let mut open = Vec::new();
    for _ in 0..STREAMS {
        send = send.ready().await.unwrap();
        let (response, body) = send
            .send_request(grpc_request(REFLECTION, None), false)
            .unwrap();
        open.push((response, body));
    }
    assert_eq!(send.current_max_send_streams(), STREAMS as usize);
    // One more call on the connection waits for a free stream...
    send = send.ready().await.unwrap();
    let (check, mut body) = send
        .send_request(grpc_request("/grpc.health.v1.Health/Check", None), false)
        .unwrap();
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
        .unwrap();
    let mut check = tokio::spawn(grpc_status(check));
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut check).await;
    assert!(waited.is_err(), "a call past the limit was served at once");
    // ...while other connections are served.
    assert!(serves_others(&app).await);
    // A stream closed frees its place, and the waiting call is answered.
    let (_, mut closed) = open.pop().unwrap();
    closed.send_reset(h2::Reason::CANCEL);
    let (code, message) = tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .expect("the freed stream was not given to the waiting call")
        .unwrap();
    assert_eq!(code, Some(0), "{message}");
}

async fn a_rapid_reset_flood_does_not_stop_others_being_served(backend: Backend) {
    let app = spawn(backend).await;
    let mut send = h2(&app).await;
    let flood = tokio::spawn(async move {
        let mut sent = 0;
        for _ in 0..5_000 {
            let Ok(ready) = send.ready().await else {
                break;
            };
            send = ready;
            let Ok((_, mut body)) = send.send_request(grpc_request(REFLECTION, None), false) else {
                break;
            };
            body.send_reset(h2::Reason::CANCEL);
            sent += 1;
        }
        sent
    });
    // Served during the flood and after it.
    assert!(serves_others(&app).await, "not served during the flood");
    let sent = flood.await.unwrap();
    assert!(sent > 0);
    assert!(serves_others(&app).await, "not served after the flood");
}

on_both_backends!(
    an_oversized_message_is_refused_and_the_next_is_served,
    a_compressed_bomb_is_refused_without_being_opened,
    a_compressed_message_that_is_not_gzip_is_the_callers_mistake,
    gzip_is_accepted_and_answers_are_compressed_for_clients_that_offer_it,
    a_connection_holds_at_most_its_streams_while_others_are_served,
    a_rapid_reset_flood_does_not_stop_others_being_served,
);

/// Slowloris at the gateway: a client that trickles its headers is cut off
/// (Envoy's `request_headers_timeout`, 10 s) while others are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off_at_the_gateway() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let gateway = app.spawn_gateway().await;
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", gateway.port))
        .await
        .unwrap();
    slow.write_all(
        b"POST /frevix.identity.v1.IdentityService/GetMe HTTP/1.1\r\nHost: frevix\r\nX-Slow: ",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let trickle = async {
        let mut answer = Vec::new();
        loop {
            let mut byte = [0u8; 1024];
            match tokio::time::timeout(Duration::from_secs(1), slow.read(&mut byte)).await {
                // Closed, or answered: either way cut off.
                Ok(Ok(0) | Err(_)) => return answer,
                Ok(Ok(n)) => answer.extend_from_slice(&byte[..n]),
                Err(_) => {
                    if slow.write_all(b"a").await.is_err() {
                        return answer;
                    }
                }
            }
        }
    };
    let served = async {
        let mut identity = frevix_proto::marketplace::v1::marketplace_service_client::MarketplaceServiceClient::new(gateway.channel.clone());
        tokio::time::sleep(Duration::from_secs(3)).await;
        identity
            .list_categories(frevix_proto::marketplace::v1::ListCategoriesRequest::default())
            .await
            .is_ok()
    };
    let (answer, served) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(30), trickle),
        served
    );
    let answer = answer.expect("the slow client was never cut off");
    let took = started.elapsed();
    assert!(served, "others were not served meanwhile");
    assert!(took >= Duration::from_secs(9), "cut off after {took:?}");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}
