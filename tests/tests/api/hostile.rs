//! Hostile input: documents, connections, text and subscriptions built to take the service down
//! or make it answer INTERNAL. Each is refused with a coded error, costs little, and changes
//! nothing, on both stores.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use quorum_core::Role;
use quorum_server::listen::ConnectionLimits;
use quorum_server::state::SocketLimits;
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, MANAGER};
use quorum_tests::live::{WsClient, settle};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `{ ...F0 }` where each fragment spreads the next twice: 2^depth fields once expanded.
fn fan_out(depth: usize) -> String {
    let mut query = String::from("{ ...F0 }");
    for n in 0..depth {
        query.push_str(&format!(
            " fragment F{n} on Query {{ ...F{} ...F{} }}",
            n + 1,
            n + 1
        ));
    }
    query.push_str(&format!(" fragment F{depth} on Query {{ __typename }}"));
    query
}

#[tokio::test]
async fn a_fragment_fan_out_is_refused_before_validation_walks_it() {
    let app = TestApp::new().await;
    // Under 1 KB; expanded, 2^24 fields (it took 21 s of CPU and 1.8 GB, then answered 200).
    let query = fan_out(24);
    assert!(query.len() < 1024);
    let response = app.graphql(&query, None).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    let error = &response.json()["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("fragments are expanded")),
        "{error}"
    );
    assert_eq!(error["extensions"]["limit"], 5_000);
    assert!(
        error["extensions"]["cost"].as_i64() > Some(5_000),
        "{error}"
    );
    assert!(response.json().get("data").is_none(), "{}", response.text());

    // Far beyond 64 bits of fan-out, still one refusal.
    let response = app.graphql(&fan_out(200), None).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);

    // Aliases count each time their fragment is spread.
    let aliased = "{ ...A ...A ...A ...A } fragment A on Query { a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename h: __typename }";
    let response = app.graphql(aliased, None).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(response.text().contains("aliases"), "{}", response.text());

    // A fan-out that stays small is answered.
    let response = app.graphql(&fan_out(5), None).await;
    assert_eq!(
        response.json()["data"]["__typename"],
        "Query",
        "{}",
        response.text()
    );
}

#[tokio::test]
async fn a_document_longer_than_the_limit_is_refused_before_it_is_parsed() {
    let app = TestApp::new().await;
    let mut query = String::from("{");
    while query.len() <= 100 * 1024 {
        query.push_str(" __typename");
    }
    query.push('}');
    let response = app.graphql(&query, None).await;
    assert_eq!(response.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert_eq!(
        response.json()["errors"][0]["extensions"]["limit"],
        100 * 1024
    );
}

/// Reads what the server sends until it closes the connection or `wait` passes; none when the
/// connection is still open then.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(wait, stream.read_to_end(&mut received)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let app = TestApp::builder()
        .connection_limits(ConnectionLimits {
            header_timeout: Duration::from_millis(300),
            ..ConnectionLimits::default()
        })
        .build()
        .await;
    let address = app.serve().await;
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a request goes out");
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        answer.is_some(),
        "the server still holds a connection whose headers never ended"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_told_the_server_is_busy() {
    let app = TestApp::builder()
        .connection_limits(ConnectionLimits {
            max_connections: 2,
            header_timeout: Duration::from_secs(1),
        })
        .build()
        .await;
    let address = app.serve().await;
    // Two connections that send half a request line and stop.
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(address).await.expect("connects");
        stream.write_all(b"GET /hea").await.expect("writes");
        idle.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(address)
        .await
        .expect("the listener accepts");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("writes");
    let answer = read_until_closed(&mut third, Duration::from_secs(5))
        .await
        .expect("the refusal is sent and the connection closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("\"SERVER_BUSY\""), "{answer}");

    // Once the idle ones time out, their places are free again.
    for stream in &mut idle {
        read_until_closed(stream, Duration::from_secs(5))
            .await
            .expect("an idle connection is closed at the header deadline");
    }
    let mut fourth = TcpStream::connect(address).await.expect("connects");
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("writes");
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn count_items(app: &TestApp) -> i64 {
    let token = app.token("ada", &[Role::ServiceHead]);
    app.graphql("{ configurationItems { totalCount } }", Some(&token))
        .await
        .json()["data"]["configurationItems"]["totalCount"]
        .as_i64()
        .expect("a count")
}

#[tokio::test]
async fn text_holding_u0000_is_bad_user_input_on_both_stores_and_writes_nothing() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let events = app.event_count().await;
    let create = "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { id } }";
    let cases = [
        (
            create,
            json!({ "input": { "class": "SERVER", "name": "db\u{0}host", "environment": "PRODUCTION", "criticality": 2 } }),
            "input.name",
        ),
        (
            create,
            json!({ "input": { "class": "SERVER", "name": "host-2", "environment": "PRODUCTION", "criticality": 2, "attributes": { "rack": "r\u{0}4" } } }),
            "input.attributes.rack",
        ),
        (
            "query($text: String) { changes(filter: { text: $text }) { totalCount } }",
            json!({ "text": "up\u{0}grade" }),
            "text",
        ),
        (
            "{ change(number: \"CHG\\u0000001\") { id } }",
            json!({}),
            "number",
        ),
        (
            "{ incidents(filter: { text: \"a\\u0000\" }) { totalCount } }",
            json!({}),
            "filter.text",
        ),
    ];
    for (query, variables, field) in cases {
        let response = app
            .graphql_as(&[Role::ServiceHead], query, variables.clone())
            .await;
        assert_eq!(response.error_codes(), ["BAD_USER_INPUT"], "{variables}");
        assert_eq!(
            response.json()["errors"][0]["extensions"]["field"],
            field,
            "{}",
            response.text()
        );
    }
    assert_eq!(app.event_count().await, events);
    assert_eq!(count_items(&app).await, 1);
    assert!(ci["id"].is_string());

    // A token whose subject holds U+0000 is refused as a whole.
    let token = app.token("eve\u{0}", &[Role::Engineer]);
    let response = app.graphql("{ viewer { subject } }", Some(&token)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.error_codes(), ["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_long_search_text_is_bad_user_input_on_both_stores() {
    let app = TestApp::new().await;
    let long = "x".repeat(50_000);
    let cases = [
        ("changes", "changes(filter: { text: $text })", "text"),
        ("incidents", "incidents(filter: { text: $text })", "text"),
        ("problems", "problems(filter: { text: $text })", "text"),
        (
            "knownErrors",
            "knownErrors(filter: { text: $text })",
            "text",
        ),
        (
            "configurationItems",
            "configurationItems(filter: { nameContains: $text })",
            "nameContains",
        ),
    ];
    for (name, field, bad) in cases {
        let query = format!("query($text: String) {{ {field} {{ totalCount }} }}");
        let response = app
            .graphql_as(&[Role::ServiceHead], &query, json!({ "text": long }))
            .await;
        assert_eq!(
            response.error_codes(),
            ["BAD_USER_INPUT"],
            "{name}: {}",
            response.text()
        );
        assert_eq!(
            response.json()["errors"][0]["extensions"]["field"],
            bad,
            "{name}"
        );
        // A search of ordinary length works.
        let response = app
            .graphql_as(&[Role::ServiceHead], &query, json!({ "text": "x" }))
            .await;
        assert_eq!(
            response.json()["data"][name]["totalCount"],
            0,
            "{name}: {}",
            response.text()
        );
    }
}

const CHANGE_EVENTS: &str =
    "subscription($after: ID) { changeEvents(after: $after) { eventId change { number } } }";
const INCIDENT_EVENTS: &str =
    "subscription($after: ID) { incidentEvents(after: $after) { eventId } }";

#[tokio::test]
async fn a_socket_runs_a_bounded_number_of_operations_and_a_subject_a_bounded_number_of_sockets() {
    let app = TestApp::builder()
        .socket_limits(SocketLimits {
            max_sockets_per_subject: 2,
            max_operations_per_socket: 3,
        })
        .build()
        .await;
    let address = app.serve().await;
    let token = app.token("mallory", &[Role::Engineer]);
    let mut client = WsClient::connect(address, &token).await;
    for id in ["1", "2", "3"] {
        client.subscribe(id, CHANGE_EVENTS, json!({})).await;
    }
    settle().await;
    client.subscribe("4", CHANGE_EVENTS, json!({})).await;
    let refused = client.next_payload("4").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "TOO_MANY_OPERATIONS",
        "{refused}"
    );
    assert_eq!(
        client.next_json().await,
        json!({ "id": "4", "type": "complete" })
    );
    // Completing one frees its place.
    client.send(json!({ "type": "complete", "id": "1" })).await;
    assert_eq!(
        client.next_json().await,
        json!({ "id": "1", "type": "complete" })
    );
    client.subscribe("5", CHANGE_EVENTS, json!({})).await;
    settle().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let mut delivered = Vec::new();
    for _ in 0..3 {
        let message = client.next_json().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["changeEvents"]["change"]["number"],
            change["number"]
        );
        delivered.push(message["id"].as_str().expect("an id").to_owned());
    }
    delivered.sort();
    assert_eq!(delivered, ["2", "3", "5"]);

    // A second socket of the same subject is fine, a third is refused with 4429.
    let _second = WsClient::connect(address, &token).await;
    let mut third = WsClient::open(address).await;
    third
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    let closed = third.closed().await;
    assert_eq!(closed.code, 4429, "{closed:?}");
    // Another subject is not held back.
    let other = app.token("alice", &[Role::Engineer]);
    let _alice = WsClient::connect(address, &other).await;
}

#[tokio::test]
async fn a_resume_reads_only_its_own_kind_of_event_and_only_so_far_back() {
    let app = TestApp::builder().feed_capacity(4).build().await;
    let address = app.serve().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let first = app.new_change("NORMAL", &[&ci]).await;
    let first_event = last_event_id(&app).await;
    // Twenty events of other records, then three of changes.
    for n in 0..20 {
        app.create_ci("SERVER", &format!("host-{n}")).await;
    }
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(app.new_change("NORMAL", &[&ci]).await["number"].clone());
    }
    let token = app.token("eve", &[Role::ChangeManager]);
    let mut client = WsClient::connect(address, &token).await;
    app.feed_caught_up().await;
    // 23 events behind, of which 3 are changes: within 4 rings of 4.
    client
        .subscribe("1", CHANGE_EVENTS, json!({ "after": first_event }))
        .await;
    for number in &numbers {
        let event = client.next_data("1", "changeEvents").await;
        assert_eq!(&event["change"]["number"], number);
    }
    assert_ne!(first["number"], numbers[0]);

    // (A live subscription would fall behind a ring of four here.)
    client.send(json!({ "type": "complete", "id": "1" })).await;
    assert_eq!(
        client.next_json().await,
        json!({ "id": "1", "type": "complete" })
    );
    // Incidents: 17 behind, more than four rings of four: refused on `after`.
    for _ in 0..17 {
        app.new_incident("LOW", "LOW", &[]).await;
    }
    app.feed_caught_up().await;
    client
        .subscribe("2", INCIDENT_EVENTS, json!({ "after": first_event }))
        .await;
    let refused = client.next_payload("2").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert_eq!(refused["errors"][0]["extensions"]["field"], "after");
    assert_eq!(
        client.next_json().await,
        json!({ "id": "2", "type": "complete" })
    );

    // Not an id at all: said so.
    client
        .subscribe("3", CHANGE_EVENTS, json!({ "after": "not-an-id" }))
        .await;
    let refused = client.next_payload("3").await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "after");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("eventId")),
        "{refused}"
    );
}

async fn last_event_id(app: &TestApp) -> String {
    let token = app.token("head", &[Role::ServiceHead]);
    let response = app
        .graphql("{ auditEvents(first: 1) { nodes { id } } }", Some(&token))
        .await;
    response.json()["data"]["auditEvents"]["nodes"][0]["id"]
        .as_str()
        .expect("an event")
        .to_owned()
}

fn post(content_type: Option<&str>, accept: &str, body: Body) -> Request<Body> {
    let mut request = Request::post("/graphql").header(header::ACCEPT, accept);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body).expect("request builds")
}

#[tokio::test]
async fn bodies_too_large_or_not_json_are_refused_with_a_code() {
    let app = TestApp::new().await;
    let big = vec![b' '; 9 << 20];
    let declared = app
        .send(post(
            Some("application/json"),
            "application/json",
            Body::from(big.clone()),
        ))
        .await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(declared.error_codes(), ["PAYLOAD_TOO_LARGE"]);

    // The same size sent in chunks, without a length.
    let chunks = futures_util::stream::iter(
        big.chunks(64 * 1024)
            .map(|chunk| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(chunk)))
            .collect::<Vec<_>>(),
    );
    let chunked = app
        .send(post(
            Some("application/json"),
            "application/json",
            Body::from_stream(chunks),
        ))
        .await;
    assert_eq!(chunked.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(chunked.error_codes(), ["PAYLOAD_TOO_LARGE"]);

    let query = json!({ "query": "{ __typename }" }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = app
            .send(post(
                content_type,
                "application/json",
                Body::from(query.clone()),
            ))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(response.error_codes(), ["UNSUPPORTED_MEDIA_TYPE"]);
    }
    let json = app
        .send(post(
            Some("application/json; charset=utf-8"),
            "application/json",
            Body::from(query),
        ))
        .await;
    assert_eq!(json.json()["data"]["__typename"], "Query");
}

#[tokio::test]
async fn a_request_that_never_ran_has_no_data_and_one_without_a_query_is_a_400() {
    let app = TestApp::new().await;
    let modern = "application/graphql-response+json";
    for document in ["{ viewer {", "{ nope }"] {
        let body = json!({ "query": document }).to_string();
        let response = app
            .send(post(Some("application/json"), modern, Body::from(body)))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert!(response.json().get("data").is_none(), "{}", response.text());
    }
    for accept in [modern, "application/json"] {
        let response = app
            .send(post(
                Some("application/json"),
                accept,
                Body::from(json!({ "variables": {} }).to_string()),
            ))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{accept}");
        assert_eq!(response.error_codes(), ["GRAPHQL_PARSE_FAILED"]);
    }
}

#[tokio::test]
async fn an_int_overflow_gets_the_same_code_wherever_the_same_value_comes_from() {
    let app = TestApp::new().await;
    let as_head = |query: &'static str, variables: Value| {
        let app = &app;
        async move { app.graphql_as(&[Role::ServiceHead], query, variables).await }
    };
    // Written in the document: the document is invalid, whichever argument holds it.
    for query in [
        "{ auditEvents(first: 99999999999) { totalCount } }",
        "{ auditEvents(first: 9999999999999999999999) { totalCount } }",
        "{ changes(first: 99999999999) { totalCount } }",
        "{ incidents(filter: { text: \"x\" }, first: 3000000000) { totalCount } }",
    ] {
        let response = as_head(query, json!({})).await;
        assert_eq!(
            response.error_codes(),
            ["GRAPHQL_VALIDATION_FAILED"],
            "{query}"
        );
    }
    // Sent as a variable: the request's value is wrong, and the variable is named.
    for (query, variables, field) in [
        (
            "query($n: Int) { auditEvents(first: $n) { totalCount } }",
            json!({ "n": 99_999_999_999_i64 }),
            "n",
        ),
        (
            "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { id } }",
            json!({ "input": { "criticality": 99_999_999_999_i64 } }),
            "input.criticality",
        ),
    ] {
        let response = as_head(query, variables).await;
        assert_eq!(
            response.error_codes(),
            ["BAD_USER_INPUT"],
            "{query}: {}",
            response.text()
        );
        assert_eq!(response.json()["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn problem_history_hides_the_link_of_a_fix_change_the_reader_may_not_see() {
    let app = TestApp::new().await;
    let ci = app.create_ci("APPLICATION", "payments-api").await;
    let problem = app
        .data_by(
            ENGINEER,
            "mutation { createProblem(input: { title: \"pool exhaustion\" }) { id version } }",
            json!({}),
        )
        .await["createProblem"]
        .clone();
    let draft = app.new_change("NORMAL", &[&ci]).await;
    assert_eq!(draft["state"], "DRAFT");
    app.problem_action(
        ENGINEER,
        "linkFixChange",
        &problem,
        ", $change: ID!",
        ", changeId: $change",
        json!({ "change": draft["id"] }),
    )
    .await
    .expect("the fix is linked");
    let history = |who| {
        let app = &app;
        let id = problem["id"].clone();
        async move {
            app.data_by(
                who,
                "query($id: ID!) { problem(id: $id) { history { nodes { action } } } }",
                json!({ "id": id }),
            )
            .await["problem"]["history"]["nodes"]
                .as_array()
                .expect("events")
                .iter()
                .map(|event| event["action"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(
        history(MANAGER)
            .await
            .contains(&"fixChangeLinked".to_owned())
    );
    let for_cab = history(CAB[0]).await;
    assert!(
        !for_cab.contains(&"fixChangeLinked".to_owned()),
        "{for_cab:?}"
    );
    assert!(for_cab.contains(&"created".to_owned()), "{for_cab:?}");

    // Submitted, the change is the CAB's to see, and so is its link.
    app.act(ENGINEER, "submitChange", &draft).await;
    assert!(
        history(CAB[0])
            .await
            .contains(&"fixChangeLinked".to_owned())
    );
}

#[tokio::test]
async fn a_token_with_critical_extensions_is_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let app = TestApp::new().await;
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp".to_owned()]);
    let token = jsonwebtoken::encode(
        &header,
        &json!({ "sub": "eve", "roles": ["ENGINEER"], "exp": now + 600, "nbf": now - 10 }),
        &EncodingKey::from_secret(quorum_tests::TEST_SECRET.as_bytes()),
    )
    .expect("token encodes");
    let response = app.graphql("{ viewer { subject } }", Some(&token)).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.error_codes(), ["UNAUTHENTICATED"]);
    assert!(response.text().contains("crit"), "{}", response.text());
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_address() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/metrics").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.metrics().await.status, StatusCode::OK);
}
