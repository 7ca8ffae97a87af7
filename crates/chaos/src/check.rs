//! The checker: once the faults stop, everything must settle, and then
//! every promise is read back from the databases, the broker and the
//! provider — each saga at its end, the books balanced and agreeing with
//! the provider, one charge per funding and one transfer or refund per
//! release or refund, every outbox row published and every consumer caught
//! up, no timer left behind, no contract step applied twice, no chat
//! message lost or doubled, no notification doubled.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1::{ContractStatus as C, MilestoneStatus as M};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};

use crate::api::Api;
use crate::mesh::{Mesh, SERVICES, database_url};
use crate::saga::{CLIENT_SHARE_BPS, Ending, Outcome, PRICE};
use crate::steps::{contract, milestone_is, status_is};

/// Waits up to `within` for nothing to be wrong; what is still wrong then.
pub async fn settle(
    mesh: &Mesh,
    api: &Api,
    outcomes: &[Outcome],
    all_ended: bool,
    within: Duration,
) -> (Duration, Vec<String>) {
    let started = Instant::now();
    loop {
        let found = match anomalies(mesh, api, outcomes, all_ended).await {
            Ok(found) => found,
            Err(error) => vec![format!("the checker could not read: {error:#}")],
        };
        if found.is_empty() || started.elapsed() > within {
            return (started.elapsed(), found);
        }
        if let Some(first) = found.first()
            && started.elapsed().as_secs().is_multiple_of(10)
        {
            println!("chaos: settling ({} open), e.g. {first}", found.len());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn connect(mesh: &Mesh, service: &str) -> anyhow::Result<DatabaseConnection> {
    Ok(sea_orm::Database::connect(database_url(&mesh.postgres, service)).await?)
}

/// Rows of `sql`, each as its first column (a text).
async fn rows(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<String>> {
    let found = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await?;
    Ok(found
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap_or_default())
        .collect())
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let found = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await?;
    Ok(found
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(-1))
}

async fn anomalies(
    mesh: &Mesh,
    api: &Api,
    outcomes: &[Outcome],
    all_ended: bool,
) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for exited in mesh.exited().await {
        found.push(format!("{exited} exited by itself"));
    }
    ends(api, outcomes, &mut found).await?;
    for service in SERVICES {
        let db = connect(mesh, service).await?;
        let unpublished = count(
            &db,
            "SELECT count(*) FROM outbox WHERE published_at IS NULL",
        )
        .await?;
        if unpublished != 0 {
            found.push(format!(
                "{service}: {unpublished} outbox rows never published"
            ));
        }
        let has_timers = count(
            &db,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'timers'",
        )
        .await?;
        if has_timers > 0 {
            for late in rows(&db, "SELECT kind || ' ' || subject || ' due ' || due_at || ', ' || attempts || ' attempts' FROM timers WHERE due_at < now() - interval '5 seconds'").await? {
                found.push(format!("{service}: a due timer never fired: {late}"));
            }
        }
        db.close().await?;
    }
    applied_once(mesh, &mut found).await?;
    chat(mesh, outcomes, &mut found).await?;
    money(mesh, outcomes, all_ended, &mut found).await?;
    consumers(mesh, &mut found).await?;
    Ok(found)
}

/// Each saga's contract is where its ending leaves it, reviewed by both
/// when completed.
async fn ends(api: &Api, outcomes: &[Outcome], found: &mut Vec<String>) -> anyhow::Result<()> {
    for outcome in outcomes {
        let seen = contract(api, &outcome.buyer, &outcome.contract_id).await?;
        let escrow = seen.in_escrow.as_ref().map_or(0, |m| m.minor_units);
        let ended = match outcome.ending {
            Ending::Completed => {
                status_is(&seen, C::Completed) && milestone_is(&seen, &[M::Released])
            }
            Ending::Cancelled => {
                status_is(&seen, C::Cancelled) && milestone_is(&seen, &[M::Refunded])
            }
            Ending::Disputed => milestone_is(&seen, &[M::Split]),
        };
        if !ended || escrow != 0 {
            found.push(format!(
                "contract {} ({:?}) ended at {:?}, milestone {:?}, {escrow} in escrow",
                outcome.contract_id,
                outcome.ending,
                C::try_from(seen.status),
                seen.milestones.first().map(|m| M::try_from(m.status))
            ));
        }
    }
    Ok(())
}

/// Each step that happens once to a contract (an event applied, a timer
/// fired, a command answered) is in its timeline once.
async fn applied_once(mesh: &Mesh, found: &mut Vec<String>) -> anyhow::Result<()> {
    let db = connect(mesh, "contracts").await?;
    for double in rows(
        &db,
        "SELECT contract_id::text || ' ' || action || ' x' || count(*) FROM timeline \
         WHERE action IN ('ORDER_PLACED', 'CONTRACT_CREATED', 'MILESTONE_FUNDED', \
           'MILESTONE_APPROVED', 'MILESTONE_RELEASED', 'MILESTONE_REFUNDED', 'CONTRACT_COMPLETED', \
           'CONTRACT_CANCELLED', 'DISPUTE_OPENED', 'DISPUTE_RESOLVED', 'REVIEW_SUBMITTED') \
         GROUP BY contract_id, action, coalesce(milestone_id::text, ''), coalesce(actor_id::text, '') \
         HAVING count(*) > 1",
    )
    .await?
    {
        found.push(format!("a contract's step happened twice: {double}"));
    }
    db.close().await?;
    Ok(())
}

/// Every message each saga sent is there once, and every conversation's
/// sequence runs from 1 without a gap.
async fn chat(mesh: &Mesh, outcomes: &[Outcome], found: &mut Vec<String>) -> anyhow::Result<()> {
    let db = connect(mesh, "messaging").await?;
    for gap in rows(&db, "SELECT conversation_id::text || ': ' || count(*) || ' messages, sequences ' || min(seq) || '..' || max(seq) FROM messages GROUP BY conversation_id HAVING min(seq) <> 1 OR max(seq) <> count(*)").await? {
        found.push(format!("a conversation's sequence has a gap or a double: {gap}"));
    }
    for double in rows(&db, "SELECT client_message_id || ' x' || count(*) FROM messages WHERE client_message_id <> '' GROUP BY conversation_id, sender_id, client_message_id HAVING count(*) > 1").await? {
        found.push(format!("a chat message stored twice: {double}"));
    }
    for double in rows(&db, "SELECT account_id::text || ' ' || kind || ' ' || source_key || ' x' || count(*) FROM notifications WHERE source_key <> '' GROUP BY account_id, kind, source_key HAVING count(*) > 1").await? {
        found.push(format!("a notification made twice: {double}"));
    }
    for outcome in outcomes {
        let ids = outcome
            .sent
            .iter()
            .map(|id| format!("'{}'", id.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(",");
        let stored = count(&db, &format!(
            "SELECT count(*) FROM messages WHERE conversation_id = '{}' AND client_message_id IN ({ids})",
            outcome.conversation_id
        ))
        .await?;
        if stored != outcome.sent.len() as i64 {
            found.push(format!(
                "conversation {}: {stored} of the {} messages sent are stored",
                outcome.conversation_id,
                outcome.sent.len()
            ));
        }
    }
    db.close().await?;
    Ok(())
}

/// The books balance and agree with the provider, and the provider made
/// exactly the moves the sagas call for.
async fn money(
    mesh: &Mesh,
    outcomes: &[Outcome],
    all_ended: bool,
    found: &mut Vec<String>,
) -> anyhow::Result<()> {
    let db = connect(mesh, "payments").await?;
    found.extend(
        frevix_payments::store::books(&db)
            .await?
            .into_iter()
            .map(|problem| format!("books: {problem}")),
    );
    let mut config = frevix_payments::PaymentsConfig {
        provider: frevix_payments::ProviderKind::Stripe,
        ..Default::default()
    };
    config.stripe.api_base = mesh.standin.base().to_owned();
    config.stripe.secret_key = "sk_test_frevix_chaos".to_owned().into();
    let provider = frevix_payments::open_provider(&config, &mesh.dir)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = chrono::Utc::now();
    let report = frevix_payments::reconcile::reconcile(
        &db,
        provider.as_ref(),
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(1),
    )
    .await?;
    found.extend(
        report
            .differences
            .iter()
            .map(|difference| format!("books and provider differ: {difference:?}")),
    );
    db.close().await?;

    let malformed = mesh.standin.malformed_events();
    if !malformed.is_empty() {
        found.push(format!("the stand-in made malformed events: {malformed:?}"));
    }
    if mesh.standin.undelivered() != 0 {
        found.push(format!(
            "{} webhooks never delivered",
            mesh.standin.undelivered()
        ));
    }
    // Exact counts hold only when every saga got to its end.
    if !all_ended {
        return Ok(());
    }
    let of = |ending: Ending| outcomes.iter().filter(|o| o.ending == ending).count();
    let (completed, cancelled, disputed) = (
        of(Ending::Completed),
        of(Ending::Cancelled),
        of(Ending::Disputed),
    );
    let disputed_refund = PRICE * i64::from(CLIENT_SHARE_BPS) / 10_000;
    let totals = mesh.standin.totals();
    let expected = [
        ("charges", totals.charges as i64, outcomes.len() as i64),
        ("charged", totals.charged, outcomes.len() as i64 * PRICE),
        (
            "refunds",
            totals.refunds as i64,
            (cancelled + disputed) as i64,
        ),
        (
            "refunded",
            totals.refunded,
            cancelled as i64 * PRICE + disputed as i64 * disputed_refund,
        ),
        (
            "transfers",
            totals.transfers as i64,
            (completed + disputed) as i64,
        ),
        ("reversals", totals.reversals as i64, 0),
    ];
    for (what, made, want) in expected {
        if made != want {
            found.push(format!(
                "the provider's {what}: {made}, the sagas call for {want}"
            ));
        }
    }
    Ok(())
}

/// Every durable consumer on every stream has nothing pending.
async fn consumers(mesh: &Mesh, found: &mut Vec<String>) -> anyhow::Result<()> {
    use tokio_stream::StreamExt as _;
    let client = async_nats::connect(&mesh.nats).await?;
    let jetstream = async_nats::jetstream::new(client);
    let names: Vec<String> = jetstream.stream_names().collect::<Result<_, _>>().await?;
    for name in names {
        let stream = jetstream.get_stream(&name).await?;
        let consumers: Vec<_> = stream.consumers().collect::<Result<_, _>>().await?;
        for info in consumers {
            if info.config.durable_name.is_none() {
                continue;
            }
            if info.num_pending != 0 || info.num_ack_pending != 0 {
                found.push(format!(
                    "consumer {} on {name}: {} pending, {} unacknowledged",
                    info.name, info.num_pending, info.num_ack_pending
                ));
            }
        }
    }
    Ok(())
}
