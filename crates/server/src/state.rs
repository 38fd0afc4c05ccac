//! What every request shares, built once at start: the GraphQL engine, the token verifier,
//! metrics, CORS origins, the shutdown signal and the count of open sockets per subject.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use quorum_api::{AppData, Engine, QueryLimits, SchemaOptions};
use quorum_core::SharedClock;
use quorum_core::feed::EventFeed;
use sea_orm::DatabaseConnection;

use crate::auth::TokenVerifier;
use crate::cors::CorsOrigins;
use crate::metrics::Metrics;

/// Everything a request handler needs, built once at start.
pub struct AppState {
    /// Runs GraphQL requests, over HTTP and on sockets.
    pub(crate) engine: Engine,
    pub(crate) app: AppData,
    pub(crate) verifier: TokenVerifier,
    pub(crate) metrics: Metrics,
    pub(crate) limits: QueryLimits,
    /// Turns true when the server stops: open WebSockets close with 1001.
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    stop: tokio::sync::watch::Sender<bool>,
    /// Open sockets per subject.
    pub(crate) sockets: Arc<SocketCount>,
    pub(crate) socket_limits: SocketLimits,
    /// Which browser origins may call (CORS, and the WebSocket upgrade's `Origin`).
    pub(crate) cors: CorsOrigins,
    pub(crate) cors_credentials: bool,
    /// The tokens `serve --dev` printed, offered by GraphiQL's role picker; none otherwise.
    pub(crate) dev_tokens: Option<Vec<crate::graphiql::DevToken>>,
    /// Query answers kept while the database is unchanged; none when turned off.
    pub(crate) results: Option<crate::results::Results>,
}

/// MiB of query answers a server keeps unless told otherwise.
pub const DEFAULT_RESULT_CACHE_MIB: u64 = 64;

/// How one server is set up beyond its database, clock, feed and token checks.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub schema: SchemaOptions,
    pub sockets: SocketLimits,
    pub cors: CorsOrigins,
    /// `Access-Control-Allow-Credentials` (for deployments that put tokens in cookies).
    pub cors_credentials: bool,
    /// `serve --dev`: the tokens it printed, for GraphiQL's role picker.
    pub dev_tokens: Option<Vec<crate::graphiql::DevToken>>,
    /// Bytes of query answers kept for repeats while the database is unchanged; 0 keeps none.
    pub result_cache_bytes: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            schema: SchemaOptions::default(),
            sockets: SocketLimits::default(),
            cors: CorsOrigins::None,
            cors_credentials: false,
            dev_tokens: None,
            result_cache_bytes: DEFAULT_RESULT_CACHE_MIB << 20,
        }
    }
}

impl AppState {
    /// The state of one server; `feed` is this instance's live feed, whose pump the caller
    /// runs ([`EventFeed::run`]).
    pub fn new(
        db: DatabaseConnection,
        clock: SharedClock,
        feed: EventFeed,
        verifier: TokenVerifier,
        server: &ServerOptions,
    ) -> Result<Arc<Self>, prometheus::Error> {
        let options = &server.schema;
        let backend = db.get_database_backend();
        let app = AppData::new(db, clock, feed);
        let engine = Engine::new(app.clone(), options);
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        Ok(Arc::new(Self {
            engine,
            app,
            verifier,
            metrics: Metrics::new()?,
            limits: options.limits,
            shutdown,
            stop,
            sockets: Default::default(),
            socket_limits: server.sockets,
            cors: server.cors.clone(),
            cors_credentials: server.cors_credentials,
            dev_tokens: server.dev_tokens.clone(),
            results: crate::results::Results::new(server.result_cache_bytes, backend),
        }))
    }

    /// This instance's live feed.
    pub fn feed(&self) -> &EventFeed {
        &self.app.feed
    }

    /// Closes every open WebSocket (1001, going away); HTTP requests finish as they are.
    pub fn close_sockets(&self) {
        self.stop.send_replace(true);
    }
}

/// How much one subject may hold open on sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// Sockets one subject (a token's `sub`) may hold open at once.
    pub max_sockets_per_subject: usize,
    /// Operations (subscriptions, mostly) one socket may run at once.
    pub max_operations_per_socket: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self {
            max_sockets_per_subject: 16,
            max_operations_per_socket: 20,
        }
    }
}

/// Open sockets per subject, shared by the server's sockets.
#[derive(Default)]
pub(crate) struct SocketCount(Mutex<HashMap<String, usize>>);

impl SocketCount {
    /// A place for one more socket of `subject`, unless it holds `max` already.
    pub(crate) fn take(self: &Arc<Self>, subject: &str, max: usize) -> Option<SocketSlot> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(subject.to_owned()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            count: self.clone(),
            subject: subject.to_owned(),
        })
    }
}

/// One socket's place in its subject's count, given back when the socket ends.
pub(crate) struct SocketSlot {
    count: Arc<SocketCount>,
    subject: String,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.count.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.subject) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.subject);
            }
        }
    }
}
