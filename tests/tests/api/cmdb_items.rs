//! Configuration items through the API: create, read, list, update with versions, retire,
//! bad input, and who may write.

use quorum_core::Role;
use quorum_tests::TestApp;
use quorum_tests::cmdb::CI_FIELDS;
use serde_json::{Value, json};

const UPDATE: &str = "mutation($id: ID!, $version: Int!, $input: UpdateConfigurationItemInput!) { updateConfigurationItem(id: $id, version: $version, input: $input) { id name ownerTeam description criticality status version updatedAt } }";
const RETIRE: &str = "mutation($id: ID!, $version: Int!) { retireConfigurationItem(id: $id, version: $version) { id status version retiredAt } }";
const COUNT: &str = "{ configurationItems { totalCount } }";

async fn count(app: &TestApp) -> i64 {
    let response = app.graphql_as(&[Role::ServiceHead], COUNT, json!({})).await;
    response.json()["data"]["configurationItems"]["totalCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", response.text()))
}

async fn create_as(app: &TestApp, role: Role, input: Value) -> quorum_tests::TestResponse {
    app.graphql_as(
        &[role],
        &format!("mutation($input: CreateConfigurationItemInput!) {{ createConfigurationItem(input: $input) {{ {CI_FIELDS} }} }}"),
        json!({ "input": input }),
    )
    .await
}

fn error_field(response: &quorum_tests::TestResponse) -> Value {
    response.json()["errors"][0]["extensions"]["field"].clone()
}

#[tokio::test]
async fn a_created_item_has_a_number_version_one_and_an_event() {
    let app = TestApp::new().await;
    let item = app
        .create_ci_with(json!({
            "class": "DATABASE",
            "name": " payments-db ",
            "environment": "PRODUCTION",
            "criticality": 1,
            "ownerTeam": "Data Platform",
            "description": "Primary payments store",
            "attributes": { "engine": "PostgreSQL", "version": 16 },
        }))
        .await;
    assert_eq!(item["number"], "CI0000001");
    assert_eq!(item["name"], "payments-db");
    assert_eq!(item["status"], "IN_SERVICE");
    assert_eq!(item["version"], 1);
    assert_eq!(
        item["attributes"],
        json!({ "engine": "PostgreSQL", "version": 16 })
    );
    assert_eq!(item["createdAt"], "2026-01-05T09:00:00.000Z");
    let second = app.create_ci("SERVER", "db-host-01").await;
    assert_eq!(second["number"], "CI0000002");

    let events = app
        .graphql_as(
            &[Role::ServiceHead],
            "query($id: ID) { auditEvents(filter: { entityKind: \"ConfigurationItem\", entityId: $id }) { edges { node { actor action before after } } } }",
            json!({ "id": item["id"] }),
        )
        .await
        .json();
    let event = &events["data"]["auditEvents"]["edges"][0]["node"];
    assert_eq!(event["actor"], "test.user");
    assert_eq!(event["action"], "created");
    assert_eq!(event["before"], Value::Null);
    assert_eq!(event["after"]["name"], "payments-db");
}

#[tokio::test]
async fn bad_input_is_refused_on_its_field_and_writes_nothing() {
    let app = TestApp::new().await;
    let base = json!({ "class": "SERVER", "name": "web-01", "environment": "PRODUCTION", "criticality": 2 });
    let with = |key: &str, value: Value| {
        let mut input = base.clone();
        input[key] = value;
        input
    };
    let cases = [
        (with("name", json!("   ")), "input.name"),
        (with("name", json!("x".repeat(201))), "input.name"),
        (with("criticality", json!(5)), "input.criticality"),
        (with("criticality", json!(0)), "input.criticality"),
        (with("attributes", json!([1, 2])), "input.attributes"),
        (with("attributes", json!("rack 4")), "input.attributes"),
        (with("status", json!("RETIRED")), "input.status"),
    ];
    for (input, field) in cases {
        let response = create_as(&app, Role::Engineer, input.clone()).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{input}");
        assert_eq!(error_field(&response), field, "{input}");
    }
    // A value of the wrong type in a variable is a request error naming it (GraphQL's
    // coercion of variable values), not a validation failure of the document.
    let unknown_class = create_as(&app, Role::Engineer, with("class", json!("MAINFRAME"))).await;
    assert_eq!(unknown_class.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&unknown_class), "input.class");
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn names_are_unique_per_class_ignoring_case() {
    let app = TestApp::new().await;
    app.create_ci("DATABASE", "Payments-DB").await;
    let duplicate = create_as(
        &app,
        Role::ChangeManager,
        json!({ "class": "DATABASE", "name": "payments-db", "environment": "TEST", "criticality": 3 }),
    )
    .await;
    assert_eq!(duplicate.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(error_field(&duplicate), "input.name");
    assert!(
        duplicate.text().contains("CI0000001"),
        "{}",
        duplicate.text()
    );

    // Another class may use the name.
    app.create_ci("SERVER", "payments-db").await;
    assert_eq!(count(&app).await, 2);
}

#[tokio::test]
async fn updates_need_the_current_version_and_bump_it() {
    let app = TestApp::new().await;
    let item = app
        .create_ci_with(json!({
            "class": "APPLICATION", "name": "Payments API", "environment": "PRODUCTION",
            "criticality": 2, "ownerTeam": "Payments", "description": "REST API"
        }))
        .await;
    app.clock.advance(chrono::Duration::minutes(5));
    let updated = app
        .graphql_as(
            &[Role::Engineer],
            UPDATE,
            json!({ "id": item["id"], "version": 1, "input": { "criticality": 1, "ownerTeam": null } }),
        )
        .await
        .json();
    let updated = &updated["data"]["updateConfigurationItem"];
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["criticality"], 1);
    assert_eq!(updated["ownerTeam"], Value::Null, "null clears");
    assert_eq!(updated["description"], "REST API", "left out stays");
    assert_eq!(updated["updatedAt"], "2026-01-05T09:05:00.000Z");

    let stale = app
        .graphql_as(
            &[Role::ChangeManager],
            UPDATE,
            json!({ "id": item["id"], "version": 1, "input": { "name": "Payments API v2" } }),
        )
        .await;
    assert_eq!(stale.error_codes(), ["CONFLICT"]);
    let now = app
        .graphql_as(
            &[Role::Engineer],
            "query($id: ID) { configurationItem(id: $id) { name version } }",
            json!({ "id": item["id"] }),
        )
        .await
        .json();
    assert_eq!(
        now["data"]["configurationItem"],
        json!({ "name": "Payments API", "version": 2 })
    );

    // Writing what is already there is not a change: no new version.
    let same = app
        .graphql_as(
            &[Role::Engineer],
            UPDATE,
            json!({ "id": item["id"], "version": 2, "input": { "criticality": 1 } }),
        )
        .await
        .json();
    assert_eq!(same["data"]["updateConfigurationItem"]["version"], 2);

    let unknown = app
        .graphql_as(
            &[Role::Engineer],
            UPDATE,
            json!({ "id": "no-such-id", "version": 1, "input": { "criticality": 1 } }),
        )
        .await;
    assert_eq!(unknown.error_codes(), ["NOT_FOUND"]);

    let renamed_onto_another = {
        app.create_ci("APPLICATION", "Ledger").await;
        app.graphql_as(
            &[Role::Engineer],
            UPDATE,
            json!({ "id": item["id"], "version": 2, "input": { "name": "LEDGER" } }),
        )
        .await
    };
    assert_eq!(renamed_onto_another.error_codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_retired_item_stays_readable_and_cannot_change() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "old-host").await;
    let retired = app
        .graphql_as(
            &[Role::Engineer],
            RETIRE,
            json!({ "id": item["id"], "version": 1 }),
        )
        .await
        .json();
    let retired = &retired["data"]["retireConfigurationItem"];
    assert_eq!(retired["status"], "RETIRED");
    assert_eq!(retired["version"], 2);
    assert_eq!(retired["retiredAt"], "2026-01-05T09:00:00.000Z");

    let again = app
        .graphql_as(
            &[Role::Engineer],
            RETIRE,
            json!({ "id": item["id"], "version": 2 }),
        )
        .await;
    assert_eq!(again.error_codes(), ["INVALID_TRANSITION"]);
    let update = app
        .graphql_as(
            &[Role::Engineer],
            UPDATE,
            json!({ "id": item["id"], "version": 2, "input": { "criticality": 1 } }),
        )
        .await;
    assert_eq!(update.error_codes(), ["INVALID_TRANSITION"]);
    let read = app
        .graphql_as(
            &[Role::CabMember],
            "query($n: String) { configurationItem(number: $n) { status } }",
            json!({ "n": "ci0000001" }),
        )
        .await
        .json();
    assert_eq!(read["data"]["configurationItem"]["status"], "RETIRED");
}

#[tokio::test]
async fn an_item_is_found_by_id_or_number_and_missing_ones_are_null() {
    let app = TestApp::new().await;
    let item = app.create_ci("STORAGE", "san-01").await;
    let query =
        "query($id: ID, $number: String) { configurationItem(id: $id, number: $number) { name } }";
    for variables in [
        json!({ "id": item["id"] }),
        json!({ "number": "CI0000001" }),
    ] {
        let found = app
            .graphql_as(&[Role::CabMember], query, variables)
            .await
            .json();
        assert_eq!(found["data"]["configurationItem"]["name"], "san-01");
    }
    let missing = app
        .graphql_as(&[Role::CabMember], query, json!({ "number": "CI9999999" }))
        .await
        .json();
    assert_eq!(missing["data"]["configurationItem"], Value::Null);
    for variables in [
        json!({}),
        json!({ "id": item["id"], "number": "CI0000001" }),
    ] {
        let response = app.graphql_as(&[Role::CabMember], query, variables).await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    }
}

#[tokio::test]
async fn lists_filter_order_and_page() {
    let app = TestApp::new().await;
    for (class, name, criticality, team) in [
        ("DATABASE", "orders-db", 1, "Data"),
        ("DATABASE", "Billing_DB", 2, "Data"),
        ("DATABASE", "100%-db", 3, "Data"),
        ("SERVER", "db-host", 2, "Infra"),
        ("APPLICATION", "Orders", 4, "Commerce"),
    ] {
        app.create_ci_with(json!({
            "class": class, "name": name, "environment": "PRODUCTION",
            "criticality": criticality, "ownerTeam": team
        }))
        .await;
    }
    let list = |filter: Value, order: Value, first: i64| {
        let app = &app;
        async move {
            let response = app
                .graphql_as(
                    &[Role::ServiceHead],
                    "query($filter: CiFilter, $order: CiOrder, $first: Int) { configurationItems(filter: $filter, orderBy: $order, first: $first) { totalCount pageInfo { hasNextPage endCursor } nodes { name } } }",
                    json!({ "filter": filter, "order": order, "first": first }),
                )
                .await
                .json();
            let connection = response["data"]["configurationItems"].clone();
            let names: Vec<String> = connection["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{response}"))
                .iter()
                .map(|node| node["name"].as_str().unwrap_or_default().to_owned())
                .collect();
            (names, connection)
        }
    };
    let (names, _) = list(json!({}), json!(null), 10).await;
    assert_eq!(
        names,
        ["100%-db", "Billing_DB", "db-host", "Orders", "orders-db"]
    );

    let (names, _) = list(
        json!({ "classes": ["DATABASE"] }),
        json!({ "field": "CRITICALITY", "direction": "DESC" }),
        10,
    )
    .await;
    assert_eq!(names, ["100%-db", "Billing_DB", "orders-db"]);

    let (names, _) = list(json!({ "nameContains": "DB" }), json!(null), 10).await;
    assert_eq!(names, ["100%-db", "Billing_DB", "db-host", "orders-db"]);
    let (names, _) = list(json!({ "nameContains": "%" }), json!(null), 10).await;
    assert_eq!(names, ["100%-db"], "% is matched literally");
    let (names, _) = list(json!({ "nameContains": "_" }), json!(null), 10).await;
    assert_eq!(names, ["Billing_DB"], "_ is matched literally");

    let (names, _) = list(
        json!({ "criticalityAtMost": 2, "criticalityAtLeast": 2 }),
        json!(null),
        10,
    )
    .await;
    assert_eq!(names, ["Billing_DB", "db-host"]);
    let (names, _) = list(
        json!({ "ownerTeam": "Data", "statuses": ["IN_SERVICE"], "environments": ["PRODUCTION"] }),
        json!({ "field": "NUMBER" }),
        10,
    )
    .await;
    assert_eq!(names, ["orders-db", "Billing_DB", "100%-db"]);

    let (first_page, connection) = list(json!({}), json!({ "field": "NUMBER" }), 2).await;
    assert_eq!(first_page, ["orders-db", "Billing_DB"]);
    assert_eq!(connection["totalCount"], 5);
    assert_eq!(connection["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql_as(
            &[Role::ServiceHead],
            "query($after: String) { configurationItems(orderBy: { field: NUMBER }, first: 10, after: $after) { pageInfo { hasNextPage } nodes { name } } }",
            json!({ "after": connection["pageInfo"]["endCursor"] }),
        )
        .await
        .json();
    assert_eq!(
        next["data"]["configurationItems"]["nodes"],
        json!([{ "name": "100%-db" }, { "name": "db-host" }, { "name": "Orders" }])
    );
    assert_eq!(
        next["data"]["configurationItems"]["pageInfo"]["hasNextPage"],
        false
    );
}

#[tokio::test]
async fn every_role_reads_but_only_engineers_and_change_managers_write() {
    let app = TestApp::new().await;
    let item = app.create_ci("SERVER", "web-01").await;
    let other = app.create_ci("SERVER", "web-02").await;
    let relationship = app.relate(&item, "CONNECTS_TO", &other).await;
    let writes = [
        (
            "mutation { createConfigurationItem(input: { class: SERVER, name: \"web-03\", environment: PRODUCTION, criticality: 2 }) { id } }",
            json!({}),
        ),
        (
            UPDATE,
            json!({ "id": item["id"], "version": 1, "input": { "criticality": 1 } }),
        ),
        (RETIRE, json!({ "id": item["id"], "version": 1 })),
        (
            "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: DEPENDS_ON }) { id } }",
            json!({ "s": item["id"], "t": other["id"] }),
        ),
        (
            "mutation($id: ID!) { removeRelationship(id: $id) { id } }",
            json!({ "id": relationship }),
        ),
        (
            "mutation { importConfigurationItems(input: { items: [{ class: SERVER, name: \"web-09\", environment: PRODUCTION, criticality: 2 }] }) { created } }",
            json!({}),
        ),
    ];
    for role in [Role::CabMember, Role::ServiceHead] {
        for (mutation, variables) in &writes {
            let response = app.graphql_as(&[role], mutation, variables.clone()).await;
            assert_eq!(response.error_codes(), ["FORBIDDEN"], "{role} {mutation}");
        }
    }
    let unchanged = app
        .graphql_as(
            &[Role::ServiceHead],
            "query($id: ID) { configurationItem(id: $id) { version status relationships { id } } configurationItems { totalCount } }",
            json!({ "id": item["id"] }),
        )
        .await
        .json();
    assert_eq!(unchanged["data"]["configurationItem"]["version"], 1);
    assert_eq!(
        unchanged["data"]["configurationItem"]["status"],
        "IN_SERVICE"
    );
    assert_eq!(
        unchanged["data"]["configurationItem"]["relationships"],
        json!([{ "id": relationship }])
    );
    assert_eq!(unchanged["data"]["configurationItems"]["totalCount"], 2);

    for role in Role::ALL {
        let read = app
            .graphql_as(&[role], "query($id: ID) { configurationItem(id: $id) { name impact { items { distance } } history { totalCount } } }", json!({ "id": item["id"] }))
            .await;
        assert!(
            read.json().get("errors").is_none(),
            "{role}: {}",
            read.text()
        );
    }
    let anonymous = app.graphql(COUNT, None).await;
    assert_eq!(anonymous.error_codes(), ["UNAUTHENTICATED"]);
}
