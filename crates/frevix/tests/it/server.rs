//! What every Frevix server offers besides its services: health, reflection
//! (v1 and the v1alpha grpcurl 1.8 speaks), grpc-web and CORS for browsers,
//! and a clean stop.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

use frevix_proto::identity::v1 as pb;
use frevix_testkit::{Backend, TestApp, on_both_backends};
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

async fn channel(app: &TestApp) -> Channel {
    Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn health_reports_every_service_serving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut health = HealthClient::new(channel(&app).await);
    for service in ["", "frevix.identity.v1.IdentityService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
}

async fn reflection_lists_the_services_in_both_versions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    {
        use tonic_reflection::pb::v1::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(channel(&app).await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = stream.next().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected reflection answer");
        };
        let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
        assert!(
            names.contains(&"frevix.identity.v1.IdentityService".to_owned()),
            "{names:?}"
        );
        assert!(
            names.contains(&"grpc.health.v1.Health".to_owned()),
            "{names:?}"
        );
    }
    {
        use tonic_reflection::pb::v1alpha::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(channel(&app).await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "frevix.identity.v1.IdentityService".into(),
            )),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = stream.next().await.unwrap().unwrap();
        let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
            panic!("unexpected reflection answer");
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }
}

/// Posts one grpc-web call over HTTP/1.1 with curl, as a browser would.
async fn grpc_web(
    app: &TestApp,
    method: &str,
    message: &impl prost::Message,
    token: Option<&str>,
) -> (String, Vec<u8>) {
    grpc_web_bytes(app, method, &message.encode_to_vec(), token).await
}

/// Like [`grpc_web`] with the message's bytes as given (valid or not).
async fn grpc_web_bytes(
    app: &TestApp,
    method: &str,
    payload: &[u8],
    token: Option<&str>,
) -> (String, Vec<u8>) {
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(payload);
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), &frame).unwrap();
    let mut command = tokio::process::Command::new("curl");
    command
        .args(["-s", "--http1.1", "-D", "-", "-o", "-", "-X", "POST"])
        .args([
            "-H",
            "content-type: application/grpc-web+proto",
            "-H",
            "x-grpc-web: 1",
        ])
        .args(["-H", "origin: http://localhost:5173"])
        .arg("--data-binary")
        .arg(format!("@{}", body.path().display()))
        .arg(format!(
            "{}/frevix.identity.v1.IdentityService/{method}",
            app.url()
        ))
        .stdout(Stdio::piped());
    if let Some(token) = token {
        command.args(["-H", &format!("authorization: Bearer {token}")]);
    }
    let output = command.output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let split = text.find("\r\n\r\n").map_or(0, |i| i + 4);
    (
        text[..split].to_lowercase(),
        output.stdout[split..].to_vec(),
    )
}

async fn browsers_call_over_grpc_web_with_cors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register().await;

    let (headers, body) = grpc_web(
        &app,
        "GetMe",
        &pb::GetMeRequest {},
        Some(&user.access_token),
    )
    .await;
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(
        headers.contains("content-type: application/grpc-web"),
        "{headers}"
    );
    assert!(headers.contains("access-control-allow-origin"), "{headers}");
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains(&user.email), "the account comes back: {body}");
    assert!(
        body.contains("grpc-status:0"),
        "trailers in the body: {body}"
    );

    let (headers, _) = grpc_web(&app, "GetMe", &pb::GetMeRequest {}, None).await;
    assert!(
        headers.contains("grpc-status: 16"),
        "unauthenticated: {headers}"
    );

    let preflight = tokio::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS"])
        .args(["-H", "origin: http://localhost:5173"])
        .args(["-H", "access-control-request-method: POST"])
        .args([
            "-H",
            "access-control-request-headers: content-type,x-grpc-web,authorization",
        ])
        .arg(format!(
            "{}/frevix.identity.v1.IdentityService/GetMe",
            app.url()
        ))
        .output()
        .await
        .unwrap();
    let preflight = String::from_utf8_lossy(&preflight.stdout).to_lowercase();
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-headers"),
        "{preflight}"
    );

    // Any other web page is not allowed to use a signed-in user's token.
    let foreign = tokio::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS"])
        .args(["-H", "origin: https://attacker.example"])
        .args(["-H", "access-control-request-method: POST"])
        .args(["-H", "access-control-request-headers: authorization"])
        .arg(format!(
            "{}/frevix.identity.v1.IdentityService/GetMe",
            app.url()
        ))
        .output()
        .await
        .unwrap();
    let foreign = String::from_utf8_lossy(&foreign.stdout).to_lowercase();
    assert!(
        !foreign.contains("access-control-allow-origin"),
        "{foreign}"
    );
}

async fn a_stopped_server_drains_and_refuses_new_calls(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let addr = app.addr;
    app.register().await;
    app.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

async fn a_malformed_message_is_invalid_argument_not_internal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Field 1 (email) as a string whose bytes are not UTF-8; then a truncated varint.
    for payload in [&[0x0a, 0x03, 0xff, 0xfe, 0xfd][..], &[0x08, 0xff][..]] {
        let (headers, body) = grpc_web_bytes(&app, "Login", payload, None).await;
        let answer = format!("{headers}{}", String::from_utf8_lossy(&body)).to_lowercase();
        assert!(answer.contains("grpc-status: 3"), "{answer}");
        assert!(!answer.contains("decode"), "no decoder details: {answer}");
        assert!(!answer.contains("grpc-status: 13"), "{answer}");
    }
}

on_both_backends!(
    a_malformed_message_is_invalid_argument_not_internal,
    health_reports_every_service_serving,
    reflection_lists_the_services_in_both_versions,
    browsers_call_over_grpc_web_with_cors,
    a_stopped_server_drains_and_refuses_new_calls,
);

mod mesh {
    //! One service per process, as the mesh runs them.

    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use frevix::config::Shape;
    use frevix_proto::marketplace::v1 as market;
    use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
    use tonic::Code;

    async fn marketplace_alone_trusts_identity_through_its_jwks(backend: Backend) {
        let identity = TestApp::spawn(backend).await;
        let jwks_url = format!("{}/.well-known/jwks.json", identity.url());
        let marketplace = identity
            .spawn_beside(Shape::of::<frevix_marketplace::Marketplace>(), |config| {
                config.auth.jwks_url = jwks_url
            })
            .await;
        let user = identity.register().await;
        let mut client = marketplace.marketplace.clone();
        let jobs = client
            .list_my_jobs(authed(
                &user.access_token,
                market::ListMyJobsRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(jobs.jobs.is_empty());
        let anonymous = client
            .list_my_jobs(market::ListMyJobsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(anonymous.code(), Code::Unauthenticated);
        let public = client
            .list_categories(market::ListCategoriesRequest {})
            .await
            .unwrap();
        assert!(!public.into_inner().categories.is_empty());
        // Identity is not served here.
        let elsewhere = marketplace
            .identity
            .clone()
            .get_me(authed(
                &user.access_token,
                frevix_proto::identity::v1::GetMeRequest {},
            ))
            .await
            .unwrap_err();
        assert_eq!(elsewhere.code(), Code::Unimplemented);
        marketplace.stop().await;
    }

    /// Found by `make chaos`: a service started while identity was down
    /// answered valid tokens UNAUTHENTICATED, which signs an app's user out.
    /// It cannot check the token yet: UNAVAILABLE, retry soon.
    async fn with_identitys_keys_out_of_reach_a_token_is_not_refused(backend: Backend) {
        let identity = TestApp::spawn(backend).await;
        let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let jwks_url = format!(
            "http://{}/.well-known/jwks.json",
            nowhere.local_addr().unwrap()
        );
        drop(nowhere);
        let marketplace = identity
            .spawn_beside(Shape::of::<frevix_marketplace::Marketplace>(), |config| {
                config.auth.jwks_url = jwks_url
            })
            .await;
        let user = identity.register().await;
        let refused = marketplace
            .marketplace
            .clone()
            .list_my_jobs(authed(
                &user.access_token,
                market::ListMyJobsRequest::default(),
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
        assert_eq!(frevix_testkit::status::reason(&refused), "KEYS_UNAVAILABLE");
        assert!(frevix_testkit::status::retry_after(&refused).is_some());
        // A token that is not a token is still refused as such.
        let garbage = marketplace
            .marketplace
            .clone()
            .list_my_jobs(authed("not.a.token", market::ListMyJobsRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(garbage.code(), Code::Unauthenticated);
        marketplace.stop().await;
    }

    on_both_backends!(
        marketplace_alone_trusts_identity_through_its_jwks,
        with_identitys_keys_out_of_reach_a_token_is_not_refused,
    );
}
