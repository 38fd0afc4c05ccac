//! The audit log through the API: who may read it, paging and filtering, bad page arguments.

use chrono::Duration;
use quorum_core::event::{self, EventAction, NewEvent};
use quorum_core::{Actor, Role};
use quorum_tests::TestApp;
use sea_orm::TransactionTrait;
use serde_json::{Value, json};

const PAGE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { entityId action actor occurredAt reason before after } }
  }
}"#;

/// Five events on records a–e, one minute apart, written the way domain writes write them.
async fn seed(app: &TestApp) {
    let writer = Actor::new("eve", [Role::Engineer]);
    let txn = app.db.begin().await.expect("transaction");
    for name in ["a", "b", "c", "d", "e"] {
        app.clock.advance(Duration::minutes(1));
        event::append(
            &txn,
            &writer,
            quorum_core::Clock::now(&app.clock),
            NewEvent {
                entity_kind: "ConfigurationItem",
                entity_id: name.to_owned(),
                action: EventAction::Created,
                reason: None,
                before: None,
                after: Some(json!({ "name": name })),
            },
        )
        .await
        .expect("event appends");
    }
    txn.commit().await.expect("commit");
}

fn ids(response: &Value) -> Vec<String> {
    response["data"]["auditEvents"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            edge["node"]["entityId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn engineers_and_cab_members_may_not_read_the_audit_log() {
    let app = TestApp::new().await;
    seed(&app).await;
    for role in [Role::Engineer, Role::CabMember] {
        let response = app.graphql_as(&[role], PAGE, json!({})).await;
        assert_eq!(response.error_codes(), ["FORBIDDEN"], "{role}");
        // The field a role may not read nulls itself (it is nullable), nothing else.
        assert_eq!(
            response.json()["data"],
            json!({ "auditEvents": null }),
            "{role}"
        );
    }
}

#[tokio::test]
async fn change_managers_and_service_heads_page_through_it_newest_first() {
    let app = TestApp::new().await;
    seed(&app).await;
    for role in [Role::ChangeManager, Role::ServiceHead] {
        let first = app
            .graphql_as(&[role], PAGE, json!({ "first": 2 }))
            .await
            .json();
        assert_eq!(ids(&first), ["e", "d"], "{role}");
        let connection = &first["data"]["auditEvents"];
        assert_eq!(connection["totalCount"], 5);
        assert_eq!(connection["pageInfo"]["hasNextPage"], true);
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], false);
        let node = &connection["edges"][0]["node"];
        assert_eq!(node["actor"], "eve");
        assert_eq!(node["action"], "created");
        assert_eq!(node["occurredAt"], "2026-01-05T09:05:00.000Z");
        assert_eq!(node["after"], json!({ "name": "e" }));
        assert_eq!(node["before"], Value::Null);

        let end = connection["pageInfo"]["endCursor"].clone();
        let second = app
            .graphql_as(&[role], PAGE, json!({ "first": 10, "after": end }))
            .await
            .json();
        assert_eq!(ids(&second), ["c", "b", "a"]);
        assert_eq!(
            second["data"]["auditEvents"]["pageInfo"]["hasNextPage"],
            false
        );
        assert_eq!(
            second["data"]["auditEvents"]["pageInfo"]["hasPreviousPage"],
            true
        );

        let start = second["data"]["auditEvents"]["pageInfo"]["startCursor"].clone();
        let back = app
            .graphql_as(&[role], PAGE, json!({ "last": 1, "before": start }))
            .await
            .json();
        assert_eq!(ids(&back), ["d"]);
        assert_eq!(
            back["data"]["auditEvents"]["pageInfo"]["hasPreviousPage"],
            true
        );
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_record_actor_and_time() {
    let app = TestApp::new().await;
    seed(&app).await;
    let by_record = app
        .graphql_as(
            &[Role::ServiceHead],
            PAGE,
            json!({ "filter": { "entityKind": "ConfigurationItem", "entityId": "c" } }),
        )
        .await
        .json();
    assert_eq!(ids(&by_record), ["c"]);

    let by_someone_else = app
        .graphql_as(
            &[Role::ServiceHead],
            PAGE,
            json!({ "filter": { "actor": "mallory" } }),
        )
        .await
        .json();
    assert_eq!(by_someone_else["data"]["auditEvents"]["totalCount"], 0);

    let window = app
        .graphql_as(
            &[Role::ServiceHead],
            PAGE,
            json!({ "filter": {
                "occurredFrom": "2026-01-05T09:02:00Z",
                "occurredTo": "2026-01-05T09:04:00Z"
            } }),
        )
        .await
        .json();
    assert_eq!(ids(&window), ["c", "b"]);
}

#[tokio::test]
async fn bad_page_arguments_are_bad_user_input_naming_the_argument() {
    let app = TestApp::new().await;
    let cases = [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": -1 }), "last"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "not-a-cursor" }), "after"),
        (json!({ "before": "bm9wZQ" }), "before"),
    ];
    for (variables, field) in cases {
        let response = app
            .graphql_as(&[Role::ServiceHead], PAGE, variables.clone())
            .await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{variables}");
        assert_eq!(
            response.json()["errors"][0]["extensions"]["field"],
            field,
            "{variables}"
        );
    }
}
