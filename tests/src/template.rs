//! Migrated templates: the migrations run once per migration history, not once per test.
//!
//! On PostgreSQL the template is a database, `quorum_template_<hash>`, that each test copies
//! with `CREATE DATABASE … TEMPLATE`; on SQLite it is a file in the temporary directory that
//! each test copies. The hash covers the migrations' names and their source, so a new or
//! edited migration makes a new template and a stale one is never used. Old templates stay
//! (a few megabytes each) until someone drops them: other checkouts on the same server may
//! still be using them.

use std::hash::Hasher;
use std::path::{Path, PathBuf};

use quorum_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, AssertSqlSafe, Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::replace_database;

/// Session-level advisory lock key taken by whoever builds a PostgreSQL template, so that the
/// test processes that start together do not all migrate (an arbitrary constant, "quorumtp").
const TEMPLATE_LOCK: i64 = 0x71756f72_756d7470;

/// The template's name: `quorum_template_` and a hash of the migration history.
pub(crate) fn template_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| format!("quorum_template_{:016x}", migrations_hash()))
}

/// FNV-1a over each migration's name and, when the source is at hand (it is wherever the
/// tests are built), its source files, so that editing a migration in place counts too.
fn migrations_hash() -> u64 {
    let mut hash = Fnv1a::default();
    for migration in Migrator::migrations() {
        hash.write(migration.name().as_bytes());
        hash.write(&[0]);
    }
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sources)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for file in files {
        if let Ok(source) = std::fs::read(&file) {
            hash.write(
                file.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default(),
            );
            hash.write(&[0]);
            hash.write(&source);
        }
    }
    hash.finish()
}

/// A hash that stays the same from one build and toolchain to the next (std's does not
/// promise to).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The PostgreSQL template on the server of `admin_url`, built now if it is missing; once per
/// process.
pub(crate) async fn postgres(admin_url: &str) -> &'static str {
    static READY: OnceCell<()> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            build_postgres(admin_url).await.unwrap_or_else(|error| {
                panic!(
                    "cannot build the template database {}: {error}",
                    template_name()
                )
            })
        })
        .await;
    template_name()
}

async fn build_postgres(admin_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let name = template_name();
    // One connection, not a pool: the advisory lock belongs to the session that took it.
    let mut admin = PgConnection::connect(admin_url).await?;
    if !exists(&mut admin, name).await? {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await?;
        // Another process may have built it while this one waited.
        let built = if exists(&mut admin, name).await? {
            Ok(())
        } else {
            build_postgres_locked(&mut admin, admin_url, name).await
        };
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(TEMPLATE_LOCK)
            .execute(&mut admin)
            .await?;
        built?;
    }
    admin.close().await?;
    Ok(())
}

/// Migrates a database under a temporary name and renames it to `name` only when it is
/// complete, so that a builder that dies half-way leaves no template that looks ready. Runs
/// under the lock, so a temporary database found now was left by such a builder.
async fn build_postgres_locked(
    admin: &mut PgConnection,
    admin_url: &str,
    name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'quorum\\_template\\_%\\_building'",
    )
    .fetch_all(&mut *admin)
    .await?;
    for leftover in leftovers {
        execute(
            admin,
            format!("DROP DATABASE IF EXISTS \"{leftover}\" WITH (FORCE)"),
        )
        .await?;
    }
    let building = format!("{name}_building");
    execute(admin, format!("CREATE DATABASE \"{building}\"")).await?;
    let url = replace_database(admin_url, &building);
    let db = quorum_server::db::connect(&url).await?;
    quorum_server::db::migrate(&db, &url).await?;
    // No session may stay on it: RENAME, and every later CREATE DATABASE … TEMPLATE, refuse
    // a source database that anyone is connected to.
    db.close().await?;
    execute(
        admin,
        format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    )
    .await?;
    // Nobody connects to the template from now on (a psql session left open on it would make
    // every test fail to copy it); it is still copied and dropped.
    execute(
        admin,
        format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    )
    .await?;
    Ok(())
}

async fn exists(admin: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
}

/// Runs one statement that takes no parameters (names of databases cannot be bound).
async fn execute(admin: &mut PgConnection, statement: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(admin)
        .await
        .map(drop)
}

/// The SQLite template file, built now if it is missing; once per process.
pub(crate) async fn sqlite() -> &'static Path {
    static PATH: OnceCell<PathBuf> = OnceCell::const_new();
    PATH.get_or_init(|| async {
        build_sqlite()
            .await
            .unwrap_or_else(|error| panic!("cannot build the SQLite template: {error}"))
    })
    .await
}

/// Migrates a file of this process's own and renames it into place: processes that start
/// together may each build one, and the last rename wins with the same content, while a
/// reader never sees a file half-written.
async fn build_sqlite() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("quorum-test-templates");
    let path = dir.join(format!("{}.db", template_name()));
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    let building = dir.join(format!(
        "{}.{}.building",
        template_name(),
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}?mode=rwc", building.display());
    let db = quorum_server::db::connect(&url).await?;
    quorum_server::db::migrate(&db, &url).await?;
    // Everything into the main file, which is then the whole database: copies need no -wal.
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await?;
    db.close().await?;
    let single = quorum_server::db::connect_one(&url).await?;
    single
        .execute_unprepared("PRAGMA journal_mode = DELETE")
        .await?;
    single.close().await?;
    std::fs::rename(&building, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::template_name;

    #[test]
    fn the_template_is_named_after_the_migration_history_within_postgres_name_limit() {
        let name = template_name();
        let hash = name.strip_prefix("quorum_template_").expect("the prefix");
        assert_eq!(hash.len(), 16);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        // PostgreSQL keeps 63 bytes of a name; the temporary one is longer still.
        assert!(format!("{name}_building").len() <= 63);
    }
}
