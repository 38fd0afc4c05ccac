//! Problem KPIs: problems opened and resolved, known errors open, incidents per problem.

use chrono::{DateTime, Utc};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use sea_orm::ConnectionTrait;

use crate::filter::{ItemLink, KpiFilter, Scope};
use crate::period::{Buckets, KpiBucket, Period};
use crate::ratio;
use crate::sql::{Part, Row, Sql};

const PROBLEM_ITEMS: ItemLink = ItemLink {
    table: "problem_affected_item",
    column: "problem_id",
    incidents: Some("problem_id"),
};

/// Problem figures over one period (a bucket, or the whole range).
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemFigures {
    pub period: Period,
    /// Problems created in the period.
    pub opened: i64,
    /// Problems resolved in the period.
    pub resolved: i64,
    /// Problems that are known errors at the period's end: marked before it, not resolved or
    /// closed before it.
    pub known_errors_open: i64,
    /// Incidents linked (now) to the problems opened in the period.
    pub linked_incidents: i64,
}

impl ProblemFigures {
    fn empty(period: Period) -> Self {
        Self {
            period,
            opened: 0,
            resolved: 0,
            known_errors_open: 0,
            linked_incidents: 0,
        }
    }

    /// Linked incidents / problems opened.
    pub fn incidents_per_problem(&self) -> Option<f64> {
        ratio(self.linked_incidents, self.opened)
    }
}

/// The problem report: the whole range and each bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemKpiReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: KpiBucket,
    /// The whole range; its open known errors are those at `to`.
    pub totals: ProblemFigures,
    pub series: Vec<ProblemFigures>,
}

/// Problem KPIs over `[from, to)` by `bucket` (CHANGE_MANAGER, SERVICE_HEAD): one statement
/// (plus the dependency walk when filtering by business service).
#[tracing::instrument(skip(db, actor))]
pub async fn problem_kpis<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: KpiBucket,
    filter: &KpiFilter,
) -> DomainResult<ProblemKpiReport> {
    actor.authorize(Permission::ReadKpis)?;
    let buckets = Buckets::new(from, to, bucket)?;
    let scope = Scope::resolve(db, actor, filter)
        .await?
        .without_change_types()?;
    let mut sql = Sql::new(db.get_database_backend());
    let from = sql.instant(buckets.from);
    let to = sql.instant(buckets.to);
    let scoped = scope.sql(&mut sql, "p", PROBLEM_ITEMS)?;
    let scope = &scoped.conditions;

    let opened = Part {
        kind: "O",
        grouped: sql.bucket("p.created_at", bucket),
        group: None,
        counts: vec!["SUM(p.linked)".to_owned()],
        seconds: None,
        source: format!(
            "FROM (SELECT p.created_at, \
             (SELECT COUNT(*) FROM incident i WHERE i.problem_id = p.id) AS linked \
             FROM problem p WHERE p.created_at >= {from} AND p.created_at < {to}{scope}) p"
        ),
    };
    let resolved = Part {
        kind: "R",
        grouped: sql.bucket("p.resolved_at", bucket),
        group: None,
        counts: Vec::new(),
        seconds: None,
        source: format!(
            "FROM problem p WHERE p.resolved_at >= {from} AND p.resolved_at < {to}{scope}"
        ),
    };
    // Known errors open at each bucket's end: those marked before it less those that ended
    // before it, counted per bucket (and before the range) and added up in order.
    let before = |column: &str| {
        format!(
            "CASE WHEN {column} < {from} THEN NULL ELSE {} END",
            sql.bucket(column, bucket)
        )
    };
    let marked = Part {
        kind: "K",
        grouped: before("p.known_error_at"),
        group: None,
        counts: Vec::new(),
        seconds: None,
        source: format!("FROM problem p WHERE p.known_error_at < {to}{scope}"),
    };
    let finish = "COALESCE(p.resolved_at, p.closed_at)";
    let ended = Part {
        kind: "E",
        grouped: before(&format!(
            "CASE WHEN {finish} < p.known_error_at THEN p.known_error_at ELSE {finish} END"
        )),
        group: None,
        counts: Vec::new(),
        seconds: None,
        source: format!("FROM problem p WHERE p.known_error_at < {to} AND {finish} < {to}{scope}"),
    };
    let statement = [opened, resolved, marked, ended]
        .iter()
        .map(|part| sql.part(part))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let statement = scoped.around(&[], &statement);
    let rows = db.query_all_raw(sql.statement(statement)).await?;

    let mut series: Vec<ProblemFigures> = buckets
        .periods
        .iter()
        .map(|period| ProblemFigures::empty(*period))
        .collect();
    let mut marked = vec![0i64; buckets.len()];
    let mut ended = vec![0i64; buckets.len()];
    let mut open = 0i64;
    for row in rows.iter().map(Row::read) {
        let row = row?;
        let index = match &row.bucket {
            Some(key) => Some(buckets.index_of(key).ok_or_else(|| {
                DomainError::Internal(format!("problem KPIs: a row in no bucket: {key}"))
            })?),
            None => None,
        };
        match (row.kind.as_str(), index) {
            ("O", Some(index)) => {
                series[index].opened = row.n;
                series[index].linked_incidents = row.counts[0];
            }
            ("R", Some(index)) => series[index].resolved = row.n,
            ("K", Some(index)) => marked[index] += row.n,
            ("E", Some(index)) => ended[index] += row.n,
            ("K", None) => open += row.n,
            ("E", None) => open -= row.n,
            (kind, _) => {
                return Err(DomainError::Internal(format!(
                    "problem KPIs: unexpected row {kind} {:?}",
                    row.bucket
                )));
            }
        }
    }
    let mut totals = ProblemFigures::empty(Period {
        start: buckets.from,
        end: buckets.to,
    });
    for (index, figures) in series.iter_mut().enumerate() {
        open += marked[index] - ended[index];
        figures.known_errors_open = open;
        totals.opened += figures.opened;
        totals.resolved += figures.resolved;
        totals.linked_incidents += figures.linked_incidents;
    }
    totals.known_errors_open = open;
    Ok(ProblemKpiReport {
        from: buckets.from,
        to: buckets.to,
        bucket,
        totals,
        series,
    })
}
