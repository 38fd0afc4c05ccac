//! Deterministic bulk changes for benchmarks (`quorum seed --changes N --seed S`): N changes
//! raised over the two years before `now` on the CIs already in the CMDB, written in one
//! transaction with multi-row statements, one `created` event each (its snapshot is the change
//! as it stands at `now`).
//!
//! Each change lives its whole life as the product would run it, then is cut at `now`:
//! - about 70% NORMAL, 20% STANDARD (from a standard change template; the seed adds a few when
//!   there are none), 10% EMERGENCY; 1 to 5 CIs, the first by class (applications most often),
//!   the others its neighbours in the CMDB graph;
//! - NORMAL: submitted, assessed by a change manager (the risk questionnaire, and the same
//!   factors `assessChange` computes: the affected CIs' criticality, the most critical business
//!   service within 5 hops of impact, and the failure history of the CIs' changes completed in
//!   the 180 days before), then authorized (or now and then rejected) by the manager below the
//!   policy's CAB threshold, or referred to the CAB, whose members vote at the next weekly
//!   meeting until the quorum (or a veto) decides; EMERGENCY: straight to the ECAB, assessed and
//!   decided within hours; STANDARD: authorized on submission, LOW risk;
//! - a window in the maintenance slots (weekday evenings, Saturday nights, business hours for
//!   small changes; emergencies within hours), a few days ahead and sometimes weeks (at most 60
//!   days), mostly asked for when the change is raised; then scheduled, implemented (a few start
//!   outside the window), completed with an outcome (about 85% SUCCESSFUL, 7%
//!   SUCCESSFUL_WITH_ISSUES, 5% FAILED, 3% BACKED_OUT), reviewed when the policy needs it, closed;
//! - about 5% cancelled before implementation.
//!
//! Cut at `now`, almost all are final (CLOSED, REJECTED, CANCELLED); those raised in the last
//! weeks are still on their way: drafts, assessments, CAB reviews with the votes cast so far,
//! and several hundred in flight (AUTHORIZED, SCHEDULED, IMPLEMENTING) with windows in the next
//! 60 days, crowded into the same evenings, so conflicts are common.
//!
//! The same CMDB, policy, seed and `now` give the same changes (ids included: UUIDv7s stamped
//! with the creation, their random bits drawn from the seed).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use quorum_cmdb::entity::{configuration_item as ci, relationship};
use quorum_cmdb::{CiClass, CiStatus};
use quorum_core::event::{self, EventAction};
use quorum_core::numbering::{format_number, reserve_numbers};
use quorum_core::write::{self, encode_json};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use quorum_change::entity::change_request::{self, Model};
use quorum_change::entity::{
    Board, ChangeOutcome, ChangeState, ChangeType, UserImpact, VoteDecision, affected_item,
    cab_vote, template,
};
use quorum_change::risk::{BLAST_RADIUS_DEPTH, FAILURE_HISTORY_DAYS, RatedItem, RiskFacts};
use quorum_change::{
    CHANGE_NUMBER_PREFIX, ChangePolicy, Review, RiskAssessment, RiskQuestionnaire,
};

/// Changes per multi-row INSERT: 35 columns each stays under both stores' parameter limits.
const CHUNK: usize = 500;
/// How far back the changes are raised.
const SPAN_DAYS: i64 = 730;
/// The furthest a window is planned after the change is authorized.
const MAX_LEAD_DAYS: i64 = 58;
/// Salts the seed of the random streams of the changes' ids and texts (and the templates').
const TEXT_SALT: u64 = 0x7e57_c0de_5eed_0001;

/// What a seed wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub changes: usize,
    pub affected_items: usize,
    pub votes: usize,
    /// Templates the seed added because there were none.
    pub templates_created: usize,
    /// Per state at `now`, in [`ChangeState`] order (DRAFT first, CANCELLED last).
    pub by_state: [usize; 10],
    /// AUTHORIZED, SCHEDULED or IMPLEMENTING at `now`.
    pub in_flight: usize,
    /// Per outcome of the CLOSED ones: SUCCESSFUL, SUCCESSFUL_WITH_ISSUES, FAILED, BACKED_OUT.
    pub by_outcome: [usize; 4],
}

const STATES: [ChangeState; 10] = [
    ChangeState::Draft,
    ChangeState::Assessment,
    ChangeState::CabReview,
    ChangeState::Authorized,
    ChangeState::Scheduled,
    ChangeState::Implementing,
    ChangeState::Review,
    ChangeState::Closed,
    ChangeState::Rejected,
    ChangeState::Cancelled,
];

const OUTCOMES: [ChangeOutcome; 4] = [
    ChangeOutcome::Successful,
    ChangeOutcome::SuccessfulWithIssues,
    ChangeOutcome::Failed,
    ChangeOutcome::BackedOut,
];

/// The CMDB as the seed sees it: live CIs by number, who is next to whom, and for each CI the
/// most critical business service its impact reaches within [`BLAST_RADIUS_DEPTH`] hops.
struct Estate {
    ids: Vec<String>,
    numbers: Vec<String>,
    classes: Vec<CiClass>,
    names: Vec<String>,
    criticality: Vec<i32>,
    neighbours: Vec<Vec<u32>>,
    /// The CIs of each class present, with how often a change starts from that class.
    by_class: Vec<(u32, Vec<u32>)>,
    service: Vec<Option<u32>>,
}

/// How often a change's first CI is of each class.
fn class_weight(class: CiClass) -> u32 {
    match class {
        CiClass::Application => 30,
        CiClass::VirtualMachine => 18,
        CiClass::Server | CiClass::Database => 12,
        CiClass::Container => 10,
        CiClass::NetworkDevice => 7,
        CiClass::CloudResource => 5,
        CiClass::Storage => 4,
        CiClass::BusinessService => 2,
        CiClass::Other => 1,
    }
}

impl Estate {
    fn new(rows: Vec<(String, String, CiClass, String, i32)>, links: &[(u32, u32)]) -> Self {
        let n = rows.len();
        let mut estate = Estate {
            ids: Vec::with_capacity(n),
            numbers: Vec::with_capacity(n),
            classes: Vec::with_capacity(n),
            names: Vec::with_capacity(n),
            criticality: Vec::with_capacity(n),
            neighbours: vec![Vec::new(); n],
            by_class: Vec::new(),
            service: Vec::new(),
        };
        let mut classes: HashMap<CiClass, Vec<u32>> = HashMap::new();
        for (index, (id, number, class, name, criticality)) in rows.into_iter().enumerate() {
            estate.ids.push(id);
            estate.numbers.push(number);
            estate.classes.push(class);
            estate.names.push(name);
            estate.criticality.push(criticality);
            classes.entry(class).or_default().push(index as u32);
        }
        let mut by_class: Vec<(CiClass, Vec<u32>)> = classes.into_iter().collect();
        by_class.sort_by_key(|(_, items)| items[0]);
        estate.by_class = by_class
            .into_iter()
            .map(|(class, items)| (class_weight(class), items))
            .collect();
        // Impact walks from a CI to those that depend on it: the sources of the relationships
        // whose target it is.
        let mut dependents: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(source, target) in links {
            estate.neighbours[source as usize].push(target);
            estate.neighbours[target as usize].push(source);
            dependents[target as usize].push(source);
        }
        // The most critical business service within d hops, one hop more per round; ties go
        // to the lower number (the rows are in number order), as the risk assessment does.
        let criticality = &estate.criticality;
        let better = |a: Option<u32>, b: Option<u32>| match (a, b) {
            (Some(x), Some(y)) => {
                if (criticality[y as usize], y) < (criticality[x as usize], x) {
                    Some(y)
                } else {
                    Some(x)
                }
            }
            (x, None) => x,
            (None, y) => y,
        };
        let mut best: Vec<Option<u32>> = (0..n)
            .map(|i| (estate.classes[i] == CiClass::BusinessService).then_some(i as u32))
            .collect();
        for _ in 0..BLAST_RADIUS_DEPTH {
            let previous = best.clone();
            for (target, sources) in dependents.iter().enumerate() {
                for &source in sources {
                    best[target] = better(best[target], previous[source as usize]);
                }
            }
        }
        estate.service = best;
        estate
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

async fn load_estate(db: &DatabaseConnection) -> DomainResult<Estate> {
    let rows: Vec<(String, String, CiClass, String, i32)> = ci::Entity::find()
        .select_only()
        .columns([
            ci::Column::Id,
            ci::Column::Number,
            ci::Column::Class,
            ci::Column::Name,
            ci::Column::Criticality,
        ])
        .filter(ci::Column::Status.ne(CiStatus::Retired))
        .order_by_asc(ci::Column::Number)
        .into_tuple()
        .all(db)
        .await?;
    let index: HashMap<String, u32> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.0.clone(), i as u32))
        .collect();
    let pairs: Vec<(String, String)> = relationship::Entity::find()
        .select_only()
        .columns([
            relationship::Column::SourceId,
            relationship::Column::TargetId,
        ])
        .filter(relationship::Column::RemovedAt.is_null())
        .order_by_asc(relationship::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let links: Vec<(u32, u32)> = pairs
        .iter()
        .filter_map(|(source, target)| Some((*index.get(source)?, *index.get(target)?)))
        .collect();
    drop(index);
    Ok(Estate::new(rows, &links))
}

/// The active standard change templates by name, adding a few when there are none.
async fn templates(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> DomainResult<(Vec<template::Model>, usize)> {
    let active = template::Entity::find()
        .filter(template::Column::Active.eq(true))
        .order_by_asc(template::Column::Name)
        .all(txn)
        .await?;
    if !active.is_empty() {
        return Ok((active, 0));
    }
    const TEMPLATES: [(&str, &str, &str); 8] = [
        (
            "Monthly OS patching",
            "Apply the vendor's monthly security updates and reboot.",
            "Boot the previous kernel; uninstall the updates.",
        ),
        (
            "TLS certificate renewal",
            "Install the renewed certificate and reload the listener.",
            "Reinstall the previous certificate.",
        ),
        (
            "Disk space increase",
            "Grow the volume and the filesystem online.",
            "None needed: growing is non-destructive.",
        ),
        (
            "Scale out replicas",
            "Raise the replica count and watch the rollout.",
            "Lower the replica count back.",
        ),
        (
            "Database index maintenance",
            "Rebuild fragmented indexes concurrently.",
            "Cancel the rebuild; the old index stays valid.",
        ),
        (
            "Credential rotation",
            "Issue new credentials, deploy them, revoke the old ones.",
            "Re-enable the previous credentials.",
        ),
        (
            "Firmware update (vendor approved)",
            "Apply the approved firmware to the standby unit, fail over, apply to the other.",
            "Fail back to the unit on the previous firmware.",
        ),
        (
            "Service restart in a maintenance window",
            "Drain, restart, verify health checks, re-enable.",
            "None needed.",
        ),
    ];
    let created_at = now - Duration::days(SPAN_DAYS + 30);
    let mut models = Vec::with_capacity(TEMPLATES.len());
    let mut events = Vec::with_capacity(TEMPLATES.len());
    for (name, implementation, backout) in TEMPLATES {
        let model = template::Model {
            id: seeded_uuid(rng, created_at),
            name: name.to_owned(),
            description: Some(format!("{name}: pre-authorized, low risk, done often.")),
            implementation_plan: Some(implementation.to_owned()),
            backout_plan: Some(backout.to_owned()),
            test_plan: Some("Health checks and dashboards green for 15 minutes.".to_owned()),
            active: true,
            version: 1,
            created_by: actor.subject().to_owned(),
            created_at,
            updated_at: created_at,
        };
        events.push(write::event_of(
            EventAction::Created,
            None,
            None,
            (&model, &()),
        )?);
        models.push(model);
    }
    template::Entity::insert_many(
        models
            .iter()
            .map(|model| template::ActiveModel::from(model.clone()).reset_all()),
    )
    .exec_without_returning(txn)
    .await?;
    event::append_many(txn, actor, now, events).await?;
    let count = models.len();
    Ok((models, count))
}

/// A UUIDv7 stamped with `at`, its random bits from `rng`.
fn seeded_uuid(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> String {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

fn minutes(value: i64) -> Duration {
    Duration::minutes(value)
}

/// `low..=high` minutes, weighted towards `low` (the square of a uniform draw).
fn skewed_minutes(rng: &mut ChaCha8Rng, low: i64, high: i64) -> Duration {
    let r: f64 = rng.random();
    minutes(low + ((high - low) as f64 * r * r) as i64)
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, from: &'a [T]) -> &'a T {
    &from[rng.random_range(0..from.len())]
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn at(day: NaiveDate, hour: i64, minute: i64) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc() + minutes(hour * 60 + minute)
}

/// When a change is raised: the rate grows by a third over the two years, weekends are quiet
/// and most are raised in working hours.
fn creation(rng: &mut ChaCha8Rng, now: DateTime<Utc>) -> DateTime<Utc> {
    const GROWTH: f64 = 1.0 / 3.0;
    let start = now - Duration::days(SPAN_DAYS);
    loop {
        // Inverse of the CDF of a density rising linearly by GROWTH over [0, 1].
        let f: f64 = rng.random();
        let x = ((1.0 + 2.0 * GROWTH * f * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
        let day =
            (start + Duration::seconds((x * (SPAN_DAYS * 86_400) as f64) as i64)).date_naive();
        if is_weekend(day) && rng.random_bool(0.8) {
            continue;
        }
        let hour = if rng.random_bool(0.85) {
            rng.random_range(8..18)
        } else {
            rng.random_range(0..24)
        };
        let created =
            at(day, hour, rng.random_range(0..60)) + Duration::seconds(rng.random_range(0..60));
        if created < now - minutes(1) && created > start {
            return created;
        }
    }
}

/// The maintenance slots windows are planned in.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Weekdays from 19:00 to 22:30, 1 to 4 hours.
    Evening,
    /// Saturday 22:00, 2 to 6 hours.
    Weekend,
    /// Weekdays from 09:00 to 15:30, 30 minutes to 2 hours.
    Business,
}

/// A window in `slot` on the first fitting day from `lead_days` after `after`, starting at
/// least 30 minutes after it.
fn window(
    rng: &mut ChaCha8Rng,
    after: DateTime<Utc>,
    lead_days: i64,
    slot: Slot,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let earliest = after + minutes(30);
    let mut day = (after + Duration::days(lead_days)).date_naive();
    for _ in 0..30 {
        let candidate = match slot {
            Slot::Evening if !is_weekend(day) => Some((
                at(day, rng.random_range(19..=22), 30 * rng.random_range(0..=1)),
                30 * rng.random_range(2..=8),
            )),
            Slot::Weekend if day.weekday() == Weekday::Sat => {
                Some((at(day, 22, 0), 60 * rng.random_range(2..=6)))
            }
            Slot::Business if !is_weekend(day) => Some((
                at(day, rng.random_range(9..=15), 30 * rng.random_range(0..=1)),
                30 * rng.random_range(1..=4),
            )),
            _ => None,
        };
        if let Some((start, length)) = candidate
            && start >= earliest
        {
            return (start, start + minutes(length));
        }
        day = day.succ_opt().unwrap_or(day);
    }
    (earliest, earliest + minutes(120))
}

/// The next weekly CAB meeting (Tuesday 14:00) at least 20 hours after `referred`.
fn cab_meeting(referred: DateTime<Utc>) -> DateTime<Utc> {
    let earliest = referred + Duration::hours(20);
    let mut day = earliest.date_naive();
    for _ in 0..8 {
        let meeting = at(day, 14, 0);
        if day.weekday() == Weekday::Tue && meeting >= earliest {
            return meeting;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    earliest
}

/// Who raises, implements, assesses and votes.
fn engineer(index: u16) -> String {
    format!("engineer.{index:03}")
}

fn manager(rng: &mut ChaCha8Rng) -> String {
    format!("change.manager.{:02}", rng.random_range(1..=4))
}

/// The plan of a change before its risk is known: everything up to its assessment.
struct Plan {
    created_at: DateTime<Utc>,
    change_type: ChangeType,
    /// Estate indexes; the first is where the change starts from.
    items: Vec<u32>,
    template: Option<usize>,
    requester: u16,
    assignee: u16,
    submitted_at: DateTime<Utc>,
    /// When the risk is assessed (STANDARD: on submission).
    assessed_at: DateTime<Utc>,
    questionnaire: Option<RiskQuestionnaire>,
}

/// One write to a change in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Submitted,
    Assessed,
    Referred,
    Authorized,
    Rejected,
    Scheduled,
    Started,
    Completed,
    Reviewed,
    Closed,
    Cancelled,
}

struct PlannedVote {
    at: DateTime<Utc>,
    voter: String,
    decision: VoteDecision,
    comment: Option<String>,
}

/// A change's whole life, from creation to closure (or rejection, or cancellation).
struct Life {
    risk: RiskAssessment,
    steps: Vec<(DateTime<Utc>, Step)>,
    votes: Vec<PlannedVote>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whether the requester asked for the window when raising the change.
    window_requested: bool,
    started_outside_window: bool,
    outcome: Option<ChangeOutcome>,
    review: Option<Review>,
    /// When it completed, if it does.
    completed_at: Option<DateTime<Utc>>,
}

/// Draws a change's plan up to its assessment.
fn plan(
    rng: &mut ChaCha8Rng,
    estate: &Estate,
    templates: usize,
    created_at: DateTime<Utc>,
) -> Plan {
    let change_type = match rng.random_range(0..100) {
        0..70 => ChangeType::Normal,
        70..90 if templates > 0 => ChangeType::Standard,
        70..90 => ChangeType::Normal,
        _ => ChangeType::Emergency,
    };
    let wanted = match rng.random_range(0..100) {
        0..40 => 1,
        40..65 => 2,
        65..82 => 3,
        82..92 => 4,
        _ => 5,
    };
    let total: u32 = estate.by_class.iter().map(|(weight, _)| weight).sum();
    let mut draw = rng.random_range(0..total.max(1));
    let mut first = 0;
    for (weight, items) in &estate.by_class {
        if draw < *weight {
            first = *pick(rng, items);
            break;
        }
        draw -= weight;
    }
    let mut items = vec![first];
    for _ in 0..wanted * 4 {
        if items.len() >= wanted {
            break;
        }
        let from = items[rng.random_range(0..items.len())] as usize;
        let near = &estate.neighbours[from];
        let next = if near.is_empty() || rng.random_bool(0.1) {
            rng.random_range(0..estate.len()) as u32
        } else {
            *pick(rng, near)
        };
        if !items.contains(&next) {
            items.push(next);
        }
    }
    let template = (change_type == ChangeType::Standard).then(|| rng.random_range(0..templates));
    let requester = rng.random_range(0..300);
    let assignee = if rng.random_bool(0.6) {
        requester
    } else {
        rng.random_range(0..300)
    };
    let (submitted_at, assessed_at) = match change_type {
        ChangeType::Standard => {
            let submitted = created_at + skewed_minutes(rng, 2, 24 * 60);
            (submitted, submitted)
        }
        ChangeType::Normal => {
            let submitted = created_at + skewed_minutes(rng, 10, 2 * 24 * 60);
            (submitted, submitted + skewed_minutes(rng, 30, 2 * 24 * 60))
        }
        ChangeType::Emergency => {
            let submitted = created_at + minutes(rng.random_range(5..=60));
            (submitted, submitted + minutes(rng.random_range(5..=60)))
        }
    };
    let questionnaire = match change_type {
        ChangeType::Standard => None,
        ChangeType::Normal => Some(RiskQuestionnaire {
            user_impact: match rng.random_range(0..100) {
                0..20 => UserImpact::None,
                20..60 => UserImpact::Low,
                60..88 => UserImpact::Medium,
                _ => UserImpact::High,
            },
            outage_required: rng.random_bool(0.25),
            tested: rng.random_bool(0.88),
            backout_tested: rng.random_bool(0.75),
            done_before: rng.random_bool(0.7),
        }),
        ChangeType::Emergency => Some(RiskQuestionnaire {
            user_impact: match rng.random_range(0..100) {
                0..10 => UserImpact::Low,
                10..50 => UserImpact::Medium,
                _ => UserImpact::High,
            },
            outage_required: rng.random_bool(0.5),
            tested: rng.random_bool(0.5),
            backout_tested: rng.random_bool(0.4),
            done_before: rng.random_bool(0.4),
        }),
    };
    Plan {
        created_at,
        change_type,
        items,
        template,
        requester,
        assignee,
        submitted_at,
        assessed_at,
        questionnaire,
    }
}

/// The assessment `assessChange` would record, by the domain's own rules
/// ([`RiskAssessment::from_facts`]) over what the estate knows: the affected CIs, the most
/// critical business service each one's impact reaches within [`BLAST_RADIUS_DEPTH`] hops, and
/// the failure history (`failed` of `completed` changes on the CIs in the
/// [`FAILURE_HISTORY_DAYS`] days before).
fn assessment(
    estate: &Estate,
    plan: &Plan,
    answers: RiskQuestionnaire,
    (failed, completed): (usize, usize),
    assessed_by: String,
) -> RiskAssessment {
    let rated = |i: u32| RatedItem {
        number: &estate.numbers[i as usize],
        name: &estate.names[i as usize],
        criticality: estate.criticality[i as usize],
    };
    let facts = RiskFacts {
        affected: plan.items.iter().map(|&i| rated(i)).collect(),
        business_services: plan
            .items
            .iter()
            .filter_map(|&i| estate.service[i as usize])
            .map(rated)
            .collect(),
        failed,
        completed,
    };
    RiskAssessment::from_facts(answers, &facts, plan.assessed_at, &assessed_by)
}

/// The votes of a board deciding a change: the deciding vote last, at `decided`; the others
/// between `from` and `until`.
#[allow(clippy::too_many_arguments)]
fn board_votes(
    rng: &mut ChaCha8Rng,
    pool: &[String],
    quorum: usize,
    vetoes: bool,
    approve: bool,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    decided: DateTime<Utc>,
) -> Vec<PlannedVote> {
    let abstains = match rng.random_range(0..100) {
        0..75 => 0,
        75..95 => 1,
        _ => 2,
    };
    let mut earlier: Vec<VoteDecision> = vec![VoteDecision::Abstain; abstains];
    let last = if approve {
        earlier.extend(std::iter::repeat_n(VoteDecision::Approve, quorum - 1));
        if !vetoes {
            let rejects = rng.random_range(0..quorum);
            earlier.extend(std::iter::repeat_n(VoteDecision::Reject, rejects));
        }
        VoteDecision::Approve
    } else {
        let approvals = rng.random_range(0..quorum);
        earlier.extend(std::iter::repeat_n(VoteDecision::Approve, approvals));
        if !vetoes {
            earlier.extend(std::iter::repeat_n(VoteDecision::Reject, quorum - 1));
        }
        VoteDecision::Reject
    };
    // Shuffle the earlier votes (Fisher–Yates), then draw distinct voters.
    for i in (1..earlier.len()).rev() {
        let j = rng.random_range(0..=i);
        earlier.swap(i, j);
    }
    let count = earlier.len() + 1;
    let mut voters: Vec<usize> = (0..pool.len()).collect();
    for i in 0..count.min(voters.len()) {
        let j = rng.random_range(i..voters.len());
        voters.swap(i, j);
    }
    let span = (until - from).num_minutes().max(1);
    let mut times: Vec<DateTime<Utc>> = (0..earlier.len())
        .map(|_| from + minutes(rng.random_range(0..span)))
        .collect();
    times.sort();
    let comment = |rng: &mut ChaCha8Rng, decision: VoteDecision| match decision {
        VoteDecision::Approve => rng.random_bool(0.3).then(|| {
            pick(
                rng,
                &[
                    "Backout plan is clear.",
                    "Fine, keep the service desk informed.",
                    "Approve; watch the error budget.",
                ],
            )
            .to_string()
        }),
        VoteDecision::Reject => Some(
            pick(
                rng,
                &[
                    "The backout plan is not tested; come back with a rehearsal.",
                    "Clashes with the month-end close; pick another window.",
                    "Too many changes on this service this week.",
                    "The risk is not explained; the test plan is missing.",
                ],
            )
            .to_string(),
        ),
        VoteDecision::Abstain => Some("Not my area.".to_owned()),
    };
    let mut votes = Vec::with_capacity(count);
    for (k, decision) in earlier.into_iter().chain([last]).enumerate() {
        let at = times.get(k).copied().unwrap_or(decided).min(decided);
        let voter = pool[voters[k.min(voters.len() - 1)]].clone();
        let comment = comment(rng, decision);
        votes.push(PlannedVote {
            at,
            voter,
            decision,
            comment,
        });
    }
    votes
}

/// The life of a change from its assessment on, now that its failure history is known.
fn live(
    rng: &mut ChaCha8Rng,
    estate: &Estate,
    policy: &ChangePolicy,
    templates: &[template::Model],
    boards: &Boards,
    plan: &Plan,
    history: (usize, usize),
) -> Life {
    let mut steps = vec![(plan.submitted_at, Step::Submitted)];
    let mut votes = Vec::new();
    let assessed_by = manager(rng);
    let risk = match (plan.change_type, plan.questionnaire.clone(), plan.template) {
        (ChangeType::Standard, _, template) => {
            let name = template
                .and_then(|t| templates.get(t))
                .map(|t| t.name.as_str())
                .unwrap_or_default();
            RiskAssessment::standard(name, plan.submitted_at, &engineer(plan.requester))
        }
        (_, answers, _) => {
            let answers = answers.unwrap_or(RiskQuestionnaire {
                user_impact: UserImpact::Low,
                outage_required: false,
                tested: true,
                backout_tested: true,
                done_before: true,
            });
            assessment(estate, plan, answers, history, assessed_by)
        }
    };
    let quorum = |value: i32| usize::try_from(value).unwrap_or(1).max(1);
    // The decision: when, and whether the change is authorized.
    let (decided, authorized) = match plan.change_type {
        ChangeType::Standard => (plan.submitted_at, true),
        ChangeType::Normal => {
            steps.push((plan.assessed_at, Step::Assessed));
            if risk.level >= policy.cab_threshold {
                let referred = plan.assessed_at + skewed_minutes(rng, 5, 120);
                steps.push((referred, Step::Referred));
                let meeting = cab_meeting(referred);
                let decided = meeting + minutes(rng.random_range(5..=90));
                let approve = !rng.random_bool(0.12);
                votes = board_votes(
                    rng,
                    &boards.cab,
                    quorum(policy.cab_quorum),
                    policy.reject_vetoes,
                    approve,
                    referred + minutes(10),
                    decided,
                    decided,
                );
                (decided, approve)
            } else {
                let decided = plan.assessed_at + skewed_minutes(rng, 5, 24 * 60);
                (decided, !rng.random_bool(0.03))
            }
        }
        ChangeType::Emergency => {
            steps.push((plan.assessed_at, Step::Assessed));
            let decided = plan.assessed_at + minutes(rng.random_range(10..=120));
            let approve = !rng.random_bool(0.05);
            votes = board_votes(
                rng,
                &boards.ecab,
                quorum(policy.ecab_quorum),
                policy.reject_vetoes,
                approve,
                plan.assessed_at,
                decided,
                decided,
            );
            (decided, approve)
        }
    };
    let mut life = Life {
        risk,
        steps,
        votes,
        window: None,
        window_requested: false,
        started_outside_window: false,
        outcome: None,
        review: None,
        completed_at: None,
    };
    if plan.change_type != ChangeType::Standard {
        life.steps.push((
            decided,
            if authorized {
                Step::Authorized
            } else {
                Step::Rejected
            },
        ));
    }
    if !authorized {
        return life;
    }

    // The window, then its implementation.
    let (start, end) = match plan.change_type {
        ChangeType::Emergency => {
            let start = decided + minutes(5 * rng.random_range(3..=48));
            (start, start + minutes(30 * rng.random_range(1..=6)))
        }
        ChangeType::Standard => {
            let slot = if rng.random_bool(0.6) {
                Slot::Business
            } else {
                Slot::Evening
            };
            let lead = rng.random_range(0..=4);
            window(rng, decided, lead, slot)
        }
        ChangeType::Normal => {
            let lead = match rng.random_range(0..100) {
                0..70 => rng.random_range(1..=5),
                70..95 => rng.random_range(5..=14),
                _ => rng.random_range(14..=MAX_LEAD_DAYS),
            };
            let slot = match rng.random_range(0..100) {
                0..60 => Slot::Evening,
                60..80 => Slot::Weekend,
                _ => Slot::Business,
            };
            window(rng, decided, lead, slot)
        }
    };
    life.window = Some((start, end));
    life.window_requested = match plan.change_type {
        ChangeType::Emergency => true,
        ChangeType::Standard => rng.random_bool(0.7),
        ChangeType::Normal => rng.random_bool(0.85),
    } && start > plan.created_at;
    let scheduled = decided
        + Duration::seconds(
            (rng.random::<f64>() * (start - decided).num_seconds().min(3 * 86_400) as f64) as i64,
        )
        .max(minutes(1));
    let scheduled = scheduled.min(start);
    life.steps.push((scheduled, Step::Scheduled));
    let started = match rng.random_range(0..100) {
        0..94 => start + minutes(rng.random_range(0..=10)),
        94..97 => start - minutes(rng.random_range(5..=30)),
        _ => start + minutes(rng.random_range(15..=90)),
    }
    .max(scheduled + minutes(1));
    life.started_outside_window = !(start <= started && started < end);

    // About 5% are cancelled before they start.
    if rng.random_bool(0.05) {
        let span = (started - plan.created_at).num_minutes().max(2);
        let cancelled = plan.created_at + minutes(rng.random_range(1..span));
        life.steps.retain(|(at, _)| *at < cancelled);
        life.votes.retain(|vote| vote.at < cancelled);
        life.steps.push((cancelled, Step::Cancelled));
        life.window = life.window.filter(|_| {
            life.window_requested || life.steps.iter().any(|(_, s)| *s == Step::Scheduled)
        });
        return life;
    }

    life.steps.push((started, Step::Started));
    let outcome = match rng.random_range(0..100) {
        0..85 => ChangeOutcome::Successful,
        85..92 => ChangeOutcome::SuccessfulWithIssues,
        92..97 => ChangeOutcome::Failed,
        _ => ChangeOutcome::BackedOut,
    };
    let length = (end - start).num_minutes() as f64;
    let share = match outcome {
        ChangeOutcome::Successful => 0.4 + 0.55 * rng.random::<f64>(),
        ChangeOutcome::SuccessfulWithIssues => 0.7 + 0.6 * rng.random::<f64>(),
        ChangeOutcome::Failed => 0.5 + rng.random::<f64>(),
        ChangeOutcome::BackedOut => 0.6 + 0.8 * rng.random::<f64>(),
    };
    let completed = started + minutes(((length * share) as i64).max(10));
    life.outcome = Some(outcome);
    life.completed_at = Some(completed);
    life.steps.push((completed, Step::Completed));
    let reviewed = (plan.change_type == ChangeType::Emergency || outcome.is_failure()).then(|| {
        completed + Duration::hours(rng.random_range(20..=120)) + minutes(rng.random_range(0..60))
    });
    let closed = match reviewed {
        Some(reviewed) => {
            life.steps.push((reviewed, Step::Reviewed));
            let objectives_met = !outcome.is_failure();
            life.review = Some(Review {
                lessons_learned: pick(
                    rng,
                    &[
                        "The rehearsal in staging missed production's data volume.",
                        "Monitoring caught the regression within minutes; the backout worked.",
                        "The runbook lacked a step for the replica; added.",
                        "Emergency was justified; the fix should go through CAB next time.",
                    ],
                )
                .to_string(),
                objectives_met,
                follow_up_actions: (!objectives_met).then(|| {
                    "Raise a follow-up change with a rehearsed plan; link the problem.".to_owned()
                }),
                reviewed_at: reviewed,
                reviewed_by: manager(rng),
            });
            reviewed + skewed_minutes(rng, 10, 2 * 24 * 60)
        }
        None => completed + skewed_minutes(rng, 30, 4 * 24 * 60),
    };
    life.steps.push((closed, Step::Closed));
    life
}

/// Voter pools of the two boards.
struct Boards {
    cab: Vec<String>,
    ecab: Vec<String>,
}

impl Boards {
    fn new(policy: &ChangePolicy) -> Self {
        let quorum = |value: i32| usize::try_from(value).unwrap_or(1).max(1);
        let cab = (1..=12.max(quorum(policy.cab_quorum) * 2 + 2))
            .map(|k| format!("cab.member.{k:02}"))
            .collect();
        let ecab_size = 7.max(quorum(policy.ecab_quorum) * 2 + 2);
        let ecab = (1..=ecab_size)
            .map(|k| {
                if k <= 4 {
                    format!("change.manager.{k:02}")
                } else {
                    format!("service.head.{:02}", k - 4)
                }
            })
            .collect();
        Self { cab, ecab }
    }
}

/// Texts of a change, from its first CI.
struct Texts {
    title: String,
    description: String,
    justification: String,
    implementation_plan: String,
    backout_plan: String,
    test_plan: Option<String>,
}

fn texts(
    rng: &mut ChaCha8Rng,
    estate: &Estate,
    plan: &Plan,
    template: Option<&template::Model>,
) -> Texts {
    let first = plan.items[0] as usize;
    let name = &estate.names[first];
    let version = format!(
        "{}.{}.{}",
        rng.random_range(1..12),
        rng.random_range(0..30),
        rng.random_range(0..10)
    );
    let title = match (plan.change_type, template) {
        (ChangeType::Standard, Some(template)) => format!("{} on {name}", template.name),
        (ChangeType::Emergency, _) => pick(
            rng,
            &[
                "Emergency: roll back the last release of {}",
                "Emergency: patch CVE-2026-{n} on {}",
                "Emergency: restore replication on {}",
                "Emergency: raise connection limits on {}",
                "Emergency: replace the failed component in {}",
            ],
        )
        .replace("{n}", &rng.random_range(1000..9999).to_string())
        .replace("{}", name),
        _ => {
            let templates: &[&str] = match estate.classes[first] {
                CiClass::Application => &[
                    "Deploy release {v} of {}",
                    "Enable the new checkout flow on {}",
                    "Upgrade the runtime of {}",
                    "Change the connection pool size of {}",
                    "Move {} to the new message broker",
                ],
                CiClass::Database => &[
                    "Upgrade {} to version {v}",
                    "Add an index to the orders table of {}",
                    "Increase the storage of {} by 200 GiB",
                    "Failover test of {}",
                    "Tune the memory settings of {}",
                ],
                CiClass::Server | CiClass::VirtualMachine => &[
                    "Apply the monthly OS patches to {}",
                    "Increase the memory of {} to 64 GiB",
                    "Upgrade the kernel on {}",
                    "Migrate {} to the new hypervisor cluster",
                    "Resize the root volume of {}",
                ],
                CiClass::Container => &[
                    "Rebuild {} on the new base image",
                    "Raise the memory limit of {}",
                    "Move {} to the new node pool",
                ],
                CiClass::NetworkDevice => &[
                    "Upgrade the firmware of {} to {v}",
                    "Change the ACLs on {}",
                    "Add a VLAN to {}",
                    "Replace a line card in {}",
                ],
                CiClass::Storage => &[
                    "Upgrade the controller firmware of {} to {v}",
                    "Expand the pool on {}",
                    "Replace a disk shelf in {}",
                ],
                CiClass::CloudResource => &[
                    "Rotate the keys of {}",
                    "Change the instance type of {}",
                    "Update the security group of {}",
                ],
                CiClass::BusinessService => &[
                    "Change the opening hours of {}",
                    "Switch {} to the new payment provider",
                    "Publish the new terms of {}",
                ],
                CiClass::Other => &["Maintenance of {}"],
            };
            pick(rng, templates)
                .replace("{v}", &version)
                .replace("{}", name)
        }
    };
    let others: Vec<&str> = plan.items[1..]
        .iter()
        .map(|&i| estate.names[i as usize].as_str())
        .collect();
    let description = if others.is_empty() {
        format!("{title}.")
    } else {
        format!("{title}; also touches {}.", others.join(", "))
    };
    let justification = pick(
        rng,
        &[
            "The vendor ends support of the current version this quarter.",
            "Fixes a security finding from the last audit.",
            "Capacity: usage grew 30% since the last review.",
            "Follow-up of a recent incident.",
            "Requested by the service owner for the next release.",
        ],
    )
    .to_string();
    let (implementation_plan, backout_plan, test_plan) = match template {
        Some(template) => (
            template.implementation_plan.clone().unwrap_or_default(),
            template.backout_plan.clone().unwrap_or_default(),
            template.test_plan.clone(),
        ),
        None => (
            "1. Announce in #changes. 2. Take a snapshot. 3. Apply. 4. Verify dashboards and smoke tests."
                .to_owned(),
            "Restore the snapshot and the previous configuration; verify.".to_owned(),
            rng.random_bool(0.8)
                .then(|| "Rehearsed in staging; smoke tests after.".to_owned()),
        ),
    };
    Texts {
        title,
        description,
        justification,
        implementation_plan,
        backout_plan,
        test_plan,
    }
}

fn completion_notes(outcome: ChangeOutcome) -> &'static str {
    match outcome {
        ChangeOutcome::Successful => "Completed as planned; monitoring green.",
        ChangeOutcome::SuccessfulWithIssues => {
            "Completed; a slow step overran the window, no user impact."
        }
        ChangeOutcome::Failed => "Verification failed; service restored, change not in place.",
        ChangeOutcome::BackedOut => "Errors in smoke tests; backed out as planned.",
    }
}

/// The change as it stands at `now`, and the votes cast by then.
fn at_now<'a>(
    id: String,
    number: String,
    plan: &Plan,
    life: &'a Life,
    texts: Texts,
    now: DateTime<Utc>,
) -> DomainResult<(Model, Vec<&'a PlannedVote>)> {
    let requested = life.window.filter(|_| life.window_requested);
    let mut model = Model {
        id,
        description: Some(texts.description),
        justification: Some(texts.justification),
        implementation_plan: Some(texts.implementation_plan),
        backout_plan: Some(texts.backout_plan),
        test_plan: texts.test_plan,
        assignee: Some(engineer(plan.assignee)),
        planned_start: requested.map(|window| window.0),
        planned_end: requested.map(|window| window.1),
        ..quorum_change::draft_row(
            number,
            plan.change_type,
            texts.title,
            &engineer(plan.requester),
            plan.created_at,
        )
    };
    let risk = encode_json(&life.risk)?;
    let set_risk = |model: &mut Model| {
        model.risk = Some(risk.clone());
        model.risk_score = Some(life.risk.score);
        model.risk_level = Some(life.risk.level);
    };
    for &(t, step) in life.steps.iter().filter(|(t, _)| *t <= now) {
        match step {
            Step::Submitted => {
                model.submitted_at = Some(t);
                match plan.change_type {
                    ChangeType::Standard => {
                        model.state = ChangeState::Authorized;
                        model.decided_at = Some(t);
                        set_risk(&mut model);
                    }
                    ChangeType::Normal => model.state = ChangeState::Assessment,
                    ChangeType::Emergency => {
                        model.state = ChangeState::CabReview;
                        model.referred_at = Some(t);
                    }
                }
            }
            Step::Assessed => set_risk(&mut model),
            Step::Referred => {
                model.state = ChangeState::CabReview;
                model.referred_at = Some(t);
            }
            Step::Authorized => {
                model.state = ChangeState::Authorized;
                model.decided_at = Some(t);
            }
            Step::Rejected => {
                model.state = ChangeState::Rejected;
                model.decided_at = Some(t);
            }
            Step::Scheduled => {
                model.state = ChangeState::Scheduled;
                model.planned_start = life.window.map(|window| window.0);
                model.planned_end = life.window.map(|window| window.1);
            }
            Step::Started => {
                model.state = ChangeState::Implementing;
                model.actual_start = Some(t);
                model.started_outside_window = life.started_outside_window;
            }
            Step::Completed => {
                model.state = ChangeState::Review;
                model.actual_end = Some(t);
                model.completed_at = Some(t);
                model.outcome = life.outcome;
                model.completion_notes = life.outcome.map(|o| completion_notes(o).to_owned());
            }
            Step::Reviewed => {
                model.review = life.review.as_ref().map(encode_json).transpose()?;
            }
            Step::Closed => {
                model.state = ChangeState::Closed;
                model.closed_at = Some(t);
            }
            Step::Cancelled => {
                model.state = ChangeState::Cancelled;
                model.closed_at = Some(t);
            }
        }
        model.version += 1;
        model.updated_at = t;
    }
    let votes = life.votes.iter().filter(|vote| vote.at <= now).collect();
    Ok((model, votes))
}

/// What the sweep does at an instant: completions before assessments at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Moment {
    Completion,
    Assessment,
}

/// What every change is lived from: its own random stream, the estate, the policy, the
/// templates and the boards.
struct World<'a> {
    seed: u64,
    estate: &'a Estate,
    policy: &'a ChangePolicy,
    templates: &'a [template::Model],
    boards: Boards,
}

impl World<'_> {
    /// The life of the change at `index`, given its failure history; the same every time, so
    /// the sweep keeps only the histories and the writer lives each change again.
    fn life(&self, index: usize, plan: &Plan, history: (usize, usize)) -> Life {
        let mut rng = stream(self.seed, 2 * index as u64 + 2);
        live(
            &mut rng,
            self.estate,
            self.policy,
            self.templates,
            &self.boards,
            plan,
            history,
        )
    }

    /// Each change's failure history at its assessment: lives every change in the order its
    /// risk is assessed, so that each assessment sees the completions before it, as
    /// `assessChange` would.
    fn histories(&self, plans: &[Plan]) -> Vec<(usize, usize)> {
        let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, Moment, usize)>> = plans
            .iter()
            .enumerate()
            .map(|(index, plan)| Reverse((plan.assessed_at, Moment::Assessment, index)))
            .collect();
        // Per CI: (completed at, failed, change) of the changes completed on it, in time order.
        let mut completions: Vec<Vec<(DateTime<Utc>, bool, usize)>> =
            vec![Vec::new(); self.estate.len()];
        let mut histories = vec![(0, 0); plans.len()];
        let mut failures = vec![false; plans.len()];
        let mut recent: Vec<(usize, bool)> = Vec::new();
        while let Some(Reverse((t, moment, index))) = queue.pop() {
            let plan = &plans[index];
            match moment {
                Moment::Completion => {
                    for &item in &plan.items {
                        completions[item as usize].push((t, failures[index], index));
                    }
                }
                Moment::Assessment => {
                    // The changes completed on any of these CIs in the 180 days before, each
                    // once.
                    let since = t - Duration::days(FAILURE_HISTORY_DAYS);
                    recent.clear();
                    for &item in &plan.items {
                        for &(at, failed, other) in completions[item as usize].iter().rev() {
                            if at < since {
                                break;
                            }
                            recent.push((other, failed));
                        }
                    }
                    recent.sort_unstable();
                    recent.dedup();
                    let failed = recent.iter().filter(|(_, failed)| *failed).count();
                    histories[index] = (failed, recent.len());
                    let life = self.life(index, plan, histories[index]);
                    if let Some(completed) = life.completed_at {
                        failures[index] = life.outcome.is_some_and(ChangeOutcome::is_failure);
                        queue.push(Reverse((completed, Moment::Completion, index)));
                    }
                }
            }
        }
        histories
    }
}

/// The random stream `index` of `seed`: each change draws from its own, so the order the
/// seed lives them in changes nothing.
fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Plans `count` changes raised over the two years before `now`, in creation order, and finds
/// each one's failure history.
fn generate(
    world: &World<'_>,
    count: usize,
    now: DateTime<Utc>,
) -> (Vec<Plan>, Vec<(usize, usize)>) {
    let mut rng = stream(world.seed, 0);
    let mut creations: Vec<DateTime<Utc>> = (0..count).map(|_| creation(&mut rng, now)).collect();
    creations.sort();
    let plans: Vec<Plan> = creations
        .into_iter()
        .enumerate()
        .map(|(index, created_at)| {
            let mut rng = stream(world.seed, 2 * index as u64 + 1);
            plan(&mut rng, world.estate, world.templates.len(), created_at)
        })
        .collect();
    let histories = world.histories(&plans);
    (plans, histories)
}

/// Refreshes the planner statistics of what the seed wrote. A failure is logged, never fatal.
async fn refresh_statistics(db: &DatabaseConnection) {
    let statement = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            "ANALYZE change_request, change_affected_item, cab_vote, standard_change_template, event"
        }
        _ => "ANALYZE",
    };
    if let Err(error) = db.execute_unprepared(statement).await {
        tracing::warn!(error = %error, "change.seed_analyze_failed");
    }
}

/// Seeds `count` changes as of `now` on the CIs in the CMDB, deterministically from `seed`, in
/// one transaction, then refreshes the planner statistics. Needs at least one live CI.
pub async fn seed(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    count: usize,
    seed: u64,
) -> DomainResult<SeedSummary> {
    actor.authorize(Permission::CreateChange)?;
    let mut summary = SeedSummary::default();
    if count == 0 {
        return Ok(summary);
    }
    let estate = load_estate(db).await?;
    if estate.ids.is_empty() {
        return Err(DomainError::bad_input(
            "changes",
            "the CMDB has no live configuration items to change; seed or import some first",
        ));
    }
    let policy = quorum_change::change_policy(db, actor).await?;
    let now = now.with_nanosecond(0).unwrap_or(now);

    let txn = quorum_core::begin_write(db).await?;
    let mut template_rng = stream(seed ^ TEXT_SALT, u64::MAX);
    let (templates, created) = if actor.can(Permission::ManageStandardChangeTemplates) {
        templates(&txn, actor, now, &mut template_rng).await?
    } else {
        let active = template::Entity::find()
            .filter(template::Column::Active.eq(true))
            .order_by_asc(template::Column::Name)
            .all(&txn)
            .await?;
        (active, 0)
    };
    summary.templates_created = created;
    let world = World {
        seed,
        estate: &estate,
        policy: &policy,
        templates: &templates,
        boards: Boards::new(&policy),
    };
    let (plans, histories) = generate(&world, count, now);

    let total = i64::try_from(count).unwrap_or(i64::MAX);
    let numbers = reserve_numbers(&txn, CHANGE_NUMBER_PREFIX, total).await?;
    for (chunk_index, chunk) in plans.chunks(CHUNK).enumerate() {
        let mut models = Vec::with_capacity(chunk.len());
        let mut links = Vec::with_capacity(chunk.len() * 3);
        let mut ballots = Vec::new();
        let mut events = Vec::with_capacity(chunk.len());
        for (offset, plan) in chunk.iter().enumerate() {
            let position = chunk_index * CHUNK + offset;
            let life = world.life(position, plan, histories[position]);
            let mut rng = stream(seed ^ TEXT_SALT, position as u64);
            let id = seeded_uuid(&mut rng, plan.created_at);
            let number = format_number(CHANGE_NUMBER_PREFIX, numbers[position]);
            let template = plan.template.and_then(|t| templates.get(t));
            let texts = texts(&mut rng, &estate, plan, template);
            let (mut model, votes) = at_now(id, number, plan, &life, texts, now)?;
            model.template_id = template.map(|t| t.id.clone());
            let mut ids: Vec<String> = plan
                .items
                .iter()
                .map(|&i| estate.ids[i as usize].clone())
                .collect();
            ids.sort();
            summary.changes += 1;
            summary.affected_items += ids.len();
            summary.votes += votes.len();
            if let Some(at) = STATES.iter().position(|s| *s == model.state) {
                summary.by_state[at] += 1;
            }
            if ChangeState::IN_FLIGHT.contains(&model.state) {
                summary.in_flight += 1;
            }
            if model.state == ChangeState::Closed
                && let Some(at) = OUTCOMES.iter().position(|o| Some(*o) == model.outcome)
            {
                summary.by_outcome[at] += 1;
            }
            let board = if plan.change_type == ChangeType::Emergency {
                Board::Ecab
            } else {
                Board::Cab
            };
            ballots.extend(votes.into_iter().map(|vote| cab_vote::ActiveModel {
                change_id: sea_orm::Set(model.id.clone()),
                voter: sea_orm::Set(vote.voter.clone()),
                board: sea_orm::Set(board),
                decision: sea_orm::Set(vote.decision),
                comment: sea_orm::Set(vote.comment.clone()),
                cast_at: sea_orm::Set(vote.at),
            }));
            events.push(write::event_of(
                EventAction::Created,
                None,
                None,
                (&model, &ids),
            )?);
            links.extend(ids.into_iter().map(|ci_id| affected_item::ActiveModel {
                change_id: sea_orm::Set(model.id.clone()),
                ci_id: sea_orm::Set(ci_id),
            }));
            models.push(change_request::ActiveModel::from(model).reset_all());
        }
        change_request::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await?;
        affected_item::Entity::insert_many(links)
            .exec_without_returning(&txn)
            .await?;
        for ballots in ballots.chunks(CHUNK * 2) {
            cab_vote::Entity::insert_many(ballots.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        event::append_many(&txn, actor, now, events).await?;
    }
    txn.commit().await?;
    refresh_statistics(db).await;
    tracing::info!(?summary, "change.seeded");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_change::RiskLevel;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// A small estate: 2 services over 20 apps, each app on a database and a VM.
    fn estate() -> Estate {
        let mut rows = Vec::new();
        let mut push = |class: CiClass, name: String, criticality: i32| {
            let n = rows.len() + 1;
            rows.push((
                format!("id-{n:04}"),
                format!("CI{n:07}"),
                class,
                name,
                criticality,
            ));
            (n - 1) as u32
        };
        let services: Vec<u32> = (0..2)
            .map(|k| push(CiClass::BusinessService, format!("service-{k}"), 1 + k))
            .collect();
        let apps: Vec<u32> = (0..20)
            .map(|k| push(CiClass::Application, format!("app-{k}"), 1 + k % 4))
            .collect();
        let dbs: Vec<u32> = (0..5)
            .map(|k| push(CiClass::Database, format!("db-{k}"), 2 + k % 3))
            .collect();
        let vms: Vec<u32> = (0..20)
            .map(|k| push(CiClass::VirtualMachine, format!("vm-{k}"), 3 + k % 2))
            .collect();
        let mut links = Vec::new();
        for (k, &app) in apps.iter().enumerate() {
            links.push((services[k % 2], app));
            links.push((app, dbs[k % 5]));
            links.push((app, vms[k]));
        }
        Estate::new(rows, &links)
    }

    fn policy() -> ChangePolicy {
        ChangePolicy {
            id: 1,
            cab_quorum: 2,
            reject_vetoes: true,
            cab_threshold: RiskLevel::High,
            ecab_quorum: 1,
            conflict_depth: 3,
            requester_may_authorize: false,
            max_window_hours: 168,
            version: 1,
            updated_by: None,
            updated_at: None,
        }
    }

    fn world<'a>(
        seed: u64,
        estate: &'a Estate,
        policy: &'a ChangePolicy,
        templates: &'a [template::Model],
    ) -> World<'a> {
        World {
            seed,
            estate,
            policy,
            templates,
            boards: Boards::new(policy),
        }
    }

    fn template() -> template::Model {
        template::Model {
            id: "template-1".to_owned(),
            name: "Monthly OS patching".to_owned(),
            description: None,
            implementation_plan: Some("Patch.".to_owned()),
            backout_plan: Some("Unpatch.".to_owned()),
            test_plan: None,
            active: true,
            version: 1,
            created_by: "seed".to_owned(),
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn the_blast_radius_finds_the_most_critical_service_within_five_hops() {
        let estate = estate();
        // vm-0 <- app-0 <- service-0 (criticality 1): two hops up.
        let vm0 = estate.names.iter().position(|n| n == "vm-0").unwrap_or(0);
        assert_eq!(estate.service[vm0], Some(0));
        // db-1 serves app-1 (service-1) and app-6 (service-0): the most critical wins.
        let db1 = estate.names.iter().position(|n| n == "db-1").unwrap_or(0);
        assert_eq!(estate.service[db1], Some(0));
    }

    #[test]
    fn lives_are_consistent_when_cut_at_now() {
        let (estate, policy, templates) = (estate(), policy(), vec![template()]);
        let world = world(7, &estate, &policy, &templates);
        let now = now();
        let (plans, histories) = generate(&world, 3_000, now);
        let mut states: HashMap<ChangeState, usize> = HashMap::new();
        let mut with_history = 0;
        for (index, (plan, history)) in plans.iter().zip(&histories).enumerate() {
            let life = &world.life(index, plan, *history);
            if history.1 > 0 {
                with_history += 1;
            }
            let texts = Texts {
                title: "t".to_owned(),
                description: "d".to_owned(),
                justification: "j".to_owned(),
                implementation_plan: "i".to_owned(),
                backout_plan: "b".to_owned(),
                test_plan: None,
            };
            let (model, votes) = at_now(
                format!("{index}"),
                format!("{index}"),
                plan,
                life,
                texts,
                now,
            )
            .expect("a seeded life encodes");
            *states.entry(model.state).or_default() += 1;
            assert!(model.created_at < now && model.created_at > now - Duration::days(SPAN_DAYS));
            assert!((1..=5).contains(&plan.items.len()));
            // The instants follow the life cycle.
            let order = [
                Some(model.created_at),
                model.submitted_at,
                model.referred_at,
                model.decided_at,
                model.actual_start,
                model.completed_at,
                model.closed_at,
            ];
            let mut last = model.created_at;
            for instant in order.into_iter().flatten() {
                assert!(instant >= last, "{model:?}");
                last = instant;
            }
            assert!(model.updated_at <= now);
            // Risk, score and level agree.
            if let Some(risk) = &model.risk {
                let risk: RiskAssessment = serde_json::from_value(risk.clone()).expect("risk JSON");
                let sum: i32 = risk.factors.iter().map(|f| f.points).sum();
                assert_eq!(risk.score, sum.clamp(0, 100));
                assert_eq!(model.risk_score, Some(risk.score));
                assert_eq!(model.risk_level, Some(RiskLevel::of_score(risk.score)));
                if model.change_type == ChangeType::Normal && model.referred_at.is_some() {
                    assert!(risk.level >= policy.cab_threshold);
                }
            }
            match model.state {
                ChangeState::Closed => {
                    assert!(model.outcome.is_some());
                    if model.change_type == ChangeType::Emergency
                        || model.outcome.is_some_and(ChangeOutcome::is_failure)
                    {
                        assert!(model.review.is_some());
                    }
                }
                ChangeState::Authorized | ChangeState::Scheduled => {
                    if let Some(start) = model.planned_start {
                        assert!(start > now - Duration::hours(1));
                        assert!(start < now + Duration::days(MAX_LEAD_DAYS + 10));
                    }
                    if model.state == ChangeState::Scheduled {
                        assert!(model.planned_start.is_some());
                    }
                }
                ChangeState::Implementing => {
                    assert!(model.actual_start.is_some_and(|t| t <= now));
                }
                ChangeState::CabReview => {
                    assert!(votes.len() <= 3);
                    assert!(votes.iter().all(|v| v.decision != VoteDecision::Reject));
                }
                _ => {}
            }
            if model.change_type == ChangeType::Standard {
                assert!(votes.is_empty());
            }
            let mut voters: Vec<&str> = votes.iter().map(|v| v.voter.as_str()).collect();
            voters.sort();
            voters.dedup();
            assert_eq!(voters.len(), votes.len(), "one standing vote per voter");
        }
        let closed = states.get(&ChangeState::Closed).copied().unwrap_or(0);
        assert!(closed > 2_500, "{states:?}");
        assert!(states.get(&ChangeState::Cancelled).copied().unwrap_or(0) > 50);
        assert!(states.get(&ChangeState::Rejected).copied().unwrap_or(0) > 10);
        assert!(
            with_history > 1_000,
            "{with_history} assessed with a history"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_changes() {
        let (estate, policy, templates) = (estate(), policy(), vec![template()]);
        let world = world(3, &estate, &policy, &templates);
        let (a, history_a) = generate(&world, 200, now());
        let (b, history_b) = generate(&world, 200, now());
        assert_eq!(history_a, history_b);
        for (index, (a, b)) in a.iter().zip(&b).enumerate() {
            assert_eq!(a.created_at, b.created_at);
            assert_eq!(a.items, b.items);
            let (x, y) = (
                world.life(index, a, history_a[index]),
                world.life(index, b, history_b[index]),
            );
            assert_eq!(x.steps, y.steps);
            assert_eq!(x.risk, y.risk);
        }
    }
}
