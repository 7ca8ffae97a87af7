//! A stranger tries every id: the real resources of a client and a
//! freelancer (a published gig, a job and its proposal, a paid order, their
//! conversation and a message in it, an uploaded file, a notification, a
//! session) are named in every RPC whose request can carry them, and a
//! third, verified account that is party to none of it calls each one.
//! `tests/strangers.md` says what each must answer: NOT_FOUND or
//! PERMISSION_DENIED — or, for what is public by design, the answer, with
//! the reason written beside it. An RPC that carries such an id without a
//! row fails the test, and so does INTERNAL. Requests are built from the
//! descriptor set (every other field filled with a plausible value), so a
//! new RPC is covered without code.

use std::collections::BTreeMap;

use frevix_testkit::{Backend, TestApp, on_both_backends};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, Value};
use tonic::Code;
use tonic::transport::Channel;

use crate::authorization::{raw_call, rpcs};
use crate::strangers_world::world;

on_both_backends!(a_stranger_gets_nothing_of_anyone_elses);

const TABLE: &str = include_str!("../strangers.md");

/// Fields that name someone's resource: a request with one is a row.
const RESOURCE_FIELDS: [&str; 10] = [
    "gig_id",
    "job_id",
    "proposal_id",
    "contract_id",
    "milestone_id",
    "conversation_id",
    "media_id",
    "attachment_ids",
    "notification_ids",
    "session_id",
];

/// Ids that are nobody's business but the parties': never in an answer to
/// a stranger (a gig, a public job and account ids are public).
const PRIVATE: [&str; 7] = [
    "contract_id",
    "milestone_id",
    "proposal_id",
    "conversation_id",
    "media_id",
    "notification_ids",
    "session_id",
];

/// RPC → (what a stranger gets, why when it is let through).
fn table() -> BTreeMap<String, (String, String)> {
    let mut rows = BTreeMap::new();
    for line in TABLE.lines().filter(|l| l.starts_with("| frevix.")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 3, "a malformed row: {line}");
        let row = (cells[1].to_owned(), cells[2].to_owned());
        assert!(
            rows.insert(cells[0].to_owned(), row).is_none(),
            "{} has two rows",
            cells[0]
        );
    }
    rows
}

/// `input` with every id it can carry set to the world's, every other
/// field a plausible value; `None` when it names no one's resource.
fn request(input: &MessageDescriptor, ids: &BTreeMap<&str, String>) -> Option<Vec<u8>> {
    if !input.fields().any(|f| RESOURCE_FIELDS.contains(&f.name())) {
        return None;
    }
    let mut message = DynamicMessage::new(input.clone());
    for field in input.fields() {
        let id = ids.get(field.name()).cloned();
        let value = match (id, field.kind()) {
            (Some(id), _) if field.is_list() => Value::List(vec![Value::String(id)]),
            (Some(id), _) => Value::String(id),
            // A oneof's members are left to the server's defaults, and so
            // are ids the world has none of (an hourly invoice, a review).
            _ if field.containing_oneof().is_some()
                || field.is_list()
                || field.is_map()
                || field.name().ends_with("_id") =>
            {
                continue;
            }
            (None, Kind::String) if field.name().ends_with("date") => {
                Value::String(chrono::Utc::now().date_naive().to_string())
            }
            (None, Kind::String) => Value::String("A perfectly reasonable text for this.".into()),
            (None, Kind::Int32 | Kind::Sint32) if field.name().ends_with("minutes") => {
                Value::I32(60)
            }
            (None, Kind::Int32 | Kind::Sint32) => Value::I32(1),
            (None, Kind::Int64 | Kind::Sint64) => Value::I64(1),
            (None, Kind::Enum(e)) => Value::EnumNumber(e.get_value(1).map_or(0, |v| v.number())),
            (None, Kind::Message(m)) if m.full_name() == "frevix.common.v1.Money" => {
                let mut money = DynamicMessage::new(m);
                money.set_field_by_name("currency_code", Value::String("USD".into()));
                money.set_field_by_name("minor_units", Value::I64(500));
                Value::Message(money)
            }
            _ => continue,
        };
        message.set_field(&field, value);
    }
    Some(message.encode_to_vec())
}

/// A status code as the table writes it: `NOT_FOUND`.
fn code_name(code: Code) -> String {
    let camel = format!("{code:?}");
    let mut name = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

async fn a_stranger_gets_nothing_of_anyone_elses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = world(&app).await;
    let stranger = app.register().await;
    let channel = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut ids = world.ids.clone();
    // Not anyone's resource: what a sender names its message.
    ids.insert("client_message_id", "from-a-stranger".to_owned());
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    let rows = table();
    let mut carrying = BTreeMap::new();
    for (rpc, streams) in rpcs() {
        let (service, method) = rpc.split_once('/').unwrap();
        let method = pool
            .get_service_by_name(service)
            .unwrap()
            .methods()
            .find(|m| m.name() == method)
            .unwrap();
        if let Some(body) = request(&method.input(), &ids) {
            carrying.insert(rpc, (streams, body));
        }
    }
    let missing: Vec<&String> = carrying.keys().filter(|r| !rows.contains_key(*r)).collect();
    let unknown: Vec<&String> = rows.keys().filter(|r| !carrying.contains_key(*r)).collect();
    let mut wrong = Vec::new();
    let mut observed = Vec::new();
    for (rpc, (streams, body)) in &carrying {
        let answer = raw_call(
            &channel,
            rpc,
            *streams,
            Some(&stranger.access_token),
            body.clone(),
        )
        .await;
        let got = match &answer {
            Ok(_) => "ok".to_owned(),
            Err(status) => code_name(status.code()),
        };
        // Let through (public by design) and still nothing of theirs.
        if let Ok(bytes) = &answer {
            let text = String::from_utf8_lossy(bytes);
            for private in PRIVATE {
                if text.contains(world.ids[private].as_str()) {
                    wrong.push(format!("{rpc} answered a stranger with the {private}"));
                }
            }
        }
        observed.push(format!("| {rpc} | {got} | |"));
        if let Some((expected, why)) = rows.get(rpc) {
            if &got != expected {
                wrong.push(format!("{rpc}: expected {expected}, got {got}"));
            }
            if got != "NOT_FOUND" && got != "PERMISSION_DENIED" && why.is_empty() {
                wrong.push(format!("{rpc} answers a stranger {got} without saying why"));
            }
        }
        if got == "INTERNAL" {
            wrong.push(format!("{rpc}: INTERNAL"));
        }
    }
    // MarkNotificationsRead let the stranger through: it marks only the
    // caller's own, so the freelancer's is still unread.
    let theirs = app
        .notifications
        .clone()
        .list_notifications(frevix_testkit::authed(
            &world.freelancer.access_token,
            frevix_proto::messaging::v1::ListNotificationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .notifications;
    let id = &world.ids["notification_ids"];
    assert!(
        theirs.iter().any(|n| &n.id == id && !n.read),
        "the stranger marked someone's notification read: {theirs:?}"
    );
    assert!(
        missing.is_empty() && unknown.is_empty() && wrong.is_empty(),
        "RPCs carrying an id without a row in tests/strangers.md: {missing:?}\n\
         rows naming no such RPC: {unknown:?}\n{}\n\nas observed:\n{}",
        wrong.join("\n"),
        observed.join("\n")
    );
    app.stop().await;
}
