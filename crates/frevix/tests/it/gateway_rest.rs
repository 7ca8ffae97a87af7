//! REST/JSON through Envoy in front of the all-in-one: the same RPCs, auth,
//! errors and update semantics as gRPC, spoken with curl. (The mesh's is
//! `scripts/rest-test.sh`, run by the browser test's mesh.)

use frevix_testkit::{Backend, TestApp};
use serde_json::Value;

/// curl's answer: the HTTP status and the JSON body (Null when empty).
async fn rest(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut command = tokio::process::Command::new("curl");
    command
        .args(["-sS", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", "content-type: application/json"]);
    if let Some(token) = token {
        command.args(["-H", &format!("authorization: Bearer {token}")]);
    }
    if let Some(body) = body {
        command.args(["-d", body]);
    }
    let output = command
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    };
    (status.parse().unwrap(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_json_reaches_the_same_rpcs_with_the_same_rules() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let user = app.register().await;
    let gateway = app.spawn_gateway().await;
    let port = gateway.port;
    let token = Some(user.access_token.as_str());

    // A public read, as JSON with proto3's JSON names.
    let (status, categories) = rest(port, "GET", "/v1/categories", None, None).await;
    assert_eq!(status, 200, "{categories}");
    assert!(
        categories["categories"][0]["children"][0]["parentId"].is_string(),
        "{categories}"
    );

    // The token rule is the gRPC one: none → 401, a good one → the account.
    let (status, _) = rest(port, "GET", "/v1/me", None, None).await;
    assert_eq!(status, 401);
    let (status, me) = rest(port, "GET", "/v1/me", token, None).await;
    assert_eq!(
        (status, me["account"]["email"].as_str()),
        (200, Some(user.email.as_str())),
        "{me}"
    );

    // Update semantics: a PATCH changes what its mask names, nothing else.
    let (status, updated) = rest(
        port,
        "PATCH",
        "/v1/me?update_mask=display_name",
        token,
        Some(r#"{"displayName": "Renamed over REST", "roles": ["ROLE_CLIENT"]}"#),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["account"]["displayName"], "Renamed over REST");
    assert_eq!(
        updated["account"]["roles"], me["account"]["roles"],
        "roles were not in the mask"
    );

    // A bad request: 400 with its google.rpc.Status as JSON, field by field.
    let (status, bad) = rest(
        port,
        "POST",
        "/v1/gigs:search",
        None,
        Some(r#"{"minPrice": {"currencyCode": "usd", "minorUnits": "-5"}}"#),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["code"], 3, "{bad}");
    let fields: Vec<&str> = bad["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .flat_map(|d| d["fieldViolations"].as_array().unwrap())
        .filter_map(|v| v["field"].as_str())
        .collect();
    assert!(fields.iter().any(|f| f.starts_with("min_price")), "{bad}");

    // What JSON cannot be: a wrong type or a misspelt parameter is 400 too.
    let (status, _) = rest(
        port,
        "POST",
        "/v1/gigs:search",
        None,
        Some(r#"{"query": 5}"#),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = rest(port, "GET", "/v1/categories?colour=red", None, None).await;
    assert_eq!(status, 400);
    // Someone else's resource: 404, as over gRPC.
    let (status, missing) = rest(
        port,
        "GET",
        "/v1/contracts/6f1c2a52-3c1e-4b8e-9a55-3f0f1f7f3a10",
        token,
        None,
    )
    .await;
    assert_eq!(
        (status, missing["code"].as_i64()),
        (404, Some(5)),
        "{missing}"
    );
    app.stop().await;
}
