//! Query depth, complexity and alias limits: over-limit documents are refused before any
//! resolver runs, with a coded error.

use quorum_api::QueryLimits;
use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::json;

/// The introspection query GraphiQL and code generators send; the default limits must let
/// it through.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

#[tokio::test]
async fn the_standard_introspection_query_passes_the_default_limits() {
    let app = TestApp::new().await;
    let response = app.graphql(INTROSPECTION, None).await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
    assert_eq!(
        response.json()["data"]["__schema"]["queryType"]["name"],
        "Query"
    );
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = TestApp::builder().introspection(false).build().await;
    let response = app
        .graphql("{ __schema { queryType { name } } }", None)
        .await;
    assert!(
        response.json()["data"]["__schema"].is_null(),
        "{}",
        response.text()
    );
    let token = app.token("ada", &[Role::Engineer]);
    let data = app.graphql("{ viewer { subject } }", Some(&token)).await;
    assert_eq!(data.json()["data"]["viewer"]["subject"], "ada");
}

#[tokio::test]
async fn an_over_deep_query_is_refused() {
    let app = TestApp::new().await;
    let mut query = String::from("{ __schema { types { fields { type ");
    for _ in 0..14 {
        query.push_str("{ ofType ");
    }
    query.push_str("{ name }");
    for _ in 0..14 {
        query.push_str(" }");
    }
    query.push_str(" } } } }");
    let response = app.graphql(&query, None).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(response.json()["data"].is_null());
    assert!(
        response.text().contains("nested too deep"),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn an_over_complex_query_is_refused_and_touches_no_data() {
    let app = TestApp::new().await;
    let before = app.statements();
    // Four full pages of audit events with every field: 4 × 100 rows × 13 fields.
    let page = "edges { cursor node { id sequence occurredAt actor entityKind entityId action reason before after } }";
    let query = format!(
        "{{ a: auditEvents(first: 100) {{ {page} }} b: auditEvents(first: 100) {{ {page} }} c: auditEvents(first: 100) {{ {page} }} d: auditEvents(first: 100) {{ {page} }} }}"
    );
    let response = app
        .graphql_as(&[Role::ServiceHead], &query, json!({}))
        .await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(
        response.text().contains("too complex"),
        "{}",
        response.text()
    );
    assert!(response.json()["data"].is_null());
    // async-graphql refuses it as it starts to execute; before that the server may have read
    // the database's commit mark (a query's answer may be kept), which reads no table.
    let ran = app.statements_since(before);
    assert!(
        ran.iter().all(|sql| sql.contains("pg_current_snapshot")),
        "a refused query reads no data: {ran:?}"
    );

    let one_small_page = "{ auditEvents(first: 10) { totalCount edges { node { id action } } } }";
    let response = app
        .graphql_as(&[Role::ServiceHead], one_small_page, json!({}))
        .await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn configured_limits_are_the_ones_enforced() {
    let app = TestApp::builder()
        .limits(QueryLimits {
            max_depth: 2,
            max_complexity: 5,
            max_aliases: 1,
            max_batch: 1,
            ..QueryLimits::default()
        })
        .build()
        .await;
    let token = app.token("ada", &[Role::Engineer]);
    let fine = app.graphql("{ viewer { subject } }", Some(&token)).await;
    assert!(fine.json().get("errors").is_none(), "{}", fine.text());

    let too_deep = app
        .graphql("{ __schema { queryType { name } } }", Some(&token))
        .await;
    assert_eq!(too_deep.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(
        too_deep.text().contains("nested too deep"),
        "{}",
        too_deep.text()
    );

    let too_complex = app
        .graphql(
            "{ viewer { subject roles } v: viewer { subject roles } }",
            Some(&token),
        )
        .await;
    assert_eq!(too_complex.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);

    let two_aliases = app
        .graphql(
            "{ a: viewer { subject } b: viewer { subject } }",
            Some(&token),
        )
        .await;
    assert!(
        two_aliases.text().contains("2 aliases"),
        "{}",
        two_aliases.text()
    );

    let batch = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(
            json!([{ "query": "{ viewer { subject } }" }, { "query": "{ viewer { subject } }" }])
                .to_string(),
        ))
        .expect("request builds");
    let response = app.send(batch).await;
    assert_eq!(response.status, axum::http::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn too_many_aliases_are_refused() {
    let app = TestApp::new().await;
    let aliases: String = (0..31)
        .map(|n| format!("v{n}: viewer {{ subject }} "))
        .collect();
    let token = app.token("ada", &[Role::Engineer]);
    let response = app.graphql(&format!("{{ {aliases} }}"), Some(&token)).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(
        response.text().contains("31 aliases"),
        "{}",
        response.text()
    );

    let thirty: String = (0..30)
        .map(|n| format!("v{n}: viewer {{ subject }} "))
        .collect();
    let response = app.graphql(&format!("{{ {thirty} }}"), Some(&token)).await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn walks_on_every_row_of_a_large_page_are_too_complex() {
    let app = TestApp::new().await;
    let query = "{ configurationItems(first: 100) { nodes { name impact(depth: 5) { items { distance } } } } }";
    let response = app.graphql_as(&[Role::CabMember], query, json!({})).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    let small = "{ configurationItems(first: 20) { nodes { name impact(depth: 5) { items { distance } } } } }";
    let response = app.graphql_as(&[Role::CabMember], small, json!({})).await;
    assert!(
        response.json().get("errors").is_none(),
        "{}",
        response.text()
    );
}
