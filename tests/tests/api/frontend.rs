//! What a front-end team meets first: CORS, the response's shape (spec error propagation,
//! selection order), compression, instants as JavaScript writes them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use quorum_core::Role;
use quorum_server::cors::CorsOrigins;
use quorum_tests::TestApp;
use quorum_tests::change::{ENGINEER, MANAGER};
use quorum_tests::live::WsClient;
use serde_json::{Value, json};

const DEV_SERVER: &str = "http://127.0.0.1:5173";

#[tokio::test]
async fn a_browser_on_an_allowed_origin_gets_cors_answers_and_others_do_not() {
    let app = TestApp::builder()
        .cors(CorsOrigins::List(vec![DEV_SERVER.to_owned()]))
        .build()
        .await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .expect("request builds")
    };
    let allowed = app.send(preflight(DEV_SERVER)).await;
    assert_eq!(allowed.status, StatusCode::OK);
    let header = |response: &quorum_tests::TestResponse, name: header::HeaderName| {
        response
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(
        header(&allowed, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        DEV_SERVER
    );
    let headers = header(&allowed, header::ACCESS_CONTROL_ALLOW_HEADERS);
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );

    let other = app.send(preflight("https://evil.example.com")).await;
    assert_eq!(header(&other, header::ACCESS_CONTROL_ALLOW_ORIGIN), "");

    // The actual request carries the header too, and the trace id is readable by the page.
    let token = app.token("ada", &[Role::Engineer]);
    let request = Request::post("/graphql")
        .header(header::ORIGIN, DEV_SERVER)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(
            json!({ "query": "{ viewer { subject } }" }).to_string(),
        ))
        .expect("request builds");
    let response = app.send(request).await;
    assert_eq!(
        header(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        DEV_SERVER
    );
    assert!(header(&response, header::ACCESS_CONTROL_EXPOSE_HEADERS).contains("x-trace-id"));
    assert_eq!(response.json()["data"]["viewer"]["subject"], "ada");
}

#[tokio::test]
async fn a_socket_from_a_foreign_origin_is_refused_at_the_upgrade() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let app = TestApp::builder()
        .cors(CorsOrigins::List(vec![DEV_SERVER.to_owned()]))
        .build()
        .await;
    let address = app.serve().await;
    let open = |origin: &'static str| async move {
        let mut request = format!("ws://{address}/graphql/ws")
            .into_client_request()
            .expect("a WebSocket request");
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        headers.insert("Origin", HeaderValue::from_static(origin));
        tokio_tungstenite::connect_async(request).await
    };
    let refused = open("https://evil.example.com").await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
    assert!(open(DEV_SERVER).await.is_ok(), "an allowed origin connects");
    // A client without an Origin (not a browser) connects as before.
    let token = app.token("ada", &[Role::Engineer]);
    let _client = WsClient::connect(address, &token).await;
}

#[tokio::test]
async fn a_forbidden_role_gated_field_nulls_itself_and_the_page_keeps_the_rest() {
    let app = TestApp::new().await;
    let response = app
        .graphql_by(
            ENGINEER,
            "{ viewer { subject } cabAgenda { section } changeKpis(from: \"2026-01-01T00:00:00Z\", to: \"2026-02-01T00:00:00Z\") { totals { completed } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response.json()["data"],
        json!({ "viewer": { "subject": "eve" }, "cabAgenda": null, "changeKpis": null })
    );
    assert_eq!(response.error_codes(), ["FORBIDDEN", "FORBIDDEN"]);
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_parent_as_the_spec_says() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    // Inside a nullable object: `history` (non-null) fails, `change` (nullable) is null.
    let inside_nullable = app
        .graphql_by(
            MANAGER,
            "query($id: ID) { viewer { subject } change(id: $id) { number history(first: 1000) { totalCount } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    assert_eq!(
        inside_nullable.json()["data"],
        json!({ "viewer": { "subject": "max" }, "change": null })
    );
    assert_eq!(inside_nullable.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(
        inside_nullable.json()["errors"][0]["path"],
        json!(["change", "history"])
    );
    // Inside a list of non-null items, up non-null fields to the root: `data` is null.
    let inside_list = app
        .graphql_by(
            MANAGER,
            "{ changes(first: 1) { nodes { number history(first: 1000) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(inside_list.json()["data"], Value::Null);
    assert_eq!(
        inside_list.json()["errors"][0]["path"],
        json!(["changes", "nodes", 0, "history"])
    );
    // At the root: a non-null root field that fails nulls `data`.
    let at_root = app
        .graphql_by(
            MANAGER,
            "{ viewer { subject } changes(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(at_root.json()["data"], Value::Null);
    assert_eq!(at_root.error_codes(), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn keys_come_back_in_the_order_they_were_selected_every_time() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    app.new_change("NORMAL", &[&ci]).await;
    let token = app.token("max", &[Role::ChangeManager]);
    let query = "{ viewer { roles subject } changes { totalCount nodes { title number state version type } } changePolicy { version cabQuorum rejectVetoes } configurationItems { nodes { name number } } }";
    let expected = "{\"data\":{\"viewer\":{\"roles\":[\"CHANGE_MANAGER\"],\"subject\":\"max\"},\"changes\":{\"totalCount\":1,\"nodes\":[{\"title\":";
    for _ in 0..5 {
        let text = app.graphql(query, Some(&token)).await.text();
        assert!(text.starts_with(expected), "{text}");
        let policy = text.find("\"changePolicy\"").expect("policy");
        let items = text.find("\"configurationItems\"").expect("items");
        assert!(policy < items, "{text}");
        assert!(
            text.find("\"name\"") < text.find("\"number\":\"CI"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::new().await;
    for n in 0..20 {
        app.create_ci("SERVER", &format!("host-{n:02}")).await;
    }
    let token = app.token("ada", &[Role::Engineer]);
    for (encoding, expected) in [("gzip", "gzip"), ("br", "br"), ("identity", "")] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_ENCODING, encoding)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(
                json!({ "query": "{ configurationItems(first: 100) { nodes { id number name class status environment criticality description } } }" })
                    .to_string(),
            ))
            .expect("request builds");
        let response = app.send(request).await;
        let got = response
            .headers
            .get(header::CONTENT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        assert_eq!(got, expected, "{encoding}");
    }
    // A small answer goes as it is: compressing a few hundred bytes costs more CPU (a fresh
    // compressor's tables) than the bytes it would save; createIncident's answer is one.
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(
            json!({ "query": "{ configurationItems(first: 3) { nodes { number name } } }" })
                .to_string(),
        ))
        .expect("request builds");
    let response = app.send(request).await;
    assert!(response.body.len() < 1024, "{}", response.text());
    assert!(
        response.headers.get(header::CONTENT_ENCODING).is_none(),
        "{:?}",
        response.headers
    );
}

#[tokio::test]
async fn instants_are_written_as_javascript_writes_them_and_read_with_any_offset() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    assert_eq!(ci["createdAt"], "2026-01-05T09:00:00.000Z");
    let change = app
        .new_change_with(
            "NORMAL",
            &[&ci],
            json!({ "plannedStart": "2026-01-10T11:00:00+01:00", "plannedEnd": "2026-01-10T12:00:00.250+01:00" }),
        )
        .await;
    assert_eq!(change["plannedStart"], "2026-01-10T10:00:00.000Z");
    assert_eq!(change["plannedEnd"], "2026-01-10T11:00:00.250Z");
    // Introspection describes the scalar for clients, as schema.graphql does.
    let scalar = app
        .graphql(
            "{ __type(name: \"DateTime\") { description specifiedByURL } }",
            None,
        )
        .await
        .json();
    assert!(
        scalar["data"]["__type"]["description"]
            .as_str()
            .is_some_and(|text| text.contains("toISOString")),
        "{scalar}"
    );
    assert_eq!(
        scalar["data"]["__type"]["specifiedByURL"],
        "https://datatracker.ietf.org/doc/html/rfc3339"
    );
}

/// Every root list, a full page (100) with every scalar field of its items, as the one role
/// that reads them all: within the limits. A document over them says what it costs.
#[tokio::test]
async fn a_full_page_with_every_scalar_field_passes_and_a_refusal_gives_its_figures() {
    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    let app = TestApp::new().await;
    let sdl = quorum_api::sdl();
    let schema = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let mut objects = std::collections::HashMap::new();
    let mut leaves: std::collections::HashSet<String> = [
        "String", "Int", "Float", "Boolean", "ID", "DateTime", "JSON",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for definition in &schema.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        match &ty.node.kind {
            TypeKind::Object(object) => {
                objects.insert(ty.node.name.node.to_string(), object.fields.clone());
            }
            TypeKind::Enum(_) | TypeKind::Scalar => {
                leaves.insert(ty.node.name.node.to_string());
            }
            _ => {}
        }
    }
    fn named(ty: &async_graphql::parser::types::Type) -> String {
        match &ty.base {
            BaseType::Named(name) => name.to_string(),
            BaseType::List(inner) => named(inner),
        }
    }
    let mut checked = 0;
    for field in &objects["Query"] {
        let connection = named(&field.node.ty.node);
        let Some(connection_fields) = objects.get(&connection) else {
            continue;
        };
        let Some(nodes) = connection_fields
            .iter()
            .find(|field| field.node.name.node == "nodes")
        else {
            continue;
        };
        let item = named(&nodes.node.ty.node);
        let scalars: Vec<String> = objects[&item]
            .iter()
            .filter(|field| {
                leaves.contains(&named(&field.node.ty.node))
                    && field
                        .node
                        .arguments
                        .iter()
                        .all(|argument| argument.node.ty.node.nullable)
            })
            .map(|field| field.node.name.node.to_string())
            .collect();
        let query = format!(
            "{{ {}(first: 100) {{ totalCount nodes {{ {} }} }} }}",
            field.node.name.node,
            scalars.join(" ")
        );
        let response = app
            .graphql_as(&[Role::ServiceHead], &query, json!({}))
            .await;
        assert!(
            response.error_codes().is_empty(),
            "{query}: {}",
            response.text()
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} root lists");

    let page =
        "nodes { id sequence occurredAt actor entityKind entityId action reason before after }";
    let query = format!(
        "{{ a: auditEvents(first: 100) {{ {page} }} b: auditEvents(first: 100) {{ {page} }} c: auditEvents(first: 100) {{ {page} }} d: auditEvents(first: 100) {{ {page} }} e: auditEvents(first: 100) {{ {page} }} }}"
    );
    let refused = app
        .graphql_as(&[Role::ServiceHead], &query, json!({}))
        .await;
    assert_eq!(refused.error_codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    let extensions = &refused.json()["errors"][0]["extensions"];
    assert_eq!(extensions["limit"], 5_000);
    assert!(
        extensions["cost"].as_i64() > Some(5_000),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn viewer_can_answers_every_permission_of_the_table_for_the_token() {
    let app = TestApp::new().await;
    let grants = |roles: &'static [Role]| {
        let app = &app;
        async move {
            let data = app
                .graphql_as(
                    roles,
                    "{ viewer { can { permission allowed condition description } } }",
                    json!({}),
                )
                .await
                .json();
            data["data"]["viewer"]["can"]
                .as_array()
                .expect("grants")
                .iter()
                .map(|grant| {
                    (
                        grant["permission"].as_str().unwrap_or_default().to_owned(),
                        (grant["allowed"].clone(), grant["condition"].clone()),
                    )
                })
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let engineer = grants(&[Role::Engineer]).await;
    assert_eq!(engineer.len(), quorum_core::Permission::ALL.len());
    assert_eq!(engineer["READ_AUDIT_LOG"], (json!(false), Value::Null));
    assert_eq!(engineer["CREATE_CHANGE"], (json!(true), Value::Null));
    assert_eq!(
        engineer["UPDATE_CHANGE"],
        (json!(true), json!("as requester"))
    );
    let manager = grants(&[Role::ChangeManager]).await;
    assert_eq!(manager["UPDATE_CHANGE"], (json!(true), Value::Null));
    assert_eq!(manager["READ_AUDIT_LOG"], (json!(true), Value::Null));
    let cab = grants(&[Role::CabMember]).await;
    assert_eq!(cab["READ_DRAFT_CHANGES"], (json!(false), Value::Null));
}

fn persisted(hash: &str, query: Option<&str>) -> Value {
    let mut body =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    body
}

async fn post_body(app: &TestApp, body: Value, token: Option<&str>) -> quorum_tests::TestResponse {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(
        request
            .body(Body::from(body.to_string()))
            .expect("request builds"),
    )
    .await
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol_across_instances() {
    let app = TestApp::new().await;
    let token = app.token("ada", &[Role::Engineer]);
    let query = "{ viewer { subject } }";
    let hash = quorum_api::documents::sha256(query);

    // The hash alone, first: not found, in the shape Apollo's link falls back on.
    let unknown = post_body(&app, persisted(&hash, None), Some(&token)).await;
    assert_eq!(unknown.error_codes(), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(
        unknown.json()["errors"][0]["message"],
        "PersistedQueryNotFound"
    );

    // The hash with the document registers it; then the hash alone runs it, on this instance
    // and on another one sharing the database.
    let registered = post_body(&app, persisted(&hash, Some(query)), Some(&token)).await;
    assert_eq!(registered.json()["data"]["viewer"]["subject"], "ada");
    let again = post_body(&app, persisted(&hash, None), Some(&token)).await;
    assert_eq!(again.json()["data"]["viewer"]["subject"], "ada");
    let other = app.another_instance().await;
    let elsewhere = post_body(&other, persisted(&hash, None), Some(&token)).await;
    assert_eq!(
        elsewhere.json()["data"]["viewer"]["subject"],
        "ada",
        "{}",
        elsewhere.text()
    );

    // A hash that is not the document's is refused.
    let mismatch = post_body(&app, persisted(&"0".repeat(64), Some(query)), Some(&token)).await;
    assert_eq!(mismatch.error_codes(), ["BAD_USER_INPUT"]);

    // Over GET too, as Apollo's link sends queries by default.
    let uri = format!(
        "/graphql?extensions={}",
        urlencode(&json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string())
    );
    let get = app
        .send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request builds"),
        )
        .await;
    assert_eq!(
        get.json()["data"]["viewer"]["subject"],
        "ada",
        "{}",
        get.text()
    );
}

fn urlencode(text: &str) -> String {
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
async fn with_a_trusted_documents_manifest_only_its_documents_run() {
    let query = "query Me { viewer { subject } }";
    let hash = quorum_api::documents::sha256(query);
    let manifest =
        quorum_api::documents::read_manifest(&json!({ hash.clone(): query }).to_string())
            .expect("a valid manifest");
    let app = TestApp::builder().trusted_documents(manifest).build().await;
    let token = app.token("ada", &[Role::Engineer]);
    let by_hash = post_body(&app, persisted(&hash, None), Some(&token)).await;
    assert_eq!(by_hash.json()["data"]["viewer"]["subject"], "ada");
    let whole = post_body(&app, json!({ "query": query }), Some(&token)).await;
    assert_eq!(whole.json()["data"]["viewer"]["subject"], "ada");
    let other = post_body(
        &app,
        json!({ "query": "{ viewer { roles } }" }),
        Some(&token),
    )
    .await;
    assert_eq!(other.error_codes(), ["DOCUMENT_NOT_TRUSTED"]);
    let registering = post_body(
        &app,
        persisted(
            &quorum_api::documents::sha256("{ viewer { roles } }"),
            Some("{ viewer { roles } }"),
        ),
        Some(&token),
    )
    .await;
    assert_eq!(registering.error_codes(), ["DOCUMENT_NOT_TRUSTED"]);
}

#[tokio::test]
async fn a_refused_transition_says_why_as_a_code_beside_the_sentence() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    let codes = |who| {
        let app = &app;
        let id = change["id"].clone();
        async move {
            let data = app
                .data_by(
                    who,
                    "query($id: ID) { change(id: $id) { availableTransitions { action allowed code reason } } }",
                    json!({ "id": id }),
                )
                .await;
            data["change"]["availableTransitions"]
                .as_array()
                .expect("transitions")
                .iter()
                .map(|transition| {
                    (
                        transition["action"].as_str().unwrap_or_default().to_owned(),
                        transition["code"].clone(),
                    )
                })
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let engineer = codes(ENGINEER).await;
    assert_eq!(engineer["AUTHORIZE"], "ROLE");
    assert_eq!(engineer["UPDATE"], Value::Null, "allowed: no code");
    let manager = codes(MANAGER).await;
    assert_eq!(manager["AUTHORIZE"], "PREREQUISITE", "not assessed yet");
    assert_eq!(manager["SCHEDULE"], "STATE");
    let other = codes(quorum_tests::change::OTHER_ENGINEER).await;
    assert_eq!(other["UPDATE"], "PERSON", "only the requester or a manager");
}

#[tokio::test]
async fn a_bad_instant_in_a_variable_is_a_request_error_naming_it() {
    let app = TestApp::new().await;
    let query = "query($f: DateTime! = \"2026-12-01\") { viewer { subject } changeCalendar(from: $f, to: \"2027-01-01T00:00:00Z\") { changes { number } } }";
    let response = app
        .graphql_as(&[Role::ChangeManager], query, json!({}))
        .await;
    assert_eq!(response.error_codes(), ["BAD_USER_INPUT"]);
    assert_eq!(response.json()["errors"][0]["extensions"]["field"], "f");
    assert!(
        response.json().get("data").is_none(),
        "nothing ran: {}",
        response.text()
    );
    let given = app
        .graphql_as(&[Role::ChangeManager], query, json!({ "f": "yesterday" }))
        .await;
    assert_eq!(given.error_codes(), ["BAD_USER_INPUT"]);
    let fine = app
        .graphql_as(
            &[Role::ChangeManager],
            query,
            json!({ "f": "2026-12-01T00:00:00+01:00" }),
        )
        .await;
    assert!(fine.error_codes().is_empty(), "{}", fine.text());
}

#[tokio::test]
async fn node_refetches_any_record_by_id_with_its_visibility() {
    let app = TestApp::new().await;
    let ci = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&ci]).await;
    let incident = app.new_incident("LOW", "LOW", &[&ci]).await;
    let node = "query($id: ID!) { node(id: $id) { __typename id ... on Change { number state } ... on ConfigurationItem { name } ... on Incident { number } } }";
    let fetch = |who, id: &Value| {
        let app = &app;
        let id = id.clone();
        async move { app.data_by(who, node, json!({ "id": id })).await["node"].clone() }
    };
    assert_eq!(
        fetch(ENGINEER, &ci["id"]).await,
        json!({ "__typename": "ConfigurationItem", "id": ci["id"], "name": "payments-db" })
    );
    assert_eq!(fetch(ENGINEER, &change["id"]).await["__typename"], "Change");
    assert_eq!(
        fetch(ENGINEER, &incident["id"]).await["number"],
        incident["number"]
    );
    // A draft is hidden from the CAB as it is from `change(id:)`.
    assert_eq!(
        fetch(quorum_tests::change::CAB[0], &change["id"]).await,
        Value::Null
    );
    assert_eq!(fetch(ENGINEER, &json!("no-such-id")).await, Value::Null);
}
