//! Hostile input at the API: for every RPC, requests built from its
//! descriptor with edge values in every field (empty, huge, unicode,
//! negative, unknown enum numbers, invalid ids, oversized lists) and
//! undecodable bytes, sent by a signed-in account through the real API on
//! both backends. Never INTERNAL or UNKNOWN (a panic), never a hang, and
//! the server keeps answering. `make test` runs a fixed seed and count;
//! `make fuzz` many more (`FREVIX_FUZZ_SEED`, `FREVIX_FUZZ_PER_RPC`).

use std::time::Duration;

use frevix_testkit::{Backend, TestApp, on_both_backends};
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::Code;
use tonic::transport::Channel;

use crate::authorization::{raw_call, rpcs};

on_both_backends!(no_request_makes_the_server_fail);

/// The fixed seed and count of `make test`.
const SEED: u64 = 20261201;
const PER_RPC: usize = 6;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text(rng: &mut StdRng) -> String {
    match rng.gen_range(0..8) {
        0 => String::new(),
        1 => "a".into(),
        2 => "x".repeat(rng.gen_range(1000..70_000)),
        3 => "ü𝄞\u{0}\u{202e}<script>".into(),
        4 => uuid::Uuid::new_v4().to_string(),
        5 => "not-an-id".into(),
        6 => "-1".into(),
        _ => "USD".into(),
    }
}

fn scalar(rng: &mut StdRng, field: &FieldDescriptor, depth: usize) -> Value {
    match field.kind() {
        Kind::String => Value::String(text(rng)),
        Kind::Bytes => Value::Bytes(
            (0..rng.gen_range(0..2048))
                .map(|_| rng.r#gen::<u8>())
                .collect::<Vec<u8>>()
                .into(),
        ),
        Kind::Bool => Value::Bool(rng.r#gen()),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32([0, -1, 1, i32::MAX, i32::MIN, 100][rng.gen_range(0..6)])
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64([0, -1, 1, i64::MAX, i64::MIN, 100][rng.gen_range(0..6)])
        }
        Kind::Uint32 | Kind::Fixed32 => Value::U32([0, 1, u32::MAX][rng.gen_range(0..3)]),
        Kind::Uint64 | Kind::Fixed64 => Value::U64([0, 1, u64::MAX][rng.gen_range(0..3)]),
        Kind::Float => Value::F32([0.0, -1.0, f32::NAN, f32::INFINITY][rng.gen_range(0..4)]),
        Kind::Double => Value::F64([0.0, -1.0, f64::NAN, f64::INFINITY][rng.gen_range(0..4)]),
        Kind::Enum(_) => Value::EnumNumber([0, 1, 2, 3, 999, -5][rng.gen_range(0..6)]),
        Kind::Message(message) => Value::Message(random(rng, &message, depth + 1)),
    }
}

/// A message of `descriptor` with random edge values (nesting ≤ 3).
fn random(rng: &mut StdRng, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    if depth > 3 {
        return message;
    }
    for field in descriptor.fields() {
        if rng.gen_bool(0.3) {
            continue;
        }
        if field.is_map() {
            continue;
        }
        let value = if field.is_list() {
            let n = [0, 1, 3, 300][rng.gen_range(0..4)];
            Value::List((0..n).map(|_| scalar(rng, &field, depth)).collect())
        } else {
            scalar(rng, &field, depth)
        };
        message.set_field(&field, value);
    }
    message
}

async fn no_request_makes_the_server_fail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register().await;
    let channel = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    let seed = setting("FREVIX_FUZZ_SEED", SEED);
    let per_rpc = usize::try_from(setting("FREVIX_FUZZ_PER_RPC", PER_RPC as u64)).unwrap();
    eprintln!("fuzz: seed {seed}, {per_rpc} requests per RPC");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut failures = Vec::new();
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (rpc, streams) in rpcs() {
        if rpc.ends_with("IdentityService/Logout") {
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
        let mut bodies: Vec<Vec<u8>> = (0..per_rpc)
            .map(|_| random(&mut rng, &input, 0).encode_to_vec())
            .collect();
        bodies.push(vec![0xff, 0xff, 0xff, 0x0f, 0x08]);
        for body in bodies {
            let answer = tokio::time::timeout(
                Duration::from_secs(10),
                raw_call(&channel, &rpc, streams, Some(&user.access_token), body),
            )
            .await;
            let code = match &answer {
                Ok(Ok(_)) => "OK".to_owned(),
                Ok(Err(status)) => format!("{:?}", status.code()),
                Err(_) => "timeout".to_owned(),
            };
            *seen.entry(code).or_default() += 1;
            match answer {
                Err(_) => failures.push(format!("{rpc}: no answer in 10 s")),
                Ok(Err(status)) if matches!(status.code(), Code::Internal | Code::Unknown) => {
                    failures.push(format!("{rpc}: {:?} {}", status.code(), status.message()));
                }
                Ok(_) => {}
            }
        }
    }
    eprintln!("answers by code: {seen:?}");
    // Some requests must have been refused as invalid, or nothing was tried.
    assert!(
        seen.get("InvalidArgument").copied().unwrap_or(0) > 50,
        "{seen:?}"
    );
    // Still serving.
    let me = raw_call(
        &channel,
        "frevix.identity.v1.IdentityService/GetMe",
        (false, false),
        Some(&user.access_token),
        Vec::new(),
    )
    .await;
    assert!(me.is_ok(), "{me:?}");
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}
