//! Reading the CMDB as it was: a CI's fields, its relationships and impact walks `asOf` an
//! instant, before and after a rename and a relationship change; and a CI's history.

use chrono::Duration;
use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::{Value, json};

const AS_OF: &str = "query($id: ID, $at: DateTime) { configurationItem(id: $id, asOf: $at) {
  name version asOf
  relationships { type source { name } target { name } }
  impact(depth: 3) { asOf items { item { name } } }
} }";

/// 09:00 db created, 09:00 app created; 09:10 app DEPENDS_ON db; 09:20 db renamed;
/// 09:30 relationship removed, web DEPENDS_ON db added.
async fn timeline(app: &TestApp) -> (Value, Value) {
    let db = app.create_ci("DATABASE", "orders-db").await;
    let orders = app.create_ci("APPLICATION", "Orders").await;
    let web = app.create_ci("APPLICATION", "Web").await;
    app.clock.advance(Duration::minutes(10));
    let first = app.relate(&orders, "DEPENDS_ON", &db).await;
    app.clock.advance(Duration::minutes(10));
    let renamed = app
        .graphql_as(
            &[Role::Engineer],
            "mutation($id: ID!) { updateConfigurationItem(id: $id, version: 1, input: { name: \"orders-db-eu\" }) { name } }",
            json!({ "id": db["id"] }),
        )
        .await;
    assert!(renamed.json().get("errors").is_none(), "{}", renamed.text());
    app.clock.advance(Duration::minutes(10));
    app.graphql_as(
        &[Role::Engineer],
        "mutation($id: ID!) { removeRelationship(id: $id) { id } }",
        json!({ "id": first }),
    )
    .await;
    app.relate(&web, "DEPENDS_ON", &db).await;
    (db, orders)
}

async fn db_at(app: &TestApp, db: &Value, at: Option<&str>) -> Value {
    let response = app
        .graphql_as(
            &[Role::CabMember],
            AS_OF,
            json!({ "id": db["id"], "at": at }),
        )
        .await;
    let json = response.json();
    assert!(json.get("errors").is_none(), "{}", response.text());
    json["data"]["configurationItem"].clone()
}

#[tokio::test]
async fn fields_relationships_and_impact_read_as_they_were() {
    let app = TestApp::new().await;
    let (db, _) = timeline(&app).await;

    let before_anything = db_at(&app, &db, Some("2026-01-05T08:59:59Z")).await;
    assert_eq!(before_anything, Value::Null, "it did not exist yet");

    let created = db_at(&app, &db, Some("2026-01-05T09:05:00Z")).await;
    assert_eq!(created["name"], "orders-db");
    assert_eq!(created["version"], 1);
    assert_eq!(created["asOf"], "2026-01-05T09:05:00.000Z");
    assert_eq!(
        created["relationships"],
        json!([]),
        "the relationship came later"
    );
    assert_eq!(created["impact"]["items"], json!([]));

    let related = db_at(&app, &db, Some("2026-01-05T09:15:00Z")).await;
    assert_eq!(related["name"], "orders-db");
    assert_eq!(
        related["relationships"],
        json!([{ "type": "DEPENDS_ON", "source": { "name": "Orders" }, "target": { "name": "orders-db" } }])
    );
    assert_eq!(
        related["impact"]["items"],
        json!([{ "item": { "name": "Orders" } }])
    );
    assert_eq!(related["impact"]["asOf"], "2026-01-05T09:15:00.000Z");

    let renamed = db_at(&app, &db, Some("2026-01-05T09:25:00Z")).await;
    assert_eq!(renamed["name"], "orders-db-eu");
    assert_eq!(renamed["version"], 2);
    assert_eq!(
        renamed["relationships"][0]["target"]["name"], "orders-db-eu",
        "ends are read as of the same instant"
    );

    let now = db_at(&app, &db, None).await;
    assert_eq!(now["asOf"], Value::Null);
    assert_eq!(
        now["relationships"],
        json!([{ "type": "DEPENDS_ON", "source": { "name": "Web" }, "target": { "name": "orders-db-eu" } }])
    );
    assert_eq!(
        now["impact"]["items"],
        json!([{ "item": { "name": "Web" } }])
    );
}

#[tokio::test]
async fn an_impact_walk_can_be_asked_as_of_an_instant_on_a_current_item() {
    let app = TestApp::new().await;
    let (db, _) = timeline(&app).await;
    let response = app
        .graphql_as(
            &[Role::Engineer],
            "query($id: ID) { configurationItem(id: $id) { name impact(depth: 2, asOf: \"2026-01-05T09:15:00Z\") { items { item { name } } } } }",
            json!({ "id": db["id"] }),
        )
        .await
        .json();
    let item = &response["data"]["configurationItem"];
    assert_eq!(item["name"], "orders-db-eu");
    assert_eq!(
        item["impact"]["items"],
        json!([{ "item": { "name": "Orders" } }])
    );
}

#[tokio::test]
async fn history_lists_the_item_and_relationship_events_newest_first() {
    let app = TestApp::new().await;
    let (db, _) = timeline(&app).await;
    let response = app
        .graphql_as(
            &[Role::CabMember],
            "query($id: ID) { configurationItem(id: $id) { history(first: 10) { totalCount edges { node { entityKind action actor occurredAt before after } } } } }",
            json!({ "id": db["id"] }),
        )
        .await
        .json();
    let history = &response["data"]["configurationItem"]["history"];
    let summary: Vec<(String, String, String)> = history["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["entityKind"].as_str().unwrap_or_default().to_owned(),
                node["action"].as_str().unwrap_or_default().to_owned(),
                node["occurredAt"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let row =
        |kind: &str, action: &str, at: &str| (kind.to_owned(), action.to_owned(), at.to_owned());
    assert_eq!(
        summary,
        [
            row(
                "ConfigurationItemRelationship",
                "created",
                "2026-01-05T09:30:00.000Z"
            ),
            row(
                "ConfigurationItemRelationship",
                "removed",
                "2026-01-05T09:30:00.000Z"
            ),
            row("ConfigurationItem", "updated", "2026-01-05T09:20:00.000Z"),
            row(
                "ConfigurationItemRelationship",
                "created",
                "2026-01-05T09:10:00.000Z"
            ),
            row("ConfigurationItem", "created", "2026-01-05T09:00:00.000Z"),
        ]
    );
    assert_eq!(history["totalCount"], 5);
    let update = &history["edges"][2]["node"];
    assert_eq!(update["actor"], "test.user");
    assert_eq!(update["before"]["name"], "orders-db");
    assert_eq!(update["after"]["name"], "orders-db-eu");
}

#[tokio::test]
async fn an_impacted_item_renamed_later_shows_its_old_name_as_of_before() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "ledger-db").await;
    let ledger = app.create_ci("APPLICATION", "Ledger").await;
    app.relate(&ledger, "DEPENDS_ON", &db).await;
    app.clock.advance(Duration::minutes(10));
    let renamed = app
        .graphql_as(
            &[Role::Engineer],
            "mutation($id: ID!) { updateConfigurationItem(id: $id, version: 1, input: { name: \"General Ledger\" }) { name } }",
            json!({ "id": ledger["id"] }),
        )
        .await;
    assert!(renamed.json().get("errors").is_none(), "{}", renamed.text());
    let query = "query($id: ID, $at: DateTime) { configurationItem(id: $id) { impact(depth: 2, asOf: $at) { items { item { name version } } } } }";
    let before = app
        .graphql_as(
            &[Role::Engineer],
            query,
            json!({ "id": db["id"], "at": "2026-01-05T09:05:00Z" }),
        )
        .await
        .json();
    assert_eq!(
        before["data"]["configurationItem"]["impact"]["items"],
        json!([{ "item": { "name": "Ledger", "version": 1 } }])
    );
    let now = app
        .graphql_as(
            &[Role::Engineer],
            query,
            json!({ "id": db["id"], "at": null }),
        )
        .await
        .json();
    assert_eq!(
        now["data"]["configurationItem"]["impact"]["items"],
        json!([{ "item": { "name": "General Ledger", "version": 2 } }])
    );
}
