//! The live seams on both implementations: fan-out reaches the other
//! replicas listening on a topic and never the sender, stops at a dropped
//! listener, and leases are seen by every watcher, history first.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use frevix_platform::events::{EventBus, EventsConfig};
use frevix_platform::live::{Fanout, Lease, Leases, Listener, LocalLeases, LocalNetwork};
use frevix_testkit::TestStreams;
use tokio_stream::StreamExt as _;

/// What `listener` hears within `wait`.
async fn heard_within(listener: &mut Listener, wait: Duration) -> Option<Bytes> {
    tokio::time::timeout(wait, listener.next())
        .await
        .ok()
        .flatten()
}

/// The next payload, waiting long enough for a busy machine (the whole
/// suite shares two cores with NATS).
async fn next(listener: &mut Listener) -> Option<Bytes> {
    heard_within(listener, Duration::from_secs(5)).await
}

/// Nothing arrives: by then, anything sent before would have.
async fn silent(listener: &mut Listener) -> bool {
    heard_within(listener, Duration::from_millis(500))
        .await
        .is_none()
}

/// Two replicas: `a` sends on a topic both listen to and on one only `b`
/// listens to.
async fn fan_out_between(a: Arc<dyn Fanout>, b: Arc<dyn Fanout>) {
    let mut a_hears = a.listen("account1").await.unwrap();
    let mut b_hears = b.listen("account1").await.unwrap();
    let mut b_other = b.listen("account2").await.unwrap();
    a.send("account1", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    a.send("account2", Bytes::from_static(b"there"))
        .await
        .unwrap();
    assert_eq!(next(&mut b_hears).await.as_deref(), Some(&b"hello"[..]));
    assert_eq!(next(&mut b_other).await.as_deref(), Some(&b"there"[..]));
    assert!(silent(&mut a_hears).await, "the sender hears itself");
    // A topic nobody listens to any more reaches nobody; the others still work.
    drop(b_other);
    a.send("account2", Bytes::from_static(b"gone"))
        .await
        .unwrap();
    b.send("account1", Bytes::from_static(b"back"))
        .await
        .unwrap();
    assert_eq!(next(&mut a_hears).await.as_deref(), Some(&b"back"[..]));
    assert!(silent(&mut b_hears).await, "the sender hears itself");
}

async fn changes(leases: &dyn Leases, count: usize) -> Vec<Lease> {
    let mut watch = leases.watch().await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < count {
        match tokio::time::timeout(Duration::from_secs(2), watch.next()).await {
            Ok(Some(change)) => seen.push(change),
            _ => break,
        }
    }
    seen
}

/// Replica `a` holds two keys before `b` watches, then releases one.
async fn leases_between(a: Arc<dyn Leases>, b: Arc<dyn Leases>) {
    a.hold("acc1.r1").await.unwrap();
    a.hold("acc2.r1").await.unwrap();
    let mut history = changes(b.as_ref(), 2).await;
    history.sort_by_key(|change| format!("{change:?}"));
    assert_eq!(
        history,
        vec![Lease::Held("acc1.r1".into()), Lease::Held("acc2.r1".into())]
    );
    let mut watch = b.watch().await.unwrap();
    let mut seen = Vec::new();
    a.release("acc1.r1").await.unwrap();
    a.hold("acc2.r1").await.unwrap();
    // Settled: acc1's latest change is its release, and acc2's refresh came
    // after that release.
    let released = Lease::Released("acc1.r1".into());
    let refreshed = Lease::Held("acc2.r1".into());
    let settled = |seen: &[Lease]| {
        let release = seen.iter().position(|change| *change == released);
        let refresh = seen.iter().rposition(|change| *change == refreshed);
        matches!((release, refresh), (Some(r), Some(h)) if r < h)
            && last_per_key(seen) == [released.clone(), refreshed.clone()]
    };
    while !settled(&seen) && seen.len() < 8 {
        let Ok(Some(change)) = tokio::time::timeout(Duration::from_secs(2), watch.next()).await
        else {
            break;
        };
        seen.push(change);
    }
    // History (two held), then the release and the refresh. A watch opened
    // while changes land may see a change twice (its history and its update
    // race in JetStream's ordered consumer): what a watcher must end with is
    // each key's latest state, the refresh after the release.
    assert!(settled(&seen), "{seen:?}");
}

/// Each key's latest change, by key.
fn last_per_key(seen: &[Lease]) -> Vec<Lease> {
    let mut latest = std::collections::BTreeMap::new();
    for change in seen {
        let key = match change {
            Lease::Held(key) | Lease::Released(key) => key.clone(),
        };
        latest.insert(key, change.clone());
    }
    latest.into_values().collect()
}

#[tokio::test]
async fn in_process_fan_out_reaches_the_other_members_only() {
    let network = LocalNetwork::default();
    let a = Arc::new(network.join());
    assert!(a.solitary(), "one member has nobody to reach");
    let b = Arc::new(network.join());
    assert!(!a.solitary());
    fan_out_between(a, b).await;
}

#[tokio::test]
async fn in_process_leases_are_seen_by_every_watcher() {
    let leases = Arc::new(LocalLeases::default());
    leases_between(leases.clone(), leases).await;
}

async fn jetstream_live(streams: &TestStreams) -> frevix_platform::live::Live {
    let bus = EventBus::connect(&EventsConfig {
        nats_url: streams.url.clone(),
        subject_prefix: streams.prefix.clone(),
        ..EventsConfig::default()
    })
    .await
    .unwrap();
    bus.live("presence", Duration::from_secs(30)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_fan_out_reaches_the_other_replicas_only() {
    let streams = TestStreams::new();
    let a = jetstream_live(&streams).await;
    let b = jetstream_live(&streams).await;
    assert!(!a.fanout.solitary());
    fan_out_between(a.fanout, b.fanout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_leases_are_seen_by_every_replica() {
    let streams = TestStreams::new();
    let a = jetstream_live(&streams).await;
    let b = jetstream_live(&streams).await;
    leases_between(a.leases, b.leases).await;
}
