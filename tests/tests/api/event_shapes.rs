//! The event log is append-only: every snapshot shape it ever held must still decode with
//! today's types, or history, `asOf` and subscriptions would lose data. The fixture
//! (`tests/fixtures/event_shapes.json`) keeps one event of every shape written so far (a shape:
//! the record kind, the action and the fields of its snapshots); shapes are only ever added.
//! When a change writes a new shape, this test names it; rerun it
//! (`cargo nextest run -p quorum-tests -E 'test(/^event_shapes::/)'`) with
//! `QUORUM_WRITE_EVENT_SHAPES=1` to add it, and keep decoding the old ones (a field's default,
//! or a snapshot version of its own).

use std::collections::BTreeSet;
use std::path::PathBuf;

use quorum_core::Actor;
use quorum_core::event;
use quorum_tests::TestApp;
use sea_orm::{EntityTrait, QueryOrder};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/event_shapes.json")
}

/// What makes two events the same shape.
fn shape(event: &Value) -> String {
    let fields = |side: &str| {
        event[side]
            .as_object()
            .map(|object| object.keys().cloned().collect::<Vec<_>>().join(","))
            .unwrap_or_else(|| "-".to_owned())
    };
    format!(
        "{} {} before[{}] after[{}]",
        event["entityKind"].as_str().unwrap_or("?"),
        event["action"].as_str().unwrap_or("?"),
        fields("before"),
        fields("after")
    )
}

fn decode_as<T: DeserializeOwned>(snapshot: &Value) -> Result<(), String> {
    if snapshot.is_null() {
        return Ok(());
    }
    T::deserialize(snapshot)
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Decodes an event's snapshots with the types that read them back.
fn decode(event: &Value) -> Result<(), String> {
    let kind = event["entityKind"].as_str().unwrap_or_default();
    let action = event["action"].as_str().unwrap_or_default();
    for side in ["before", "after"] {
        let snapshot = &event[side];
        match (kind, action) {
            ("Change", "voted") => decode_as::<quorum_change::VoteSnapshot>(snapshot),
            ("Change", _) => decode_as::<quorum_change::ChangeSnapshot>(snapshot),
            ("Incident", _) => decode_as::<quorum_incident::IncidentSnapshot>(snapshot),
            ("Problem", _) => decode_as::<quorum_problem::ProblemSnapshot>(snapshot),
            ("ConfigurationItem", _) => {
                decode_as::<quorum_cmdb::ConfigurationItemSnapshot>(snapshot)
            }
            ("ConfigurationItemRelationship", _) => {
                decode_as::<quorum_cmdb::RelationshipSnapshot>(snapshot)
            }
            ("FreezeWindow", _) => decode_as::<quorum_change::FreezeWindowSnapshot>(snapshot),
            ("StandardChangeTemplate", _) => decode_as::<quorum_change::TemplateSnapshot>(snapshot),
            ("ChangePolicy", _) => decode_as::<quorum_change::ChangePolicySnapshot>(snapshot),
            ("SlaTarget", _) => decode_as::<quorum_incident::SlaTargetSnapshot>(snapshot),
            _ => Err(format!("no type reads {kind} snapshots back")),
        }
        .map_err(|error| format!("{}: {side}: {error}", shape(event)))?;
    }
    Ok(())
}

/// Events as the fixture keeps them.
fn as_fixture(event: &event::Model) -> Value {
    json!({
        "entityKind": event.entity_kind,
        "action": event.action,
        "before": event.before,
        "after": event.after,
    })
}

/// What today's code writes: the demo story of `serve --dev` (every record kind and most
/// moves), then the moves it leaves out.
async fn written_today() -> Vec<Value> {
    let app = TestApp::new().await;
    let now = chrono::Utc::now();
    let importer = Actor::new("fixture", [quorum_core::Role::ChangeManager]);
    quorum_cmdb::import_configuration_items(
        quorum_core::Context::new(&app.db, &quorum_core::SystemClock, &importer),
        quorum_seed::cmdb::demo(),
    )
    .await
    .expect("the demo estate imports");
    let changes = quorum_seed::demo::changes::seed(&app.db, now)
        .await
        .expect("the demo changes seed");
    quorum_seed::demo::problems::seed(&app.db, now, &changes)
        .await
        .expect("the demo incidents and problem seed");
    event::Entity::find()
        .order_by_asc(event::Column::Id)
        .all(&app.db)
        .await
        .expect("events read")
        .iter()
        .map(as_fixture)
        .collect()
}

#[tokio::test]
async fn every_event_shape_ever_written_decodes_with_todays_types() {
    let text = std::fs::read_to_string(fixture_path()).expect("the fixture reads");
    let mut fixture: Vec<Value> = serde_json::from_str(&text).expect("the fixture is JSON");
    let undecodable: Vec<String> = fixture.iter().filter_map(|e| decode(e).err()).collect();
    assert!(
        undecodable.is_empty(),
        "event shapes in the log no longer decode:\n{}",
        undecodable.join("\n")
    );

    let known: BTreeSet<String> = fixture.iter().map(shape).collect();
    let mut new = Vec::new();
    for event in written_today().await {
        let key = shape(&event);
        if !known.contains(&key) && !new.iter().any(|other| shape(other) == key) {
            new.push(event);
        }
    }
    if new.is_empty() {
        return;
    }
    // A shape today's types cannot read back is a bug to fix, not a shape to keep.
    let unreadable: Vec<String> = new.iter().filter_map(|e| decode(e).err()).collect();
    assert!(
        unreadable.is_empty(),
        "the code writes event shapes its own types do not read back:\n{}",
        unreadable.join("\n")
    );
    if std::env::var_os("QUORUM_WRITE_EVENT_SHAPES").is_some() {
        fixture.extend(new);
        let text = serde_json::to_string_pretty(&fixture).expect("the fixture encodes");
        std::fs::write(fixture_path(), text + "\n").expect("the fixture writes");
        return;
    }
    panic!(
        "the code writes event shapes the fixture does not hold; rerun with \
         QUORUM_WRITE_EVENT_SHAPES=1 to add them (and keep the old ones decoding):\n{}",
        new.iter().map(shape).collect::<Vec<_>>().join("\n")
    );
}
