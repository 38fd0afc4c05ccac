//! The `quorum` binary's library: configuration, authentication, the HTTP surface and the
//! subcommands. Tests build the same router in-process.

pub mod auth;
pub mod config;
pub mod cors;
pub mod db;
pub mod graphiql;
pub mod http;
pub mod listen;
pub mod metrics;
mod results;
pub mod routes;
pub mod state;
pub mod statistics;
pub mod ws;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use quorum_api::SchemaOptions;
use quorum_core::{Role, SystemClock};

use crate::auth::TokenSigner;
use crate::config::{Cli, Command, ServeArgs, TokenArgs};

/// Runs one subcommand to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let db = db::connect(&args.database_url)
                .await
                .context("cannot open the database named by DATABASE_URL")?;
            db::migrate(&db, &args.database_url)
                .await
                .context("migrations failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", quorum_api::sdl());
            Ok(())
        }
        Command::Token(args) => token(&args),
        Command::Import(args) => import(args).await,
        Command::Seed(args) => seed(args).await,
    }
}

/// Opens the database and applies pending migrations.
async fn open_database(url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = db::connect(url)
        .await
        .context("cannot open the database named by DATABASE_URL")?;
    db::migrate(&db, url).await.context("migrations failed")?;
    Ok(db)
}

/// Writes `input` through the import, as a change manager named `subject`.
async fn run_import(
    db: &sea_orm::DatabaseConnection,
    subject: &str,
    input: quorum_cmdb::ImportInput,
) -> anyhow::Result<quorum_cmdb::ImportSummary> {
    let actor = quorum_core::Actor::new(subject, [Role::ChangeManager]);
    quorum_cmdb::import_configuration_items(
        quorum_core::Context::new(db, &SystemClock, &actor),
        input,
    )
    .await
    .map_err(|error| anyhow::anyhow!(describe(&error)))
}

/// A domain error for a person at a terminal: every bad row on its own line.
fn describe(error: &quorum_core::DomainError) -> String {
    match error {
        quorum_core::DomainError::BadRows { message, rows } => {
            let mut text = message.clone();
            for row in rows {
                text.push_str(&format!(
                    "\n  {} row {}: {}{}",
                    row.section,
                    row.row,
                    if row.field.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", row.field)
                    },
                    row.message
                ));
            }
            text
        }
        other => other.to_string(),
    }
}

fn print_summary(summary: &quorum_cmdb::ImportSummary) {
    println!(
        "configuration items: {} created, {} updated, {} unchanged; relationships: {} created, {} unchanged",
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.relationships_created,
        summary.relationships_unchanged
    );
}

async fn import(args: config::ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let is_csv = args
        .file
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let input = if is_csv {
        quorum_cmdb::ImportInput::from_csv(&text)
    } else {
        quorum_cmdb::ImportInput::from_json(&text)
    }
    .map_err(|error| anyhow::anyhow!(describe(&error)))?;
    let db = open_database(&args.database.database_url).await?;
    let summary = run_import(&db, &args.actor, input).await?;
    print_summary(&summary);
    Ok(())
}

async fn seed(args: config::SeedArgs) -> anyhow::Result<()> {
    if args.scale == 0 && (args.output.is_some() || (args.changes == 0 && args.incidents == 0)) {
        anyhow::bail!(
            "nothing to seed: give --scale N (CIs), --changes N, --incidents N, or some of them"
        );
    }
    if let Some(path) = &args.output {
        let input = quorum_seed::cmdb::scale(args.scale, args.seed);
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        serde_json::to_writer(std::io::BufWriter::new(file), &input)?;
        println!(
            "wrote {} configuration items and {} relationships to {}",
            input.items.len(),
            input.relationships.len(),
            path.display()
        );
        return Ok(());
    }
    let db = open_database(&args.database.database_url).await?;
    if args.scale > 0 {
        let input = quorum_seed::cmdb::scale(args.scale, args.seed);
        let summary = run_import(&db, "quorum-seed", input).await?;
        print_summary(&summary);
    }
    let now = chrono::Utc::now();
    if args.changes > 0 {
        let actor = quorum_core::Actor::new("quorum-seed", [Role::ChangeManager]);
        let summary = quorum_seed::bulk::changes::seed(&db, &actor, now, args.changes, args.seed)
            .await
            .map_err(|error| anyhow::anyhow!(describe(&error)))?;
        let [
            draft,
            assessment,
            cab_review,
            authorized,
            scheduled,
            implementing,
            review,
            closed,
            rejected,
            cancelled,
        ] = summary.by_state;
        let [successful, with_issues, failed, backed_out] = summary.by_outcome;
        println!(
            "changes: {} created, {} affected CIs, {} CAB and ECAB votes{}; {closed} closed ({successful} \
             successful, {with_issues} with issues, {failed} failed, {backed_out} backed out), \
             {rejected} rejected, {cancelled} cancelled; {} in flight ({authorized} authorized, \
             {scheduled} scheduled, {implementing} implementing), {draft} drafts, {assessment} in \
             assessment, {cab_review} in CAB review, {review} in review",
            summary.changes,
            summary.affected_items,
            summary.votes,
            if summary.templates_created > 0 {
                format!(", {} standard change templates", summary.templates_created)
            } else {
                String::new()
            },
            summary.in_flight,
        );
    }
    if args.incidents > 0 {
        let actor = quorum_core::Actor::new("quorum-seed", [Role::ChangeManager]);
        let summary =
            quorum_seed::bulk::incidents::seed(&db, &actor, now, args.incidents, args.seed)
                .await
                .map_err(|error| anyhow::anyhow!(describe(&error)))?;
        println!(
            "incidents: {} created ({} P1, {} P2, {} P3, {} P4, {} P5), {} affected CIs; {} open \
             ({} on hold), {} breached, {} caused by a change",
            summary.incidents,
            summary.by_priority[0],
            summary.by_priority[1],
            summary.by_priority[2],
            summary.by_priority[3],
            summary.by_priority[4],
            summary.affected_items,
            summary.open,
            summary.on_hold,
            summary.breached,
            summary.caused_by_change
        );
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.dev && !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--dev signs tokens with a public secret, so it listens on loopback only \
             (QUORUM_LISTEN={} is not)",
            args.listen
        );
    }
    let (verifier, signer) = auth::from_args(&args.auth, args.dev)?;
    let db = open_database(&args.database.database_url).await?;
    if args.dev && quorum_cmdb::is_empty(&db).await? {
        let summary = run_import(&db, "quorum-dev-seed", quorum_seed::cmdb::demo()).await?;
        let now = chrono::Utc::now();
        let changes = quorum_seed::demo::changes::seed(&db, now)
            .await
            .context("cannot add the demo changes")?;
        let incidents = quorum_seed::demo::problems::seed(&db, now, &changes)
            .await
            .context("cannot add the demo incidents and problem")?;
        tracing::info!(
            items = summary.created,
            relationships = summary.relationships_created,
            changes = changes.count,
            incidents,
            "dev.demo_data_seeded"
        );
    }

    let trusted_documents = match &args.trusted_documents {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read {} (QUORUM_TRUSTED_DOCUMENTS)", path.display())
            })?;
            let documents = quorum_api::documents::read_manifest(&text).map_err(|error| {
                anyhow::anyhow!("{} (QUORUM_TRUSTED_DOCUMENTS): {error}", path.display())
            })?;
            tracing::info!(documents = documents.len(), "server.trusted_documents_only");
            Some(Arc::new(documents))
        }
        None => None,
    };
    let options = SchemaOptions {
        limits: args.limits.limits(),
        introspection: args.introspection,
        trusted_documents,
    };
    let feed = quorum_core::feed::EventFeed::start(db.clone(), quorum_core::feed::DEFAULT_CAPACITY)
        .await
        .context("cannot read the event log")?;
    let listen_url = (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres)
        .then(|| args.database.database_url.clone());
    tokio::spawn(feed.clone().run(listen_url));
    tokio::spawn(statistics::keep_fresh(db.clone()));
    tokio::spawn(quorum_core::tally::keep_folded(db.clone()));
    let cors = cors::CorsOrigins::parse(
        args.cors.cors_origins.as_deref(),
        args.dev,
        args.cors.cors_allow_credentials,
    )?;
    let dev_tokens = match (&signer, args.dev) {
        (Some(signer), true) => Some(dev_tokens(signer)?),
        _ => None,
    };
    let server_options = state::ServerOptions {
        schema: options,
        sockets: args.connections.socket_limits(),
        cors,
        cors_credentials: args.cors.cors_allow_credentials,
        dev_tokens: dev_tokens.clone(),
        result_cache_bytes: args.result_cache_mib.saturating_mul(1 << 20),
    };
    let state = state::AppState::new(db, Arc::new(SystemClock), feed, verifier, &server_options)?;
    let limits = connection_limits(args.connections.connection_limits());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (QUORUM_LISTEN)", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, max_connections = limits.max_connections, "server.listening");
    if let Some(metrics_address) = args.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_address)
            .await
            .with_context(|| {
                format!("cannot listen on {metrics_address} (QUORUM_METRICS_LISTEN)")
            })?;
        tracing::info!(address = %metrics_listener.local_addr()?, "server.metrics_listening");
        let metrics = routes::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(metrics_listener, metrics).await {
                tracing::error!(error = %error, "server.metrics_failed");
            }
        });
    }
    announce(address, dev_tokens.as_deref())?;

    // After a signal, in-flight requests get this long to finish (requests themselves time
    // out sooner); then the process exits anyway.
    const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(75);
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    let sockets = state.clone();
    let server = listen::serve(listener, routes::router(state), limits, async move {
        shutdown_signal().await;
        sockets.close_sockets();
        signalled.notify_one();
    });
    tokio::select! {
        () = server => {},
        () = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("server.shutdown_grace_expired"),
    }
    tracing::info!("server.stopped");
    Ok(())
}

/// `wanted`, with as many connections as this process may open files for: the soft limit on
/// open files is raised to the hard one, and the cap is lowered to fit under it with room for
/// the database pool, the log and the listener.
fn connection_limits(wanted: listen::ConnectionLimits) -> listen::ConnectionLimits {
    const RESERVED_DESCRIPTORS: u64 = 128;
    let available = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(error = %error, "server.open_file_limit_unknown");
            return wanted;
        }
    };
    let fits = usize::try_from(available.saturating_sub(RESERVED_DESCRIPTORS))
        .unwrap_or(usize::MAX)
        .max(1);
    if wanted.max_connections > fits {
        tracing::warn!(
            wanted = wanted.max_connections,
            open_file_limit = available,
            max_connections = fits,
            "server.max_connections_lowered_to_the_open_file_limit"
        );
    }
    listen::ConnectionLimits {
        max_connections: wanted.max_connections.min(fits),
        ..wanted
    }
}

/// The roles `serve --dev` prints a token for, with the subjects the demo data belongs to.
const DEV_SUBJECTS: [(Role, &str); 4] = [
    (Role::Engineer, "dev.engineer"),
    (Role::ChangeManager, "dev.change.manager"),
    (Role::CabMember, "dev.cab.member"),
    (Role::ServiceHead, "dev.service.head"),
];

/// One token per role for `serve --dev`, valid 8 hours.
fn dev_tokens(signer: &TokenSigner) -> anyhow::Result<Vec<graphiql::DevToken>> {
    DEV_SUBJECTS
        .iter()
        .map(|(role, subject)| {
            Ok(graphiql::DevToken {
                role: role.as_claim().to_owned(),
                subject: (*subject).to_owned(),
                token: signer.mint(subject, &[*role], std::time::Duration::from_secs(8 * 3600))?,
            })
        })
        .collect()
}

/// Tells the person at the terminal where to go; in `--dev`, with a token per role.
fn announce(address: SocketAddr, dev_tokens: Option<&[graphiql::DevToken]>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "quorum listening on http://{address}")?;
    if let Some(tokens) = dev_tokens {
        writeln!(out)?;
        writeln!(
            out,
            "!! DEVELOPMENT MODE: tokens are signed with a fixed, publicly known secret."
        )?;
        writeln!(out, "!! Never expose this server to anyone else.")?;
        writeln!(out)?;
        writeln!(
            out,
            "GraphiQL: http://{address}/graphql (pick a role at the top of the page)"
        )?;
        writeln!(out, "Bearer tokens (valid 8 hours):")?;
        for token in tokens {
            writeln!(
                out,
                "  {:<15} Authorization: Bearer {}",
                token.role, token.token
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn token(args: &TokenArgs) -> anyhow::Result<()> {
    let (_, signer) = auth::from_args(&args.auth, args.dev)?;
    let signer = signer.ok_or(auth::AuthConfigError::CannotSign)?;
    println!("{}", signer.mint(&args.sub, &args.roles, args.ttl)?);
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the server then stops accepting and lets in-flight
/// requests finish.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "server.sigint_handler_failed");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "server.sigterm_handler_failed");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("server.shutting_down");
}
