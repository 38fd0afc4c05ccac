//! `quorum`: serve, migrate, print the schema, mint development tokens.

use clap::Parser;
use quorum_server::config::Cli;
use tracing_subscriber::EnvFilter;

/// mimalloc: glibc's malloc and free took a fifth of the server's CPU on a page of changes,
/// many threads allocating small, short-lived values (rows, JSON, GraphQL values).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_env("QUORUM_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("QUORUM_LOG_FORMAT").is_ok_and(|format| format == "json");
    // Colour only for a person at a terminal: a file or a log shipper gets plain text.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(terminal)
        .with_writer(std::io::stderr);
    if json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }

    match quorum_server::run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quorum: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
