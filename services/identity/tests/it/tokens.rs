//! Access tokens are checked by every server's auth layer. These tests use a
//! second server that trusts identity only through its JWKS over HTTP, as a
//! service in another process does, and throw bad tokens at it.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use frevix::config::Shape;
use frevix_platform::auth::{AccessClaims, Role};
use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use sea_orm::Database;
use secrecy::ExposeSecret;
use tonic::Code;

/// The server's signing key, read from identity's database and opened with
/// its master key, as an attacker holding both would have it; used to forge
/// the claim-level cases.
async fn signing_key(app: &TestApp) -> (String, EncodingKey) {
    let db = Database::connect(app.config.identity.database.url.expose_secret())
        .await
        .unwrap();
    let keys = frevix_identity::store::keys::list_published_keys(&db, Utc::now())
        .await
        .unwrap();
    let key = &keys[0];
    let secrets = frevix_identity::secrets::Secrets::load(
        &app.config.identity.master_key,
        &app.config.identity.master_key_file,
    )
    .unwrap();
    let pem = secrets.open(&key.private_key_pem).unwrap();
    (key.kid.clone(), EncodingKey::from_ec_pem(&pem).unwrap())
}

async fn signing_keys_are_stored_sealed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = Database::connect(app.config.identity.database.url.expose_secret())
        .await
        .unwrap();
    let keys = frevix_identity::store::keys::list_published_keys(&db, Utc::now())
        .await
        .unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        assert!(!key.private_key_pem.contains("PRIVATE KEY"), "{}", key.kid);
        assert!(EncodingKey::from_ec_pem(key.private_key_pem.as_bytes()).is_err());
    }
    // Another master key cannot open them.
    let other = frevix_identity::secrets::Secrets::from_master(&[9; 32]);
    let keys = frevix_identity::store::keys::list_published_keys(&db, Utc::now())
        .await
        .unwrap();
    assert!(other.open(&keys[0].private_key_pem).is_err());
}

fn claims(app: &TestApp, user: &TestUser) -> AccessClaims {
    let now = Utc::now().timestamp();
    AccessClaims {
        sub: user.account_id.clone(),
        sid: user.session_id.clone(),
        roles: vec![Role::Client],
        iss: app.config.auth.issuer.clone(),
        aud: app.config.auth.audience.clone(),
        iat: now,
        exp: now + 600,
        jti: "t".into(),
        auth_time: now,
        mfa: false,
    }
}

fn sign(kid: &str, key: &EncodingKey, claims: &AccessClaims) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn tokens_are_checked_by_another_servers_auth_layer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let jwks_url = format!("{}/.well-known/jwks.json", app.url());
    let other = app
        .spawn_beside(Shape::of::<frevix_identity::Identity>(), |config| {
            config.auth.jwks_url = jwks_url
        })
        .await;
    let mut remote = other.identity.clone();
    let user = app.register().await;

    // The genuine token passes, checked against keys fetched over HTTP.
    remote
        .get_me(authed(&user.access_token, pb::GetMeRequest {}))
        .await
        .unwrap();

    let (kid, key) = signing_key(&app).await;
    let genuine = claims(&app, &user);
    let mut forged = Vec::new();

    let mut expired = genuine.clone();
    expired.iat -= 3600;
    expired.exp = Utc::now().timestamp() - 120;
    forged.push(("expired", sign(&kid, &key, &expired), "TOKEN_EXPIRED"));

    let mut wrong_issuer = genuine.clone();
    wrong_issuer.iss = "https://evil.example".into();
    forged.push((
        "wrong issuer",
        sign(&kid, &key, &wrong_issuer),
        "TOKEN_INVALID",
    ));

    let mut wrong_audience = genuine.clone();
    wrong_audience.aud = "someone-else".into();
    forged.push((
        "wrong audience",
        sign(&kid, &key, &wrong_audience),
        "TOKEN_INVALID",
    ));

    let parts: Vec<&str> = user.access_token.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["roles"] = serde_json::json!(["CLIENT", "FREELANCER", "ADMIN"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    forged.push(("tampered payload", tampered, "TOKEN_INVALID"));

    let none_header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
    let alg_none = format!("{none_header}.{}.", parts[1]);
    forged.push(("alg none", alg_none, "TOKEN_INVALID"));

    let hs_header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#));
    forged.push((
        "alg HS256",
        format!("{hs_header}.{}.{}", parts[1], parts[2]),
        "TOKEN_INVALID",
    ));

    let stranger = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
    let stranger_pem = stranger.to_pkcs8_pem(LineEnding::LF).unwrap();
    let stranger_key = EncodingKey::from_ec_pem(stranger_pem.as_bytes()).unwrap();
    forged.push((
        "wrong key, same kid",
        sign(&kid, &stranger_key, &genuine),
        "TOKEN_INVALID",
    ));
    forged.push((
        "unknown kid",
        sign("no-such-kid", &stranger_key, &genuine),
        "TOKEN_INVALID",
    ));
    forged.push(("garbage", "not.a.jwt".to_owned(), "TOKEN_INVALID"));

    for (case, token, expected_reason) in forged {
        let error = remote
            .get_me(authed(&token, pb::GetMeRequest {}))
            .await
            .expect_err(case);
        assert_eq!(error.code(), Code::Unauthenticated, "{case}");
        assert_eq!(reason(&error), expected_reason, "{case}");
    }

    let missing = remote.get_me(pb::GetMeRequest {}).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(reason(&missing), "TOKEN_MISSING");
    other.stop().await;
}

async fn the_jwks_lists_the_key_that_signs_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register().await;
    let (kid, _) = signing_key(&app).await;
    let header = jsonwebtoken::decode_header(&user.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));

    let body = http_get(&format!("{}/.well-known/jwks.json", app.url())).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&body).unwrap();
    let jwk = set.find(&kid).expect("signing key published");
    assert!(!body.contains("\"d\""), "no private part is published");
    let decoded = jsonwebtoken::decode::<AccessClaims>(
        &user.access_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &{
            let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
            validation.set_audience(&[app.config.auth.audience.as_str()]);
            validation
        },
    )
    .unwrap();
    assert_eq!(decoded.claims.sub, user.account_id);
    assert_eq!(decoded.claims.sid, user.session_id);
    assert_eq!(decoded.claims.iss, app.config.auth.issuer);
    assert!(decoded.claims.exp - decoded.claims.iat <= 15 * 60);
}

async fn http_get(url: &str) -> String {
    let output = tokio::process::Command::new("curl")
        .args(["-sf", url])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "GET {url} failed");
    String::from_utf8(output.stdout).unwrap()
}

async fn admin_actions_need_a_second_factor_and_a_recent_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let list = |token: &str| authed(token, pb::ListAccountsRequest::default());

    // Signed in with the password only: not enough for ADMIN actions, here
    // or in another service.
    let password_only = app.admin_password_only().await;
    let refused = identity
        .list_accounts(list(&password_only.access_token))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "TWO_FACTOR_REQUIRED");
    let category = app
        .marketplace
        .clone()
        .create_category(authed(
            &password_only.access_token,
            frevix_proto::marketplace::v1::CreateCategoryRequest {
                name: "Voice acting".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&category), "TWO_FACTOR_REQUIRED");

    // With a second factor, freshly: allowed.
    let (admin, _) = app.enable_two_factor(&password_only).await;
    identity
        .list_accounts(list(&admin.access_token))
        .await
        .unwrap();

    // The same session proving itself 11 minutes ago: not recent enough.
    let (kid, key) = signing_key(&app).await;
    let mut stale = claims(&app, &admin);
    stale.roles = vec![Role::Client, Role::Freelancer, Role::Admin];
    stale.mfa = true;
    stale.auth_time = Utc::now().timestamp() - 11 * 60;
    let stale = sign(&kid, &key, &stale);
    let refused = identity.list_accounts(list(&stale)).await.unwrap_err();
    assert_eq!(reason(&refused), "REAUTHENTICATION_REQUIRED");

    // Reauthenticate answers a token that is recent again.
    let fresh = identity
        .reauthenticate(authed(
            &stale,
            pb::ReauthenticateRequest {
                password: admin.password.clone(),
                second_factor_code: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .access_token;
    identity.list_accounts(list(&fresh)).await.unwrap();
    let wrong = identity
        .reauthenticate(authed(
            &stale,
            pb::ReauthenticateRequest {
                password: "not the password at all".into(),
                second_factor_code: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&wrong), "INVALID_CREDENTIALS");
}

on_both_backends!(
    admin_actions_need_a_second_factor_and_a_recent_authentication,
    signing_keys_are_stored_sealed,
    tokens_are_checked_by_another_servers_auth_layer,
    the_jwks_lists_the_key_that_signs_tokens,
);
