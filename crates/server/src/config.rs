//! Command line and environment, read once into typed settings.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use quorum_api::QueryLimits;
use quorum_core::Role;

use crate::listen::ConnectionLimits;
use crate::state::SocketLimits;

#[derive(Debug, Parser)]
#[command(
    name = "quorum",
    version,
    about = "Quorum IT service management: change enablement, incidents, problems and CMDB behind one GraphQL API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the GraphQL API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Mint a bearer token signed with the configured HS256 secret (development and tests).
    Token(TokenArgs),
    /// Import configuration items and relationships from a JSON file (or items from CSV).
    Import(ImportArgs),
    /// Generate a deterministic, realistic CMDB of about N configuration items, and changes and
    /// incidents on it.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// `{"items": [...], "relationships": [...]}` as JSON, or a `.csv` of items with a header
    /// row (class,name,status,environment,criticality,ownerTeam,description,attributes).
    pub file: PathBuf,

    /// Who the import is recorded as in the audit log.
    #[arg(long, default_value = "quorum-import")]
    pub actor: String,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// About how many configuration items to generate; 0 keeps the CMDB already there.
    #[arg(long)]
    pub scale: usize,

    /// How many changes to add, raised over the last two years on the CMDB's CIs (before the
    /// incidents, which may name them as causes).
    #[arg(long, default_value_t = 0, conflicts_with = "output")]
    pub changes: usize,

    /// How many incidents to add, opened over the last two years on the CMDB's CIs.
    #[arg(long, default_value_t = 0, conflicts_with = "output")]
    pub incidents: usize,

    /// The same seed gives the same estate (and changes and incidents).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Write the estate as an import file (JSON) instead of importing it.
    #[arg(long)]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Where data lives: `sqlite://FILE?mode=rwc` (embedded) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://quorum.db?mode=rwc"
    )]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Development mode: a fixed, publicly known signing secret, demo data in an empty
    /// database, and ready-to-paste tokens printed at start. Never use in production.
    #[arg(long)]
    pub dev: bool,

    /// Address to listen on.
    #[arg(long, env = "QUORUM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    /// Serve the schema to introspection queries (GraphiQL and code generators need it).
    #[arg(long, env = "QUORUM_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub connections: ConnectionArgs,

    #[command(flatten)]
    pub cors: CorsArgs,

    /// A manifest of trusted documents (GraphQL Code Generator's `persisted-documents.json`
    /// or Apollo's persisted query manifest): when set, only its documents run.
    #[arg(long, env = "QUORUM_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<PathBuf>,

    /// Address to serve `/metrics` on (Prometheus); unset, metrics are not served. It is
    /// never the public address: operation names and traffic are for operators.
    #[arg(long, env = "QUORUM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// MiB of query answers kept to answer the same query of the same caller again while
    /// nothing has been written to the database since (PostgreSQL only); 0 keeps none.
    #[arg(long, env = "QUORUM_RESULT_CACHE_MIB", default_value_t = crate::state::DEFAULT_RESULT_CACHE_MIB)]
    pub result_cache_mib: u64,
}

#[derive(Debug, Args)]
pub struct CorsArgs {
    /// Browser origins that may call the API, comma-separated (`https://itsm.example.com`), or
    /// `*`. Unset: none but the server's own pages (with `--dev`: any loopback origin).
    #[arg(long, env = "QUORUM_CORS_ORIGINS")]
    pub cors_origins: Option<String>,

    /// Allow credentials (cookies) on cross-origin requests; never with `*`.
    #[arg(long, env = "QUORUM_CORS_ALLOW_CREDENTIALS", default_value_t = false, action = clap::ArgAction::Set)]
    pub cors_allow_credentials: bool,
}

#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Most connections open at once (WebSockets included); one more is answered 503.
    #[arg(long, env = "QUORUM_MAX_CONNECTIONS", default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,

    /// How long a client may take to send a request's headers, e.g. `10s`.
    #[arg(long, env = "QUORUM_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// Most WebSockets one subject (a token's `sub`) may hold open at once.
    #[arg(long, env = "QUORUM_MAX_SOCKETS_PER_SUBJECT", default_value_t = SocketLimits::default().max_sockets_per_subject)]
    pub max_sockets_per_subject: usize,

    /// Most operations (subscriptions) one WebSocket may run at once.
    #[arg(long, env = "QUORUM_MAX_OPERATIONS_PER_SOCKET", default_value_t = SocketLimits::default().max_operations_per_socket)]
    pub max_operations_per_socket: usize,
}

impl ConnectionArgs {
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections.max(1),
            header_timeout: self.header_timeout,
        }
    }

    pub fn socket_limits(&self) -> SocketLimits {
        SocketLimits {
            max_sockets_per_subject: self.max_sockets_per_subject,
            max_operations_per_socket: self.max_operations_per_socket,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// HS256 signing secret, at least 32 bytes.
    #[arg(long, env = "QUORUM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// PEM public key of the identity provider (RSA for RS256, P-256 EC for ES256).
    #[arg(long, env = "QUORUM_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// Required `iss` claim.
    #[arg(long, env = "QUORUM_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim.
    #[arg(long, env = "QUORUM_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Claim holding the roles; a dotted path reaches into objects (`realm_access.roles`).
    #[arg(long, env = "QUORUM_ROLES_CLAIM", default_value = "roles")]
    pub roles_claim: String,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "QUORUM_MAX_QUERY_DEPTH", default_value_t = QueryLimits::default().max_depth)]
    pub max_query_depth: usize,

    /// Highest complexity a query may have (fields, multiplied by page sizes).
    #[arg(long, env = "QUORUM_MAX_QUERY_COMPLEXITY", default_value_t = QueryLimits::default().max_complexity)]
    pub max_query_complexity: usize,

    /// Most aliases one query may use.
    #[arg(long, env = "QUORUM_MAX_QUERY_ALIASES", default_value_t = QueryLimits::default().max_aliases)]
    pub max_query_aliases: usize,

    /// Most fields one query may select once its fragment spreads are expanded.
    #[arg(long, env = "QUORUM_MAX_QUERY_FIELDS", default_value_t = QueryLimits::default().max_fields)]
    pub max_query_fields: usize,

    /// Longest query document, in bytes (variables not counted).
    #[arg(long, env = "QUORUM_MAX_QUERY_BYTES", default_value_t = QueryLimits::default().max_query_bytes)]
    pub max_query_bytes: usize,

    /// Most operations in one batched request.
    #[arg(long, env = "QUORUM_MAX_BATCH_SIZE", default_value_t = QueryLimits::default().max_batch)]
    pub max_batch_size: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> QueryLimits {
        QueryLimits {
            max_depth: self.max_query_depth,
            max_complexity: self.max_query_complexity,
            max_aliases: self.max_query_aliases,
            max_fields: self.max_query_fields,
            max_query_bytes: self.max_query_bytes,
            max_batch: self.max_batch_size,
        }
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The subject (`sub` claim): who the token speaks for.
    #[arg(long)]
    pub sub: String,

    /// A role to grant; repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,

    /// How long the token is valid, e.g. `8h`, `30m`, `7d`.
    #[arg(long, default_value = "8h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,

    /// Sign with the development secret that `serve --dev` uses.
    #[arg(long)]
    pub dev: bool,

    #[command(flatten)]
    pub auth: AuthArgs,
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse().map_err(|error| format!("{error}"))
}

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let printed = format!("{:?}", Secret::new("hunter2-hunter2"));
        assert!(!printed.contains("hunter2"));
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
