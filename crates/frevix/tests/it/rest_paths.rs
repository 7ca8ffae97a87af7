//! The REST/JSON door's contract: every unary RPC has its `google.api.http`
//! rule (one path per verb and template, under `/v1/`, each path variable a
//! field of the request), streaming RPCs have none (they are gRPC and
//! grpc-web only), and the gateway transcodes every service that has one.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value};

const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The rule's verb and path, and its body.
fn rule(pool: &DescriptorPool, options: &DynamicMessage) -> Option<(String, String, String)> {
    let http = pool.get_extension_by_name("google.api.http").unwrap();
    if !options.has_extension(&http) {
        return None;
    }
    let Value::Message(rule) = options.get_extension(&http).into_owned() else {
        panic!("google.api.http is not a message");
    };
    let text = |name: &str| match rule.get_field_by_name(name).map(|v| v.into_owned()) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let (verb, path) = VERBS
        .iter()
        .map(|verb| (verb.to_string(), text(verb)))
        .find(|(_, path)| !path.is_empty())
        .expect("a rule with a verb");
    Some((verb, path, text("body")))
}

/// `a.b` names a (nested) singular field of `message`.
fn has_field(message: &MessageDescriptor, path: &str) -> bool {
    let mut message = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(field) = message.get_field_by_name(part) else {
            return false;
        };
        if field.is_list() || field.is_map() {
            return false;
        }
        if parts.peek().is_some() {
            let Some(inner) = field.kind().as_message().cloned() else {
                return false;
            };
            message = inner;
        }
    }
    true
}

#[test]
fn every_unary_rpc_has_one_rest_path_and_streams_have_none() {
    let pool = DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut with_rules = BTreeSet::new();
    let mut problems = Vec::new();
    for service in pool
        .services()
        .filter(|s| s.full_name().starts_with("frevix."))
    {
        for method in service.methods() {
            let name = format!("{}/{}", service.full_name(), method.name());
            let streams = method.is_client_streaming() || method.is_server_streaming();
            match (rule(&pool, &method.options()), streams) {
                (None, true) => {}
                (Some(_), true) => problems.push(format!("{name} streams but has a REST path")),
                (None, false) => problems.push(format!("{name} has no google.api.http rule")),
                (Some((verb, path, body)), false) => {
                    with_rules.insert(service.full_name().to_owned());
                    if !path.starts_with("/v1/") {
                        problems.push(format!("{name}: {path} is not under /v1/"));
                    }
                    let template: String = path
                        .split('{')
                        .enumerate()
                        .map(|(i, part)| {
                            let variable = part.split('}').next().unwrap_or_default();
                            if i > 0 && !has_field(&method.input(), variable) {
                                problems.push(format!(
                                    "{name}: {{{variable}}} is no field of the request"
                                ));
                            }
                            if i == 0 {
                                part.to_owned()
                            } else {
                                format!(
                                    "*{}",
                                    part.split_once('}')
                                        .map(|(_, rest)| rest)
                                        .unwrap_or_default()
                                )
                            }
                        })
                        .collect();
                    if (verb == "get" || verb == "delete") && !body.is_empty() {
                        problems.push(format!("{name}: a {verb} has no body"));
                    }
                    if body != "*" && !body.is_empty() && !has_field(&method.input(), &body) {
                        problems.push(format!("{name}: body {body} is no field of the request"));
                    }
                    if let Some(other) = seen.insert((verb.clone(), template.clone()), name.clone())
                    {
                        problems.push(format!("{name} and {other} share {verb} {template}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(seen.len() > 100, "only {} REST paths", seen.len());

    // The gateway transcodes exactly the services that have REST paths.
    let render =
        std::fs::read_to_string(frevix_testkit::repo().join("gateway-envoy/render.py")).unwrap();
    let listed: BTreeSet<String> = render
        .split("REST_SERVICES = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap()
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, with_rules, "render.py's REST_SERVICES");
}
