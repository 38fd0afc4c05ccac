//! `changeKpis`, `incidentKpis`, `problemKpis`: KPI reports over a range, by week or month.
//! Every figure's definition is its field's description.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use quorum_change::ChangeType;
use quorum_incident::Priority;
use quorum_insight::{ChangeFigures, IncidentCounts, IncidentFigures, KpiBucket, ProblemFigures};

use crate::context::ContextExt;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct KpiQuery;

fn int(count: i64) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// Narrows a change report; every criterion given must hold.
#[derive(InputObject, Default)]
pub struct ChangeKpiFilter {
    /// Changes on at least one CI of this business service's dependency tree: the service
    /// and every CI it depends on, directly or not, as the CMDB is now (up to 10 hops).
    business_service_id: Option<ID>,
    /// Changes on at least one CI owned by this team (as the CMDB is now).
    owner_team: Option<String>,
    /// Changes of these types.
    types: Option<Vec<ChangeType>>,
}

/// Narrows an incident or problem report; every criterion given must hold. A problem's CIs
/// are its own and its incidents'.
#[derive(InputObject, Default)]
pub struct KpiFilter {
    /// Records on at least one CI of this business service's dependency tree: the service
    /// and every CI it depends on, directly or not, as the CMDB is now (up to 10 hops).
    business_service_id: Option<ID>,
    /// Records on at least one CI owned by this team (as the CMDB is now).
    owner_team: Option<String>,
}

impl From<ChangeKpiFilter> for quorum_insight::KpiFilter {
    fn from(filter: ChangeKpiFilter) -> Self {
        Self {
            business_service_id: filter.business_service_id.map(|id| id.0),
            owner_team: filter.owner_team,
            change_types: crate::connection::distinct(filter.types),
        }
    }
}

impl From<KpiFilter> for quorum_insight::KpiFilter {
    fn from(filter: KpiFilter) -> Self {
        Self {
            business_service_id: filter.business_service_id.map(|id| id.0),
            owner_team: filter.owner_team,
            change_types: None,
        }
    }
}

pub struct ChangeKpiReport(quorum_insight::ChangeKpiReport);

/// Change KPIs over a range, whole and by bucket.
#[Object]
impl ChangeKpiReport {
    /// Start of the range (inclusive).
    async fn from(&self) -> DateTime<Utc> {
        self.0.from
    }

    /// End of the range (exclusive).
    async fn to(&self) -> DateTime<Utc> {
        self.0.to
    }

    async fn bucket(&self) -> KpiBucket {
        self.0.bucket
    }

    /// The whole range as one period (`start` = `from`, `end` = `to`).
    async fn totals(&self) -> ChangeKpis<'_> {
        ChangeKpis(&self.0.totals)
    }

    /// One period per bucket, in order, empty buckets included.
    async fn series(&self) -> Vec<ChangeKpis<'_>> {
        self.0.series.iter().map(ChangeKpis).collect()
    }
}

pub struct ChangeKpis<'a>(&'a ChangeFigures);

/// Change figures over one period: a bucket, or the whole range. A change counts in the
/// period its implementation completed in (`completedAt`), except where a figure says
/// otherwise (CAB decisions, backlog).
#[Object]
impl ChangeKpis<'_> {
    /// Start of the period (inclusive).
    async fn start(&self) -> DateTime<Utc> {
        self.0.period.start
    }

    /// End of the period (exclusive).
    async fn end(&self) -> DateTime<Utc> {
        self.0.period.end
    }

    /// Changes whose implementation completed in the period (`completedAt` in it), whatever
    /// the outcome. The outcome counts, `emergency`, `causingIncidents` and the rates are
    /// among these.
    async fn completed(&self) -> i32 {
        int(self.0.completed)
    }

    /// Completed changes with outcome SUCCESSFUL.
    async fn successful(&self) -> i32 {
        int(self.0.successful)
    }

    /// Completed changes with outcome SUCCESSFUL_WITH_ISSUES.
    async fn successful_with_issues(&self) -> i32 {
        int(self.0.successful_with_issues)
    }

    /// Completed changes with outcome FAILED.
    async fn failed(&self) -> i32 {
        int(self.0.failed)
    }

    /// Completed changes with outcome BACKED_OUT.
    async fn backed_out(&self) -> i32 {
        int(self.0.backed_out)
    }

    /// Completed changes of type EMERGENCY.
    async fn emergency(&self) -> i32 {
        int(self.0.emergency)
    }

    /// Completed changes named as the cause of at least one incident (`causedByChange`),
    /// whenever that incident was opened: a change completed in one bucket that causes an
    /// incident in a later one counts in the bucket it completed in.
    async fn causing_incidents(&self) -> i32 {
        int(self.0.causing_incidents)
    }

    /// (successful + successfulWithIssues) / completed; null when none completed.
    async fn success_rate(&self) -> Option<f64> {
        self.0.success_rate()
    }

    /// Completed changes that FAILED, were BACKED_OUT or caused at least one incident (each
    /// change counted once) / completed; null when none completed.
    async fn failure_rate(&self) -> Option<f64> {
        self.0.failure_rate()
    }

    /// emergency / completed; null when none completed.
    async fn emergency_ratio(&self) -> Option<f64> {
        self.0.emergency_ratio()
    }

    /// Mean hours from submission (`submittedAt`) to implementation completed
    /// (`completedAt`) over the completed changes that were submitted (every change leaves
    /// DRAFT by submission; imported history may lack it); null when there are none.
    async fn mean_lead_time_hours(&self) -> Option<f64> {
        self.0.mean_lead_time_hours()
    }

    /// Changes referred to the CAB or ECAB (`referredAt` set) that were decided, authorized
    /// or rejected, in the period (`decidedAt` in it).
    async fn cab_decisions(&self) -> i32 {
        int(self.0.cab_decisions)
    }

    /// Mean hours from referral to the CAB or ECAB (`referredAt`) to its decision
    /// (`decidedAt`) over `cabDecisions`; null when there are none.
    async fn mean_cab_decision_hours(&self) -> Option<f64> {
        self.0.mean_cab_decision_hours()
    }

    /// Changes open at the period's end: submitted before it and neither closed, cancelled
    /// nor rejected before it (a change in REVIEW is open until closed). For the totals, the
    /// backlog at `to`.
    async fn backlog(&self) -> i32 {
        int(self.0.backlog)
    }
}

pub struct IncidentKpiReport(quorum_insight::IncidentKpiReport);

/// Incident KPIs over a range, whole and by bucket.
#[Object]
impl IncidentKpiReport {
    /// Start of the range (inclusive).
    async fn from(&self) -> DateTime<Utc> {
        self.0.from
    }

    /// End of the range (exclusive).
    async fn to(&self) -> DateTime<Utc> {
        self.0.to
    }

    async fn bucket(&self) -> KpiBucket {
        self.0.bucket
    }

    /// The whole range as one period (`start` = `from`, `end` = `to`).
    async fn totals(&self) -> IncidentKpis<'_> {
        IncidentKpis(&self.0.totals)
    }

    /// One period per bucket, in order, empty buckets included.
    async fn series(&self) -> Vec<IncidentKpis<'_>> {
        self.0.series.iter().map(IncidentKpis).collect()
    }
}

pub struct IncidentKpis<'a>(&'a IncidentFigures);

/// Incident figures over one period: a bucket, or the whole range. An incident counts in the
/// period it was opened in for `opened` and `mttaMinutes`, and in the period it was resolved
/// in for the resolution figures.
#[Object]
impl IncidentKpis<'_> {
    /// Start of the period (inclusive).
    async fn start(&self) -> DateTime<Utc> {
        self.0.period.start
    }

    /// End of the period (exclusive).
    async fn end(&self) -> DateTime<Utc> {
        self.0.period.end
    }

    /// Incidents opened in the period (`openedAt` in it).
    async fn opened(&self) -> i32 {
        int(self.0.all.opened)
    }

    /// Incidents resolved in the period: their resolution (`resolvedAt`; after a reopen, the
    /// last one) is in it. An incident reopened and not resolved again is not counted.
    async fn resolved(&self) -> i32 {
        int(self.0.all.resolved)
    }

    /// Mean time to acknowledge: mean minutes from opening to the first response
    /// (acknowledgement, assignment or resolution: `respondedAt`) over the incidents opened in
    /// the period that have had one; null when none has.
    async fn mtta_minutes(&self) -> Option<f64> {
        self.0.all.mtta_minutes()
    }

    /// Mean time to resolve: mean minutes the resolution clock ran over the incidents
    /// resolved in the period: opening to resolution, less the time ON_HOLD and the time
    /// spent RESOLVED before a reopen (`sla.pausedSeconds`); null when none was resolved.
    async fn mttr_minutes(&self) -> Option<f64> {
        self.0.all.mttr_minutes()
    }

    /// Of the incidents resolved in the period, the share resolved by their resolution due
    /// time (the target from opening, moved on by the pauses: `resolvedAt <=
    /// sla.resolutionDue`); null when none was resolved.
    async fn sla_compliance(&self) -> Option<f64> {
        self.0.all.sla_compliance()
    }

    /// Of the incidents resolved in the period, the share reopened at least once; null when
    /// none was resolved.
    async fn reopen_rate(&self) -> Option<f64> {
        self.0.all.reopen_rate()
    }

    /// The same figures per priority (the incident's priority now): P1 to P5, in that order,
    /// all five always present.
    async fn by_priority(&self) -> Vec<IncidentPriorityKpis<'_>> {
        self.0
            .by_priority
            .iter()
            .map(|(priority, counts)| IncidentPriorityKpis(*priority, counts))
            .collect()
    }
}

pub struct IncidentPriorityKpis<'a>(Priority, &'a IncidentCounts);

/// Incident figures of one priority over one period; each as defined on `IncidentKpis`.
#[Object]
impl IncidentPriorityKpis<'_> {
    async fn priority(&self) -> Priority {
        self.0
    }

    /// `IncidentKpis.opened`, of this priority.
    async fn opened(&self) -> i32 {
        int(self.1.opened)
    }

    /// `IncidentKpis.resolved`, of this priority.
    async fn resolved(&self) -> i32 {
        int(self.1.resolved)
    }

    /// `IncidentKpis.mttaMinutes`, of this priority.
    async fn mtta_minutes(&self) -> Option<f64> {
        self.1.mtta_minutes()
    }

    /// `IncidentKpis.mttrMinutes`, of this priority.
    async fn mttr_minutes(&self) -> Option<f64> {
        self.1.mttr_minutes()
    }

    /// `IncidentKpis.slaCompliance`, of this priority.
    async fn sla_compliance(&self) -> Option<f64> {
        self.1.sla_compliance()
    }

    /// `IncidentKpis.reopenRate`, of this priority.
    async fn reopen_rate(&self) -> Option<f64> {
        self.1.reopen_rate()
    }
}

pub struct ProblemKpiReport(quorum_insight::ProblemKpiReport);

/// Problem KPIs over a range, whole and by bucket.
#[Object]
impl ProblemKpiReport {
    /// Start of the range (inclusive).
    async fn from(&self) -> DateTime<Utc> {
        self.0.from
    }

    /// End of the range (exclusive).
    async fn to(&self) -> DateTime<Utc> {
        self.0.to
    }

    async fn bucket(&self) -> KpiBucket {
        self.0.bucket
    }

    /// The whole range as one period (`start` = `from`, `end` = `to`).
    async fn totals(&self) -> ProblemKpis<'_> {
        ProblemKpis(&self.0.totals)
    }

    /// One period per bucket, in order, empty buckets included.
    async fn series(&self) -> Vec<ProblemKpis<'_>> {
        self.0.series.iter().map(ProblemKpis).collect()
    }
}

pub struct ProblemKpis<'a>(&'a ProblemFigures);

/// Problem figures over one period: a bucket, or the whole range.
#[Object]
impl ProblemKpis<'_> {
    /// Start of the period (inclusive).
    async fn start(&self) -> DateTime<Utc> {
        self.0.period.start
    }

    /// End of the period (exclusive).
    async fn end(&self) -> DateTime<Utc> {
        self.0.period.end
    }

    /// Problems created in the period.
    async fn opened(&self) -> i32 {
        int(self.0.opened)
    }

    /// Problems resolved in the period (`resolvedAt` in it).
    async fn resolved(&self) -> i32 {
        int(self.0.resolved)
    }

    /// Known errors open at the period's end: problems marked KNOWN_ERROR before it and
    /// neither resolved nor closed before it. For the totals, those open at `to`.
    async fn known_errors_open(&self) -> i32 {
        int(self.0.known_errors_open)
    }

    /// Incidents linked (now) to the problems created in the period / problems created;
    /// null when none was created.
    async fn incidents_per_problem(&self) -> Option<f64> {
        self.0.incidents_per_problem()
    }
}

#[Object]
impl KpiQuery {
    /// Change KPIs over [from, to) (CHANGE_MANAGER, SERVICE_HEAD; for others null, with a FORBIDDEN error), whole and by `bucket`:
    /// calendar weeks (Monday) or months in UTC, the first starting at `from` and the last
    /// ending at `to`. `to` must be after `from` and at most five years later.
    async fn change_kpis(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "KpiBucket::Month")] bucket: KpiBucket,
        filter: Option<ChangeKpiFilter>,
    ) -> async_graphql::Result<Option<ChangeKpiReport>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default().into();
        quorum_insight::change_kpis(&ctx.app()?.db, actor, from, to, bucket, &filter)
            .await
            .map(|report| Some(ChangeKpiReport(report)))
            .gql(ctx)
    }

    /// Incident KPIs over [from, to) (CHANGE_MANAGER, SERVICE_HEAD; for others null, with a FORBIDDEN error), whole and by `bucket`,
    /// overall and per priority; buckets and range as for `changeKpis`.
    async fn incident_kpis(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "KpiBucket::Month")] bucket: KpiBucket,
        filter: Option<KpiFilter>,
    ) -> async_graphql::Result<Option<IncidentKpiReport>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default().into();
        quorum_insight::incident_kpis(&ctx.app()?.db, actor, from, to, bucket, &filter)
            .await
            .map(|report| Some(IncidentKpiReport(report)))
            .gql(ctx)
    }

    /// Problem KPIs over [from, to) (CHANGE_MANAGER, SERVICE_HEAD; for others null, with a FORBIDDEN error), whole and by `bucket`;
    /// buckets and range as for `changeKpis`.
    async fn problem_kpis(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "KpiBucket::Month")] bucket: KpiBucket,
        filter: Option<KpiFilter>,
    ) -> async_graphql::Result<Option<ProblemKpiReport>> {
        let actor = ctx.actor()?;
        let filter = filter.unwrap_or_default().into();
        quorum_insight::problem_kpis(&ctx.app()?.db, actor, from, to, bucket, &filter)
            .await
            .map(|report| Some(ProblemKpiReport(report)))
            .gql(ctx)
    }
}
