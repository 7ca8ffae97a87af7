//! `frevix payments reconcile` on an all-in-one data directory: the books
//! and the sandbox provider agree, then a refund made at the provider by
//! hand is printed as a difference and the command fails.

use sea_orm::{ConnectionTrait, Statement};

async fn reconcile(data_dir: &std::path::Path) -> std::process::Output {
    let today = chrono::Utc::now().date_naive();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_frevix"))
        .args(["payments", "reconcile", "--from"])
        .arg((today - chrono::Duration::days(1)).to_string())
        .arg("--until")
        .arg((today + chrono::Duration::days(1)).to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("FREVIX_CONFIG")
        .env_remove("FREVIX_PAYMENTS__DATABASE__URL")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_refund_made_by_hand_at_the_provider_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let agreed = reconcile(dir.path()).await;
    let printed = String::from_utf8_lossy(&agreed.stdout).into_owned();
    assert!(
        agreed.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&agreed.stderr)
    );
    assert!(
        printed.contains("the books agree with the provider"),
        "{printed}"
    );

    let url = frevix_platform::db::sqlite_url(&dir.path().join("payments-sandbox.db"));
    let provider = sea_orm::Database::connect(url).await.unwrap();
    provider
        .execute_raw(Statement::from_sql_and_values(
            provider.get_database_backend(),
            "INSERT INTO sandbox_objects (id, kind, idempotency_key, fingerprint, amount_minor, \
             currency, status, secret, reference, failure, created_at) \
             VALUES ('re_by_hand', 'refund', 'dashboard', '', 500, 'USD', 'succeeded', '', NULL, NULL, ?)",
            [chrono::Utc::now().into()],
        ))
        .await
        .unwrap();
    let differed = reconcile(dir.path()).await;
    let printed = String::from_utf8_lossy(&differed.stdout).into_owned();
    assert!(!differed.status.success());
    assert!(
        printed.contains(
            "DIFFERENCE refund re_by_hand of 500 USD is at the provider but not in the books"
        ),
        "{printed}"
    );
}
