//! Incident KPIs: openings and response (MTTA) by the bucket an incident opened in;
//! resolutions, MTTR, SLA compliance and reopenings by the bucket it was resolved in; each
//! overall and per priority.

use chrono::{DateTime, Utc};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use quorum_incident::Priority;
use sea_orm::{ActiveEnum, ConnectionTrait};

use crate::filter::{ItemLink, KpiFilter, Scope};
use crate::period::{Buckets, KpiBucket, Period};
use crate::sql::{Part, Row, Sql, count_if};
use crate::{minutes, ratio};

const INCIDENT_ITEMS: ItemLink = ItemLink {
    table: "incident_affected_item",
    column: "incident_id",
    incidents: None,
};

/// Incident counts over one period, for all priorities or one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IncidentCounts {
    /// Incidents opened in the period.
    pub opened: i64,
    /// Of those, the ones responded to (at any time), and the seconds from opening to response.
    pub responded: i64,
    pub response_seconds: f64,
    /// Incidents resolved in the period (their last resolution; a reopened incident that is
    /// open again is not resolved).
    pub resolved: i64,
    /// Of those, the ones resolved by their resolution due time.
    pub resolved_in_time: i64,
    /// Of those, the ones reopened at least once.
    pub reopened: i64,
    /// Their resolution clocks' running time: opening to resolution, less the time on hold
    /// (and resolved before a reopen).
    pub resolution_seconds: f64,
}

impl IncidentCounts {
    pub fn mtta_minutes(&self) -> Option<f64> {
        minutes(self.response_seconds, self.responded)
    }

    pub fn mttr_minutes(&self) -> Option<f64> {
        minutes(self.resolution_seconds, self.resolved)
    }

    /// Resolved in time / resolved.
    pub fn sla_compliance(&self) -> Option<f64> {
        ratio(self.resolved_in_time, self.resolved)
    }

    /// Reopened / resolved.
    pub fn reopen_rate(&self) -> Option<f64> {
        ratio(self.reopened, self.resolved)
    }

    fn add(&mut self, other: &IncidentCounts) {
        self.opened += other.opened;
        self.responded += other.responded;
        self.response_seconds += other.response_seconds;
        self.resolved += other.resolved;
        self.resolved_in_time += other.resolved_in_time;
        self.reopened += other.reopened;
        self.resolution_seconds += other.resolution_seconds;
    }
}

/// Incident figures over one period (a bucket, or the whole range).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFigures {
    pub period: Period,
    pub all: IncidentCounts,
    /// P1 to P5, in that order.
    pub by_priority: [(Priority, IncidentCounts); 5],
}

impl IncidentFigures {
    fn empty(period: Period) -> Self {
        Self {
            period,
            all: IncidentCounts::default(),
            by_priority: Priority::ALL.map(|priority| (priority, IncidentCounts::default())),
        }
    }

    fn add(&mut self, other: &IncidentFigures) {
        self.all.add(&other.all);
        for (mine, theirs) in self.by_priority.iter_mut().zip(other.by_priority.iter()) {
            mine.1.add(&theirs.1);
        }
    }
}

/// The incident report: the whole range and each bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentKpiReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: KpiBucket,
    pub totals: IncidentFigures,
    pub series: Vec<IncidentFigures>,
}

/// Incident KPIs over `[from, to)` by `bucket` (CHANGE_MANAGER, SERVICE_HEAD): one statement
/// (plus the dependency walk when filtering by business service).
#[tracing::instrument(skip(db, actor))]
pub async fn incident_kpis<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: KpiBucket,
    filter: &KpiFilter,
) -> DomainResult<IncidentKpiReport> {
    actor.authorize(Permission::ReadKpis)?;
    let buckets = Buckets::new(from, to, bucket)?;
    let scope = Scope::resolve(db, actor, filter)
        .await?
        .without_change_types()?;
    let mut sql = Sql::new(db.get_database_backend());
    let from = sql.instant(buckets.from);
    let to = sql.instant(buckets.to);
    let scoped = scope.sql(&mut sql, "i", INCIDENT_ITEMS)?;
    let scope = &scoped.conditions;

    let opened = Part {
        kind: "O",
        grouped: sql.bucket("i.opened_at", bucket),
        group: Some("i.priority"),
        counts: vec!["COUNT(i.responded_at)".to_owned()],
        seconds: Some(format!(
            "SUM({})",
            sql.seconds("i.responded_at", "i.opened_at")
        )),
        source: format!(
            "FROM incident i WHERE i.opened_at >= {from} AND i.opened_at < {to}{scope}"
        ),
    };
    let resolved = Part {
        kind: "R",
        grouped: sql.bucket("i.resolved_at", bucket),
        group: Some("i.priority"),
        counts: vec![
            count_if("i.resolved_at <= i.resolution_due"),
            count_if("i.reopen_count > 0"),
        ],
        seconds: Some(format!(
            "SUM({} - i.paused_seconds)",
            sql.seconds("i.resolved_at", "i.opened_at")
        )),
        source: format!(
            "FROM incident i WHERE i.resolved_at >= {from} AND i.resolved_at < {to}{scope}"
        ),
    };
    let statement = scoped.around(
        &[],
        &format!("{} UNION ALL {}", sql.part(&opened), sql.part(&resolved)),
    );
    let rows = db.query_all_raw(sql.statement(statement)).await?;

    let mut series: Vec<IncidentFigures> = buckets
        .periods
        .iter()
        .map(|period| IncidentFigures::empty(*period))
        .collect();
    for row in rows.iter().map(Row::read) {
        let row = row?;
        let key = row.bucket.as_deref().unwrap_or_default();
        let index = buckets.index_of(key).ok_or_else(|| {
            DomainError::Internal(format!("incident KPIs: a row in no bucket: {key}"))
        })?;
        let priority = row
            .group
            .as_deref()
            .and_then(|group| {
                Priority::ALL
                    .iter()
                    .position(|priority| priority.to_value() == group)
            })
            .ok_or_else(|| {
                DomainError::Internal(format!("incident KPIs: priority {:?}", row.group))
            })?;
        let counts = &mut series[index].by_priority[priority].1;
        match row.kind.as_str() {
            "O" => {
                counts.opened = row.n;
                counts.responded = row.counts[0];
                counts.response_seconds = row.seconds;
            }
            _ => {
                counts.resolved = row.n;
                counts.resolved_in_time = row.counts[0];
                counts.reopened = row.counts[1];
                counts.resolution_seconds = row.seconds;
            }
        }
    }
    let mut totals = IncidentFigures::empty(Period {
        start: buckets.from,
        end: buckets.to,
    });
    for figures in &mut series {
        let mut all = IncidentCounts::default();
        for (_, counts) in &figures.by_priority {
            all.add(counts);
        }
        figures.all = all;
        totals.add(figures);
    }
    Ok(IncidentKpiReport {
        from: buckets.from,
        to: buckets.to,
        bucket,
        totals,
        series,
    })
}
