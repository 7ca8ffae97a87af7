//! Reads the rules a request's fields carry in the contract (`buf.validate`
//! and `google.api.field_behavior`) and turns each into a probe: a value
//! that breaks the rule, and one at its edge that meets it.

use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    Value,
};

/// `google.api.FieldBehavior` numbers.
const REQUIRED: i32 = 2;
const OUTPUT_ONLY: i32 = 3;
const IMMUTABLE: i32 = 5;
const IDENTIFIER: i32 = 8;
/// `buf.validate.Ignore.IGNORE_IF_ZERO_VALUE`.
const IGNORE_IF_ZERO_VALUE: i32 = 1;
/// A well-formed id that names nothing.
const SOME_UUID: &str = "0190b7c2-5e6c-7a4e-9c1d-2f6a8b3c4d5e";

/// One rule of one field, and the values that break and meet it.
pub struct Probe {
    /// `frevix.x.v1.XService/Method`.
    pub rpc: String,
    /// From the request down to the field; a repeated message on the way
    /// holds one element.
    pub steps: Vec<FieldDescriptor>,
    /// What the rule says, for the report.
    pub rule: String,
    /// `None`: the field is left unset.
    pub breaking: Option<Value>,
    /// `None`: nothing to try (a presence rule).
    pub meeting: Option<Value>,
    /// The update_mask path that makes the server read the field, if any.
    pub mask: Option<String>,
}

impl Probe {
    /// The field's path as the server names it (`gig.packages[0].title`).
    pub fn path(&self) -> String {
        let mut path = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                path.push('.');
            }
            path.push_str(step.name());
            if step.is_list() && i + 1 < self.steps.len() {
                path.push_str("[0]");
            }
        }
        path
    }
}

/// The rule extensions, looked up once.
pub struct Rules {
    field: ExtensionDescriptor,
    behavior: ExtensionDescriptor,
}

impl Rules {
    pub fn new(pool: &DescriptorPool) -> Self {
        Self {
            field: pool.get_extension_by_name("buf.validate.field").unwrap(),
            behavior: pool
                .get_extension_by_name("google.api.field_behavior")
                .unwrap(),
        }
    }

    /// The field's `buf.validate.FieldRules`, if it has any.
    pub fn of(&self, field: &FieldDescriptor) -> Option<DynamicMessage> {
        let options = field.options();
        options
            .has_extension(&self.field)
            .then(|| options.get_extension(&self.field).as_message().cloned())
            .flatten()
    }

    fn behaviors(&self, field: &FieldDescriptor) -> Vec<i32> {
        let options = field.options();
        if !options.has_extension(&self.behavior) {
            return Vec::new();
        }
        match options.get_extension(&self.behavior).as_ref() {
            Value::List(values) => values.iter().filter_map(Value::as_enum_number).collect(),
            _ => Vec::new(),
        }
    }

    /// Every probe of `input`, the request of `rpc`; rules the walk cannot
    /// turn into probes are returned as problems, so none goes unchecked.
    pub fn probes(&self, rpc: &str, input: &MessageDescriptor) -> (Vec<Probe>, Vec<String>) {
        let mut walk = Walk {
            rules: self,
            rpc,
            update: input.get_field_by_name("update_mask").is_some(),
            probes: Vec::new(),
            problems: Vec::new(),
        };
        walk.message(input, &[]);
        (walk.probes, walk.problems)
    }
}

struct Walk<'a> {
    rules: &'a Rules,
    rpc: &'a str,
    /// An update: resource fields are read only when masked, and a
    /// resource's REQUIRED means "on create".
    update: bool,
    probes: Vec<Probe>,
    problems: Vec<String>,
}

impl Walk<'_> {
    fn message(&mut self, message: &MessageDescriptor, above: &[FieldDescriptor]) {
        if above.len() > 4 || message.package_name().starts_with("google.") {
            return;
        }
        for field in message.fields() {
            if field.is_map() {
                continue;
            }
            let steps: Vec<FieldDescriptor> =
                above.iter().cloned().chain([field.clone()]).collect();
            let behaviors = self.rules.behaviors(&field);
            let rules = self.rules.of(&field);
            if behaviors.contains(&OUTPUT_ONLY) {
                if rules.is_some() {
                    self.problem(
                        &steps,
                        "an OUTPUT_ONLY field carries rules the server never applies",
                    );
                }
                continue;
            }
            let resource_field = self.update && steps.len() > 1;
            if resource_field && behaviors.contains(&IDENTIFIER) {
                // An update names its resource: required there, never masked.
                self.probes.push(Probe {
                    rpc: self.rpc.to_owned(),
                    steps: steps.clone(),
                    rule: "field_behavior = IDENTIFIER".into(),
                    breaking: None,
                    meeting: None,
                    mask: None,
                });
                continue;
            }
            if resource_field && behaviors.contains(&IMMUTABLE) {
                // Fixed at creation: an update does not read it.
                continue;
            }
            if behaviors.contains(&REQUIRED) && !resource_field {
                self.push(&steps, "field_behavior = REQUIRED".into(), None, None);
            }
            if let Some(rules) = rules {
                self.field(&steps, &rules);
            }
            if let Kind::Message(inner) = field.kind() {
                self.message(&inner, &steps);
            }
        }
    }

    fn problem(&mut self, steps: &[FieldDescriptor], what: &str) {
        let path: Vec<&str> = steps.iter().map(FieldDescriptor::name).collect();
        self.problems
            .push(format!("{} {}: {what}", self.rpc, path.join(".")));
    }

    fn push(
        &mut self,
        steps: &[FieldDescriptor],
        rule: String,
        breaking: Option<Value>,
        meeting: Option<Value>,
    ) {
        // The mask names the resource's field, or the oneof it is part of
        // (`budget` for `fixed_price`).
        let mask = (self.update && steps.len() > 1).then(|| {
            steps[1]
                .containing_oneof()
                .filter(|oneof| !oneof.is_synthetic())
                .map_or_else(
                    || steps[1].name().to_owned(),
                    |oneof| oneof.name().to_owned(),
                )
        });
        self.probes.push(Probe {
            rpc: self.rpc.to_owned(),
            steps: steps.to_vec(),
            rule,
            breaking,
            meeting,
            mask,
        });
    }

    fn field(&mut self, steps: &[FieldDescriptor], rules: &DynamicMessage) {
        let field = steps.last().unwrap();
        let ignore_zero = rules
            .get_field_by_name("ignore")
            .map(|v| v.as_enum_number() == Some(IGNORE_IF_ZERO_VALUE))
            .unwrap_or(false);
        for (kind, value) in rules.fields() {
            match (kind.name(), value) {
                ("ignore", _) => {}
                ("required", Value::Bool(true)) => {
                    self.push(steps, "required".into(), None, None);
                }
                ("repeated", Value::Message(list)) if field.is_list() => {
                    self.repeated(steps, list);
                }
                (name, Value::Message(scalar)) if !field.is_list() => {
                    for (rule, breaking, meeting) in scalar_probes(field, name, scalar, ignore_zero)
                    {
                        match rule {
                            Ok(rule) => self.push(steps, rule, breaking, meeting),
                            Err(problem) => self.problem(steps, &problem),
                        }
                    }
                }
                (name, _) => self.problem(steps, &format!("rule `{name}` is not probed")),
            }
        }
    }

    fn repeated(&mut self, steps: &[FieldDescriptor], list: &DynamicMessage) {
        let field = steps.last().unwrap();
        let item = item_value(field, list);
        for (rule, value) in list.fields() {
            let n = value.as_u64().map(|n| n as usize);
            match (rule.name(), n) {
                ("max_items", Some(n)) => self.push(
                    steps,
                    format!("repeated.max_items = {n}"),
                    Some(items(&item, n + 1)),
                    Some(items(&item, n)),
                ),
                ("min_items", Some(n)) if n > 0 => self.push(
                    steps,
                    format!("repeated.min_items = {n}"),
                    Some(items(&item, n - 1)),
                    Some(items(&item, n)),
                ),
                ("items", _) => {
                    let Some(items) = value.as_message() else {
                        continue;
                    };
                    for (kind, scalar) in items.fields() {
                        let Value::Message(scalar) = scalar else {
                            continue;
                        };
                        for (rule, breaking, meeting) in
                            scalar_probes(field, kind.name(), scalar, false)
                        {
                            match rule {
                                Ok(rule) => self.push(
                                    steps,
                                    format!("items: {rule}"),
                                    breaking.map(|v| Value::List(vec![v])),
                                    meeting.map(|v| Value::List(vec![v])),
                                ),
                                Err(problem) => self.problem(steps, &problem),
                            }
                        }
                    }
                }
                (name, _) => self.problem(steps, &format!("rule `repeated.{name}` is not probed")),
            }
        }
    }
}

/// `n` elements like `item`; ids are made distinct (a list naming one
/// thing twice is refused for that, not for its length).
fn items(item: &Value, n: usize) -> Value {
    let distinct = matches!(item, Value::String(s) if uuid::Uuid::parse_str(s).is_ok());
    Value::List(
        (0..n)
            .map(|_| match distinct {
                true => Value::String(uuid::Uuid::new_v4().to_string()),
                false => item.clone(),
            })
            .collect(),
    )
}

/// A list element that meets the list's item rules.
fn item_value(field: &FieldDescriptor, list: &DynamicMessage) -> Value {
    let items = list
        .get_field_by_name("items")
        .and_then(|v| v.as_message().cloned());
    let scalar = items
        .as_ref()
        .and_then(|items| items.fields().find_map(|(_, v)| v.as_message().cloned()));
    match field.kind() {
        Kind::String => Value::String(
            scalar
                .map(|s| string_base(&s))
                .unwrap_or_else(|| "a".to_owned()),
        ),
        Kind::Enum(e) => Value::EnumNumber(
            e.values()
                .map(|v| v.number())
                .find(|n| *n != 0)
                .unwrap_or(0),
        ),
        Kind::Message(m) => Value::Message(DynamicMessage::new(m)),
        other => default_number(&other, 1),
    }
}

/// A string meeting the field's format rules: its first example, a UUID,
/// or "a".
pub fn string_base(rules: &DynamicMessage) -> String {
    let examples = rules.get_field_by_name("example").map(|v| v.into_owned());
    if let Some(Value::List(examples)) = examples
        && let Some(Value::String(example)) = examples.first()
    {
        return example.clone();
    }
    if let Some(Value::List(values)) = rules.get_field_by_name("in").map(|v| v.into_owned())
        && let Some(Value::String(first)) = values.first()
    {
        return first.clone();
    }
    let uuid = rules
        .get_field_by_name("uuid")
        .map(|v| v.as_bool() == Some(true))
        .unwrap_or(false);
    if uuid { SOME_UUID } else { "a" }.to_owned()
}

/// `base` made exactly `n` characters long. An email address grows in its
/// domain, by labels of at most 60 characters, so it stays an address.
pub fn sized(base: &str, n: usize) -> String {
    let mut text: String = base.chars().take(n).collect();
    let email = text.find('@').filter(|_| text.len() == base.len());
    if let Some(at) = email {
        let mut labels = String::new();
        while text.chars().count() + labels.len() + 1 < n {
            let room = n - text.chars().count() - labels.len();
            let label = (room - 1).min(60);
            labels.push_str(&"a".repeat(label));
            labels.push('.');
        }
        text.insert_str(at + 1, &labels);
    }
    while text.chars().count() < n {
        if email.is_some() {
            text.insert(0, 'a');
        } else {
            text.push('a');
        }
    }
    text
}

fn default_number(kind: &Kind, n: i64) -> Value {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(n as i32),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(n.max(0) as u32),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(n.max(0) as u64),
        Kind::Double => Value::F64(n as f64),
        Kind::Float => Value::F32(n as f32),
        _ => Value::I64(n),
    }
}

type ScalarProbe = (Result<String, String>, Option<Value>, Option<Value>);

/// Probes for the rules of one scalar kind (`string`, `int32`, `enum`, …).
fn scalar_probes(
    field: &FieldDescriptor,
    kind: &str,
    rules: &DynamicMessage,
    ignore_zero: bool,
) -> Vec<ScalarProbe> {
    match kind {
        "string" => super::strings::probes(rules, ignore_zero),
        "enum" => enum_probes(field, rules, ignore_zero),
        "int32" | "int64" | "sint32" | "sint64" | "uint32" | "uint64" | "double" | "float" => {
            number_probes(&field.kind(), rules, ignore_zero)
        }
        other => vec![(Err(format!("`{other}` rules are not probed")), None, None)],
    }
}

fn number_probes(kind: &Kind, rules: &DynamicMessage, ignore_zero: bool) -> Vec<ScalarProbe> {
    let mut probes = Vec::new();
    for (rule, value) in rules.fields() {
        let bound = match value {
            Value::I32(n) => i64::from(*n),
            Value::I64(n) => *n,
            Value::U32(n) => i64::from(*n),
            Value::U64(n) => *n as i64,
            Value::F64(n) => *n as i64,
            Value::F32(n) => *n as i64,
            Value::List(_) if rule.name() == "example" => continue,
            _ => {
                probes.push((Err(format!("`{}` is not probed", rule.name())), None, None));
                continue;
            }
        };
        let (breaking, meeting) = match rule.name() {
            "gte" => (bound - 1, bound),
            "gt" => (bound, bound + 1),
            "lte" => (bound + 1, bound),
            "lt" => (bound, bound - 1),
            "example" => continue,
            other => {
                probes.push((Err(format!("`{other}` is not probed")), None, None));
                continue;
            }
        };
        // Zero is not checked under IGNORE_IF_ZERO_VALUE: break further out.
        let breaking = if breaking == 0 && ignore_zero {
            -1
        } else {
            breaking
        };
        let unsigned = matches!(
            kind,
            Kind::Uint32 | Kind::Uint64 | Kind::Fixed32 | Kind::Fixed64
        );
        let breaking = (!(unsigned && breaking < 0)).then(|| default_number(kind, breaking));
        let name = format!("{} = {bound}", rule.name());
        if breaking.is_some() {
            probes.push((Ok(name), breaking, Some(default_number(kind, meeting))));
        }
    }
    probes
}

fn enum_probes(
    field: &FieldDescriptor,
    rules: &DynamicMessage,
    ignore_zero: bool,
) -> Vec<ScalarProbe> {
    let Kind::Enum(descriptor) = field.kind() else {
        return vec![(Err("enum rules on a non-enum field".into()), None, None)];
    };
    let numbers: Vec<i32> = descriptor.values().map(|v| v.number()).collect();
    let meeting = numbers.iter().copied().find(|n| *n != 0).unwrap_or(0);
    let mut probes = Vec::new();
    for (rule, value) in rules.fields() {
        match (rule.name(), value) {
            ("defined_only", Value::Bool(true)) => probes.push((
                Ok("enum.defined_only".into()),
                Some(Value::EnumNumber(9999)),
                Some(Value::EnumNumber(meeting)),
            )),
            ("not_in", Value::List(list)) => {
                for n in list.iter().filter_map(Value::as_i32) {
                    if n == 0 && ignore_zero {
                        continue;
                    }
                    probes.push((
                        Ok(format!("enum.not_in {n}")),
                        Some(Value::EnumNumber(n)),
                        Some(Value::EnumNumber(meeting)),
                    ));
                }
            }
            ("in", Value::List(list)) => {
                let allowed: Vec<i32> = list.iter().filter_map(Value::as_i32).collect();
                let outside = numbers
                    .iter()
                    .copied()
                    .find(|n| !allowed.contains(n) && *n != 0);
                if let (Some(outside), Some(inside)) = (outside, allowed.first()) {
                    probes.push((
                        Ok("enum.in".into()),
                        Some(Value::EnumNumber(outside)),
                        Some(Value::EnumNumber(*inside)),
                    ));
                }
            }
            (other, _) => probes.push((Err(format!("`enum.{other}` is not probed")), None, None)),
        }
    }
    probes
}

pub use self::{sized as sized_text, string_base as base_text};
