//! The test harness: a fresh database per test (an SQLite file, or a PostgreSQL database that
//! is dropped afterwards) and the real router, driven in-process over HTTP requests.
//!
//! A migrated database is a copy of a template migrated once per migration history
//! (`template.rs`), not a run of every migration per test.
//!
//! The backend comes from `QUORUM_TEST_DATABASE` (`sqlite`, the default, or `postgres`);
//! PostgreSQL from `QUORUM_TEST_POSTGRES_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use quorum_api::{QueryLimits, SchemaOptions};
use quorum_core::feed::{self, EventFeed};
use quorum_core::{ManualClock, Role};
use quorum_server::auth::{self, TokenSigner};
use quorum_server::config::{AuthArgs, Secret};
use quorum_server::cors::CorsOrigins;
use quorum_server::listen::{self, ConnectionLimits};
use quorum_server::routes::{metrics_router, router};
use quorum_server::state::SocketLimits;
use quorum_server::state::{AppState, ServerOptions};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub mod change;
pub mod cmdb;
pub mod incident;
pub mod live;
mod template;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The HS256 secret test apps verify with.
pub const TEST_SECRET: &str = "quorum-test-secret-0123456789abcdef-0123456789";
/// The issuer public-key test apps require.
pub const TEST_ISSUER: &str = "https://idp.example.test/realms/it";
/// The audience public-key test apps require.
pub const TEST_AUDIENCE: &str = "quorum";

/// The database engine the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("QUORUM_TEST_DATABASE").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => {
                panic!("QUORUM_TEST_DATABASE must be `sqlite` or `postgres`, not `{other}`")
            }
        }
    }
}

fn postgres_admin_url() -> String {
    std::env::var("QUORUM_TEST_POSTGRES_URL")
        // No TLS to the local server: the handshake, in a debug build of rustls, cost each of a
        // test's five or so connections about 100 ms.
        .unwrap_or_else(|_| {
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned()
        })
}

/// The instant `text` (RFC 3339) names; panics when it names none.
pub fn at(text: &str) -> DateTime<Utc> {
    text.parse()
        .unwrap_or_else(|error| panic!("{text} is not an instant: {error}"))
}

/// The instant in a JSON string, as the API writes instants; panics on anything else.
pub fn instant(value: &Value) -> DateTime<Utc> {
    at(value
        .as_str()
        .unwrap_or_else(|| panic!("not an instant: {value}")))
}

/// [`instant`], or None for null.
pub fn optional_instant(value: &Value) -> Option<DateTime<Utc>> {
    (!value.is_null()).then(|| instant(value))
}

/// Path of a file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A database of its own for one test, removed when dropped.
pub struct TestDatabase {
    url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// An empty database (no migrations applied) on the backend chosen by the environment:
    /// for tests of the migrations themselves and of `quorum migrate`.
    pub async fn create() -> Self {
        Self::create_from(None).await
    }

    /// A database with every migration applied: a copy of the migrated template (see
    /// `template.rs`), as if the migrations had just run on it.
    pub async fn create_migrated() -> Self {
        match Backend::from_env() {
            Backend::Sqlite => {
                let template = template::sqlite().await;
                let database = Self::create_from(None).await;
                let file = database
                    ._dir
                    .as_ref()
                    .expect("an SQLite database has a directory")
                    .path()
                    .join("quorum.db");
                std::fs::copy(template, file).expect("the SQLite template copies");
                database
            }
            Backend::Postgres => {
                let template = template::postgres(&postgres_admin_url()).await;
                Self::create_from(Some(template)).await
            }
        }
    }

    /// An empty database, or on PostgreSQL a copy of `template`.
    async fn create_from(template: Option<&str>) -> Self {
        match Backend::from_env() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("quorum.db").display()
                );
                Self {
                    url,
                    postgres_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = Database::connect(admin_url.as_str()).await.unwrap_or_else(|error| {
                    panic!(
                        "cannot reach PostgreSQL at {admin_url} ({error}). Start one \
                         (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
                         or point QUORUM_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE"
                    )
                });
                let name = format!("quorum_test_{}", uuid::Uuid::new_v4().simple());
                let statement = match template {
                    Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
                    None => format!("CREATE DATABASE \"{name}\""),
                };
                admin
                    .execute_unprepared(&statement)
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                sweep_finished(admin_url.clone());
                let url = replace_database(&admin_url, &name);
                Self {
                    url,
                    postgres_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on this database, opened exactly as the server opens its own.
    pub async fn connect(&self) -> DatabaseConnection {
        quorum_server::db::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// One connection on this database, as the server opens for its migrations.
    pub async fn connect_one(&self) -> DatabaseConnection {
        quorum_server::db::connect_one(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// A pool on this database after applying every pending migration, as the server starts
    /// (on a database from [`TestDatabase::create_migrated`] there is none).
    pub async fn migrated(&self) -> DatabaseConnection {
        let db = self.connect().await;
        quorum_server::db::migrate(&db, &self.url)
            .await
            .expect("migrations apply");
        db
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    // Everything up to the path that follows the authority: `postgres://user@host:port`.
    let authority = base.find("://").map_or(0, |at| at + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// What a finished test's database says of itself (its comment), for [`sweep_finished`].
const FINISHED: &str = "quorum test finished";

/// The most databases one sweep drops (each at once, on a connection of its own).
const SWEEP_AT_MOST: i64 = 4;

impl Drop for TestDatabase {
    /// Marks a PostgreSQL database finished rather than dropping it: on PostgreSQL 15 a
    /// `DROP DATABASE` waits for a checkpoint (about a second on a loaded machine), which every
    /// test would otherwise wait for at its end. The sweep a later test starts as it creates its
    /// database drops it, while that test runs. So after a run the databases of the last few
    /// tests stay, until the next run's first tests drop them.
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; the statement needs one of its own.
        let admin_url = postgres_admin_url();
        let marked = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for cleanup");
            runtime.block_on(async move {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("COMMENT ON DATABASE \"{name}\" IS '{FINISHED}'"))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(error)) = marked {
            eprintln!("could not mark a test database finished: {error}");
        }
    }
}

/// Drops databases that finished tests marked (of any run or checkout on this server), all at
/// once so that their checkpoints are shared, in a thread of its own. Each is dropped by one
/// sweep: the one that holds its advisory lock.
fn sweep_finished(admin_url: String) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime for cleanup");
        let swept = runtime.block_on(async move {
            let admin = Database::connect(admin_url.as_str()).await?;
            let finished = admin
                .query_all_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT datname FROM (SELECT d.datname, d.oid FROM pg_database d \
                     JOIN pg_shdescription s ON s.objoid = d.oid \
                     AND s.classoid = 'pg_database'::regclass \
                     WHERE s.description = $1 AND d.datname LIKE 'quorum\\_test\\_%' \
                     ORDER BY d.oid LIMIT $2) f WHERE pg_try_advisory_lock(1902, hashtext(datname))",
                    [FINISHED.into(), SWEEP_AT_MOST.into()],
                ))
                .await?;
            let names = finished
                .iter()
                .map(|row| row.try_get::<String>("", "datname"))
                .collect::<Result<Vec<_>, _>>()?;
            let pool = &admin;
            let drops = names.iter().map(|name| async move {
                pool.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
            });
            for dropped in futures_util::future::join_all(drops).await {
                dropped?;
            }
            admin.close().await
        });
        if let Err(error) = swept {
            eprintln!("could not drop finished test databases: {error}");
        }
    });
}

/// Builds a [`TestApp`] with non-default authentication or limits.
pub struct TestAppBuilder {
    auth: AuthArgs,
    limits: QueryLimits,
    introspection: bool,
    sockets: SocketLimits,
    connections: ConnectionLimits,
    feed_capacity: usize,
    result_cache_bytes: u64,
    cors: CorsOrigins,
    trusted_documents: Option<Arc<quorum_api::documents::TrustedDocuments>>,
}

impl TestAppBuilder {
    /// Only these documents run (`QUORUM_TRUSTED_DOCUMENTS`).
    pub fn trusted_documents(mut self, documents: quorum_api::documents::TrustedDocuments) -> Self {
        self.trusted_documents = Some(Arc::new(documents));
        self
    }

    /// The browser origins the app allows (none by default).
    pub fn cors(mut self, cors: CorsOrigins) -> Self {
        self.cors = cors;
        self
    }

    /// Events the live feed's ring holds (and so how far a subscriber may fall behind).
    pub fn feed_capacity(mut self, capacity: usize) -> Self {
        self.feed_capacity = capacity;
        self
    }

    /// Bytes of query answers the app keeps for repeats (`QUORUM_RESULT_CACHE_MIB`); 0 keeps
    /// none, for tests that count what computing an answer costs.
    pub fn result_cache_bytes(mut self, bytes: u64) -> Self {
        self.result_cache_bytes = bytes;
        self
    }

    /// Sockets per subject and operations per socket, instead of the served defaults.
    pub fn socket_limits(mut self, sockets: SocketLimits) -> Self {
        self.sockets = sockets;
        self
    }

    /// Connections and the header deadline of [`TestApp::serve`], instead of the defaults.
    pub fn connection_limits(mut self, connections: ConnectionLimits) -> Self {
        self.connections = connections;
        self
    }

    pub fn issuer(mut self, issuer: &str) -> Self {
        self.auth.jwt_issuer = Some(issuer.to_owned());
        self
    }

    pub fn audience(mut self, audience: &str) -> Self {
        self.auth.jwt_audience = Some(audience.to_owned());
        self
    }

    pub fn roles_claim(mut self, claim: &str) -> Self {
        self.auth.roles_claim = claim.to_owned();
        self
    }

    /// Verify with this PEM public key instead of the HS256 test secret; tokens must then
    /// carry [`TEST_ISSUER`] and [`TEST_AUDIENCE`].
    pub fn public_key(mut self, fixture_name: &str) -> Self {
        self.auth.jwt_secret = None;
        self.auth.jwt_public_key_file = Some(fixture(fixture_name));
        self.issuer(TEST_ISSUER).audience(TEST_AUDIENCE)
    }

    pub fn limits(mut self, limits: QueryLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn introspection(mut self, enabled: bool) -> Self {
        self.introspection = enabled;
        self
    }

    pub async fn build(self) -> TestApp {
        let database = TestDatabase::create_migrated().await;
        let mut db = database.connect().await;
        // Counts every statement the app runs from here on (the pool is shared by clones).
        let statements = Arc::new(Mutex::new(Vec::new()));
        let log = statements.clone();
        db.set_metric_callback(move |info| {
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(info.statement.sql.clone());
        });
        let (verifier, signer) = auth::from_args(&self.auth, false).expect("valid auth settings");
        let clock = ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
                .single()
                .expect("valid instant"),
        );
        let options = SchemaOptions {
            limits: self.limits,
            introspection: self.introspection,
            trusted_documents: self.trusted_documents.clone(),
        };
        // The feed reads through a pool of its own, so that its polling stays out of the
        // statement log that tests count.
        let feed = start_feed(&database, self.feed_capacity).await;
        let state = AppState::new(
            db.clone(),
            Arc::new(clock.clone()),
            feed,
            verifier,
            &ServerOptions {
                schema: options.clone(),
                sockets: self.sockets,
                cors: self.cors.clone(),
                cors_credentials: false,
                result_cache_bytes: self.result_cache_bytes,
                ..ServerOptions::default()
            },
        )
        .expect("metrics register");
        TestApp {
            router: router(state.clone()),
            state,
            db,
            clock,
            signer,
            auth: self.auth,
            options,
            sockets: self.sockets,
            connections: self.connections,
            feed_capacity: self.feed_capacity,
            result_cache_bytes: self.result_cache_bytes,
            cors: self.cors,
            statements,
            _database: Arc::new(database),
        }
    }
}

/// This instance's live feed on a pool of its own, its pump running (LISTEN on PostgreSQL).
async fn start_feed(database: &TestDatabase, capacity: usize) -> EventFeed {
    let feed_db = database.connect().await;
    let listen_url = (feed_db.get_database_backend() == sea_orm::DatabaseBackend::Postgres)
        .then(|| database.url().to_owned());
    let feed = EventFeed::start(feed_db, capacity)
        .await
        .expect("the feed starts");
    tokio::spawn(feed.clone().run(listen_url));
    feed
}

/// The real router on a fresh, migrated database, with a movable clock.
pub struct TestApp {
    router: Router,
    state: Arc<AppState>,
    pub db: DatabaseConnection,
    pub clock: ManualClock,
    signer: Option<TokenSigner>,
    auth: AuthArgs,
    options: SchemaOptions,
    sockets: SocketLimits,
    connections: ConnectionLimits,
    feed_capacity: usize,
    result_cache_bytes: u64,
    cors: CorsOrigins,
    statements: Arc<Mutex<Vec<String>>>,
    _database: Arc<TestDatabase>,
}

/// What came back over HTTP.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "response is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The first error, or null when there is none.
    pub fn first_error(&self) -> Value {
        self.json()["errors"][0].clone()
    }

    /// The first error's `extensions.code`, or `<none>`.
    pub fn first_code(&self) -> String {
        self.first_error()["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned()
    }

    /// The `extensions.code` of every error, in order.
    pub fn error_codes(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|error| {
                        error["extensions"]["code"]
                            .as_str()
                            .unwrap_or("<none>")
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    /// An app that keeps no query answers, for tests that count what computing one costs
    /// (a kept answer costs one statement, whatever it took to compute).
    pub async fn computing() -> Self {
        Self::builder().result_cache_bytes(0).build().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            auth: AuthArgs {
                jwt_secret: Some(Secret::new(TEST_SECRET)),
                jwt_public_key_file: None,
                jwt_issuer: None,
                jwt_audience: None,
                roles_claim: "roles".to_owned(),
            },
            limits: QueryLimits::default(),
            introspection: true,
            sockets: SocketLimits::default(),
            connections: ConnectionLimits::default(),
            feed_capacity: feed::DEFAULT_CAPACITY,
            result_cache_bytes: quorum_server::state::DEFAULT_RESULT_CACHE_MIB << 20,
            cors: CorsOrigins::None,
            trusted_documents: None,
        }
    }

    /// Serves the router on a TCP port of 127.0.0.1 as `quorum serve` does, within the
    /// builder's connection limits (WebSockets need a real socket); the server stops with the
    /// test.
    pub async fn serve(&self) -> SocketAddr {
        serve_router(self.router.clone(), self.connections).await
    }

    /// `/metrics`, from the router `QUORUM_METRICS_LISTEN` serves.
    pub async fn metrics(&self) -> TestResponse {
        let request = Request::get("/metrics")
            .body(Body::empty())
            .expect("request builds");
        collect(
            metrics_router(self.state.clone())
                .oneshot(request)
                .await
                .expect("the router answers"),
        )
        .await
    }

    /// Waits until this instance's feed has published every event in the table, so that a
    /// subscription made now finds nothing in flight between the table and the ring.
    pub async fn feed_caught_up(&self) {
        use sea_orm::{ConnectionTrait, Statement};
        let newest = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT max(id) AS id FROM event",
            ))
            .await
            .expect("the event table reads")
            .and_then(|row| row.try_get::<Option<i64>>("", "id").ok().flatten());
        let Some(newest) = newest else { return };
        for _ in 0..200 {
            self.state.feed().wake();
            if self
                .state
                .feed()
                .last_published()
                .is_some_and(|(_, id)| id >= newest)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the feed did not publish event {newest} within 5 s");
    }

    /// How many times this instance's feed pump has read the event table.
    pub fn feed_reads(&self) -> u64 {
        self.state.feed().reads()
    }

    /// Closes every open WebSocket, as a stopping server does.
    pub fn close_sockets(&self) {
        self.state.close_sockets();
    }

    /// A second `quorum` instance on the same database: its own pool, feed and router (the
    /// same clock and token settings), as a load balancer would spread requests over.
    pub async fn another_instance(&self) -> TestApp {
        let db = self._database.connect().await;
        let (verifier, signer) = auth::from_args(&self.auth, false).expect("valid auth settings");
        let feed = start_feed(&self._database, self.feed_capacity).await;
        let state = AppState::new(
            db.clone(),
            Arc::new(self.clock.clone()),
            feed,
            verifier,
            &ServerOptions {
                schema: self.options.clone(),
                sockets: self.sockets,
                cors: self.cors.clone(),
                cors_credentials: false,
                result_cache_bytes: self.result_cache_bytes,
                ..ServerOptions::default()
            },
        )
        .expect("metrics register");
        TestApp {
            router: router(state.clone()),
            state,
            db,
            clock: self.clock.clone(),
            signer,
            auth: self.auth.clone(),
            options: self.options.clone(),
            sockets: self.sockets,
            connections: self.connections,
            feed_capacity: self.feed_capacity,
            result_cache_bytes: self.result_cache_bytes,
            cors: self.cors.clone(),
            statements: Arc::new(Mutex::new(Vec::new())),
            _database: self._database.clone(),
        }
    }

    /// A token for `subject` with `roles` that expires after `ttl`.
    pub fn token_for(&self, subject: &str, roles: &[Role], ttl: Duration) -> String {
        self.signer
            .as_ref()
            .expect("this app verifies with a public key; sign tokens with its private key")
            .mint(subject, roles, ttl)
            .expect("token mints")
    }

    /// How many SQL statements the app has run so far.
    pub fn statements(&self) -> usize {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Runs `query` as `roles` three times and returns the cheapest run's response and
    /// statements. A DataLoader batch split because the machine descheduled the request passes;
    /// an N+1 repeats in every run.
    pub async fn cheapest_of_three(
        &self,
        roles: &[Role],
        query: &str,
        variables: Value,
    ) -> (Value, Vec<String>) {
        let mut cheapest: Option<(Value, Vec<String>)> = None;
        for _ in 0..3 {
            let before = self.statements();
            let response = self
                .graphql_as(roles, query, variables.clone())
                .await
                .json();
            let run = self.statements_since(before);
            if cheapest
                .as_ref()
                .is_none_or(|(_, least)| run.len() < least.len())
            {
                cheapest = Some((response, run));
            }
        }
        cheapest.expect("three runs")
    }

    /// The SQL of the statements run since the `from`-th.
    pub fn statements_since(&self, from: usize) -> Vec<String> {
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(from..)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

    /// A valid token for `subject` with `roles`, as `quorum token` would mint it.
    pub fn token(&self, subject: &str, roles: &[Role]) -> String {
        self.signer
            .as_ref()
            .expect("this app verifies with a public key; sign tokens with its private key")
            .mint(subject, roles, Duration::from_secs(3600))
            .expect("token mints")
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        collect(
            self.router
                .clone()
                .oneshot(request)
                .await
                .expect("the router answers"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(
            Request::get(path)
                .body(Body::empty())
                .expect("request builds"),
        )
        .await
    }

    /// POSTs `query` with `variables`, with a bearer token when given.
    pub async fn graphql_with(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> TestResponse {
        let mut request =
            Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.send(request.body(Body::from(body)).expect("request builds"))
            .await
    }

    pub async fn graphql(&self, query: &str, token: Option<&str>) -> TestResponse {
        self.graphql_with(query, json!({}), token).await
    }

    /// POSTs `query` as a user with `roles`.
    pub async fn graphql_as(&self, roles: &[Role], query: &str, variables: Value) -> TestResponse {
        let token = self.token("test.user", roles);
        self.graphql_with(query, variables, Some(&token)).await
    }
}

async fn collect(response: axum::response::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    TestResponse {
        status,
        headers,
        body,
    }
}

async fn serve_router(router: Router, limits: ConnectionLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    tokio::spawn(listen::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    address
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            replace_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://postgres@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
    }
}
