//! Bearer tokens through the real HTTP API: the good ones name the viewer, every bad one is
//! answered UNAUTHENTICATED and none is accepted.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use quorum_tests::{TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET, TestApp, TestResponse, fixture};
use serde_json::{Value, json};

const VIEWER: &str = "{ viewer { subject roles } }";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn claims() -> Value {
    json!({ "sub": "ada", "roles": ["ENGINEER"], "exp": now() + 3600 })
}

/// Claims as an identity provider issues them for Quorum.
fn idp_claims() -> Value {
    let mut claims = claims();
    claims["iss"] = json!(TEST_ISSUER);
    claims["aud"] = json!(TEST_AUDIENCE);
    claims
}

fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).expect("token encodes")
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        claims,
    )
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture exists")
}

fn assert_unauthenticated(response: &TestResponse, case: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        response.text()
    );
    assert_eq!(response.error_codes(), ["UNAUTHENTICATED"], "{case}");
    assert!(
        response.json().get("data").is_none(),
        "{case}: no data may leak"
    );
}

#[tokio::test]
async fn a_valid_token_names_the_viewer() {
    let app = TestApp::new().await;
    let response = app.graphql(VIEWER, Some(&hs256(&claims()))).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({ "data": { "viewer": { "subject": "ada", "roles": ["ENGINEER"] } } })
    );
}

#[tokio::test]
async fn no_token_is_unauthenticated_on_a_data_field() {
    let app = TestApp::new().await;
    let response = app.graphql(VIEWER, None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.error_codes(), ["UNAUTHENTICATED"]);
    assert_eq!(response.json()["data"], Value::Null);
}

#[tokio::test]
async fn every_bad_hs256_token_is_refused() {
    let app = TestApp::new().await;
    let expired = hs256(&json!({ "sub": "ada", "roles": ["ENGINEER"], "exp": now() - 3600 }));
    let not_yet_valid = hs256(&json!({
        "sub": "ada", "roles": ["ENGINEER"], "exp": now() + 7200, "nbf": now() + 3600
    }));
    let wrong_signature = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-that-is-long-enough-0123456789"),
        &claims(),
    );
    let alg_none = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        format!("{header}.{payload}.")
    };
    let no_expiry = hs256(&json!({ "sub": "ada", "roles": ["ENGINEER"] }));
    let no_subject = hs256(&json!({ "roles": ["ENGINEER"], "exp": now() + 3600 }));
    let other_algorithm = sign(
        Algorithm::HS512,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        &claims(),
    );
    let cases = [
        ("malformed", "not-a-jwt".to_owned()),
        ("expired", expired),
        ("not yet valid", not_yet_valid),
        ("wrong signature", wrong_signature),
        ("alg none", alg_none),
        ("no exp", no_expiry),
        ("no sub", no_subject),
        ("HS512 instead of HS256", other_algorithm),
    ];
    for (case, token) in cases {
        let response = app.graphql(VIEWER, Some(&token)).await;
        assert_unauthenticated(&response, case);
    }
}

#[tokio::test]
async fn an_authorization_header_that_is_not_a_bearer_token_is_refused() {
    let app = TestApp::new().await;
    for header in [
        "Basic YWRhOnNlY3JldA==",
        "Bearer",
        "Bearer    ",
        "token abc",
    ] {
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", header)
            .body(axum::body::Body::from(
                json!({ "query": VIEWER }).to_string(),
            ))
            .expect("request builds");
        assert_unauthenticated(&app.send(request).await, header);
    }
}

#[tokio::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let app = TestApp::builder()
        .issuer("https://idp.example.test/realms/it")
        .audience("quorum")
        .build()
        .await;
    let mut good = claims();
    good["iss"] = json!("https://idp.example.test/realms/it");
    good["aud"] = json!("quorum");
    let response = app.graphql(VIEWER, Some(&hs256(&good))).await;
    assert_eq!(response.json()["data"]["viewer"]["subject"], "ada");

    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("https://evil.example.test");
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&hs256(&wrong_issuer))).await,
        "wrong iss",
    );

    let mut wrong_audience = good.clone();
    wrong_audience["aud"] = json!("another-api");
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&hs256(&wrong_audience))).await,
        "wrong aud",
    );

    let mut no_issuer = good.clone();
    no_issuer.as_object_mut().map(|claims| claims.remove("iss"));
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&hs256(&no_issuer))).await,
        "no iss",
    );

    let mut no_audience = good;
    no_audience
        .as_object_mut()
        .map(|claims| claims.remove("aud"));
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&hs256(&no_audience))).await,
        "no aud",
    );
}

#[tokio::test]
async fn rs256_tokens_are_verified_with_the_public_key_and_hs256_ones_are_refused() {
    let app = TestApp::builder()
        .public_key("rsa_public.pem")
        .build()
        .await;
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).expect("rsa key");
    let response = app
        .graphql(VIEWER, Some(&sign(Algorithm::RS256, &rsa, &idp_claims())))
        .await;
    assert_eq!(response.json()["data"]["viewer"]["subject"], "ada");

    // The classic algorithm-confusion attack: an HS256 token whose HMAC key is the server's
    // public key, which anyone can read.
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&pem("rsa_public.pem")),
        &idp_claims(),
    );
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&confused)).await,
        "HS256 vs RS256 key",
    );

    let hs256_with_test_secret = hs256(&idp_claims());
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&hs256_with_test_secret)).await,
        "HS256 with a secret",
    );

    let ec = EncodingKey::from_ec_pem(&pem("ec_private.pem")).expect("ec key");
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&sign(Algorithm::ES256, &ec, &idp_claims())))
            .await,
        "ES256 vs RS256 key",
    );
}

#[tokio::test]
async fn es256_tokens_are_verified_with_an_ec_public_key() {
    let app = TestApp::builder().public_key("ec_public.pem").build().await;
    let ec = EncodingKey::from_ec_pem(&pem("ec_private.pem")).expect("ec key");
    let response = app
        .graphql(VIEWER, Some(&sign(Algorithm::ES256, &ec, &idp_claims())))
        .await;
    assert_eq!(response.json()["data"]["viewer"]["subject"], "ada");

    let rsa = EncodingKey::from_rsa_pem(&pem("rsa_private.pem")).expect("rsa key");
    assert_unauthenticated(
        &app.graphql(VIEWER, Some(&sign(Algorithm::RS256, &rsa, &idp_claims())))
            .await,
        "RS256 vs EC key",
    );
}

#[tokio::test]
async fn roles_are_read_from_a_nested_claim_and_unknown_roles_are_ignored() {
    let app = TestApp::builder()
        .roles_claim("realm_access.roles")
        .build()
        .await;
    let keycloak_style = json!({
        "sub": "grace",
        "exp": now() + 3600,
        "realm_access": { "roles": ["offline_access", "CAB_MEMBER", "SERVICE_HEAD", "uma_authorization"] },
        "roles": ["ENGINEER"],
    });
    let response = app.graphql(VIEWER, Some(&hs256(&keycloak_style))).await;
    assert_eq!(
        response.json()["data"]["viewer"],
        json!({ "subject": "grace", "roles": ["CAB_MEMBER", "SERVICE_HEAD"] })
    );

    let without_the_claim = json!({ "sub": "grace", "exp": now() + 3600 });
    let response = app.graphql(VIEWER, Some(&hs256(&without_the_claim))).await;
    assert_eq!(
        response.json()["data"]["viewer"],
        json!({ "subject": "grace", "roles": [] })
    );
}

#[test]
fn a_public_key_without_issuer_and_audience_is_refused_at_start() {
    let args = quorum_server::config::AuthArgs {
        jwt_secret: None,
        jwt_public_key_file: Some(fixture("rsa_public.pem")),
        jwt_issuer: Some(TEST_ISSUER.to_owned()),
        jwt_audience: None,
        roles_claim: "roles".to_owned(),
    };
    let refused = quorum_server::auth::from_args(&args, false)
        .err()
        .expect("refused");
    assert!(
        refused.to_string().contains("QUORUM_JWT_AUDIENCE"),
        "{refused}"
    );
}

#[test]
fn dev_mode_refuses_real_keys_rather_than_silently_replacing_them() {
    let args = quorum_server::config::AuthArgs {
        jwt_secret: Some(quorum_server::config::Secret::new(TEST_SECRET)),
        jwt_public_key_file: None,
        jwt_issuer: None,
        jwt_audience: None,
        roles_claim: "roles".to_owned(),
    };
    assert!(quorum_server::auth::from_args(&args, true).is_err());
}
