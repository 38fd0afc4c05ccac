//! Relationships, impact and dependency walks through the API: refused relationships, a graph
//! with a diamond and a cycle with exact sets, distances and paths, truncation.

use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::{Value, json};

const RELATE: &str = "mutation($input: RelateConfigurationItemsInput!) { relateConfigurationItems(input: $input) { id } }";
const REMOVE: &str = "mutation($id: ID!) { removeRelationship(id: $id) { id removedAt removedBy source { name } target { name } } }";

async fn relate_response(
    app: &TestApp,
    source: &Value,
    kind: &str,
    target: &Value,
) -> quorum_tests::TestResponse {
    app.graphql_as(
        &[Role::ChangeManager],
        RELATE,
        json!({ "input": { "sourceId": source["id"], "targetId": target["id"], "type": kind } }),
    )
    .await
}

#[tokio::test]
async fn refused_relationships_say_why_and_write_nothing() {
    let app = TestApp::new().await;
    let app_ci = app.create_ci("APPLICATION", "Orders").await;
    let db = app.create_ci("DATABASE", "orders-db").await;
    let old = app.create_ci("SERVER", "old-host").await;
    app.relate(&app_ci, "DEPENDS_ON", &db).await;
    app.graphql_as(
        &[Role::Engineer],
        "mutation($id: ID!) { retireConfigurationItem(id: $id, version: 1) { status } }",
        json!({ "id": old["id"] }),
    )
    .await;

    let itself = relate_response(&app, &db, "DEPENDS_ON", &db).await;
    assert_eq!(itself.error_codes(), ["BAD_USER_INPUT"]);
    let duplicate = relate_response(&app, &app_ci, "DEPENDS_ON", &db).await;
    assert_eq!(duplicate.error_codes(), ["CONFLICT"]);
    let to_retired = relate_response(&app, &db, "RUNS_ON", &old).await;
    assert_eq!(to_retired.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(
        to_retired.json()["errors"][0]["extensions"]["field"],
        "input.targetId"
    );
    let unknown = relate_response(&app, &json!({ "id": "nope" }), "RUNS_ON", &db).await;
    assert_eq!(unknown.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(
        unknown.json()["errors"][0]["extensions"]["field"],
        "input.sourceId"
    );

    // Another type between the same CIs is a different relationship.
    relate_response(&app, &app_ci, "CONNECTS_TO", &db).await;
    let relationships = app
        .graphql_as(
            &[Role::CabMember],
            "query($id: ID) { configurationItem(id: $id) { relationships { type source { name } target { name } } } }",
            json!({ "id": db["id"] }),
        )
        .await
        .json();
    assert_eq!(
        relationships["data"]["configurationItem"]["relationships"],
        json!([
            { "type": "DEPENDS_ON", "source": { "name": "Orders" }, "target": { "name": "orders-db" } },
            { "type": "CONNECTS_TO", "source": { "name": "Orders" }, "target": { "name": "orders-db" } },
        ])
    );
}

#[tokio::test]
async fn a_removed_relationship_leaves_the_graph_and_may_be_made_again() {
    let app = TestApp::new().await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm-01").await;
    let host = app.create_ci("SERVER", "host-01").await;
    let id = app.relate(&vm, "HOSTED_ON", &host).await;
    app.clock.advance(chrono::Duration::minutes(1));
    let removed = app
        .graphql_as(&[Role::Engineer], REMOVE, json!({ "id": id }))
        .await
        .json();
    assert_eq!(
        removed["data"]["removeRelationship"],
        json!({
            "id": id, "removedAt": "2026-01-05T09:01:00.000Z", "removedBy": "test.user",
            "source": { "name": "vm-01" }, "target": { "name": "host-01" }
        })
    );
    let again = app
        .graphql_as(&[Role::Engineer], REMOVE, json!({ "id": id }))
        .await;
    assert_eq!(again.error_codes(), ["INVALID_TRANSITION"]);
    let unknown = app
        .graphql_as(&[Role::Engineer], REMOVE, json!({ "id": "nope" }))
        .await;
    assert_eq!(unknown.error_codes(), ["NOT_FOUND"]);

    let now = app
        .graphql_as(
            &[Role::Engineer],
            "query($id: ID) { configurationItem(id: $id) { relationships { id } } }",
            json!({ "id": vm["id"] }),
        )
        .await
        .json();
    assert_eq!(now["data"]["configurationItem"]["relationships"], json!([]));
    let remade = app.relate(&vm, "HOSTED_ON", &host).await;
    assert_ne!(remade, id);
}

#[tokio::test]
async fn relationships_filter_by_direction_and_type() {
    let app = TestApp::new().await;
    let api = app.create_ci("APPLICATION", "api").await;
    let db = app.create_ci("DATABASE", "db").await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm").await;
    let web = app.create_ci("APPLICATION", "web").await;
    app.relate(&api, "DEPENDS_ON", &db).await;
    app.relate(&api, "RUNS_ON", &vm).await;
    app.relate(&web, "DEPENDS_ON", &api).await;
    let query = "query($id: ID, $d: RelationshipDirection!, $t: [RelationshipType!]) { configurationItem(id: $id) { relationships(direction: $d, types: $t) { type source { name } target { name } } } }";
    let names = |response: Value| -> Vec<String> {
        response["data"]["configurationItem"]["relationships"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|r| {
                format!(
                    "{}-{}->{}",
                    r["source"]["name"].as_str().unwrap_or(""),
                    r["type"].as_str().unwrap_or(""),
                    r["target"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let ask = |direction: &str, types: Value| {
        let app = &app;
        let variables = json!({ "id": api["id"], "d": direction, "t": types });
        async move {
            app.graphql_as(&[Role::Engineer], query, variables)
                .await
                .json()
        }
    };
    assert_eq!(
        names(ask("OUTGOING", Value::Null).await),
        ["api-DEPENDS_ON->db", "api-RUNS_ON->vm"]
    );
    assert_eq!(
        names(ask("INCOMING", Value::Null).await),
        ["web-DEPENDS_ON->api"]
    );
    assert_eq!(
        names(ask("BOTH", json!(["DEPENDS_ON"])).await),
        ["api-DEPENDS_ON->db", "web-DEPENDS_ON->api"]
    );
}

/// host ← vm ← db ← {app1, app2} ← svc, and app3 ⇄ app1 (a cycle); app1 and app2 make a
/// diamond between db and svc.
struct Estate {
    app: TestApp,
    host: Value,
    svc: Value,
}

async fn estate() -> Estate {
    let app = TestApp::new().await;
    let svc = app.create_ci("BUSINESS_SERVICE", "Checkout").await;
    let app1 = app.create_ci("APPLICATION", "app1").await;
    let app2 = app.create_ci("APPLICATION", "app2").await;
    let app3 = app.create_ci("APPLICATION", "app3").await;
    let db = app.create_ci("DATABASE", "db").await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm").await;
    let host = app.create_ci("SERVER", "host").await;
    app.relate(&svc, "DEPENDS_ON", &app2).await;
    app.relate(&svc, "DEPENDS_ON", &app1).await;
    app.relate(&app1, "DEPENDS_ON", &db).await;
    app.relate(&app2, "DEPENDS_ON", &db).await;
    app.relate(&app3, "DEPENDS_ON", &app1).await;
    app.relate(&app1, "DEPENDS_ON", &app3).await;
    app.relate(&db, "RUNS_ON", &vm).await;
    app.relate(&vm, "HOSTED_ON", &host).await;
    Estate { app, host, svc }
}

const WALK: &str = "query($id: ID, $depth: Int!) { configurationItem(id: $id) {
  impact(depth: $depth) { depth truncated root { name } items { item { name } distance relationshipType path { name } } businessServices { item { name } distance } }
  dependencies(depth: $depth) { truncated items { item { name } distance path { name } } }
} }";

fn reached(walk: &Value) -> Vec<(String, i64, Vec<String>)> {
    walk["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{walk}"))
        .iter()
        .map(|entry| {
            (
                entry["item"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["distance"].as_i64().unwrap_or(-1),
                entry["path"]
                    .as_array()
                    .map(|path| {
                        path.iter()
                            .map(|step| step["name"].as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn entry(name: &str, distance: i64, path: &[&str]) -> (String, i64, Vec<String>) {
    (
        name.to_owned(),
        distance,
        path.iter().map(|step| (*step).to_owned()).collect(),
    )
}

#[tokio::test]
async fn impact_walks_against_the_arrow_through_a_diamond_and_a_cycle() {
    let Estate { app, host, .. } = estate().await;
    let response = app
        .graphql_as(
            &[Role::CabMember],
            WALK,
            json!({ "id": host["id"], "depth": 5 }),
        )
        .await
        .json();
    let impact = &response["data"]["configurationItem"]["impact"];
    assert_eq!(impact["root"]["name"], "host");
    assert_eq!(impact["truncated"], false);
    assert_eq!(
        reached(impact),
        [
            entry("vm", 1, &["host", "vm"]),
            entry("db", 2, &["host", "vm", "db"]),
            // Both reach db directly; each appears once.
            entry("app1", 3, &["host", "vm", "db", "app1"]),
            entry("app2", 3, &["host", "vm", "db", "app2"]),
            // Two shortest paths to Checkout: the one through the earlier-created app1.
            entry("Checkout", 4, &["host", "vm", "db", "app1", "Checkout"]),
            // app3 depends on app1; app1 also depends on app3 (a cycle): app3 once, app1 once.
            entry("app3", 4, &["host", "vm", "db", "app1", "app3"]),
        ]
    );
    assert_eq!(impact["items"][0]["relationshipType"], "HOSTED_ON");
    assert_eq!(impact["items"][1]["relationshipType"], "RUNS_ON");
    assert_eq!(
        impact["businessServices"],
        json!([{ "item": { "name": "Checkout" }, "distance": 4 }])
    );
}

#[tokio::test]
async fn a_walk_cut_by_its_depth_says_so() {
    let Estate { app, host, svc } = estate().await;
    let shallow = app
        .graphql_as(
            &[Role::Engineer],
            WALK,
            json!({ "id": host["id"], "depth": 3 }),
        )
        .await
        .json();
    let impact = &shallow["data"]["configurationItem"]["impact"];
    assert_eq!(impact["truncated"], true);
    assert_eq!(reached(impact).len(), 4);
    assert_eq!(impact["businessServices"], json!([]));
    let exact = app
        .graphql_as(
            &[Role::Engineer],
            WALK,
            json!({ "id": host["id"], "depth": 4 }),
        )
        .await
        .json();
    assert_eq!(
        exact["data"]["configurationItem"]["impact"]["truncated"],
        false
    );

    // Walking the other way from the business service, the last level is the host, which
    // relies on nothing: not truncated at the exact depth.
    let from_svc = app
        .graphql_as(
            &[Role::Engineer],
            WALK,
            json!({ "id": svc["id"], "depth": 4 }),
        )
        .await
        .json();
    let dependencies = &from_svc["data"]["configurationItem"]["dependencies"];
    assert_eq!(
        reached(dependencies),
        [
            entry("app1", 1, &["Checkout", "app1"]),
            entry("app2", 1, &["Checkout", "app2"]),
            entry("app3", 2, &["Checkout", "app1", "app3"]),
            entry("db", 2, &["Checkout", "app1", "db"]),
            entry("vm", 3, &["Checkout", "app1", "db", "vm"]),
            entry("host", 4, &["Checkout", "app1", "db", "vm", "host"]),
        ]
    );
    assert_eq!(dependencies["truncated"], false);
    assert_eq!(
        from_svc["data"]["configurationItem"]["impact"]["items"],
        json!([]),
        "nothing depends on the business service"
    );
}

#[tokio::test]
async fn a_depth_outside_one_to_ten_is_bad_input() {
    let Estate { app, host, .. } = estate().await;
    for depth in [0, 11, -1] {
        let response = app
            .graphql_as(
                &[Role::Engineer],
                "query($id: ID, $depth: Int!) { configurationItem(id: $id) { impact(depth: $depth) { truncated } } }",
                json!({ "id": host["id"], "depth": depth }),
            )
            .await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "depth {depth}");
        assert_eq!(response.json()["errors"][0]["extensions"]["field"], "depth");
    }
}

#[tokio::test]
async fn of_two_relationships_on_the_same_hop_the_smallest_type_is_shown() {
    let app = TestApp::new().await;
    let web = app.create_ci("APPLICATION", "web").await;
    let api = app.create_ci("APPLICATION", "api").await;
    app.relate(&web, "DEPENDS_ON", &api).await;
    app.relate(&web, "CONNECTS_TO", &api).await;
    let response = app
        .graphql_as(
            &[Role::Engineer],
            "query($id: ID) { configurationItem(id: $id) { impact(depth: 1) { items { item { name } relationshipType } } } }",
            json!({ "id": api["id"] }),
        )
        .await
        .json();
    assert_eq!(
        response["data"]["configurationItem"]["impact"]["items"],
        json!([{ "item": { "name": "web" }, "relationshipType": "CONNECTS_TO" }])
    );
}

#[tokio::test]
async fn two_removals_of_one_relationship_at_once_keep_the_first() {
    let app = TestApp::new().await;
    let vm = app.create_ci("VIRTUAL_MACHINE", "vm").await;
    let host = app.create_ci("SERVER", "host").await;
    let id = app.relate(&vm, "HOSTED_ON", &host).await;
    let remove = || app.graphql_as(&[Role::Engineer], REMOVE, json!({ "id": id }));
    let (first, second) = tokio::join!(remove(), remove());
    let mut codes = [first.error_codes(), second.error_codes()];
    codes.sort();
    assert_eq!(codes, [vec![], vec!["INVALID_TRANSITION".to_owned()]]);
    let history = app
        .graphql_as(
            &[Role::ServiceHead],
            "query($id: ID) { auditEvents(filter: { entityId: $id }) { nodes { action } } }",
            json!({ "id": id }),
        )
        .await
        .json();
    assert_eq!(
        history["data"]["auditEvents"]["nodes"],
        json!([{ "action": "removed" }, { "action": "created" }])
    );
}
