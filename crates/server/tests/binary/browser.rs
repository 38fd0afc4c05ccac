//! A real browser against the real binary: Debian's Chromium, headless, driven by
//! `tests/browser/run.mjs` (playwright-core) against `quorum serve --dev` on the suite's store.
//! It checks that GraphiQL loads with no network beyond the server and runs a query, and that
//! a page on another origin runs a query (CORS) and a subscription over `/graphql/ws`.
//!
//! Needs `chromium` (`apt-get install chromium`; `.ci/run` installs it), Node.js and
//! `npm ci --prefix tests/browser` (`scripts/test` runs it). `QUORUM_BROWSER_TESTS=skip` skips
//! it on a machine without them; otherwise a missing piece fails it with what to install.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use quorum_tests::TestDatabase;

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

#[tokio::test]
async fn graphiql_and_a_cross_origin_page_work_in_a_real_browser() {
    if std::env::var("QUORUM_BROWSER_TESTS").as_deref() == Ok("skip") {
        eprintln!("QUORUM_BROWSER_TESTS=skip: the browser test is skipped");
        return;
    }
    let chromium = std::env::var("QUORUM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: `apt-get install chromium` (or set QUORUM_CHROMIUM, or \
         QUORUM_BROWSER_TESTS=skip)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: `npm ci --prefix tests/browser`"
    );
    let database = TestDatabase::create().await;
    let mut command = Command::new(env!("CARGO_BIN_EXE_quorum"));
    for (name, _) in std::env::vars() {
        if name.starts_with("QUORUM_") || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    let mut server = command
        .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database.url())
        .env("QUORUM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("quorum serve --dev starts");
    let stdout = server.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .expect("the server prints where it listens")
        .expect("stdout reads");
    // Keep reading: a closed pipe would fail the server's next write (the dev banner).
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let address = first
        .strip_prefix("quorum listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(browser_dir().join("run.mjs"))
            .arg(&address)
            .env("QUORUM_CHROMIUM", chromium)
            .output()
    });
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser test ends within 3 minutes")
        .expect("the runner joins")
        .expect("node runs (install Node.js)");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("browser test passed"), "{stdout}");
}
