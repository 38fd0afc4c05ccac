//! The `quorum` binary's library: configuration, authentication, the HTTP surface and the
//! subcommands. Tests build the same router in-process.

pub mod auth;
pub mod config;
pub mod db;
pub mod http;
pub mod metrics;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use quorum_api::SchemaOptions;
use quorum_core::{Role, SystemClock};
use quorum_migrations::{Migrator, MigratorTrait};

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
            Migrator::up(&db, None).await.context("migrations failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", quorum_api::sdl());
            Ok(())
        }
        Command::Token(args) => token(&args),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (verifier, signer) = auth::from_args(&args.auth, args.dev)?;
    let db = db::connect(&args.database.database_url)
        .await
        .context("cannot open the database named by DATABASE_URL")?;
    Migrator::up(&db, None).await.context("migrations failed")?;

    let options = SchemaOptions {
        limits: args.limits.limits(),
        introspection: args.introspection,
    };
    let state = http::AppState::new(db, Arc::new(SystemClock), verifier, &options)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (QUORUM_LISTEN)", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "server.listening");
    announce(address, args.dev.then_some(signer).flatten().as_ref())?;

    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("server.stopped");
    Ok(())
}

/// Tells the person at the terminal where to go; in `--dev`, with a token per role.
fn announce(address: SocketAddr, dev_signer: Option<&TokenSigner>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "quorum listening on http://{address}")?;
    if let Some(signer) = dev_signer {
        writeln!(out)?;
        writeln!(
            out,
            "!! DEVELOPMENT MODE: tokens are signed with a fixed, publicly known secret."
        )?;
        writeln!(out, "!! Never expose this server to anyone else.")?;
        writeln!(out)?;
        writeln!(out, "GraphiQL: http://{address}/graphql")?;
        writeln!(out, "Bearer tokens (valid 8 hours):")?;
        for (role, subject) in [
            (Role::Engineer, "dev.engineer"),
            (Role::ChangeManager, "dev.change.manager"),
            (Role::CabMember, "dev.cab.member"),
            (Role::ServiceHead, "dev.service.head"),
        ] {
            let token = signer.mint(subject, &[role], std::time::Duration::from_secs(8 * 3600))?;
            writeln!(out, "  {role:<15} Authorization: Bearer {token}")?;
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
