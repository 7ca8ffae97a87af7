//! The contract states what a request may hold (`buf.validate` rules and
//! `google.api.field_behavior`), and the server agrees with it: for every
//! rule on every field of every request sent as one message, a request that
//! breaks the rule is refused INVALID_ARGUMENT with a violation on that
//! field, and a request whose value sits at the rule's edge is not refused
//! for that field. A refusal with an `ErrorInfo` reason (a wrong code, a
//! wrong password) is about what the value means, not its shape, and is
//! allowed. Client-streamed frames (Chat, Upload) are answered on the
//! stream and checked by messaging's own tests.

mod probes;
mod strings;

use frevix_testkit::{Backend, TestApp, TestUser, on_both_backends};
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, Value};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use crate::authorization::{raw_call, rpcs};
use probes::{Probe, Rules};

on_both_backends!(the_server_and_the_contract_agree_on_every_field_rule);

async fn the_server_and_the_contract_agree_on_every_field_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut callers = Callers {
        user: app.register().await,
        admin: app.admin().await,
    };
    let channel = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    let rules = Rules::new(&pool);
    let mut failures = Vec::new();
    let mut probes = Vec::new();
    for (rpc, streams) in rpcs() {
        if streams.0 || rpc.ends_with("IdentityService/Logout") {
            continue;
        }
        let (service, method) = rpc.rsplit_once('/').unwrap();
        let input = pool
            .get_service_by_name(service)
            .unwrap()
            .methods()
            .find(|m| m.name() == method)
            .unwrap()
            .input();
        let (found, problems) = rules.probes(&rpc, &input);
        probes.extend(found.into_iter().map(|probe| (probe, streams)));
        failures.extend(problems);
    }
    let (mut broken, mut met) = (0, 0);
    for (probe, streams) in &probes {
        let path = probe.path();
        let rpc = &probe.rpc;
        if let Some(breaking) = request(probe, probe.breaking.clone()) {
            broken += 1;
            let answer = callers.call(&app, &channel, rpc, *streams, breaking).await;
            let refused = matches!(&answer, Err(s) if s.code() == Code::InvalidArgument && names(s, &path, true));
            if !refused {
                failures.push(format!(
                    "{rpc} {path}: breaks `{}` ({:?}) yet answered {}",
                    probe.rule,
                    shown(&probe.breaking),
                    answered(&answer)
                ));
            }
        }
        if let Some(meeting) = probe.meeting.clone().and_then(|v| request(probe, Some(v))) {
            met += 1;
            let answer = callers.call(&app, &channel, rpc, *streams, meeting).await;
            if let Err(status) = &answer
                && status.code() == Code::InvalidArgument
                && status.get_error_details().error_info().is_none()
                && names(status, &path, false)
            {
                failures.push(format!(
                    "{rpc} {path}: meets `{}` ({:?}) yet refused: {}",
                    probe.rule,
                    shown(&probe.meeting),
                    answered(&answer)
                ));
            }
        }
    }
    eprintln!(
        "{} rules probed on {} RPCs: {broken} breaking and {met} meeting requests",
        probes.len(),
        probes
            .iter()
            .map(|(p, _)| &p.rpc)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
    );
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The contract states rules on every service's requests.
    assert!(probes.len() > 700, "only {} rules found", probes.len());
    app.stop().await;
}

/// Who calls: an ordinary account, or an operator for what only operators
/// may do. A probe that ends the account's session (a password change)
/// gets a fresh account for the next.
struct Callers {
    user: TestUser,
    admin: TestUser,
}

impl Callers {
    async fn call(
        &mut self,
        app: &TestApp,
        channel: &Channel,
        rpc: &str,
        streams: (bool, bool),
        body: Vec<u8>,
    ) -> Result<Vec<u8>, Status> {
        let mut answer = raw_call(
            channel,
            rpc,
            streams,
            Some(&self.user.access_token),
            body.clone(),
        )
        .await;
        if matches!(&answer, Err(s) if s.code() == Code::Unauthenticated) {
            self.user = app.register().await;
            answer = raw_call(
                channel,
                rpc,
                streams,
                Some(&self.user.access_token),
                body.clone(),
            )
            .await;
        }
        if matches!(&answer, Err(s) if s.code() == Code::PermissionDenied) {
            answer = raw_call(channel, rpc, streams, Some(&self.admin.access_token), body).await;
        }
        answer
    }
}

/// The probe's request with `value` in its field (`None`: left unset), the
/// messages on the way created, and the update mask naming it.
fn request(probe: &Probe, value: Option<Value>) -> Option<Vec<u8>> {
    let root = probe.steps[0].parent_message().clone();
    let mut message = DynamicMessage::new(root.clone());
    set(&mut message, &probe.steps, value);
    if let Some(mask) = &probe.mask {
        let field = root.get_field_by_name("update_mask")?;
        let Kind::Message(mask_type) = field.kind() else {
            return None;
        };
        let mut update_mask = DynamicMessage::new(mask_type);
        update_mask.set_field_by_name("paths", Value::List(vec![Value::String(mask.clone())]));
        message.set_field(&field, Value::Message(update_mask));
    }
    Some(message.encode_to_vec())
}

fn set(message: &mut DynamicMessage, steps: &[FieldDescriptor], value: Option<Value>) {
    let (field, rest) = steps.split_first().unwrap();
    if rest.is_empty() {
        if let Some(value) = value {
            message.set_field(field, value);
        }
        return;
    }
    let Kind::Message(inner) = field.kind() else {
        return;
    };
    match message.get_field_mut(field) {
        Value::List(items) => {
            if items.is_empty() {
                items.push(Value::Message(DynamicMessage::new(inner)));
            }
            if let Value::Message(first) = &mut items[0] {
                set(first, rest, value);
            }
        }
        Value::Message(nested) => set(nested, rest, value),
        _ => {}
    }
}

/// Whether `status` lists a violation on `path` or an element of it (with
/// `within`, also on anything inside them).
fn names(status: &Status, path: &str, within: bool) -> bool {
    let details = status.get_error_details();
    let Some(bad) = details.bad_request() else {
        return false;
    };
    bad.field_violations.iter().any(|v| {
        let Some(rest) = v.field.strip_prefix(path) else {
            return false;
        };
        let element = rest.strip_prefix('[').and_then(|r| r.split_once(']'));
        rest.is_empty()
            || element.is_some_and(|(_, after)| after.is_empty() || within)
            || (within && rest.starts_with('.'))
    })
}

fn answered(answer: &Result<Vec<u8>, Status>) -> String {
    match answer {
        Ok(_) => "OK".into(),
        Err(status) => {
            let violations: Vec<String> = status
                .get_error_details()
                .bad_request()
                .map(|b| {
                    b.field_violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description))
                        .collect()
                })
                .unwrap_or_default();
            format!("{:?} {:?} {violations:?}", status.code(), status.message())
        }
    }
}

/// A value as the report shows it: long strings by their length.
fn shown(value: &Option<Value>) -> String {
    match value {
        None => "unset".into(),
        Some(Value::String(s)) if s.chars().count() > 24 => format!("{} chars", s.chars().count()),
        Some(Value::List(items)) => format!("{} items", items.len()),
        Some(other) => format!("{other:?}"),
    }
}
