//! Probes for `buf.validate` string rules. A meeting value starts from the
//! field's example (or a UUID, or "a") so the server's own format checks,
//! which the contract states in comments, pass too.

use prost_reflect::{DynamicMessage, Value};

use super::probes::{base_text, sized_text};

type ScalarProbe = (Result<String, String>, Option<Value>, Option<Value>);

fn text(s: String) -> Option<Value> {
    Some(Value::String(s))
}

pub fn probes(rules: &DynamicMessage, ignore_zero: bool) -> Vec<ScalarProbe> {
    let base = base_text(rules);
    let mut probes = Vec::new();
    for (rule, value) in rules.fields() {
        let n = value.as_u64().map(|n| n as usize);
        match (rule.name(), n) {
            ("max_len" | "max_bytes", Some(n)) => probes.push((
                Ok(format!("string.{} = {n}", rule.name())),
                text(sized_text(&base, n + 1)),
                text(sized_text(&base, n)),
            )),
            ("min_len" | "min_bytes", Some(n)) if n > 0 => {
                if n > 1 || !ignore_zero {
                    probes.push((
                        Ok(format!("string.{} = {n}", rule.name())),
                        text(sized_text("a", n - 1)),
                        text(sized_text(&base, n)),
                    ));
                }
            }
            ("uuid", _) if value.as_bool() == Some(true) => probes.push((
                Ok("string.uuid".into()),
                text("not-a-uuid".into()),
                text(base.clone()),
            )),
            ("in", _) => probes.push((
                Ok("string.in".into()),
                text("not-one-of-them".into()),
                text(base.clone()),
            )),
            ("pattern", _) => probes.push(pattern(value.as_str().unwrap_or_default(), &base)),
            ("example", _) => {}
            (other, _) => probes.push((Err(format!("`string.{other}` is not probed")), None, None)),
        }
    }
    probes
}

fn pattern(pattern: &str, example: &str) -> ScalarProbe {
    let Ok(regex) = regex::Regex::new(pattern) else {
        return (
            Err(format!("pattern {pattern:?} does not compile")),
            None,
            None,
        );
    };
    if !regex.is_match(example) {
        return (
            Err(format!(
                "example {example:?} does not match its pattern {pattern:?}"
            )),
            None,
            None,
        );
    }
    let breaking = ["!", " ", "\u{1}", "aaa", "A", "0", "-"]
        .into_iter()
        .find(|candidate| !regex.is_match(candidate));
    match breaking {
        Some(breaking) => (
            Ok(format!("string.pattern {pattern:?}")),
            text(breaking.to_owned()),
            text(example.to_owned()),
        ),
        None => (
            Err(format!("no value found that breaks {pattern:?}")),
            None,
            None,
        ),
    }
}
