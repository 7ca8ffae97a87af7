//! Chat figures against one messaging process (the release `frevix serve
//! messaging` binary) on PostgreSQL and NATS, with identity in this
//! process for tokens:
//! - resident memory per idle Chat stream ([`chat_idle`]: 100,000 streams,
//!   100 per connection, in a process of their own; then 10,000, each on
//!   its own connection, beside the latency steps);
//! - at a steady rate of persisted messages between random pairs of online
//!   users, send → recipient delivery latency p50/p99 and messages/s, as a
//!   ratio to pgbench running a transaction of the same shape (take the
//!   next sequence, insert the message, insert its outbox row) in the same
//!   run: 30 s offered at half pgbench's rate, then 10 s at 1.5 times it
//!   (where the path saturates).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, TestUser, authed};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::ExposeSecret;
use tokio_stream::StreamExt as _;

use crate::chat_idle::{self, connect, open_device};
use crate::chat_outbox;
use crate::overload::env_or;

/// Accounts the idle streams belong to (each holds up to
/// [`chat_idle::STREAMS_PER_ACCOUNT`]).
const IDLE_USERS: usize = 100;
/// Users who talk, one stream each.
const ACTIVE_USERS: usize = 200;
/// The latency steps, from pgbench's tps measured in the same run: half of
/// it for 30 s (the goal: p99 under 50 ms), then half again more than it
/// for 10 s, to find where the chat path saturates (the goal: at least 0.8
/// of pgbench). `FREVIX_BENCH_CHAT_RATES=2000,2000` picks fixed steps
/// instead, each `FREVIX_BENCH_CHAT_SECONDS` long (default 5).
fn steps(pgbench_tps: f64) -> Vec<(u64, u64)> {
    let fixed: Vec<u64> = std::env::var("FREVIX_BENCH_CHAT_RATES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|r| r.trim().parse().ok())
                .filter(|rate| *rate > 0)
                .collect()
        })
        .unwrap_or_default();
    if !fixed.is_empty() {
        let seconds = std::env::var("FREVIX_BENCH_CHAT_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5);
        return fixed.into_iter().map(|rate| (rate, seconds)).collect();
    }
    let half = (pgbench_tps / 2.0).round().max(1.0) as u64;
    let over = (pgbench_tps * 1.5).round().max(1.0) as u64;
    vec![(half, 30), (over, 10)]
}

async fn register_many(app: &Arc<TestApp>, n: usize) -> Vec<TestUser> {
    let mut users = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { app.register().await })
            })
            .collect();
        for task in tasks {
            users.push(task.await.unwrap());
        }
    }
    users
}

/// Transactions/s of pgbench running the shape of a sent message.
async fn pgbench(url: &str) -> f64 {
    let db = sea_orm::Database::connect(url).await.unwrap();
    use sea_orm::ConnectionTrait;
    for statement in [
        "CREATE TABLE IF NOT EXISTS bench_conversations (id int PRIMARY KEY, last_seq bigint NOT NULL, last_activity_at timestamptz NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_messages (id uuid PRIMARY KEY, conversation_id int NOT NULL, seq bigint NOT NULL, sender_id uuid NOT NULL, text text NOT NULL, created_at timestamptz NOT NULL, UNIQUE (conversation_id, seq))",
        "CREATE TABLE IF NOT EXISTS bench_outbox (seq bigserial PRIMARY KEY, payload bytea NOT NULL, created_at timestamptz NOT NULL)",
        "INSERT INTO bench_conversations SELECT g, 0, now() FROM generate_series(1, 400) g ON CONFLICT DO NOTHING",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    crate::pgbench::tps(url, "message", "\\set c random(1, 400)\n\
         BEGIN;\n\
         UPDATE bench_conversations SET last_seq = last_seq + 1, last_activity_at = now() WHERE id = :c;\n\
         SELECT last_seq FROM bench_conversations WHERE id = :c;\n\
         INSERT INTO bench_messages SELECT gen_random_uuid(), :c, last_seq, gen_random_uuid(), 'hello there, how is the logo going?', now() FROM bench_conversations WHERE id = :c;\n\
         INSERT INTO bench_outbox (payload, created_at) VALUES ('\\x0a2430313933', now());\n\
         END;\n", 5).await
}

pub async fn run() {
    let Ok(binary) = std::env::var("FREVIX_BENCH_FREVIX_BIN") else {
        println!("chat      skipped: FREVIX_BENCH_FREVIX_BIN is not set (make bench sets it)");
        return;
    };
    let app = Arc::new(
        TestApp::spawn_with(Backend::Postgres, |config| {
            let limits = &mut config.identity.rate_limits;
            limits.login_per_address = 1_000_000;
            limits.login_per_account_address = 1_000_000;
            limits.sign_up_per_address = 1_000_000;
            limits.mail_per_address = 1_000_000;
            limits.mail_per_email = 1_000_000;
            limits.code_per_address = 1_000_000;
            limits.code_per_email = 1_000_000;
            // The measured services get their production pools.
            for entry in frevix::registry::SERVICES {
                entry.database_mut(config).max_connections = 10;
            }
        })
        .await,
    );
    let idle = register_many(&app, IDLE_USERS).await;
    let active = register_many(&app, ACTIVE_USERS).await;
    let media = format!("file://{}", app.config.data_dir.join("media").display());
    let per_account = chat_idle::STREAMS_PER_ACCOUNT.to_string();
    let env = [
        ("FREVIX_MESSAGING__MEDIA__STORE_URL", media.as_str()),
        ("FREVIX_MESSAGING__DATABASE__MAX_CONNECTIONS", "16"),
        ("FREVIX_MESSAGING__SENDS_PER_MINUTE", "1000000"),
        (
            "FREVIX_MESSAGING__MAX_STREAMS_PER_ACCOUNT",
            per_account.as_str(),
        ),
        ("FREVIX_SERVER__MAX_CONCURRENT_STREAMS", "1024"),
    ];
    chat_idle::multiplexed(&app, &binary, &idle, &env).await;

    let replica = app
        .spawn_process("messaging", std::path::Path::new(&binary), &env)
        .await;
    let (mut child, port) = (replica.child, replica.port);
    let pid = child.id().unwrap();
    let config = &app.config;
    // The latency steps run beside the direct shape's idle streams.
    let direct: usize = env_or("FREVIX_BENCH_CHAT_DIRECT", 10_000);
    let devices = chat_idle::measure(port, pid, &idle, direct, 1).await;
    let mut talkers = Vec::with_capacity(ACTIVE_USERS);
    for user in &active {
        talkers.push(open_device(connect(port).await, &user.access_token).await);
    }

    // Random pairs of active users, each pair with its conversation.
    let mut messaging = app.messaging.clone();
    let mut pairs = Vec::new();
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..400 {
        let a = rng.gen_range(0..ACTIVE_USERS);
        let mut b = rng.gen_range(0..ACTIVE_USERS);
        if a == b {
            b = (b + 1) % ACTIVE_USERS;
        }
        let conversation = messaging
            .open_direct_conversation(authed(
                &active[a].access_token,
                pb::OpenDirectConversationRequest {
                    account_id: active[b].account_id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .conversation
            .unwrap()
            .id;
        pairs.push((a, conversation));
    }

    // Recipients note when each message arrives (senders see their own
    // messages too; those are not counted).
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    // (when it was sent, how long it took to arrive)
    let latencies: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    // The same for the senders' acknowledgements (stored and answered).
    let acks: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    // Each talker sends as an app's outbox does (`chat_outbox`): a send
    // refused for capacity holds its conversation's later ones in the app
    // and is sent again when the refusal says. Latency counts from a
    // message's first attempt.
    let refusals = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut senders = Vec::new();
    for (device, user) in talkers.into_iter().zip(&active) {
        let (sent_at, latencies, acks) = (sent_at.clone(), latencies.clone(), acks.clone());
        let me = user.account_id.clone();
        let seen = move |event: &pb::chat_response::Event| match event {
            pb::chat_response::Event::Message(message) if message.sender_id != me => {
                if let Some(at) = lock(&sent_at).get(&message.client_message_id) {
                    lock(&latencies).push((*at, at.elapsed()));
                }
            }
            pb::chat_response::Event::Ack(ack) => {
                if let Some(at) = lock(&sent_at).get(&ack.client_message_id) {
                    lock(&acks).push((*at, at.elapsed()));
                }
            }
            _ => {}
        };
        senders.push(chat_outbox::spawn(
            device.frames,
            device.events,
            refusals.clone(),
            seen,
        ));
    }
    // Idle devices drain their streams (heartbeats) without counting.
    let idle_readers: Vec<_> = devices
        .into_iter()
        .map(|device| {
            let mut events = device.events;
            let frames = device.frames;
            tokio::spawn(async move {
                let _frames = frames;
                while let Some(Ok(_)) = events.next().await {}
            })
        })
        .collect();

    let tps = pgbench(config.messaging.database.url.expose_secret()).await;
    println!("baseline  pgbench, the transaction of one sent message (8 clients): {tps:.0} tps");
    for (step, (rate, seconds)) in steps(tps).into_iter().enumerate() {
        lock(&latencies).clear();
        lock(&acks).clear();
        refusals.store(0, std::sync::atomic::Ordering::Relaxed);
        let total = rate * seconds;
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started = Instant::now();
        println!(
            "step      {rate}/s started at {:.3} (Unix time)",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        );
        let mut late: Vec<(Instant, Duration)> = Vec::with_capacity(total as usize);
        for i in 0..total {
            let due = ticker.tick().await;
            // How late the generator itself is (this process stalled).
            late.push((due.into_std(), due.elapsed()));
            let (sender, conversation) = &pairs[rng.gen_range(0..pairs.len())];
            // Unique across steps: a repeated id is a resend, answered
            // with the stored message and not delivered again.
            let client_id = format!("s{step}-r{rate}-{i}");
            sent_at
                .lock()
                .unwrap()
                .insert(client_id.clone(), Instant::now());
            let _ = senders[*sender].send((conversation.clone(), client_id));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while (lock(&latencies).len() as u64) < total && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        let sent = lock(&latencies).clone();
        if std::env::var_os("FREVIX_BENCH_CHAT_TAIL").is_some() {
            print_tail("delivered", started, &sent);
            print_tail("acked", started, &lock(&acks));
            print_tail("generated late", started, &late);
        }
        let delivered = sent.len();
        let (p50, p99) = (quantile(&sent, 0.50), quantile(&sent, 0.99));
        let ack_p99 = quantile(&lock(&acks), 0.99);
        // Messages/s delivered while the step was offering, its first
        // second left out (the path filling up): the offered rate when the
        // path keeps up, its goodput under overload when not (a drained
        // backlog after the step would otherwise count as idle time).
        let window = (
            started + Duration::from_secs(1),
            started + Duration::from_secs(seconds),
        );
        let in_window = sent
            .iter()
            .filter(|(at, took)| (window.0..window.1).contains(&(*at + *took)))
            .count();
        let achieved = in_window as f64 / seconds.saturating_sub(1).max(1) as f64;
        println!(
            "chat      {rate}/s offered for {seconds} s ({:.2} of pgbench): {delivered}/{total} delivered in {:.1} s, p50 {p50:.1} ms   p99 {p99:.1} ms   {achieved:.0} msgs/s while offered   ratio to pgbench tps: {:.2}   (sender's ack p99 {ack_p99:.1} ms)   {} refused and sent again",
            rate as f64 / tps,
            elapsed.as_secs_f64(),
            achieved / tps,
            refusals.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    for reader in idle_readers {
        reader.abort();
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

/// A mutex shared with the readers, taken even if a reader task panicked
/// while holding it (the figures it guards are plain numbers).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `q` quantile of the times taken, in milliseconds.
fn quantile(timed: &[(Instant, Duration)], q: f64) -> f64 {
    let mut took: Vec<Duration> = timed.iter().map(|(_, took)| *took).collect();
    took.sort();
    took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// When the slowest 1 % of a step's messages were sent, by 100 ms of the
/// step (`FREVIX_BENCH_CHAT_TAIL=1`): a stall shows as one crowded slot,
/// saturation as a spread.
fn print_tail(what: &str, started: Instant, sent: &[(Instant, Duration)]) {
    let mut slowest = sent.to_vec();
    slowest.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
    slowest.truncate(sent.len() / 100);
    let mut slots: std::collections::BTreeMap<u128, (usize, Duration)> = Default::default();
    for (at, took) in &slowest {
        let slot = slots
            .entry(at.duration_since(started).as_millis() / 100)
            .or_default();
        slot.0 += 1;
        slot.1 = slot.1.max(*took);
    }
    let line: Vec<String> = slots
        .iter()
        .map(|(slot, (n, worst))| {
            format!("{:.1}s:{n}({}ms)", *slot as f64 / 10.0, worst.as_millis())
        })
        .collect();
    println!("tail      slowest 1 % {what} sent at {}", line.join(" "));
}
