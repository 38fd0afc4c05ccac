//! The routers: which path goes to which handler, and the layers around them.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::http::{graphql_get, graphql_post, healthz, metrics, readyz};
use crate::state::AppState;

/// Smallest response body compressed.
const MIN_COMPRESSED: u16 = 1024;

/// Longest a request may run before it is answered 408 (and shutdown stops waiting for it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The public routes: GraphQL (HTTP and WebSocket) and the health checks. Responses are
/// compressed (gzip, brotli) when the client accepts it; browsers on allowed origins get
/// CORS answers.
pub fn router(state: Arc<AppState>) -> Router {
    let cors = state.cors.layer(state.cors_credentials);
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(crate::ws::graphql_ws))
        .route("/graphiql/dev-tokens", get(crate::graphiql::dev_tokens))
        .route("/graphiql/{file}", get(crate::graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // The fastest level, as nginx's default (`gzip_comp_level 1`): JSON shrinks most of
        // the way at a fraction of the CPU; at the default level deflate took 4 % of the
        // server's CPU on a page of changes. Only bodies of 1 KiB or more: each response
        // gets a fresh compressor, whose zeroed tables cost more than a small answer (a
        // createIncident's) would save; the default threshold is 32 bytes.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED))),
        )
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `/metrics` alone, for the address in `QUORUM_METRICS_LISTEN`: what it shows (operation
/// names, traffic) is for operators, not for every client of the API.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}
