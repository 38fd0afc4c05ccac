//! The real `quorum` binary, started as a user would: it serves, answers `viewer` with a token
//! it minted, stops cleanly on SIGTERM, and refuses to start without JWT settings.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use quorum_tests::{TEST_SECRET, TestDatabase};
use serde_json::{Value, json};

/// A `quorum` command with no Quorum settings inherited from the caller's environment.
fn quorum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quorum"));
    for (name, _) in std::env::vars() {
        if name.starts_with("QUORUM_") || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command.env("QUORUM_LOG", "warn");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("quorum runs")
}

/// A running server, killed if the test fails before stopping it.
struct Server {
    child: Child,
    address: String,
    /// What the server printed after the line saying where it listens, as far as read.
    stdout: Vec<String>,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(command: &mut Command) -> Self {
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("quorum serve starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("the server prints where it listens")
            .expect("stdout reads");
        let address = first
            .strip_prefix("quorum listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        // The rest of the banner (dev tokens) is read on demand, by `read_through`.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            address,
            stdout: Vec::new(),
            lines: receiver,
        }
    }

    /// Reads what the server prints up to and including the first line that starts (after
    /// indentation) with `prefix`, however long a loaded machine takes to deliver it: waiting
    /// for a quiet spell instead once lost the dev tokens when the reader was scheduled late.
    fn read_through(&mut self, prefix: &str) -> &[String] {
        while !self
            .stdout
            .iter()
            .any(|line| line.trim_start().starts_with(prefix))
        {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => self.stdout.push(line),
                Err(error) => panic!(
                    "no line starting with {prefix} ({error}) in:\n{}",
                    self.stdout.join("\n")
                ),
            }
        }
        &self.stdout
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout sets");
        let auth = token
            .map(|token| format!("Authorization: Bearer {token}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .expect("request writes");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("response reads");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    fn graphql(&self, query: &str, token: Option<&str>) -> Value {
        let (_, body) = self.request(
            "POST",
            "/graphql",
            token,
            &json!({ "query": query }).to_string(),
        );
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"))
    }

    /// Waits for a process that was already sent SIGTERM.
    fn terminate_signalled(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().expect("server exits");
        std::mem::forget(self);
        status
    }

    /// Sends SIGTERM and waits: the process must exit cleanly.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().expect("server exits");
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_viewer_with_a_minted_token_and_stops_on_sigterm() {
    let database = TestDatabase::create().await;
    let server = Server::start(
        quorum()
            .arg("serve")
            .env("DATABASE_URL", database.url())
            .env("QUORUM_JWT_SECRET", TEST_SECRET),
    );
    assert_eq!(
        server.request("GET", "/healthz", None, ""),
        (200, "ok".to_owned())
    );
    assert_eq!(
        server.request("GET", "/readyz", None, ""),
        (200, "ready".to_owned())
    );

    let minted = run(quorum()
        .args([
            "token",
            "--sub",
            "ada",
            "--role",
            "CHANGE_MANAGER",
            "--role",
            "CAB_MEMBER",
            "--ttl",
            "5m",
        ])
        .env("QUORUM_JWT_SECRET", TEST_SECRET));
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8(minted.stdout).expect("utf-8 token");
    let viewer = server.graphql("{ viewer { subject roles } }", Some(token.trim()));
    assert_eq!(
        viewer,
        json!({ "data": { "viewer": { "subject": "ada", "roles": ["CHANGE_MANAGER", "CAB_MEMBER"] } } })
    );

    let forged = server.request(
        "POST",
        "/graphql",
        Some("eyJhbGciOiJub25lIn0.e30."),
        r#"{"query":"{ viewer { subject } }"}"#,
    );
    assert_eq!(forged.0, 401);

    assert!(server.terminate().success());
}

#[tokio::test]
async fn dev_mode_prints_a_working_token_for_every_role() {
    let database = TestDatabase::create().await;
    let mut server = Server::start(
        quorum()
            .args(["serve", "--dev"])
            .env("DATABASE_URL", database.url()),
    );
    let banner = server.read_through("SERVICE_HEAD").join("\n");
    assert!(banner.contains("DEVELOPMENT MODE"), "{banner}");
    assert!(banner.contains(&format!("GraphiQL: http://{}/graphql", server.address)));
    for role in ["ENGINEER", "CHANGE_MANAGER", "CAB_MEMBER", "SERVICE_HEAD"] {
        let line = server
            .stdout
            .iter()
            .find(|line| line.trim_start().starts_with(role))
            .unwrap_or_else(|| panic!("no token line for {role} in:\n{banner}"));
        let token = line
            .rsplit(' ')
            .next()
            .expect("token at the end of the line");
        let viewer = server.graphql("{ viewer { roles } }", Some(token));
        assert_eq!(viewer["data"]["viewer"]["roles"], json!([role]), "{role}");
    }
    assert!(server.terminate().success());
}

#[test]
fn serve_without_jwt_settings_refuses_to_start_and_says_what_to_set() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = run(quorum().arg("serve").env(
        "DATABASE_URL",
        format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display()),
    ));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("QUORUM_JWT_SECRET"), "{stderr}");
    assert!(stderr.contains("QUORUM_JWT_PUBLIC_KEY_FILE"), "{stderr}");
}

#[test]
fn a_short_secret_is_refused() {
    let output = run(quorum()
        .args(["token", "--sub", "ada", "--role", "ENGINEER"])
        .env("QUORUM_JWT_SECRET", "short"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
}

#[tokio::test]
async fn migrate_twice_succeeds_and_the_schema_command_prints_the_committed_sdl() {
    let database = TestDatabase::create().await;
    for _ in 0..2 {
        let output = run(quorum().arg("migrate").env("DATABASE_URL", database.url()));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let schema = run(quorum().arg("schema"));
    assert!(schema.status.success());
    assert_eq!(String::from_utf8_lossy(&schema.stdout), quorum_api::sdl());
}

#[tokio::test]
async fn dev_mode_seeds_the_demo_estate_once() {
    let database = TestDatabase::create().await;
    for _ in 0..2 {
        let mut server = Server::start(
            quorum()
                .args(["serve", "--dev"])
                .env("DATABASE_URL", database.url()),
        );
        let token = server
            .read_through("SERVICE_HEAD")
            .iter()
            .find(|line| line.trim_start().starts_with("ENGINEER"))
            .and_then(|line| line.rsplit(' ').next())
            .expect("an engineer token")
            .to_owned();
        let count = server.graphql(
            "{ configurationItems(filter: { classes: [BUSINESS_SERVICE] }) { totalCount } }",
            Some(&token),
        );
        assert_eq!(count["data"]["configurationItems"]["totalCount"], 3);
        let changes = server.graphql(
            "{ changes(first: 20) { totalCount nodes { number state outcome } } }",
            Some(&token),
        );
        assert_eq!(changes["data"]["changes"]["totalCount"], 7, "{changes}");
        let states: Vec<&str> = changes["data"]["changes"]["nodes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|change| change["state"].as_str())
            .collect();
        assert_eq!(
            states,
            [
                "DRAFT",
                "CAB_REVIEW",
                "CAB_REVIEW",
                "SCHEDULED",
                "SCHEDULED",
                "CLOSED",
                "CLOSED"
            ],
            "{changes}"
        );
        let incidents = server.graphql(
            "{ incidents { totalCount } problems { nodes { state incidents { causedByChange { outcome } } fixChanges { state } } } }",
            Some(&token),
        );
        assert_eq!(
            incidents["data"]["incidents"]["totalCount"], 5,
            "{incidents}"
        );
        assert_eq!(
            incidents["data"]["problems"]["nodes"],
            json!([{
                "state": "KNOWN_ERROR",
                "incidents": [
                    { "causedByChange": { "outcome": "FAILED" } },
                    { "causedByChange": { "outcome": "FAILED" } }
                ],
                "fixChanges": [{ "state": "SCHEDULED" }]
            }]),
            "{incidents}"
        );
        assert!(server.terminate().success());
    }
}

#[test]
fn dev_mode_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = run(quorum()
        .args(["serve", "--dev", "--listen", "0.0.0.0:0"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display()),
        ));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
}

#[tokio::test]
async fn import_from_a_file_twice_creates_then_changes_nothing() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("estate.json");
    std::fs::write(
        &file,
        json!({
            "items": [
                { "class": "DATABASE", "name": "orders-db", "environment": "PRODUCTION", "criticality": 1 },
                { "class": "APPLICATION", "name": "Orders", "environment": "PRODUCTION", "criticality": 2 }
            ],
            "relationships": [
                { "sourceClass": "APPLICATION", "sourceName": "Orders", "type": "DEPENDS_ON",
                  "targetClass": "DATABASE", "targetName": "orders-db" }
            ]
        })
        .to_string(),
    )
    .expect("file writes");
    let first = run(quorum()
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", database.url()));
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "configuration items: 2 created, 0 updated, 0 unchanged; relationships: 1 created, 0 unchanged"
    );
    let second = run(quorum()
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", database.url()));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "configuration items: 0 created, 0 updated, 2 unchanged; relationships: 0 created, 1 unchanged"
    );

    let csv = dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "class,name,environment,criticality\nSERVER,web-01,PRODUCTION,2\nSERVR,web-02,PRODUCTION,2\nSERVER,web-03,PRODUCTION,9\n",
    )
    .expect("file writes");
    let rejected = run(quorum()
        .arg("import")
        .arg(&csv)
        .env("DATABASE_URL", database.url()));
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("items row 2"), "{stderr}");
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let database = TestDatabase::create().await;
    let server = Server::start(
        quorum()
            .arg("serve")
            .env("DATABASE_URL", database.url())
            .env("QUORUM_JWT_SECRET", TEST_SECRET),
    );
    let minted = run(quorum()
        .args(["token", "--sub", "ada", "--role", "ENGINEER"])
        .env("QUORUM_JWT_SECRET", TEST_SECRET));
    let token = String::from_utf8(minted.stdout).expect("utf-8 token");
    // An import big enough to take a while: the signal arrives while it runs.
    let items: Vec<Value> = (0..8_000)
        .map(|n| json!({ "class": "SERVER", "name": format!("host-{n:05}"), "environment": "PRODUCTION", "criticality": 3 }))
        .collect();
    let body = json!({
        "query": "mutation($input: ImportConfigurationItemsInput!) { importConfigurationItems(input: $input) { created } }",
        "variables": { "input": { "items": items } },
    })
    .to_string();
    let pid = server.child.id().to_string();
    let signal_after = Duration::from_millis(100);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(signal_after);
        Command::new("kill").args(["-TERM", &pid]).status()
    });
    let started = std::time::Instant::now();
    let (status, response) = server.request("POST", "/graphql", Some(token.trim()), &body);
    let took = started.elapsed();
    assert!(
        killer
            .join()
            .expect("killer thread")
            .expect("kill runs")
            .success()
    );
    // Otherwise the signal came after the response and this test would prove nothing.
    assert!(
        took > signal_after * 2,
        "the import took only {took:?}: make it bigger"
    );
    assert_eq!(status, 200, "{response}");
    let response: Value = serde_json::from_str(&response).expect("JSON response");
    assert_eq!(
        response["data"]["importConfigurationItems"]["created"],
        8_000
    );
    assert!(server.terminate_signalled().success());
}

/// Runs `serve --dev` with log level info and its stderr on a pipe until it logs that it
/// listens, and returns what it logged.
fn dev_server_log(format: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = quorum();
    command
        .args(["serve", "--dev", "--listen", "127.0.0.1:0"])
        .env("QUORUM_LOG", "info")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(format) = format {
        command.env("QUORUM_LOG_FORMAT", format);
    }
    let mut child = command.spawn().expect("quorum serve starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = receiver.recv_timeout(Duration::from_secs(60)) {
        let listening = line.contains("server.listening");
        lines.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_and_json_logs_are_json() {
    let plain = dev_server_log(None);
    assert!(
        plain.iter().any(|line| line.contains("server.listening")),
        "{plain:?}"
    );
    assert!(
        plain.iter().all(|line| !line.contains('\u{1b}')),
        "ANSI escapes in a file: {plain:?}"
    );
    let json = dev_server_log(Some("json"));
    assert!(!json.is_empty());
    for line in &json {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
}
