//! Envoy in front of Frevix (the rendered all-in-one configuration, with
//! the test's ports): public RPCs pass without a token, the rest need one
//! (Envoy checks it against identity's JWKS before the service does),
//! browsers get grpc-web with one set of CORS headers, and a live feed
//! streams through it.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use frevix_proto::identity::v1 as identity;
use frevix_proto::messaging::v1 as messaging;
use frevix_testkit::{Backend, TestApp, authed, repo};
use tokio_stream::StreamExt as _;
use tonic::Code;

/// Runs a tool from the project's `.venv` and returns what it printed.
async fn tool(name: &str, args: &[&str]) -> String {
    let output = tokio::process::Command::new(repo().join(".venv/bin").join(name))
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn curl(args: &[&str]) -> String {
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null"])
        .args(args)
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&output.stdout).to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_fronts_frevix_for_apps_and_browsers() {
    // Behind Envoy the server answers no CORS itself.
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let user = app.register().await;
    let gateway = app.spawn_gateway().await;
    let mut identity =
        identity::identity_service_client::IdentityServiceClient::new(gateway.channel.clone());

    // No token: Envoy refuses before the service sees the call.
    let refused = identity
        .get_me(identity::GetMeRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let forged = identity
        .get_me(authed("not.a.token", identity::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);
    let me = identity
        .get_me(authed(&user.access_token, identity::GetMeRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.account.unwrap().email, user.email);

    // A mobile app on a slow link: gzip both ways, through Envoy.
    let zipped = identity
        .clone()
        .send_compressed(tonic::codec::CompressionEncoding::Gzip)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .get_me(authed(&user.access_token, identity::GetMeRequest {}))
        .await
        .expect("a gzip request passes Envoy and is served");
    assert_eq!(
        zipped
            .metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(zipped.into_inner().account.unwrap().email, user.email);

    // A browser: grpc-web with CORS, answered once by Envoy.
    let body = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(body.path(), [0u8, 0, 0, 0, 0]).unwrap();
    let url = format!(
        "http://127.0.0.1:{}/frevix.identity.v1.IdentityService/GetMe",
        gateway.port
    );
    let auth = format!("authorization: Bearer {}", user.access_token);
    let data = format!("@{}", body.path().display());
    let headers = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/grpc-web+proto",
        "-H",
        "x-grpc-web: 1",
        "-H",
        "origin: http://localhost:5173",
        "-H",
        &auth,
        "--data-binary",
        &data,
        &url,
    ])
    .await;
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(
        headers.contains("content-type: application/grpc-web"),
        "{headers}"
    );
    assert_eq!(
        headers.matches("access-control-allow-origin").count(),
        1,
        "one set of CORS headers: {headers}"
    );
    let preflight = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "origin: http://localhost:5173",
        "-H",
        "access-control-request-method: POST",
        "-H",
        "access-control-request-headers: content-type,x-grpc-web,authorization",
        &url,
    ])
    .await;
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-headers"),
        "{preflight}"
    );
    let stranger = curl(&[
        "-X",
        "OPTIONS",
        "-H",
        "origin: https://evil.example",
        "-H",
        "access-control-request-method: POST",
        &url,
    ])
    .await;
    assert!(
        !stranger.contains("access-control-allow-origin"),
        "{stranger}"
    );

    // The README's tools through Envoy: grpcurl and buf curl (grpc-web),
    // both describing the API by reflection.
    let target = format!("127.0.0.1:{}", gateway.port);
    let listed = tool("grpcurl", &["-plaintext", &target, "list"]).await;
    assert!(
        listed.contains("frevix.messaging.v1.MessagingService"),
        "{listed}"
    );
    let categories = tool(
        "grpcurl",
        &[
            "-plaintext",
            &target,
            "frevix.marketplace.v1.MarketplaceService/ListCategories",
        ],
    )
    .await;
    assert!(categories.contains("\"slug\""), "{categories}");
    // Error details read as JSON: their google.rpc types are in reflection.
    let refused = tokio::process::Command::new(repo().join(".venv/bin/grpcurl"))
        .args([
            "-plaintext",
            "-d",
            r#"{"email":"not an email","password":"x"}"#,
        ])
        .arg(&target)
        .arg("frevix.identity.v1.IdentityService/Login")
        .output()
        .await
        .unwrap();
    let refused = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(refused.contains("google.rpc.BadRequest"), "{refused}");
    assert!(refused.contains("\"fieldViolations\""), "{refused}");
    // The fields say it all: no ErrorInfo repeating the code.
    assert!(!refused.contains("google.rpc.ErrorInfo"), "{refused}");
    let web = tool(
        "buf",
        &[
            "curl",
            "--protocol",
            "grpcweb",
            &format!("http://{target}/frevix.marketplace.v1.MarketplaceService/ListCategories"),
        ],
    )
    .await;
    assert!(web.contains("\"slug\""), "{web}");
    // … and the same commands straight at the all-in-one port.
    let direct = app.addr.to_string();
    let listed = tool("grpcurl", &["-plaintext", &direct, "list"]).await;
    assert!(
        listed.contains("frevix.marketplace.v1.MarketplaceService"),
        "{listed}"
    );
    let web = tool(
        "buf",
        &[
            "curl",
            "--protocol",
            "grpcweb",
            &format!("http://{direct}/frevix.marketplace.v1.MarketplaceService/ListCategories"),
        ],
    )
    .await;
    assert!(web.contains("\"slug\""), "{web}");

    // A live feed through Envoy.
    let other = app.register().await;
    let chat = app
        .messaging
        .clone()
        .open_direct_conversation(authed(
            &other.access_token,
            messaging::OpenDirectConversationRequest {
                account_id: user.account_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    let mut feed =
        messaging::messaging_service_client::MessagingServiceClient::new(gateway.channel.clone())
            .subscribe(authed(
                &user.access_token,
                messaging::SubscribeRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner();
    app.messaging
        .clone()
        .send_message(authed(
            &other.access_token,
            messaging::SendMessageRequest {
                conversation_id: chat.id.clone(),
                text: "through the gateway".into(),
                client_message_id: "g-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let heard = loop {
        let item = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("the feed went quiet")
            .unwrap()
            .unwrap();
        if let Some(messaging::subscribe_response::Event::Message(m)) = item.event {
            break m;
        }
    };
    assert_eq!(heard.text, "through the gateway");
}

/// One gRPC VerifyEmail through the gateway from `source` (a loopback
/// address of the test machine, as a distinct client); its status code.
async fn verify_email_from(source: &str, port: u16) -> String {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .local_address(Some(source.parse().unwrap()))
        .connect()
        .await
        .unwrap();
    let answer = identity::identity_service_client::IdentityServiceClient::new(channel)
        .verify_email(identity::VerifyEmailRequest {
            email: frevix_testkit::unique_email("limited"),
            code: "123456".into(),
        })
        .await;
    match answer {
        Ok(_) => "0".to_owned(),
        Err(status) => (status.code() as i32).to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_sign_in_limit_leaves_other_clients_theirs() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let gateway = app.spawn_gateway().await;
    // One client hammers VerifyEmail (each with a new email, so only the
    // gateway's per-client bucket can stop it).
    let mut answers = Vec::new();
    for _ in 0..15 {
        answers.push(verify_email_from("127.0.0.2", gateway.port).await);
    }
    assert_eq!(answers[0], "3", "a wrong code: {answers:?}");
    assert!(
        answers.iter().any(|status| status == "8"),
        "RESOURCE_EXHAUSTED at the gateway: {answers:?}"
    );
    // Another client is still served.
    assert_eq!(verify_email_from("127.0.0.3", gateway.port).await, "3");
}

/// The gateway's allow-list is the services' own.
#[test]
fn the_gateway_lets_through_exactly_the_public_rpcs() {
    for file in ["envoy-mesh.yaml", "envoy-all-in-one.yaml"] {
        let text = std::fs::read_to_string(repo().join("gateway-envoy").join(file)).unwrap();
        // The rendered file is JSON after its comment line.
        let json = text.split_once('\n').unwrap().1;
        let config: serde_json::Value = serde_json::from_str(json).unwrap();
        let filters = &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"];
        let jwt = filters
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "envoy.filters.http.jwt_authn")
            .unwrap();
        let mut open: Vec<String> = jwt["typed_config"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|rule| rule.get("requires").is_none())
            .filter_map(|rule| rule["match"]["path"].as_str().map(str::to_owned))
            .collect();
        open.sort();
        let mut public: Vec<String> = frevix::registry::SERVICES
            .iter()
            .flat_map(|entry| entry.public_methods())
            .map(|m| (*m).to_owned())
            .collect();
        public.sort();
        assert_eq!(open, public, "{file}");
    }
}
