//! The little SQL the two stores write differently: placeholders, the bucket a timestamp falls
//! in, the seconds between two timestamps, and a list of ids as one parameter. Everything else
//! in the report statements is the same text on SQLite and PostgreSQL.
//!
//! Timestamps are `timestamptz` on PostgreSQL and RFC 3339 text in UTC on SQLite (as sqlx
//! writes `DateTime<Utc>`: `2026-01-05T09:00:00.123+00:00`, 0, 3, 6 or 9 fraction digits),
//! which sorts as the instants do, so range conditions compare the columns with bound
//! `DateTime` parameters on both.

use chrono::{DateTime, Utc};
use quorum_core::{DomainError, DomainResult};
use sea_orm::{DatabaseBackend, Statement, Value};

use crate::period::KpiBucket;

/// A statement being written: its parameters so far and the store's dialect.
pub(crate) struct Sql {
    backend: DatabaseBackend,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder, which may be used any number of times.
    pub(crate) fn param(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        let number = self.values.len();
        match self.backend {
            DatabaseBackend::Postgres => format!("${number}"),
            _ => format!("?{number}"),
        }
    }

    /// Binds an instant (typed as `timestamptz` on PostgreSQL, so that it compares as one).
    pub(crate) fn instant(&mut self, instant: DateTime<Utc>) -> String {
        let placeholder = self.param(instant);
        match self.backend {
            DatabaseBackend::Postgres => format!("CAST({placeholder} AS TIMESTAMPTZ)"),
            _ => placeholder,
        }
    }

    /// `IN (…)` of `ids`, bound as one parameter: an array on PostgreSQL, a JSON list on
    /// SQLite.
    pub(crate) fn in_ids(&mut self, ids: &[String]) -> DomainResult<String> {
        Ok(match self.backend {
            DatabaseBackend::Postgres => {
                let placeholder = self.param(ids.to_vec());
                format!("= ANY(CAST({placeholder} AS TEXT[]))")
            }
            _ => {
                let list = serde_json::to_string(ids)
                    .map_err(|error| DomainError::Internal(error.to_string()))?;
                let placeholder = self.param(list);
                format!("IN (SELECT value FROM json_each({placeholder}))")
            }
        })
    }

    /// The expression that groups `column` by bucket: the calendar week (Monday) or month
    /// (the 1st) it falls in, in UTC.
    pub(crate) fn bucket(&self, column: &str, size: KpiBucket) -> String {
        match (self.backend, size) {
            (DatabaseBackend::Postgres, KpiBucket::Week) => {
                format!("date_trunc('week', {column} AT TIME ZONE 'UTC')")
            }
            (DatabaseBackend::Postgres, KpiBucket::Month) => {
                format!("date_trunc('month', {column} AT TIME ZONE 'UTC')")
            }
            (_, KpiBucket::Week) => format!("date({column}, 'weekday 0', '-6 days')"),
            (_, KpiBucket::Month) => format!("strftime('%Y-%m-01', {column})"),
        }
    }

    /// The bucket key as the report reads it back (`YYYY-MM-DD`), from the grouped
    /// [`Sql::bucket`] expression: PostgreSQL formats the group, not every row.
    pub(crate) fn key(&self, grouped: &str) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("to_char({grouped}, 'YYYY-MM-DD')"),
            _ => grouped.to_owned(),
        }
    }

    /// Seconds from `earlier` to `later`, as a float (microseconds on PostgreSQL,
    /// milliseconds on SQLite).
    pub(crate) fn seconds(&self, later: &str, earlier: &str) -> String {
        match self.backend {
            DatabaseBackend::Postgres => format!("date_part('epoch', {later} - {earlier})"),
            _ => format!("(unixepoch({later}, 'subsec') - unixepoch({earlier}, 'subsec'))"),
        }
    }

    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// How many counts a row of a report statement carries besides `n` (unused ones are 0).
pub(crate) const COUNTS: usize = 8;

/// One part of a report statement (they are joined with `UNION ALL`): rows of `source`
/// grouped by the bucket expression `grouped` (and `group`, when given), each with its
/// `kind`, the bucket key, the group, `COUNT(*)`, up to [`COUNTS`] more aggregate counts and
/// one sum of seconds.
pub(crate) struct Part<'a> {
    pub kind: &'static str,
    pub grouped: String,
    pub group: Option<&'a str>,
    pub counts: Vec<String>,
    pub seconds: Option<String>,
    /// `FROM … WHERE …`.
    pub source: String,
}

impl Sql {
    pub(crate) fn part(&self, part: &Part<'_>) -> String {
        let mut columns = vec![
            format!("{} AS kind", literal(part.kind)),
            format!("{} AS bucket", self.key(&part.grouped)),
            format!("CAST({} AS TEXT) AS grp", part.group.unwrap_or("NULL")),
            "COUNT(*) AS n".to_owned(),
        ];
        for index in 0..COUNTS {
            let count = part.counts.get(index).map_or("0", String::as_str);
            columns.push(format!("CAST({count} AS BIGINT) AS a{index}"));
        }
        columns.push(format!(
            "CAST({} AS DOUBLE PRECISION) AS s",
            part.seconds.as_deref().unwrap_or("NULL")
        ));
        let mut grouping = part.grouped.clone();
        if let Some(group) = part.group {
            grouping.push_str(", ");
            grouping.push_str(group);
        }
        format!(
            "SELECT {} {} GROUP BY {grouping}",
            columns.join(", "),
            part.source
        )
    }
}

/// One row of a report statement.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub kind: String,
    /// The bucket key; none for what happened before the range.
    pub bucket: Option<String>,
    pub group: Option<String>,
    pub n: i64,
    pub counts: [i64; COUNTS],
    pub seconds: f64,
}

impl Row {
    pub(crate) fn read(row: &sea_orm::QueryResult) -> DomainResult<Self> {
        let mut counts = [0; COUNTS];
        for (index, count) in counts.iter_mut().enumerate() {
            *count = row
                .try_get::<Option<i64>>("", &format!("a{index}"))?
                .unwrap_or(0);
        }
        Ok(Self {
            kind: row.try_get("", "kind")?,
            bucket: row.try_get("", "bucket")?,
            group: row.try_get("", "grp")?,
            n: row.try_get("", "n")?,
            counts,
            seconds: row.try_get::<Option<f64>>("", "s")?.unwrap_or(0.0),
        })
    }
}

/// `SUM(CASE WHEN condition THEN 1 ELSE 0 END)`.
pub(crate) fn count_if(condition: &str) -> String {
    format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
}

/// `'VALUE'`: a stored enum value written into the statement (ours, never the caller's).
pub(crate) fn literal(value: impl AsRef<str>) -> String {
    format!("'{}'", value.as_ref().replace('\'', "''"))
}
