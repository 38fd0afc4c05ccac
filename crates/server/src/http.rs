//! The HTTP surface: `/graphql` (GraphQL over HTTP, GraphiQL for browsers), `/healthz`,
//! `/readyz` and `/metrics` (routed in [`crate::routes`]).
//!
//! This module frames requests and responses: it reads and bounds the body, authenticates,
//! picks the media type and status, and counts. What a GraphQL request is allowed to be and
//! how it runs is the api crate's [`Engine`], shared with the WebSocket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{Request as GqlRequest, Response as GqlResponse, Variables};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;
use quorum_api::RequestContext;
use quorum_api::error::{
    BAD_USER_INPUT, GRAPHQL_PARSE_FAILED, PAYLOAD_TOO_LARGE, UNAUTHENTICATED,
    UNSUPPORTED_MEDIA_TYPE,
};
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::TokenRejected;
use crate::metrics::{Operation, Outcome};
use crate::results::{Lookup, Results};
use crate::state::AppState;
use quorum_core::mark::Mark;

/// Largest request body accepted: room for an import of a few thousand CIs; larger imports
/// go through `quorum import FILE`.
pub const MAX_BODY_BYTES: usize = 8 << 20;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const TRACE_ID: HeaderName = HeaderName::from_static("x-trace-id");

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.app.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness.database_unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match state.metrics.render() {
        Ok(text) => (
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(error = %error, "metrics.render_failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) async fn graphql_get(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let asks_for_page = accepts(request.headers(), "text/html");
    let has_query = request
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("query=")));
    if asks_for_page && !has_query {
        return crate::graphiql::page();
    }
    serve_graphql(state, request).await
}

pub(crate) async fn graphql_post(State(state): State<Arc<AppState>>, request: Request) -> Response {
    serve_graphql(state, request).await
}

/// The response media type the client asked for: `application/graphql-response+json` when
/// its Accept header names it, else the legacy `application/json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn of(headers: &HeaderMap) -> Self {
        if accepts(headers, GRAPHQL_RESPONSE_JSON) {
            Media::GraphqlResponseJson
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
            Media::Json => "application/json",
        }
    }
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().starts_with(media))
}

/// A request answered before it reached the engine.
struct Refusal {
    status: StatusCode,
    message: String,
    code: &'static str,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code,
        }
    }
}

/// One operation of a GraphQL-over-HTTP request body or query string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Variables>,
    extensions: Option<HashMap<String, async_graphql::Value>>,
}

impl Incoming {
    fn into_request(self) -> Result<GqlRequest, Refusal> {
        // A persisted document is named by its hash instead (Apollo's protocol).
        let persisted = self
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.contains_key("persistedQuery"));
        let query = match self.query {
            Some(query) => query,
            None if persisted => String::new(),
            None => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    GRAPHQL_PARSE_FAILED,
                    "not a GraphQL request: it has no `query`",
                ));
            }
        };
        let mut request = GqlRequest::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(variables);
        }
        if let Some(extensions) = self.extensions {
            request.extensions = async_graphql::Extensions(extensions);
        }
        Ok(request)
    }
}

/// The operations a request carries: one, or a batch (a JSON array).
enum Operations {
    Single(Box<GqlRequest>),
    Batch(Vec<GqlRequest>),
}

fn not_graphql(error: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        GRAPHQL_PARSE_FAILED,
        format!("not a GraphQL request: {error}"),
    )
}

/// The operations of a GET's query string: `query`, `operationName`, and `variables` and
/// `extensions` as JSON text (GraphQL over HTTP).
fn from_query_string(query: &str) -> Result<Operations, Refusal> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        query: Option<String>,
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let params: Params = serde_urlencoded::from_str(query).map_err(not_graphql)?;
    fn json<T: serde::de::DeserializeOwned>(
        text: Option<String>,
        what: &str,
    ) -> Result<Option<T>, Refusal> {
        text.filter(|text| !text.is_empty())
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|error| not_graphql(format!("`{what}` is not JSON: {error}")))
    }
    let incoming = Incoming {
        query: params.query,
        operation_name: params.operation_name,
        variables: json(params.variables, "variables")?,
        extensions: json(params.extensions, "extensions")?,
    };
    Ok(Operations::Single(Box::new(incoming.into_request()?)))
}

/// Whether a POST's Content-Type is one a GraphQL request may come in. Anything else (a
/// form, plain text, no type at all) is refused: it is not JSON, and a browser sends those
/// cross-site without asking first.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .is_some_and(|media| media == "application/json" || media == GRAPHQL_RESPONSE_JSON)
}

/// A POST body, read up to [`MAX_BODY_BYTES`] whether or not it declares its length.
async fn read_body(request: Request) -> Result<Bytes, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes; import large files with \
                 `quorum import FILE`"
            ),
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let over = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if over {
                too_large()
            } else {
                not_graphql(format!("the body could not be read: {error}"))
            }
        })
}

/// The operations of a POST body: one JSON object, or a non-empty array of them.
fn from_body(body: &[u8]) -> Result<Operations, Refusal> {
    let is_batch = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'[');
    if is_batch {
        let batch: Vec<Incoming> = serde_json::from_slice(body).map_err(not_graphql)?;
        if batch.is_empty() {
            return Err(not_graphql("the batch is empty"));
        }
        let requests = batch
            .into_iter()
            .map(Incoming::into_request)
            .collect::<Result<_, _>>()?;
        Ok(Operations::Batch(requests))
    } else {
        let incoming: Incoming = serde_json::from_slice(body).map_err(not_graphql)?;
        Ok(Operations::Single(Box::new(incoming.into_request()?)))
    }
}

/// A request as it came: a GET's query string or a POST's body, read and bounded.
enum Raw {
    Get(Bytes),
    Post(Bytes),
}

impl Raw {
    async fn read(request: Request) -> Result<Self, Refusal> {
        if request.method() == Method::GET {
            let query = request.uri().query().unwrap_or_default();
            return Ok(Raw::Get(Bytes::copy_from_slice(query.as_bytes())));
        }
        if !is_json(request.headers()) {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                UNSUPPORTED_MEDIA_TYPE,
                "send GraphQL requests as `Content-Type: application/json`",
            ));
        }
        Ok(Raw::Post(read_body(request).await?))
    }

    fn is_get(&self) -> bool {
        matches!(self, Raw::Get(_))
    }

    fn bytes(&self) -> &Bytes {
        match self {
            Raw::Get(bytes) | Raw::Post(bytes) => bytes,
        }
    }

    /// The operations it carries.
    fn operations(&self) -> Result<Operations, Refusal> {
        match self {
            Raw::Get(query) => from_query_string(&String::from_utf8_lossy(query)),
            Raw::Post(body) => from_body(body),
        }
    }
}

async fn serve_graphql(state: Arc<AppState>, request: Request) -> Response {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("graphql.request", trace_id = %trace_id);
    async move {
        let started = Instant::now();
        let media = Media::of(request.headers());
        let refused = |refusal: Refusal| {
            state
                .metrics
                .observe(Operation::Rejected, Outcome::Error, Duration::ZERO);
            error_response(
                refusal.status,
                media,
                &trace_id,
                &refusal.message,
                refusal.code,
            )
        };
        let actor = match request.headers().get(AUTHORIZATION) {
            None => None,
            Some(value) => {
                let verified = value
                    .to_str()
                    .map_err(|_| TokenRejected::MalformedHeader)
                    .and_then(|header| state.verifier.verify_header(header));
                match verified {
                    Ok(actor) => Some(actor),
                    Err(rejected) => {
                        tracing::info!(reason = %rejected, "auth.token_rejected");
                        state
                            .metrics
                            .observe(Operation::Rejected, Outcome::Error, Duration::ZERO);
                        return unauthenticated(&rejected, media, &trace_id);
                    }
                }
            }
        };
        let raw = match Raw::read(request).await {
            Ok(raw) => raw,
            Err(refusal) => return refused(refusal),
        };
        let is_get = raw.is_get();
        let lookup = match &state.results {
            Some(results) => {
                results
                    .look(&state.app.db, actor.as_ref(), is_get, raw.bytes())
                    .await
            }
            None => Lookup::Off,
        };
        let (key, keeping) = match lookup {
            Lookup::Hit(kept) => {
                let name = kept.operation.as_deref();
                state
                    .metrics
                    .observe(Operation::Executed(name), Outcome::Ok, started.elapsed());
                return with_headers(StatusCode::OK, media, &trace_id, kept.body);
            }
            Lookup::Miss {
                key,
                mark: Some(mark),
            } => (Some(key), Keeping::WithMark(mark)),
            Lookup::Miss { key, mark: None } => (Some(key), Keeping::ReadingTheMark),
            Lookup::Off => (None, Keeping::No),
        };
        let operations = match raw.operations() {
            Ok(operations) => operations,
            Err(refusal) => return refused(refusal),
        };
        let context = RequestContext::new(actor, trace_id.clone());
        match operations {
            Operations::Single(request) => {
                let (response, ran) = run(&state, *request, context.clone(), is_get, keeping).await;
                let response = match response {
                    Ok(response) => response,
                    Err(refusal) => return refused(refusal),
                };
                let Some(body) = serialize(&response_body(&response, ran.executed())) else {
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                };
                // Only an answer a repeat would reproduce is kept: a query's, without errors,
                // that did not read the clock.
                let reproducible = response.errors.is_empty() && !context.read_the_clock();
                if let (
                    Some(results),
                    Some(key),
                    Ran::Query {
                        name,
                        mark: Some(mark),
                    },
                ) = (&state.results, key, &ran)
                    && reproducible
                {
                    results.keep(key, mark.clone(), body.clone(), name.as_deref());
                }
                with_headers(status_of(ran.executed(), media), media, &trace_id, body)
            }
            Operations::Batch(requests) if requests.len() > state.limits.max_batch => {
                let message = format!(
                    "a batch may hold at most {} operations; this one has {}",
                    state.limits.max_batch,
                    requests.len()
                );
                refused(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    BAD_USER_INPUT,
                    message,
                ))
            }
            Operations::Batch(requests) => {
                let responses = join_all(
                    requests
                        .into_iter()
                        .map(|request| run(&state, request, context.clone(), is_get, Keeping::No)),
                )
                .await;
                let mut done = Vec::with_capacity(responses.len());
                for (response, ran) in responses {
                    match response {
                        Ok(response) => done.push((response, ran)),
                        Err(refusal) => return refused(refusal),
                    }
                }
                let bodies: Vec<Sent<'_>> = done
                    .iter()
                    .map(|(response, ran)| response_body(response, ran.executed()))
                    .collect();
                // A batch is answered as a whole: 200, each operation with its own errors.
                json_response(StatusCode::OK, media, &trace_id, &bodies)
            }
        }
    }
    .instrument(span)
    .await
}

/// Whether a query's answer may be kept, and with which commit mark.
enum Keeping {
    /// Never: no cache, no caller, or a batch.
    No,
    /// Yes, with the mark read now, before the query executes.
    ReadingTheMark,
    /// Yes, with the mark the lookup read (a kept answer was stale).
    WithMark(Mark),
}

/// How far one operation got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ran {
    /// Refused before it executed (it did not parse, validate or pass the limits).
    Not,
    /// A query, by its name, with the commit mark read before it executed when its answer
    /// may be kept.
    Query {
        name: Option<String>,
        mark: Option<Mark>,
    },
    /// A mutation or a subscription.
    Other,
}

impl Ran {
    fn executed(&self) -> bool {
        *self != Ran::Not
    }
}

/// Checks and runs one operation and counts it; also says how far it got. A mutation over
/// GET is refused (GraphQL over HTTP: GET must not change anything, so that links and
/// prefetches cannot). A query's answer may be kept as `keeping` says: the commit mark it
/// would be kept with is read before the query executes.
async fn run(
    state: &AppState,
    request: GqlRequest,
    context: RequestContext,
    is_get: bool,
    keeping: Keeping,
) -> (Result<GqlResponse, Refusal>, Ran) {
    let started = Instant::now();
    let authenticated = context.actor.is_some();
    let checked = match state.engine.check(request, authenticated).await {
        Ok(checked) => checked,
        Err(response) => {
            state
                .metrics
                .observe(Operation::Rejected, Outcome::Error, started.elapsed());
            return (Ok(response), Ran::Not);
        }
    };
    if is_get && checked.is_mutation() {
        let refusal = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            BAD_USER_INPUT,
            "mutations must be sent with POST; GET is for queries",
        );
        return (Err(refusal), Ran::Not);
    }
    let name = checked
        .operation()
        .and_then(|operation| operation.name.clone());
    let mutation = checked.is_mutation();
    let query = checked.is_query();
    let mark = match keeping {
        Keeping::WithMark(mark) => Some(mark),
        Keeping::ReadingTheMark if query => Results::mark(&state.app.db).await,
        Keeping::ReadingTheMark | Keeping::No => None,
    };
    let response = state.engine.execute(checked, context).await;
    let executed = quorum_api::executed(&response);
    if mutation && executed {
        // What it wrote is on its way to subscribers (on PostgreSQL, NOTIFY says so too).
        // Only a mutation writes events: a query waking the pump cost the database a read of
        // the event table per request.
        state.app.feed.wake();
    }
    // Only operations that ran for a known caller name a metric series: nobody can mint
    // series without a valid token.
    let operation = match (executed, authenticated) {
        (false, _) => Operation::Rejected,
        (true, false) => Operation::Unauthenticated,
        (true, true) => Operation::Executed(name.as_deref()),
    };
    let outcome = if response.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    state.metrics.observe(operation, outcome, started.elapsed());
    let ran = match (executed, query) {
        (false, _) => Ran::Not,
        (true, true) => Ran::Query { name, mark },
        (true, false) => Ran::Other,
    };
    (Ok(response), ran)
}

/// One response as sent. A request that never executed has no `data` key at all (the GraphQL
/// spec: an error raised before execution begins leaves no `data` entry; the
/// `application/graphql-response+json` media type insists on it). The response is serialized
/// as it is, so objects keep the order of their selection.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Sent<'a> {
    Ran(&'a GqlResponse),
    Refused {
        errors: &'a [async_graphql::ServerError],
    },
}

fn response_body(response: &GqlResponse, executed: bool) -> Sent<'_> {
    if executed {
        Sent::Ran(response)
    } else {
        Sent::Refused {
            errors: &response.errors,
        }
    }
}

/// Under application/graphql-response+json a request that never executed (it did not parse
/// or validate) is a 400; under legacy application/json every result is a 200.
fn status_of(executed: bool, media: Media) -> StatusCode {
    if media == Media::GraphqlResponseJson && !executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// A response body as JSON; none (logged) when it cannot be written.
fn serialize(body: &impl serde::Serialize) -> Option<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|error| tracing::error!(error = %error, "graphql.serialize_failed"))
        .ok()
}

fn json_response(
    status: StatusCode,
    media: Media,
    trace_id: &str,
    body: &impl serde::Serialize,
) -> Response {
    match serialize(body) {
        Some(body) => with_headers(status, media, trace_id, body),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn error_response(
    status: StatusCode,
    media: Media,
    trace_id: &str,
    message: &str,
    code: &str,
) -> Response {
    let refused = quorum_api::error::request_error(message, code);
    let mut response = json_response(status, media, trace_id, &response_body(&refused, false));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

fn unauthenticated(rejected: &TokenRejected, media: Media, trace_id: &str) -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        media,
        trace_id,
        &rejected.to_string(),
        UNAUTHENTICATED,
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

fn with_headers(status: StatusCode, media: Media, trace_id: &str, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        headers.insert(TRACE_ID, value);
    }
    response
}
