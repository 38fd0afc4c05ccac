//! Schema-driven fuzzing through the real HTTP API: random queries and mutations built from
//! `schema.graphql`, with hostile values in every argument (U+0000, long and odd text, numbers
//! at and past the edges of `Int`, unknown enum values, ids of other records), as every role
//! and without a token, on whichever store the suite runs on.
//!
//! Whatever comes back, the service must answer 200 or 4xx with every error coded, and never
//! INTERNAL. The run is deterministic for a seed and bounded in time:
//! `QUORUM_FUZZ_SEED` (default 1) and `QUORUM_FUZZ_SECONDS` (default 20); each failure prints
//! the document and variables that caused it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::{Value, json};

/// A small, seedable generator (xorshift64*): the run repeats for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct Field {
    name: String,
    arguments: Vec<(String, Type)>,
    ty: Type,
}

/// What the fuzzer knows of the schema.
#[derive(Default)]
struct Schema {
    objects: HashMap<String, Vec<Field>>,
    inputs: HashMap<String, Vec<(String, Type)>>,
    enums: HashMap<String, Vec<String>>,
    abstracts: HashMap<String, Vec<String>>,
}

impl Schema {
    fn load() -> Self {
        let sdl = quorum_api::sdl();
        let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let mut schema = Schema::default();
        let fields = |fields: &[async_graphql::Positioned<
            async_graphql::parser::types::FieldDefinition,
        >]| {
            fields
                .iter()
                .map(|field| Field {
                    name: field.node.name.node.to_string(),
                    arguments: field
                        .node
                        .arguments
                        .iter()
                        .map(|argument| {
                            (
                                argument.node.name.node.to_string(),
                                argument.node.ty.node.clone(),
                            )
                        })
                        .collect(),
                    ty: field.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match ty.node.kind {
                TypeKind::Object(object) => {
                    schema.objects.insert(name, fields(&object.fields));
                }
                TypeKind::Interface(interface) => {
                    schema
                        .objects
                        .insert(name.clone(), fields(&interface.fields));
                    schema.abstracts.insert(name, Vec::new());
                }
                TypeKind::Union(union) => {
                    schema.abstracts.insert(
                        name,
                        union
                            .members
                            .iter()
                            .map(|member| member.node.to_string())
                            .collect(),
                    );
                }
                TypeKind::Enum(values) => {
                    schema.enums.insert(
                        name,
                        values
                            .values
                            .iter()
                            .map(|value| value.node.value.node.to_string())
                            .collect(),
                    );
                }
                TypeKind::InputObject(input) => {
                    schema.inputs.insert(
                        name,
                        input
                            .fields
                            .iter()
                            .map(|field| {
                                (field.node.name.node.to_string(), field.node.ty.node.clone())
                            })
                            .collect(),
                    );
                }
                TypeKind::Scalar => {}
            }
        }
        schema
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Text an attacker or a careless client sends.
const TEXTS: &[&str] = &[
    "",
    " ",
    "payments",
    "PAYMENTS-DB",
    "CHG0000001",
    "INC0000001",
    "a\u{0}b",
    "\u{0}",
    "%_\\",
    "' OR 1=1 --",
    "\"; DROP TABLE event; --",
    "☃ ünïcödé 𝄞",
    "\u{202e}reversed",
    "<script>alert(1)</script>",
    "2026-12-01",
    "2026-12-01T10:00:00Z",
    "not-a-date",
    "-1",
    "99999999999999999999",
];

struct Generator<'a> {
    schema: &'a Schema,
    rng: Rng,
    ids: Vec<String>,
}

impl Generator<'_> {
    fn text(&mut self) -> Value {
        match self.rng.below(10) {
            0 => json!("x".repeat(self.rng.pick(&[201, 5_000, 60_000]).to_owned())),
            1 => json!(self.rng.pick(TEXTS).repeat(3)),
            _ => json!(self.rng.pick(TEXTS)),
        }
    }

    fn scalar(&mut self, name: &str) -> Value {
        match name {
            "Int" => json!(self.rng.pick(&[
                0_i64,
                1,
                -1,
                5,
                20,
                100,
                101,
                1_000,
                i64::from(i32::MAX),
                i64::from(i32::MIN),
                i64::from(i32::MAX) + 1,
                1 << 40,
            ])),
            "Boolean" => json!(self.rng.chance(50)),
            "ID" if !self.ids.is_empty() && self.rng.chance(70) => {
                json!(self.rng.pick(&self.ids).clone())
            }
            "DateTime" => json!(self.rng.pick(&[
                "2026-01-05T09:00:00Z",
                "2026-01-10T10:00:00Z",
                "2025-12-31T23:59:59+01:00",
                "1970-01-01T00:00:00Z",
                "9999-12-31T23:59:59Z",
                "2026-02-30T00:00:00Z",
                "yesterday",
            ])),
            "JSON" => match self.rng.below(4) {
                0 => json!({ "rack": self.text(), "u": 4 }),
                1 => json!([1, 2]),
                2 => self.text(),
                _ => json!({}),
            },
            _ => self.text(),
        }
    }

    /// A value of `ty`; sometimes a wrong one on purpose.
    fn value(&mut self, ty: &Type, depth: usize) -> Value {
        if ty.nullable && self.rng.chance(15) {
            return Value::Null;
        }
        if self.rng.chance(3) {
            // The wrong shape entirely.
            return self.text();
        }
        match &ty.base {
            BaseType::List(inner) => {
                let length = self.rng.below(4);
                Value::Array((0..length).map(|_| self.value(inner, depth + 1)).collect())
            }
            BaseType::Named(name) => {
                let name = name.as_str();
                if let Some(values) = self.schema.enums.get(name) {
                    if self.rng.chance(5) {
                        return json!("NOT_A_VALUE");
                    }
                    return json!(self.rng.pick(values));
                }
                if let Some(fields) = self.schema.inputs.get(name) {
                    if depth > 3 {
                        return json!({});
                    }
                    let mut object = serde_json::Map::new();
                    for (field, field_ty) in fields {
                        if !field_ty.nullable || self.rng.chance(40) {
                            object.insert(field.clone(), self.value(field_ty, depth + 1));
                        }
                    }
                    return Value::Object(object);
                }
                self.scalar(name)
            }
        }
    }

    /// A selection of the fields of `type_name`, `depth` levels at most; arguments become
    /// variables in `variables` and declarations in `declared`.
    fn selection(
        &mut self,
        type_name: &str,
        depth: usize,
        declared: &mut Vec<String>,
        variables: &mut serde_json::Map<String, Value>,
    ) -> String {
        if self.schema.abstracts.contains_key(type_name)
            && !self.schema.objects.contains_key(type_name)
        {
            return "{ __typename }".to_owned();
        }
        let Some(fields) = self.schema.objects.get(type_name) else {
            return String::new();
        };
        let mut chosen = Vec::new();
        let count = 1 + self.rng.below(4);
        for _ in 0..count {
            let field = &fields[self.rng.below(fields.len())];
            let target = named(&field.ty);
            let is_leaf = !self.schema.objects.contains_key(target)
                && !self.schema.abstracts.contains_key(target);
            if !is_leaf && depth == 0 {
                continue;
            }
            let mut arguments = Vec::new();
            for (argument, ty) in &field.arguments {
                if ty.nullable && !self.rng.chance(50) {
                    continue;
                }
                let variable = format!("v{}", declared.len());
                declared.push(format!("${variable}: {ty}"));
                let value = self.value(ty, 0);
                variables.insert(variable.clone(), value);
                arguments.push(format!("{argument}: ${variable}"));
            }
            let arguments = if arguments.is_empty() {
                String::new()
            } else {
                format!("({})", arguments.join(", "))
            };
            let alias = format!("f{}", chosen.len());
            let sub = if is_leaf {
                String::new()
            } else {
                let sub = self.selection(target, depth - 1, declared, variables);
                if sub.is_empty() {
                    continue;
                }
                sub
            };
            chosen.push(format!("{alias}: {}{arguments} {sub}", field.name));
        }
        if chosen.is_empty() {
            "{ __typename }".to_owned()
        } else {
            format!("{{ {} }}", chosen.join(" "))
        }
    }

    /// One operation on the root `Query` or `Mutation`.
    fn operation(&mut self) -> (String, Value) {
        let root = if self.rng.chance(40) {
            "Mutation"
        } else {
            "Query"
        };
        let mut declared = Vec::new();
        let mut variables = serde_json::Map::new();
        let depth = 1 + self.rng.below(3);
        let selection = self.selection(root, depth, &mut declared, &mut variables);
        let keyword = root.to_lowercase();
        let declarations = if declared.is_empty() {
            String::new()
        } else {
            format!("({})", declared.join(", "))
        };
        (
            format!("{keyword} Fuzz{declarations} {selection}"),
            Value::Object(variables),
        )
    }
}

const ROLES: &[&[Role]] = &[
    &[Role::Engineer],
    &[Role::ChangeManager],
    &[Role::CabMember],
    &[Role::ServiceHead],
    &[],
];

/// Every record id the suite's seed data has, for `ID` arguments.
async fn known_ids(app: &TestApp) -> Vec<String> {
    let token = app.token("fuzz.reader", &[Role::ServiceHead]);
    let response = app
        .graphql(
            "{ configurationItems(first: 50) { nodes { id } } changes(first: 50) { nodes { id } } incidents(first: 50) { nodes { id } } problems(first: 50) { nodes { id } } }",
            Some(&token),
        )
        .await
        .json();
    let mut ids = Vec::new();
    for list in ["configurationItems", "changes", "incidents", "problems"] {
        if let Some(nodes) = response["data"][list]["nodes"].as_array() {
            ids.extend(
                nodes
                    .iter()
                    .filter_map(|node| node["id"].as_str().map(str::to_owned)),
            );
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_operations_as_every_role_never_answer_internal() {
    let seed: u64 = std::env::var("QUORUM_FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(1);
    let seconds: u64 = std::env::var("QUORUM_FUZZ_SECONDS")
        .ok()
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or(20);
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let api = app.create_ci("APPLICATION", "payments-api").await;
    app.relate(&api, "DEPENDS_ON", &db).await;
    app.new_change("NORMAL", &[&db]).await;
    app.scheduled_change(&[&api]).await;
    app.new_incident("HIGH", "HIGH", &[&db]).await;
    let schema = Schema::load();
    let mut generator = Generator {
        schema: &schema,
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        ids: known_ids(&app).await,
    };
    let tokens: Vec<Option<String>> = ROLES
        .iter()
        .enumerate()
        .map(|(n, roles)| (!roles.is_empty()).then(|| app.token(&format!("fuzz.{n}"), roles)))
        .collect();
    let started = Instant::now();
    let mut requests = 0_u64;
    let mut codes: HashMap<String, u64> = HashMap::new();
    let mut failures = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        let (query, variables) = generator.operation();
        let token = generator.rng.pick(&tokens).clone();
        let response = app
            .graphql_with(&query, variables.clone(), token.as_deref())
            .await;
        requests += 1;
        let status = response.status.as_u16();
        let body: Value = match serde_json::from_slice(&response.body) {
            Ok(body) => body,
            Err(_) => {
                failures.push(format!("not JSON ({status}): {query} {variables}"));
                continue;
            }
        };
        if status >= 500 {
            failures.push(format!("{status}: {query} {variables}"));
        }
        for error in body["errors"].as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
            *codes.entry(code.to_owned()).or_default() += 1;
            if code == "INTERNAL" || code == "<none>" {
                failures.push(format!("{code}: {error}\n  {query}\n  {variables}"));
            }
        }
        if failures.len() >= 5 {
            break;
        }
        if requests.is_multiple_of(200) {
            generator.ids = known_ids(&app).await;
        }
    }
    let mut seen: Vec<_> = codes.into_iter().collect();
    seen.sort();
    eprintln!(
        "fuzz: seed {seed}, {requests} requests in {:?}, error codes {seen:?}",
        started.elapsed()
    );
    assert!(requests > 50, "only {requests} requests in {seconds} s");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
