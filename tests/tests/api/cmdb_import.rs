//! Bulk import through the API: upserts, idempotence, all-or-nothing rejection naming every
//! bad row.

use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::{Value, json};

const IMPORT: &str = "mutation($input: ImportConfigurationItemsInput!) { importConfigurationItems(input: $input) { created updated unchanged relationshipsCreated relationshipsUnchanged } }";

fn estate() -> Value {
    json!({
        "items": [
            { "class": "BUSINESS_SERVICE", "name": "Checkout", "environment": "PRODUCTION", "criticality": 1 },
            { "class": "APPLICATION", "name": "Cart", "environment": "PRODUCTION", "criticality": 2, "ownerTeam": "Web" },
            { "class": "DATABASE", "name": "cart-db", "environment": "PRODUCTION", "criticality": 1, "attributes": { "engine": "PostgreSQL" } },
        ],
        "relationships": [
            { "sourceClass": "BUSINESS_SERVICE", "sourceName": "Checkout", "type": "DEPENDS_ON", "targetClass": "APPLICATION", "targetName": "Cart" },
            { "sourceClass": "APPLICATION", "sourceName": "cart", "type": "DEPENDS_ON", "targetClass": "DATABASE", "targetName": "CART-DB" },
        ]
    })
}

async fn import(app: &TestApp, input: Value) -> quorum_tests::TestResponse {
    app.graphql_as(&[Role::Engineer], IMPORT, json!({ "input": input }))
        .await
}

async fn totals(app: &TestApp) -> (i64, i64) {
    let response = app
        .graphql_as(
            &[Role::ServiceHead],
            "{ configurationItems { totalCount } auditEvents { totalCount } }",
            json!({}),
        )
        .await
        .json();
    (
        response["data"]["configurationItems"]["totalCount"]
            .as_i64()
            .unwrap_or(-1),
        response["data"]["auditEvents"]["totalCount"]
            .as_i64()
            .unwrap_or(-1),
    )
}

#[tokio::test]
async fn an_import_creates_then_running_it_again_changes_nothing() {
    let app = TestApp::new().await;
    let first = import(&app, estate()).await.json();
    assert_eq!(
        first["data"]["importConfigurationItems"],
        json!({ "created": 3, "updated": 0, "unchanged": 0, "relationshipsCreated": 2, "relationshipsUnchanged": 0 })
    );
    let after_first = totals(&app).await;
    assert_eq!(after_first, (3, 5), "one event per CI and per relationship");

    let second = import(&app, estate()).await.json();
    assert_eq!(
        second["data"]["importConfigurationItems"],
        json!({ "created": 0, "updated": 0, "unchanged": 3, "relationshipsCreated": 0, "relationshipsUnchanged": 2 })
    );
    assert_eq!(totals(&app).await, after_first, "nothing written");

    let mut changed = estate();
    changed["items"][1]["criticality"] = json!(1);
    let third = import(&app, changed).await.json();
    assert_eq!(third["data"]["importConfigurationItems"]["updated"], 1);
    let cart = app
        .graphql_as(
            &[Role::Engineer],
            "{ configurationItem(number: \"CI0000002\") { name criticality version ownerTeam impact { items { item { name } } } } }",
            json!({}),
        )
        .await
        .json();
    assert_eq!(cart["data"]["configurationItem"]["criticality"], 1);
    assert_eq!(cart["data"]["configurationItem"]["version"], 2);
    assert_eq!(
        cart["data"]["configurationItem"]["impact"]["items"],
        json!([{ "item": { "name": "Checkout" } }])
    );
}

#[tokio::test]
async fn one_bad_row_rejects_the_whole_import_and_every_bad_row_is_named() {
    let app = TestApp::new().await;
    let mut input = estate();
    input["items"][1]["criticality"] = json!(9);
    input["items"].as_array_mut().expect("items").push(
        json!({ "class": "SERVER", "name": "  ", "environment": "PRODUCTION", "criticality": 2 }),
    );
    let response = import(&app, input).await;
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(
        response.json()["errors"][0]["extensions"]["rows"],
        json!([
            { "section": "items", "row": 2, "field": "criticality", "message": "criticality must be 1 (most critical) to 4, not 9" },
            { "section": "items", "row": 4, "field": "name", "message": "name must not be empty" },
        ])
    );
    assert_eq!(totals(&app).await, (0, 0));

    let mut dangling = estate();
    dangling["relationships"]
        .as_array_mut()
        .expect("relationships")
        .push(json!({ "sourceClass": "APPLICATION", "sourceName": "Cart", "type": "RUNS_ON", "targetClass": "SERVER", "targetName": "nowhere" }));
    let response = import(&app, dangling).await;
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    let rows = response.json()["errors"][0]["extensions"]["rows"].clone();
    assert_eq!(rows[0]["section"], "relationships");
    assert_eq!(rows[0]["row"], 3);
    assert_eq!(rows[0]["field"], "targetName");
    assert_eq!(
        totals(&app).await,
        (0, 0),
        "the valid rows were not written either"
    );
}

#[tokio::test]
async fn at_most_fifty_bad_rows_are_listed_and_all_are_counted() {
    let app = TestApp::new().await;
    let items: Vec<Value> = (0..60)
        .map(|n| json!({ "class": "SERVER", "name": format!("s{n}"), "environment": "TEST", "criticality": 7 }))
        .collect();
    let response = import(&app, json!({ "items": items })).await;
    let error = &response.json()["errors"][0];
    assert_eq!(
        error["extensions"]["rows"].as_array().map(Vec::len),
        Some(50)
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("60 invalid rows"),
        "{error}"
    );
}

#[tokio::test]
async fn duplicates_in_a_file_and_retired_items_are_refused() {
    let app = TestApp::new().await;
    let mut twice = estate();
    twice["items"].as_array_mut().expect("items").push(
        json!({ "class": "DATABASE", "name": "Cart-DB", "environment": "TEST", "criticality": 3 }),
    );
    let response = import(&app, twice).await;
    assert_eq!(
        response.json()["errors"][0]["extensions"]["rows"][0]["row"],
        4
    );

    let old = app.create_ci("SERVER", "old-host").await;
    app.graphql_as(
        &[Role::Engineer],
        "mutation($id: ID!) { retireConfigurationItem(id: $id, version: 1) { status } }",
        json!({ "id": old["id"] }),
    )
    .await;
    let onto_retired = import(
        &app,
        json!({
            "items": [{ "class": "VIRTUAL_MACHINE", "name": "vm-1", "environment": "TEST", "criticality": 3 }],
            "relationships": [{ "sourceClass": "VIRTUAL_MACHINE", "sourceName": "vm-1", "type": "HOSTED_ON", "targetClass": "SERVER", "targetName": "old-host" }]
        }),
    )
    .await;
    assert_eq!(onto_retired.error_codes(), ["BAD_USER_INPUT"]);
    assert!(
        onto_retired.text().contains("retired"),
        "{}",
        onto_retired.text()
    );
    assert_eq!(totals(&app).await.0, 1);
}
