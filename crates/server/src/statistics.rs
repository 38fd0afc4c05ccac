//! Keeps PostgreSQL's planner statistics true as tables grow, when autovacuum does not.
//!
//! Prepared statements (sqlx caches them per pooled connection) and foreign-key checks keep
//! the generic plan PostgreSQL chose for them, until the statistics of a table they read
//! change. A table analysed while nearly empty is planned as if it stayed so: with autovacuum
//! off, createIncident fell from 803 to 251 a second as the incidents grew from 6 000 to
//! 22 000, scanning `incident` whole on every foreign-key check, and one ANALYZE brought it
//! back to 1 011 without a restart (`bench/README.md`, "The empty-table plan trap"). Autovacuum
//! analyses a table once its changes since the last analysis pass its threshold; when it is off
//! for the database, this keeper applies the same rule to Quorum's tables every 15 seconds.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// How often the keeper looks: one read of `pg_stat_user_tables`; a table is analysed only
/// when it changed enough. Shorter than autovacuum's minute, because a table that grows at a
/// thousand rows a second outgrows its plans within that minute.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// Autovacuum's defaults: a table is analysed once `BASE + SCALE × rows` of its rows changed.
const BASE: f64 = 50.0;
const SCALE: f64 = 0.1;

/// Analyses every table of the current schema whose rows changed since its last analysis
/// past autovacuum's threshold, and returns their names. Does nothing but on PostgreSQL.
pub async fn refresh(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Vec::new());
    }
    let stale = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT s.relname AS name, quote_ident(s.relname) AS quoted FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
             WHERE s.schemaname = current_schema()
               AND s.n_mod_since_analyze > $1 + $2 * greatest(c.reltuples, 0)
             ORDER BY s.relname",
            [BASE.into(), SCALE.into()],
        ))
        .await?;
    let mut analysed = Vec::with_capacity(stale.len());
    for row in stale {
        let name: String = row.try_get("", "name")?;
        let quoted: String = row.try_get("", "quoted")?;
        db.execute_unprepared(&format!("ANALYZE {quoted}")).await?;
        analysed.push(name);
    }
    Ok(analysed)
}

/// Whether autovacuum runs for this database (`autovacuum` and `track_counts` on).
pub async fn autovacuum_runs(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on' AS runs",
        ))
        .await?;
    match row {
        Some(row) => row.try_get("", "runs"),
        None => Ok(false),
    }
}

/// On PostgreSQL with autovacuum off, refreshes statistics every [`INTERVAL`] for as long as
/// the process runs. Failures are logged and retried at the next look.
pub async fn keep_fresh(db: DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    match autovacuum_runs(&db).await {
        Ok(true) => return,
        Ok(false) => tracing::warn!(
            "database.autovacuum_off: Quorum analyses its tables as they grow; turn autovacuum on"
        ),
        Err(error) => {
            tracing::warn!(error = %error, "database.statistics_unknown");
            return;
        }
    }
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match refresh(&db).await {
            Ok(tables) if tables.is_empty() => {}
            Ok(tables) => tracing::info!(tables = ?tables, "database.analysed"),
            Err(error) => tracing::warn!(error = %error, "database.analyse_failed"),
        }
    }
}
