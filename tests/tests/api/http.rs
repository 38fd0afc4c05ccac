//! The HTTP surface: health, readiness, metrics, GraphiQL and GraphQL over HTTP.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn healthz_answers_while_the_process_is_up() {
    let app = TestApp::new().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "ok");
}

#[tokio::test]
async fn readyz_follows_the_database() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

    // The router shares this pool: once it is closed the database is unreachable.
    app.db.clone().close().await.expect("pool closes");
    let response = app.get("/readyz").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text(), "database unreachable");
}

#[tokio::test]
async fn metrics_count_operations_by_name_and_outcome() {
    let app = TestApp::new().await;
    let token = app.token("ada", &[Role::Engineer]);
    app.graphql("query WhoAmI { viewer { subject } }", Some(&token))
        .await;
    app.graphql("query WhoAmI { viewer { nope } }", Some(&token))
        .await;
    app.graphql("query WhoAmI { viewer { subject } }", None)
        .await;
    app.graphql("query WhoAmI { viewer { subject } }", Some("forged"))
        .await;
    let metrics = app.metrics().await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.content_type().starts_with("text/plain"));
    let text = metrics.text();
    let has = |line: &str| assert!(text.contains(line), "missing `{line}` in:\n{text}");
    has(r#"quorum_graphql_requests_total{operation="WhoAmI",outcome="ok"} 1"#);
    // Documents that fail validation, callers without a token and bad tokens never name a
    // series: they are counted apart.
    has(r#"quorum_graphql_requests_total{operation="rejected",outcome="error"} 2"#);
    has(r#"quorum_graphql_requests_total{operation="unauthenticated",outcome="error"} 1"#);
    has(r#"quorum_graphql_request_duration_seconds_count{operation="WhoAmI"} 1"#);
}

#[tokio::test]
async fn a_browser_gets_graphiql_and_a_client_gets_graphql_over_get() {
    let app = TestApp::new().await;
    let page = app
        .send(
            Request::get("/graphql")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .body(Body::empty())
                .expect("request builds"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("graphiql"));

    let token = app.token("ada", &[Role::ServiceHead]);
    let response = app
        .send(
            Request::get("/graphql?query=%7Bviewer%7Bsubject%20roles%7D%7D")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request builds"),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({ "data": { "viewer": { "subject": "ada", "roles": ["SERVICE_HEAD"] } } })
    );
}

#[tokio::test]
async fn the_graphql_response_media_type_is_used_when_asked_for() {
    let app = TestApp::new().await;
    let post = |accept: &'static str, query: &'static str| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("request builds")
    };

    let legacy = app.send(post("application/json", "{ viewer {")).await;
    assert_eq!(legacy.content_type(), "application/json");
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(legacy.error_codes(), ["GRAPHQL_PARSE_FAILED"]);

    let modern = app
        .send(post(
            "application/graphql-response+json, application/json;q=0.9",
            "{ viewer {",
        ))
        .await;
    assert_eq!(modern.content_type(), "application/graphql-response+json");
    assert_eq!(modern.status, StatusCode::BAD_REQUEST);
    assert_eq!(modern.error_codes(), ["GRAPHQL_PARSE_FAILED"]);

    let unknown_field = app
        .send(post("application/graphql-response+json", "{ nope }"))
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_field.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);

    // It executed: a field error (here UNAUTHENTICATED) is a 200 even though data is null.
    let executed = app
        .send(post(
            "application/graphql-response+json",
            "{ viewer { subject } }",
        ))
        .await;
    assert_eq!(executed.status, StatusCode::OK);
    assert_eq!(executed.error_codes(), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let token = app.token("ada", &[Role::Engineer]);
    let mutation = "mutation { createConfigurationItem(input: { class: SERVER, name: \"s1\", environment: PRODUCTION, criticality: 2 }) { id } }";
    let query: String = url_encode(mutation);
    let response = app
        .send(
            Request::get(format!("/graphql?query={query}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request builds"),
        )
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    let count = app
        .graphql("{ configurationItems { totalCount } }", Some(&token))
        .await;
    assert_eq!(count.json()["data"]["configurationItems"]["totalCount"], 0);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_gets_a_coded_error() {
    let app = TestApp::new().await;
    let response = app
        .send(
            Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{ this is not json"))
                .expect("request builds"),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_codes(), ["GRAPHQL_PARSE_FAILED"]);
}

#[tokio::test]
async fn batches_run_each_operation_and_oversized_batches_are_refused() {
    let app = TestApp::new().await;
    let token = app.token("ada", &[Role::CabMember]);
    let batch = |size: usize| {
        let operations: Vec<_> = (0..size)
            .map(|_| json!({ "query": "{ viewer { subject } }" }))
            .collect();
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(json!(operations).to_string()))
            .expect("request builds")
    };
    let response = app.send(batch(2)).await;
    assert_eq!(
        response.json(),
        json!([
            { "data": { "viewer": { "subject": "ada" } } },
            { "data": { "viewer": { "subject": "ada" } } },
        ])
    );

    let response = app.send(batch(11)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
}

/// A value of the wrong type sent as a variable is a request error (nothing runs) that names
/// the variable; the same value written in the document fails validation.
#[tokio::test]
async fn a_variable_of_the_wrong_type_is_bad_user_input_naming_it() {
    let app = TestApp::new().await;
    let response = app
        .graphql_as(
            &[Role::ServiceHead],
            "query($n: Int) { auditEvents(first: $n) { totalCount } }",
            json!({ "n": "many" }),
        )
        .await;
    let codes = response.error_codes();
    assert!(!codes.is_empty(), "{}", response.text());
    assert!(
        codes.iter().all(|code| code == "BAD_USER_INPUT"),
        "{codes:?}"
    );
    for error in response.json()["errors"].as_array().expect("errors") {
        assert_eq!(error["extensions"]["field"], "n", "{}", response.text());
    }
    assert!(response.json()["data"].is_null());

    let written = app
        .graphql_as(
            &[Role::ServiceHead],
            "{ auditEvents(first: \"many\") { totalCount } }",
            json!({}),
        )
        .await;
    let codes = written.error_codes();
    assert!(!codes.is_empty(), "{}", written.text());
    assert!(
        codes.iter().all(|code| code == "GRAPHQL_VALIDATION_FAILED"),
        "{codes:?}"
    );
}

#[tokio::test]
async fn an_unknown_or_missing_operation_name_is_a_validation_failure() {
    let app = TestApp::new().await;
    let token = app.token("ada", &[Role::ServiceHead]);
    let post = |body: Value| {
        Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .expect("request builds")
    };
    let two = "query A { viewer { subject } } query B { viewer { roles } }";
    let unknown = app
        .send(post(json!({ "query": two, "operationName": "C" })))
        .await;
    assert_eq!(unknown.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    let missing = app.send(post(json!({ "query": two }))).await;
    assert_eq!(missing.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    let chosen = app
        .send(post(json!({ "query": two, "operationName": "B" })))
        .await;
    assert_eq!(
        chosen.json(),
        json!({ "data": { "viewer": { "roles": ["SERVICE_HEAD"] } } })
    );
}
