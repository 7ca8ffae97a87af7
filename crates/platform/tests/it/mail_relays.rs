//! Several relays (as several replicas run) sending one mail outbox at
//! once: each queued mail goes out exactly once, on both backends (real
//! SMTP beside PostgreSQL, `.eml` files beside SQLite, as each shape mails).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use frevix_platform::config::MailConfig;
use frevix_platform::db::Txn;
use frevix_platform::mail::{Mail, MailOutbox, Mailer};
use frevix_testkit::{Backend, SmtpSink, TestDatabase, on_both_backends, read_mail};
use sea_orm::DatabaseConnection;
use sea_orm_migration::prelude::*;

struct MailMigrator;

#[async_trait::async_trait]
impl MigratorTrait for MailMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(frevix_platform::mail::schema::MailOutboxTable)]
    }
}

const MAILS: usize = 120;
const RELAYS: usize = 4;

async fn connect(url: &str) -> DatabaseConnection {
    frevix_platform::db::connect_and_migrate::<MailMigrator>(url, 4)
        .await
        .unwrap()
}

fn recipient(i: usize) -> String {
    format!("racer{i}@example.test")
}

async fn relays_send_each_mail_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    // Made by whoever writes it (aiosmtpd makes a maildir only where
    // nothing is yet).
    let maildir = dir.path().join("mail");
    let (_database, url, _sink, smtp_url) = match backend {
        Backend::Postgres => {
            let database = TestDatabase::create::<MailMigrator>("mail").await;
            let url = database.url.clone();
            let sink = SmtpSink::start(&maildir).await;
            let smtp = format!("smtp://127.0.0.1:{}", sink.port);
            (Some(database), url, Some(sink), smtp)
        }
        Backend::Sqlite => {
            let url = frevix_platform::db::sqlite_url(&dir.path().join("mail.db"));
            (None, url, None, String::new())
        }
    };
    let db = connect(&url).await;
    let outbox = MailOutbox::new();
    for i in 0..MAILS {
        let txn = Txn::begin(&db).await.unwrap();
        let mail = Mail {
            to: recipient(i),
            subject: format!("mail {i}"),
            text: "hello".into(),
        };
        outbox.queue(&txn, &mail).await.unwrap();
        txn.commit().await.unwrap();
    }
    let config = MailConfig {
        smtp_url: smtp_url.into(),
        dir: maildir.clone(),
        ..MailConfig::default()
    };
    // Each relay its own pool and mailer, as a replica has.
    let sent = Arc::new(AtomicUsize::new(0));
    let mut relays = Vec::new();
    for _ in 0..RELAYS {
        let db = connect(&url).await;
        let mailer = Mailer::from_config(&config).unwrap();
        let sent = sent.clone();
        relays.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while sent.load(Ordering::SeqCst) < MAILS && Instant::now() < deadline {
                let n = MailOutbox::send_due(&db, &mailer).await.unwrap();
                sent.fetch_add(n, Ordering::SeqCst);
                if n == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }
    for relay in relays {
        relay.await.unwrap();
    }
    assert_eq!(sent.load(Ordering::SeqCst), MAILS, "relays reported sends");
    wait_for_files(&maildir, MAILS).await;
    for i in 0..MAILS {
        let got = read_mail(&maildir, &recipient(i));
        assert_eq!(got.len(), 1, "{} got {} copies", recipient(i), got.len());
    }
    // Nothing left to send.
    let mailer = Mailer::from_config(&config).unwrap();
    assert_eq!(MailOutbox::send_due(&db, &mailer).await.unwrap(), 0);
}

/// SMTP delivery writes the file a moment after the send returns.
async fn wait_for_files(dir: &Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while read_mail(dir, "@example.test").len() < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends!(relays_send_each_mail_once);
