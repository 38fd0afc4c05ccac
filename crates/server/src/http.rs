//! The HTTP surface: `/graphql` (GraphQL over HTTP, GraphiQL for browsers), `/healthz`,
//! `/readyz` and `/metrics`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse, ParseRequestError, Response as GqlResponse};
use async_graphql_axum::GraphQLBatchRequest;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::future::join_all;
use quorum_api::error::{BAD_USER_INPUT, GRAPHQL_PARSE_FAILED, UNAUTHENTICATED};
use quorum_api::{AppData, Execution, QueryLimits, QuorumSchema, RequestContext, SchemaOptions};
use quorum_core::SharedClock;
use quorum_core::feed::EventFeed;
use sea_orm::DatabaseConnection;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use crate::auth::{TokenRejected, TokenVerifier};
use crate::metrics::{Metrics, Operation, Outcome};

/// Largest request body accepted: room for an import of a few thousand CIs; larger imports
/// go through `quorum import FILE`.
const MAX_BODY_BYTES: usize = 8 << 20;
/// Longest a request may run before it is answered 408 (and shutdown stops waiting for it).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const TRACE_ID: HeaderName = HeaderName::from_static("x-trace-id");

/// Everything a request handler needs, built once at start.
pub struct AppState {
    pub(crate) schema: QuorumSchema,
    /// The same schema for WebSocket operations (see [`quorum_api::SocketSchema`]).
    pub(crate) socket_schema: quorum_api::SocketSchema,
    pub(crate) app: AppData,
    pub(crate) verifier: TokenVerifier,
    db: DatabaseConnection,
    pub(crate) metrics: Metrics,
    limits: QueryLimits,
    /// Turns true when the server stops: open WebSockets close with 1001.
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// The state of one server; `feed` is this instance's live feed, whose pump the caller
    /// runs ([`EventFeed::run`]).
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        feed: EventFeed,
        verifier: TokenVerifier,
        options: &SchemaOptions,
    ) -> Result<Arc<Self>, prometheus::Error> {
        let app = AppData {
            db: db.clone(),
            clock,
            feed,
            batch_window: options.batch_window,
        };
        let schema = quorum_api::build_schema(app.clone(), options);
        let socket_schema = quorum_api::SocketSchema::new(app.clone(), options);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        Ok(Arc::new(Self {
            schema,
            socket_schema,
            app,
            verifier,
            db,
            metrics: Metrics::new()?,
            limits: options.limits,
            shutdown,
            stop,
        }))
    }

    /// Closes every open WebSocket (1001, going away); HTTP requests finish as they are.
    pub fn close_sockets(&self) {
        self.stop.send_replace(true);
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(crate::ws::graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness.database_unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
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

async fn graphql_get(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let asks_for_page = accepts(request.headers(), "text/html");
    let has_query = request
        .uri()
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("query=")));
    if asks_for_page && !has_query {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("Quorum GraphiQL")
                .finish(),
        )
        .into_response();
    }
    serve_graphql(state, request).await
}

async fn graphql_post(State(state): State<Arc<AppState>>, request: Request) -> Response {
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

async fn serve_graphql(state: Arc<AppState>, request: Request) -> Response {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("graphql.request", trace_id = %trace_id);
    async move {
        let media = Media::of(request.headers());
        let is_get = request.method() == axum::http::Method::GET;
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

        let batch = match GraphQLBatchRequest::<BadRequest>::from_request(request, &()).await {
            Ok(batch) => batch.into_inner(),
            Err(rejection) => {
                state
                    .metrics
                    .observe(Operation::Rejected, Outcome::Error, Duration::ZERO);
                return rejection.into_response_for(media, &trace_id);
            }
        };
        if is_get && asks_for_mutation(&batch) {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                &trace_id,
                "mutations must be sent with POST; GET is for queries",
                BAD_USER_INPUT,
            );
            response
                .headers_mut()
                .insert(axum::http::header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let context = RequestContext {
            actor,
            trace_id: trace_id.clone(),
        };
        let started = Instant::now();
        let authenticated = context.actor.is_some();
        let (response, executed) = match batch {
            BatchRequest::Single(request) => {
                let request = quorum_api::prepare_request(request, &state.app, context);
                let (response, executed) = execute(&state, request, &trace_id, authenticated).await;
                (BatchResponse::Single(response), executed)
            }
            BatchRequest::Batch(requests) if requests.len() > state.limits.max_batch => {
                state
                    .metrics
                    .observe(Operation::Rejected, Outcome::Error, started.elapsed());
                let message = format!(
                    "a batch may hold at most {} operations; this one has {}",
                    state.limits.max_batch,
                    requests.len()
                );
                return error_response(
                    StatusCode::BAD_REQUEST,
                    media,
                    &trace_id,
                    &message,
                    BAD_USER_INPUT,
                );
            }
            BatchRequest::Batch(requests) => {
                let responses = join_all(requests.into_iter().map(|request| {
                    let request = quorum_api::prepare_request(request, &state.app, context.clone());
                    execute(&state, request, &trace_id, authenticated)
                }))
                .await;
                let responses = responses
                    .into_iter()
                    .map(|(response, _)| response)
                    .collect();
                // A batch is answered as a whole: 200, each operation with its own errors.
                (BatchResponse::Batch(responses), true)
            }
        };
        if !is_get {
            // What a POST wrote is on its way to subscribers (on PostgreSQL, NOTIFY says so).
            state.app.feed.wake();
        }
        graphql_response(&response, executed, media, &trace_id)
    }
    .instrument(span)
    .await
}

/// Whether the operation a GET request selects is a mutation (GraphQL over HTTP: GET must not
/// change anything, so that links and prefetches cannot).
fn asks_for_mutation(batch: &BatchRequest) -> bool {
    let BatchRequest::Single(request) = batch else {
        return false;
    };
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let selected = match &request.operation_name {
        Some(name) => document
            .operations
            .iter()
            .find(|(operation_name, _)| operation_name.is_some_and(|n| n.as_str() == name))
            .map(|(_, operation)| operation.node.ty),
        None => document
            .operations
            .iter()
            .next()
            .map(|(_, operation)| operation.node.ty),
    };
    selected == Some(async_graphql::parser::types::OperationType::Mutation)
}

/// Runs one operation and counts it; also says whether it got as far as executing.
async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    trace_id: &str,
    authenticated: bool,
) -> (GqlResponse, bool) {
    let execution = Execution::default();
    let started = Instant::now();
    let response = quorum_api::error::finish_response(
        state.schema.execute(request.data(execution.clone())).await,
        trace_id,
    );
    let executed = execution.executed();
    // Only operations that ran for a known caller name a metric series: nobody can mint
    // series without a valid token.
    let name = execution.operation_name();
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
    (response, executed)
}

fn graphql_response(
    response: &BatchResponse,
    executed: bool,
    media: Media,
    trace_id: &str,
) -> Response {
    // Under application/graphql-response+json a request that never executed (it did not
    // parse or validate) is a 400; under legacy application/json every result is a 200.
    let status = if media == Media::GraphqlResponseJson && !executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    match serde_json::to_vec(response) {
        Ok(body) => with_headers(status, media, trace_id, body),
        Err(error) => {
            tracing::error!(error = %error, "graphql.serialize_failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn error_response(
    status: StatusCode,
    media: Media,
    trace_id: &str,
    message: &str,
    code: &str,
) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    with_headers(status, media, trace_id, body.to_string().into_bytes())
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

fn with_headers(status: StatusCode, media: Media, trace_id: &str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        headers.insert(TRACE_ID, value);
    }
    response
}

/// A request body or query string that is not a GraphQL request at all.
struct BadRequest(ParseRequestError);

impl From<ParseRequestError> for BadRequest {
    fn from(error: ParseRequestError) -> Self {
        Self(error)
    }
}

impl BadRequest {
    fn into_response_for(self, media: Media, trace_id: &str) -> Response {
        let status = match &self.0 {
            ParseRequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        error_response(
            status,
            media,
            trace_id,
            &format!("not a GraphQL request: {}", self.0),
            GRAPHQL_PARSE_FAILED,
        )
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        self.into_response_for(Media::Json, "none")
    }
}
