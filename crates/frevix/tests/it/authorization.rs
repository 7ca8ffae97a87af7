//! The authorization matrix (`tests/authorization.md`) driven through the
//! real API: every RPC of every service called by each kind of caller, each
//! answer checked against its cell. An RPC without a row, or a row naming
//! no RPC, fails the test: a new RPC cannot ship without saying who may
//! call it. Calls are raw gRPC (an empty request, bytes in and out) so the
//! test needs no code per RPC; streams are opened and their first answer
//! read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use frevix_proto::identity::v1 as identity;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use prost_reflect::DescriptorPool;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};

on_both_backends!(every_rpc_answers_each_caller_as_the_matrix_says);

const MATRIX: &str = include_str!("../authorization.md");
const CALLERS: [&str; 6] = [
    "anonymous",
    "unverified",
    "account",
    "admin",
    "suspended",
    "revoked",
];

/// Bytes in, bytes out: a gRPC call to any method without its types.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n).to_vec()))
    }
}

/// The matrix: RPC → caller → expected outcome ("ok" or a code's name).
fn matrix() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut rows = BTreeMap::new();
    for line in MATRIX.lines().filter(|l| l.starts_with("| frevix.")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 2 + CALLERS.len(), "a malformed row: {line}");
        let outcomes = CALLERS
            .iter()
            .zip(&cells[2..])
            .map(|(caller, outcome)| ((*caller).to_owned(), (*outcome).to_owned()))
            .collect();
        assert!(
            rows.insert(cells[0].to_owned(), outcomes).is_none(),
            "{} has two rows",
            cells[0]
        );
    }
    rows
}

/// Every RPC the services declare: name → (client streams, server streams).
pub fn rpcs() -> BTreeMap<String, (bool, bool)> {
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    pool.services()
        .filter(|s| s.full_name().starts_with("frevix."))
        .flat_map(|service| {
            service
                .methods()
                .map(|m| {
                    (
                        format!("{}/{}", service.full_name(), m.name()),
                        (m.is_client_streaming(), m.is_server_streaming()),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What `token` gets from `rpc` with an empty request: `Ok` when the call
/// was let through (answered, or a stream opened), else the refusal.
async fn call(
    channel: &Channel,
    rpc: &str,
    streams: (bool, bool),
    token: Option<&str>,
) -> Result<(), Code> {
    match raw_call(channel, rpc, streams, token, Vec::new()).await {
        Err(status)
            if matches!(
                status.code(),
                Code::Unauthenticated | Code::PermissionDenied
            ) =>
        {
            Err(status.code())
        }
        _ => Ok(()),
    }
}

/// Calls `rpc` with `body` (an encoded request) as `token`: the answer's
/// bytes when answered (a stream's first message, or nothing when it stays
/// open or ends), else the status.
pub async fn raw_call(
    channel: &Channel,
    rpc: &str,
    streams: (bool, bool),
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let path: http::uri::PathAndQuery = format!("/{rpc}").parse().unwrap();
    match streams {
        (false, false) => grpc
            .unary(with_token(tonic::Request::new(body), token), path, Raw)
            .await
            .map(tonic::Response::into_inner),
        (false, true) => match grpc
            .server_streaming(with_token(tonic::Request::new(body), token), path, Raw)
            .await
        {
            Ok(response) => first(response.into_inner()).await,
            Err(status) => Err(status),
        },
        (true, _) => {
            let frames = tokio_stream::iter(vec![body]).chain(tokio_stream::pending());
            match grpc
                .streaming(with_token(tonic::Request::new(frames), token), path, Raw)
                .await
            {
                Ok(response) => first(response.into_inner()).await,
                Err(status) => Err(status),
            }
        }
    }
}

use tokio_stream::StreamExt as _;

/// `request` with `token` as its bearer, if any.
fn with_token<T>(mut request: tonic::Request<T>, token: Option<&str>) -> tonic::Request<T> {
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

/// A stream's first answer: a message, its end, or (nothing for a while)
/// a stream left open — all "let through"; an error is the refusal.
async fn first(mut stream: tonic::Streaming<Vec<u8>>) -> Result<Vec<u8>, Status> {
    match tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
        Ok(Err(status)) => Err(status),
        Ok(Ok(Some(message))) => Ok(message),
        _ => Ok(Vec::new()),
    }
}

fn code_name(code: Code) -> String {
    match code {
        Code::Unauthenticated => "UNAUTHENTICATED".into(),
        Code::PermissionDenied => "PERMISSION_DENIED".into(),
        other => format!("{other:?}"),
    }
}

/// Polls until `token` is refused by identity and by messaging (the deny
/// list reaches every service within seconds).
async fn refused_everywhere(channel: &Channel, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let me = call(
            channel,
            "frevix.identity.v1.IdentityService/GetMe",
            (false, false),
            Some(token),
        )
        .await;
        let inbox = call(
            channel,
            "frevix.messaging.v1.MessagingService/ListConversations",
            (false, false),
            Some(token),
        )
        .await;
        if me.is_err() && inbox.is_err() {
            return;
        }
        assert!(Instant::now() < deadline, "the token was never refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn every_rpc_answers_each_caller_as_the_matrix_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rows = matrix();
    let rpcs = rpcs();
    let missing: Vec<&String> = rpcs.keys().filter(|r| !rows.contains_key(*r)).collect();
    assert!(
        missing.is_empty(),
        "RPCs without a row in tests/authorization.md: {missing:?}"
    );
    let unknown: Vec<&String> = rows.keys().filter(|r| !rpcs.contains_key(*r)).collect();
    assert!(unknown.is_empty(), "rows naming no RPC: {unknown:?}");

    let admin = app.admin().await;
    let account = app.register().await;
    let suspended: TestUser = app.register().await;
    let revoked: TestUser = app.register().await;
    let channel = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    app.identity
        .clone()
        .suspend_account(authed(
            &admin.access_token,
            identity::SuspendAccountRequest {
                account_id: suspended.account_id.clone(),
                reason: "the authorization matrix".into(),
            },
        ))
        .await
        .unwrap();
    app.identity
        .clone()
        .logout(authed(&revoked.access_token, identity::LogoutRequest {}))
        .await
        .unwrap();
    // An account that never verified its email is never given a token:
    // all it can present is nothing, like anyone.
    let unverified = frevix_testkit::unique_email("unverified");
    app.sign_up(&unverified, "a perfectly fine passphrase")
        .await;
    let refused = app
        .identity
        .clone()
        .login(identity::LoginRequest {
            email: unverified,
            password: "a perfectly fine passphrase".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        frevix_testkit::status::reason(&refused),
        "EMAIL_NOT_VERIFIED"
    );
    refused_everywhere(&channel, &suspended.access_token).await;
    refused_everywhere(&channel, &revoked.access_token).await;

    let tokens: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("unverified", None),
        ("account", Some(&account.access_token)),
        ("admin", Some(&admin.access_token)),
        ("suspended", Some(&suspended.access_token)),
        ("revoked", Some(&revoked.access_token)),
    ];
    // Logout ends the caller's own session: it goes last.
    let mut order: Vec<(&String, &(bool, bool))> = rpcs.iter().collect();
    order.sort_by_key(|(rpc, _)| rpc.ends_with("IdentityService/Logout"));
    let mut wrong = Vec::new();
    for (rpc, streams) in order {
        for (caller, token) in tokens {
            let expected = &rows[rpc][caller];
            let got = match call(&channel, rpc, *streams, token).await {
                Ok(()) => "ok".to_owned(),
                Err(code) => code_name(code),
            };
            if &got != expected {
                wrong.push(format!("{rpc} as {caller}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    app.stop().await;
}
