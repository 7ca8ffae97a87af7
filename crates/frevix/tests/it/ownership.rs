//! Who may touch what: every RPC whose request can carry someone's
//! resource (a gig, job, proposal, contract, milestone, time entry,
//! invoice, review, conversation, file, notification, session) is called on
//! real resources made through the API by a client and a freelancer — by a
//! stranger, by the client and by the freelancer. `tests/ownership.md`
//! says, for each RPC, what it is called on and what each caller must
//! answer. An RPC that carries such an id without a row fails the test,
//! and so does INTERNAL.
//!
//! The stranger's calls share one world per state (they must all be
//! refused, so none changes anything) and must never be answered with a
//! private id. Each party's call gets a world of its own, because the
//! right party's call changes what it names. Requests are built from the
//! descriptor set (every other field filled with a plausible value), so a
//! new RPC is covered without code.

use std::collections::{BTreeMap, BTreeSet};

use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestUser, on_both_backends};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, Value};
use tonic::Code;
use tonic::transport::Channel;

use crate::authorization::{raw_call, rpcs};
use crate::world_parts::{Built, Part, build};

on_both_backends!(who_may_touch_what);

const TABLE: &str = include_str!("../ownership.md");

/// Fields that name someone's resource: a request with one is a row.
const RESOURCE_FIELDS: [&str; 14] = [
    "gig_id",
    "job_id",
    "proposal_id",
    "contract_id",
    "milestone_id",
    "proposed_milestone_id",
    "entry_id",
    "invoice_id",
    "review_id",
    "conversation_id",
    "media_id",
    "attachment_ids",
    "notification_ids",
    "session_id",
];

/// Ids that are nobody's business but the parties': never in an answer to
/// a stranger (gigs, public jobs, reviews and account ids are public).
const PRIVATE: [&str; 10] = [
    "contract_id",
    "milestone_id",
    "proposed_milestone_id",
    "entry_id",
    "invoice_id",
    "proposal_id",
    "conversation_id",
    "media_id",
    "notification_ids",
    "session_id",
];

/// Who calls.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Stranger,
    Client,
    Freelancer,
}

struct Row {
    on: Part,
    /// Expected answers of the stranger, the client and the freelancer.
    expected: [String; 3],
    why: String,
}

fn table() -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for line in TABLE.lines().filter(|l| l.starts_with("| frevix.")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 6, "a malformed row: {line}");
        let row = Row {
            on: cells[1].parse().unwrap(),
            expected: [cells[2].into(), cells[3].into(), cells[4].into()],
            why: cells[5].into(),
        };
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
            // are ids the part has none of.
            _ if field.containing_oneof().is_some()
                || field.is_list()
                || field.is_map()
                || field.name().ends_with("_id") =>
            {
                continue;
            }
            (None, Kind::String) if field.name() == "payment_method" => {
                Value::String("pm_card_visa".into())
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

/// Every RPC carrying a resource id: its streaming shape and input.
fn carrying() -> BTreeMap<String, ((bool, bool), MessageDescriptor)> {
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut carrying = BTreeMap::new();
    for (rpc, streams) in rpcs() {
        let (service, method) = rpc.split_once('/').unwrap();
        let method = pool
            .get_service_by_name(service)
            .unwrap()
            .methods()
            .find(|m| m.name() == method)
            .unwrap();
        let input = method.input();
        if request(&input, &BTreeMap::new()).is_some() {
            carrying.insert(rpc, (streams, input));
        }
    }
    carrying
}

/// One cell: `caller` calls `rpc` on `built`; the answer as the table
/// writes it, and what is wrong with it.
async fn cell(
    channel: &Channel,
    rpc: &str,
    (streams, input): &((bool, bool), MessageDescriptor),
    built: &Built,
    caller: (Caller, &TestUser),
) -> (String, Vec<String>) {
    let mut ids = built.ids.clone();
    ids.insert("client_message_id", format!("{:?}-says", caller.0));
    let body = request(input, &ids).unwrap();
    let answer = raw_call(channel, rpc, *streams, Some(&caller.1.access_token), body).await;
    let mut wrong = Vec::new();
    // A refusal for the state of things names its reason.
    let got = match &answer {
        Ok(_) => "ok".to_owned(),
        Err(status) if status.code() == Code::FailedPrecondition => {
            format!("FAILED_PRECONDITION {}", reason(status))
        }
        Err(status) => code_name(status.code()),
    };
    if let (Caller::Stranger, Ok(bytes)) = (caller.0, &answer) {
        let text = String::from_utf8_lossy(bytes);
        for private in PRIVATE {
            if built.ids.get(private).is_some_and(|id| text.contains(id)) {
                wrong.push(format!("{rpc} answered a stranger with the {private}"));
            }
        }
    }
    if got == "INTERNAL" || got == "UNKNOWN" {
        let status = answer.unwrap_err();
        wrong.push(format!("{rpc} as {:?}: {status:?}", caller.0));
    }
    (got, wrong)
}

/// Whether an answer needs the row's reason: a stranger let through, or
/// anyone refused for something other than who they are.
fn needs_why(caller: Caller, got: &str) -> bool {
    match caller {
        Caller::Stranger => got != "NOT_FOUND" && got != "PERMISSION_DENIED",
        _ => got.starts_with("FAILED_PRECONDITION") || got == "INVALID_ARGUMENT",
    }
}

/// Two people per cell sign up from one address: far past the limits a
/// crowd of real sign-ups meets.
fn room_for_everyone(config: &mut frevix::config::FrevixConfig) {
    let limits = &mut config.identity.rate_limits;
    limits.sign_up_per_address = 100_000;
    limits.mail_per_address = 100_000;
    limits.code_per_address = 100_000;
    limits.login_per_address = 100_000;
}

async fn who_may_touch_what(backend: Backend) {
    let app = TestApp::spawn_with(backend, room_for_everyone).await;
    let channel = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let rows = table();
    let carrying = carrying();
    let missing: Vec<&String> = carrying.keys().filter(|r| !rows.contains_key(*r)).collect();
    let unknown: Vec<&String> = rows.keys().filter(|r| !carrying.contains_key(*r)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "RPCs carrying an id without a row in tests/ownership.md: {missing:?}\n\
         rows naming no such RPC: {unknown:?}"
    );

    // The stranger: one world per state, shared.
    let stranger = app.register().await;
    let parts: BTreeSet<Part> = rows.values().map(|r| r.on).collect();
    let mut shared = BTreeMap::new();
    for part in parts {
        shared.insert(part, build(&app, part).await);
    }
    let mut results: BTreeMap<&str, [String; 3]> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (rpc, row) in &rows {
        let built = &shared[&row.on];
        let (got, mut bad) = cell(
            &channel,
            rpc,
            &carrying[rpc],
            built,
            (Caller::Stranger, &stranger),
        )
        .await;
        wrong.append(&mut bad);
        results.entry(rpc).or_default()[0] = got;
    }

    // Each party: a world of its own per call, six built at a time.
    let cells: Vec<(&String, usize)> = rows.keys().flat_map(|r| [(r, 1), (r, 2)]).collect();
    let lane = |lane: usize| {
        let (cells, rows, carrying, app, channel) = (&cells, &rows, &carrying, &app, &channel);
        async move {
            let mut out = Vec::new();
            for (rpc, party) in cells.iter().skip(lane).step_by(LANES) {
                let built = build(app, rows[*rpc].on).await;
                let caller = match party {
                    1 => (Caller::Client, &built.client),
                    _ => (Caller::Freelancer, &built.freelancer),
                };
                let (got, bad) = cell(channel, rpc, &carrying[*rpc], &built, caller).await;
                out.push((rpc.as_str(), *party, got, bad));
            }
            out
        }
    };
    const LANES: usize = 6;
    let (a, b, c, d, e, f) = tokio::join!(lane(0), lane(1), lane(2), lane(3), lane(4), lane(5));
    for (rpc, party, got, mut bad) in [a, b, c, d, e, f].into_iter().flatten() {
        wrong.append(&mut bad);
        results.entry(rpc).or_default()[party] = got;
    }

    let callers = [Caller::Stranger, Caller::Client, Caller::Freelancer];
    let mut observed = Vec::new();
    for (rpc, row) in &rows {
        let got = &results[rpc.as_str()];
        for (i, caller) in callers.iter().enumerate() {
            if got[i] != row.expected[i] {
                wrong.push(format!(
                    "{rpc} as {caller:?}: expected {}, got {}",
                    row.expected[i], got[i]
                ));
            }
            if needs_why(*caller, &got[i]) && row.why.is_empty() {
                wrong.push(format!(
                    "{rpc} answers {caller:?} {} without saying why",
                    got[i]
                ));
            }
        }
        observed.push(format!(
            "| {rpc} | {:?} | {} | {} | {} | {} |",
            row.on, got[0], got[1], got[2], row.why
        ));
    }

    // MarkNotificationsRead let the stranger through: it marks only the
    // caller's own, so the freelancer's is still unread.
    let notified = &shared[&Part::Notified];
    let theirs = app
        .notifications
        .clone()
        .list_notifications(frevix_testkit::authed(
            &notified.freelancer.access_token,
            frevix_proto::messaging::v1::ListNotificationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .notifications;
    let id = &notified.ids["notification_ids"];
    assert!(
        theirs.iter().any(|n| &n.id == id && !n.read),
        "the stranger marked someone's notification read: {theirs:?}"
    );
    assert!(
        wrong.is_empty(),
        "{}\n\nas observed:\n{}",
        wrong.join("\n"),
        observed.join("\n")
    );
    app.stop().await;
}
