//! Change KPIs: outcomes, failure (including changes that caused incidents), emergencies,
//! lead and CAB decision times, and the backlog, per bucket.

use chrono::{DateTime, Utc};
use quorum_change::{ChangeOutcome, ChangeState, ChangeType};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use sea_orm::{ActiveEnum, ConnectionTrait};

use crate::filter::{ItemLink, KpiFilter, Scope};
use crate::period::{Buckets, KpiBucket, Period};
use crate::sql::{Part, Row, Sql, count_if, literal};
use crate::{hours, ratio};

const CHANGE_ITEMS: ItemLink = ItemLink {
    table: "change_affected_item",
    column: "change_id",
    incidents: None,
};

/// Change figures over one period (a bucket, or the whole range).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeFigures {
    pub period: Period,
    /// Changes whose implementation completed in the period.
    pub completed: i64,
    pub successful: i64,
    pub successful_with_issues: i64,
    pub failed: i64,
    pub backed_out: i64,
    /// Completed EMERGENCY changes.
    pub emergency: i64,
    /// Completed changes named as the cause of at least one incident (at any time).
    pub causing_incidents: i64,
    /// Completed changes FAILED or BACKED_OUT or causing at least one incident.
    pub failing: i64,
    /// Completed changes with a submission time, and the seconds from it to completion.
    pub lead_times: i64,
    pub lead_time_seconds: f64,
    /// Changes referred to the CAB (or ECAB) authorized or rejected in the period, and the
    /// seconds from referral to decision.
    pub cab_decisions: i64,
    pub cab_decision_seconds: f64,
    /// Changes submitted and not closed, cancelled or rejected at the period's end.
    pub backlog: i64,
}

impl ChangeFigures {
    fn empty(period: Period) -> Self {
        Self {
            period,
            completed: 0,
            successful: 0,
            successful_with_issues: 0,
            failed: 0,
            backed_out: 0,
            emergency: 0,
            causing_incidents: 0,
            failing: 0,
            lead_times: 0,
            lead_time_seconds: 0.0,
            cab_decisions: 0,
            cab_decision_seconds: 0.0,
            backlog: 0,
        }
    }

    /// (successful + successful with issues) / completed.
    pub fn success_rate(&self) -> Option<f64> {
        ratio(
            self.successful + self.successful_with_issues,
            self.completed,
        )
    }

    /// Failing / completed.
    pub fn failure_rate(&self) -> Option<f64> {
        ratio(self.failing, self.completed)
    }

    /// Emergency / completed.
    pub fn emergency_ratio(&self) -> Option<f64> {
        ratio(self.emergency, self.completed)
    }

    pub fn mean_lead_time_hours(&self) -> Option<f64> {
        hours(self.lead_time_seconds, self.lead_times)
    }

    pub fn mean_cab_decision_hours(&self) -> Option<f64> {
        hours(self.cab_decision_seconds, self.cab_decisions)
    }

    fn add(&mut self, other: &ChangeFigures) {
        self.completed += other.completed;
        self.successful += other.successful;
        self.successful_with_issues += other.successful_with_issues;
        self.failed += other.failed;
        self.backed_out += other.backed_out;
        self.emergency += other.emergency;
        self.causing_incidents += other.causing_incidents;
        self.failing += other.failing;
        self.lead_times += other.lead_times;
        self.lead_time_seconds += other.lead_time_seconds;
        self.cab_decisions += other.cab_decisions;
        self.cab_decision_seconds += other.cab_decision_seconds;
    }
}

/// The change report: the whole range and each bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeKpiReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: KpiBucket,
    /// The whole range; its backlog is the one at `to`.
    pub totals: ChangeFigures,
    pub series: Vec<ChangeFigures>,
}

/// Change KPIs over `[from, to)` by `bucket` (CHANGE_MANAGER, SERVICE_HEAD): one statement
/// (plus the dependency walk when filtering by business service).
#[tracing::instrument(skip(db, actor))]
pub async fn change_kpis<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: KpiBucket,
    filter: &KpiFilter,
) -> DomainResult<ChangeKpiReport> {
    actor.authorize(Permission::ReadKpis)?;
    let buckets = Buckets::new(from, to, bucket)?;
    let scope = Scope::resolve(db, actor, filter).await?;
    let mut sql = Sql::new(db.get_database_backend());
    let from = sql.instant(buckets.from);
    let to = sql.instant(buckets.to);
    let scoped = scope.sql(&mut sql, "c", CHANGE_ITEMS)?;
    let scope = &scoped.conditions;

    let outcome = |outcome: ChangeOutcome| format!("c.outcome = {}", literal(outcome.to_value()));
    let completed = Part {
        kind: "C",
        grouped: sql.bucket("c.completed_at", bucket),
        group: None,
        counts: vec![
            count_if(&outcome(ChangeOutcome::Successful)),
            count_if(&outcome(ChangeOutcome::SuccessfulWithIssues)),
            count_if(&outcome(ChangeOutcome::Failed)),
            count_if(&outcome(ChangeOutcome::BackedOut)),
            count_if(&format!(
                "c.change_type = {}",
                literal(ChangeType::Emergency.to_value())
            )),
            "SUM(c.caused)".to_owned(),
            count_if(&format!(
                "{} OR {} OR c.caused = 1",
                outcome(ChangeOutcome::Failed),
                outcome(ChangeOutcome::BackedOut)
            )),
            "COUNT(c.submitted_at)".to_owned(),
        ],
        seconds: Some(format!(
            "SUM({})",
            sql.seconds("c.completed_at", "c.submitted_at")
        )),
        source: "FROM completed c".to_owned(),
    };
    // The changes completed in the range, each with whether it caused an incident: looked up
    // once per change in one hashed set of the causing changes, and materialized so that the
    // two figures that use it do not look it up twice.
    let completed_changes = format!(
        "completed AS MATERIALIZED (SELECT c.outcome, c.change_type, c.submitted_at, \
         c.completed_at, CASE WHEN c.id IN (SELECT i.caused_by_change_id FROM incident i \
         WHERE i.caused_by_change_id IS NOT NULL) THEN 1 ELSE 0 END AS caused \
         FROM change_request c WHERE c.completed_at >= {from} AND c.completed_at < {to}{scope})"
    );
    let decided = Part {
        kind: "D",
        grouped: sql.bucket("c.decided_at", bucket),
        group: None,
        counts: Vec::new(),
        seconds: Some(format!(
            "SUM({})",
            sql.seconds("c.decided_at", "c.referred_at")
        )),
        source: format!(
            "FROM change_request c WHERE c.referred_at IS NOT NULL \
             AND c.decided_at >= {from} AND c.decided_at < {to}{scope}"
        ),
    };
    // The backlog at each bucket's end is what was submitted before it less what finished
    // before it: the submissions and finishes are counted per bucket (and before the range),
    // then added up in order.
    let before = |column: &str| {
        format!(
            "CASE WHEN {column} < {from} THEN NULL ELSE {} END",
            sql.bucket(column, bucket)
        )
    };
    let submitted = Part {
        kind: "S",
        grouped: before("c.submitted_at"),
        group: None,
        counts: Vec::new(),
        seconds: None,
        source: format!("FROM change_request c WHERE c.submitted_at < {to}{scope}"),
    };
    let finish = format!(
        "COALESCE(c.closed_at, CASE WHEN c.state = {} THEN c.decided_at END)",
        literal(ChangeState::Rejected.to_value())
    );
    // A change leaves the backlog when it finishes, and never before it entered it.
    let left = format!("CASE WHEN {finish} < c.submitted_at THEN c.submitted_at ELSE {finish} END");
    let finished = Part {
        kind: "F",
        grouped: before(&left),
        group: None,
        counts: Vec::new(),
        seconds: None,
        source: format!(
            "FROM change_request c WHERE c.submitted_at < {to} AND {finish} < {to}{scope}"
        ),
    };
    let statement = [completed, decided, submitted, finished]
        .iter()
        .map(|part| sql.part(part))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let statement = scoped.around(&[completed_changes], &statement);
    let rows = db.query_all_raw(sql.statement(statement)).await?;

    let mut series: Vec<ChangeFigures> = buckets
        .periods
        .iter()
        .map(|period| ChangeFigures::empty(*period))
        .collect();
    let mut entered = vec![0i64; buckets.len()];
    let mut left = vec![0i64; buckets.len()];
    let mut backlog = 0i64;
    for row in rows.iter().map(Row::read) {
        let row = row?;
        let index = match &row.bucket {
            Some(key) => Some(buckets.index_of(key).ok_or_else(|| {
                DomainError::Internal(format!("change KPIs: a row in no bucket: {key}"))
            })?),
            None => None,
        };
        match (row.kind.as_str(), index) {
            ("C", Some(index)) => {
                let figures = &mut series[index];
                let [
                    successful,
                    with_issues,
                    failed,
                    backed_out,
                    emergency,
                    causing,
                    failing,
                    lead_times,
                ] = row.counts;
                figures.completed = row.n;
                figures.successful = successful;
                figures.successful_with_issues = with_issues;
                figures.failed = failed;
                figures.backed_out = backed_out;
                figures.emergency = emergency;
                figures.causing_incidents = causing;
                figures.failing = failing;
                figures.lead_times = lead_times;
                figures.lead_time_seconds = row.seconds;
            }
            ("D", Some(index)) => {
                series[index].cab_decisions = row.n;
                series[index].cab_decision_seconds = row.seconds;
            }
            ("S", Some(index)) => entered[index] += row.n,
            ("F", Some(index)) => left[index] += row.n,
            ("S", None) => backlog += row.n,
            ("F", None) => backlog -= row.n,
            (kind, _) => {
                return Err(DomainError::Internal(format!(
                    "change KPIs: unexpected row {kind} {:?}",
                    row.bucket
                )));
            }
        }
    }
    let mut totals = ChangeFigures::empty(Period {
        start: buckets.from,
        end: buckets.to,
    });
    for (index, figures) in series.iter_mut().enumerate() {
        backlog += entered[index] - left[index];
        figures.backlog = backlog;
        totals.add(figures);
    }
    totals.backlog = backlog;
    Ok(ChangeKpiReport {
        from: buckets.from,
        to: buckets.to,
        bucket,
        totals,
        series,
    })
}
