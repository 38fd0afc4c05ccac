//! GraphiQL, served from the binary (`assets/graphiql`, pinned builds; see its NOTICE.md): the
//! IDE works with no network beyond the server, runs subscriptions over `/graphql/ws`, and in
//! `serve --dev` offers the printed tokens by role (`/graphiql/dev-tokens`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// The page a browser gets at `GET /graphql`.
pub(crate) const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// The files the page loads, by name, with their media type.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphql-ws.min.js"),
    ),
    (
        "quorum.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/quorum.js"),
    ),
];

/// A token `serve --dev` printed, for the page's role picker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DevToken {
    pub role: String,
    pub subject: String,
    pub token: String,
}

pub(crate) fn page() -> Response {
    Html(PAGE).into_response()
}

/// `GET /graphiql/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media, bytes)) => (
            [
                (CONTENT_TYPE, *media),
                // The files change only with the binary.
                (CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /graphiql/dev-tokens`: the printed tokens in `serve --dev`, 404 otherwise.
pub(crate) async fn dev_tokens(State(state): State<Arc<AppState>>) -> Response {
    match &state.dev_tokens {
        Some(tokens) => axum::Json(tokens.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
