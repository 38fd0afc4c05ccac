//! Deterministic bulk incidents for benchmarks (`quorum seed --incidents N --seed S`): N
//! incidents opened over the two years before `now` on the CIs already in the CMDB, written in
//! one transaction with multi-row statements, one `created` event each.
//!
//! The mix follows a service desk's: impact (nudged by the CI's criticality) and urgency give
//! mostly P3–P5 and a few P1s; openings grow over the two years and crowd into working hours;
//! responses and resolutions take a share of their targets, and a minority breach them (P1s
//! most often); about one in eight waits on hold for a while, a few are reopened; resolved
//! incidents close after a few days. What is still open at `now` is what a queue holds: the
//! recent ones still in their clocks, plus a backlog of older ones stuck in progress or on
//! hold. About 5% are opened shortly after a change that started implementing (when there are
//! any) and name it as their cause, on that change's CIs. Further CIs of an incident are
//! neighbours of its first one in the CMDB graph.
//!
//! The same CMDB, seed and `now` give the same incidents (ids included: UUIDv7s stamped with
//! the opening, their random bits drawn from the seed).

use quorum_core::event::EventAction;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use quorum_change::ChangeState;
use quorum_change::entity::{affected_item as change_item, change_request};
use quorum_cmdb::entity::{configuration_item as ci, relationship};
use quorum_cmdb::{CiClass, CiStatus};
use quorum_core::event;
use quorum_core::numbering::{format_number, reserve_numbers};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use quorum_incident::entity::incident::{self, Model};
use quorum_incident::entity::{
    IncidentState, Level, Priority, ResolutionCode, affected_item, sla_target,
};
use quorum_incident::{INCIDENT_NUMBER_PREFIX, sla};

/// Incidents per multi-row INSERT: 32 columns each stays under both stores' parameter limits.
const CHUNK: usize = 500;
/// How far back the openings reach.
const SPAN_DAYS: i64 = 730;
/// Share of incidents caused by a change, when changes have started implementing.
const CAUSED_BY_CHANGE: f64 = 0.05;
/// Share of the changes that started which cause the incidents caused by changes.
const TROUBLESOME_CHANGES: f64 = 0.2;
/// Incidents opened in the last [`BACKLOG_DAYS`] that are stuck open (in progress or on hold).
const BACKLOG_SHARE: f64 = 0.054;
const BACKLOG_DAYS: i64 = 90;

/// What a seed wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub incidents: usize,
    pub affected_items: usize,
    /// NEW, IN_PROGRESS or ON_HOLD at `now`.
    pub open: usize,
    pub on_hold: usize,
    pub caused_by_change: usize,
    /// Late on response or resolution at `now`.
    pub breached: usize,
    /// P1 to P5.
    pub by_priority: [usize; 5],
}

/// The CMDB as the seed sees it: live CIs by number, and who is next to whom.
struct Estate {
    ids: Vec<String>,
    classes: Vec<CiClass>,
    names: Vec<String>,
    criticality: Vec<i32>,
    teams: Vec<Option<String>>,
    neighbours: Vec<Vec<u32>>,
}

async fn load_estate(db: &DatabaseConnection) -> DomainResult<Estate> {
    let rows: Vec<(String, CiClass, String, i32, Option<String>)> = ci::Entity::find()
        .select_only()
        .columns([
            ci::Column::Id,
            ci::Column::Class,
            ci::Column::Name,
            ci::Column::Criticality,
            ci::Column::OwnerTeam,
        ])
        .filter(ci::Column::Status.ne(CiStatus::Retired))
        .order_by_asc(ci::Column::Number)
        .into_tuple()
        .all(db)
        .await?;
    let mut estate = Estate {
        ids: Vec::with_capacity(rows.len()),
        classes: Vec::with_capacity(rows.len()),
        names: Vec::with_capacity(rows.len()),
        criticality: Vec::with_capacity(rows.len()),
        teams: Vec::with_capacity(rows.len()),
        neighbours: vec![Vec::new(); rows.len()],
    };
    for (id, class, name, criticality, team) in rows {
        estate.ids.push(id);
        estate.classes.push(class);
        estate.names.push(name);
        estate.criticality.push(criticality);
        estate.teams.push(team);
    }
    let index = estate.index();
    let links: Vec<(String, String)> = relationship::Entity::find()
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
    let mut neighbours = vec![Vec::new(); estate.ids.len()];
    for (source, target) in links {
        if let (Some(&s), Some(&t)) = (index.get(source.as_str()), index.get(target.as_str())) {
            neighbours[s as usize].push(t);
            neighbours[t as usize].push(s);
        }
    }
    estate.neighbours = neighbours;
    Ok(estate)
}

impl Estate {
    fn index(&self) -> HashMap<&str, u32> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect()
    }
}

/// A change that started implementing by `now`, with its CIs (as estate indexes).
struct StartedChange {
    id: String,
    actual_start: DateTime<Utc>,
    items: Vec<u32>,
}

async fn load_started_changes(
    db: &DatabaseConnection,
    estate: &Estate,
    now: DateTime<Utc>,
) -> DomainResult<Vec<StartedChange>> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = change_request::Entity::find()
        .select_only()
        .columns([
            change_request::Column::Id,
            change_request::Column::ActualStart,
        ])
        .filter(change_request::Column::State.is_in([
            ChangeState::Implementing,
            ChangeState::Review,
            ChangeState::Closed,
        ]))
        .filter(change_request::Column::ActualStart.lte(now))
        .order_by_asc(change_request::Column::ActualStart)
        .order_by_asc(change_request::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let index = estate.index();
    let mut items: HashMap<String, Vec<u32>> = HashMap::new();
    let pairs: Vec<(String, String)> = change_item::Entity::find()
        .select_only()
        .columns([change_item::Column::ChangeId, change_item::Column::CiId])
        .order_by_asc(change_item::Column::ChangeId)
        .order_by_asc(change_item::Column::CiId)
        .into_tuple()
        .all(db)
        .await?;
    for (change_id, ci_id) in pairs {
        if let Some(&at) = index.get(ci_id.as_str()) {
            items.entry(change_id).or_default().push(at);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|(id, start)| {
            let items = items.remove(&id).unwrap_or_default();
            start.map(|actual_start| StartedChange {
                id,
                actual_start,
                items,
            })
        })
        .collect())
}

/// Response and resolution targets in minutes, per priority.
async fn load_targets(db: &DatabaseConnection) -> DomainResult<HashMap<Priority, (i32, i32)>> {
    let targets: HashMap<Priority, (i32, i32)> = sla_target::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.priority, (t.response_minutes, t.resolution_minutes)))
        .collect();
    match Priority::ALL.iter().find(|p| !targets.contains_key(p)) {
        Some(missing) => Err(DomainError::Internal(format!(
            "no SLA target for {missing:?}"
        ))),
        None => Ok(targets),
    }
}

/// Refreshes the planner statistics of what the seed wrote. A failure is logged, never fatal.
async fn refresh_statistics(db: &DatabaseConnection) {
    let statement = match db.get_database_backend() {
        DatabaseBackend::Postgres => "ANALYZE incident, incident_affected_item, event",
        _ => "ANALYZE",
    };
    if let Err(error) = db.execute_unprepared(statement).await {
        tracing::warn!(error = %error, "incident.seed_analyze_failed");
    }
}

fn seconds(value: f64) -> Duration {
    Duration::seconds(value.max(0.0) as i64)
}

/// An opening in the two years before `now`: the rate grows by a third over the span,
/// weekends are quieter and three in four openings fall in working hours (08–18 UTC).
fn opening(rng: &mut ChaCha8Rng, now: DateTime<Utc>) -> DateTime<Utc> {
    const GROWTH: f64 = 1.0 / 3.0;
    let start = now - Duration::days(SPAN_DAYS);
    loop {
        // Inverse of the CDF of a density rising linearly by GROWTH over [0, 1].
        let f: f64 = rng.random();
        let x = ((1.0 + 2.0 * GROWTH * f * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
        let day = start + seconds(x * (SPAN_DAYS * 86_400) as f64);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && rng.random_bool(0.6) {
            continue;
        }
        let hour = if rng.random_bool(0.75) {
            rng.random_range(8..18)
        } else {
            rng.random_range(0..24)
        };
        let at = day
            .with_hour(hour)
            .and_then(|t| t.with_minute(rng.random_range(0..60)))
            .and_then(|t| t.with_second(rng.random_range(0..60)))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(day);
        if at < now - Duration::minutes(1) && at > start {
            return at;
        }
    }
}

fn level(rng: &mut ChaCha8Rng, high: f64, medium: f64) -> Level {
    let r: f64 = rng.random();
    if r < high {
        Level::High
    } else if r < high + medium {
        Level::Medium
    } else {
        Level::Low
    }
}

/// How long something took as a share of its target: mostly well within, sometimes late.
fn share_of_target(rng: &mut ChaCha8Rng, late: f64) -> f64 {
    if rng.random_bool(late) {
        1.02 + 2.5 * rng.random::<f64>().powi(2)
    } else {
        0.04 + 0.9 * rng.random::<f64>().powi(2)
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

fn title(rng: &mut ChaCha8Rng, class: CiClass, name: &str, after_change: bool) -> String {
    if after_change && rng.random_bool(0.5) {
        let what = pick(
            rng,
            &[
                "errors since last night's change",
                "fails after the deployment",
                "degraded after maintenance",
                "unreachable after the change window",
            ],
        );
        return format!("{name} {what}");
    }
    let templates: &[&str] = match class {
        CiClass::BusinessService => &[
            "{} unavailable for some customers",
            "{}: customers report errors",
            "{} degraded",
            "{} slow at peak",
        ],
        CiClass::Application => &[
            "{} returns HTTP 500",
            "{} slow to respond",
            "Users cannot log in to {}",
            "{} crashes on start",
            "Errors in {} logs",
        ],
        CiClass::Database => &[
            "Replication lag on {}",
            "{}: too many connections",
            "Slow queries on {}",
            "{} disk almost full",
            "Backup of {} failed",
        ],
        CiClass::Server | CiClass::VirtualMachine => &[
            "High CPU on {}",
            "{} unreachable",
            "{}: filesystem full",
            "Memory exhausted on {}",
            "{} rebooted unexpectedly",
        ],
        CiClass::Container => &["{} restarting in a loop", "{} OOM-killed", "{} not ready"],
        CiClass::NetworkDevice => &[
            "Packet loss through {}",
            "{} port flapping",
            "{} down",
            "High latency on {}",
        ],
        CiClass::Storage => &[
            "Latency spikes on {}",
            "{}: degraded RAID",
            "{} nearly full",
        ],
        CiClass::CloudResource => &[
            "{} quota exceeded",
            "{} throttling requests",
            "{} certificate expiring",
        ],
        CiClass::Other => &["{} misbehaving", "{} alarms"],
    };
    pick(rng, templates).replace("{}", name)
}

const HOLD_REASONS: [&str; 4] = [
    "Waiting for the vendor",
    "Waiting for the caller's reply",
    "Waiting for a maintenance window",
    "Waiting for a spare part",
];

/// One incident's life, planned in full, then cut at `now`.
struct Generator<'a> {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
    estate: &'a Estate,
    changes: &'a [StartedChange],
    targets: HashMap<Priority, (i32, i32)>,
}

impl<'a> Generator<'a> {
    /// The first CI: some CIs (the low numbers: services, applications, databases) see far
    /// more incidents than others.
    fn first_item(&mut self) -> u32 {
        let r: f64 = self.rng.random();
        ((r * r * self.estate.ids.len() as f64) as usize % self.estate.ids.len()) as u32
    }

    fn items(&mut self, change: Option<&'a StartedChange>) -> Vec<u32> {
        let estate = self.estate;
        let wanted = match self.rng.random_range(0..100) {
            0..70 => 1,
            70..92 => 2,
            _ => 3,
        };
        let mut items: Vec<u32> = Vec::with_capacity(wanted);
        let changed = change.map_or(&[][..], |change| change.items.as_slice());
        if changed.is_empty() {
            items.push(self.first_item());
        } else {
            items.push(changed[self.rng.random_range(0..changed.len())]);
        }
        for _ in 1..wanted {
            let from = items[self.rng.random_range(0..items.len())] as usize;
            let near = &estate.neighbours[from];
            let next = if !changed.is_empty() && self.rng.random_bool(0.5) {
                changed[self.rng.random_range(0..changed.len())]
            } else if near.is_empty() {
                self.first_item()
            } else {
                near[self.rng.random_range(0..near.len())]
            };
            if !items.contains(&next) {
                items.push(next);
            }
        }
        items
    }

    fn incident(
        &mut self,
        id: String,
        number: String,
        opened_at: DateTime<Utc>,
        change: Option<usize>,
    ) -> (Model, Vec<u32>) {
        let now = self.now;
        let changes = self.changes;
        let change = change.map(|at| &changes[at]);
        let items = self.items(change);
        let first = items[0] as usize;
        let (impact_high, impact_medium) = match (change.is_some(), self.estate.criticality[first])
        {
            (true, _) => (0.35, 0.4),
            (_, 1) => (0.25, 0.45),
            (_, 4) => (0.04, 0.26),
            _ => (0.08, 0.35),
        };
        let impact = level(&mut self.rng, impact_high, impact_medium);
        let urgency = if change.is_some() {
            level(&mut self.rng, 0.35, 0.4)
        } else {
            level(&mut self.rng, 0.15, 0.45)
        };
        let priority = Priority::of(impact, urgency);
        let (response_minutes, resolution_minutes) = self.targets[&priority];
        let (late_response, late_resolution) = match priority {
            Priority::P1 => (0.2, 0.15),
            Priority::P2 => (0.15, 0.12),
            Priority::P3 => (0.08, 0.1),
            Priority::P4 => (0.06, 0.08),
            Priority::P5 => (0.05, 0.06),
        };
        let rng = &mut self.rng;
        let response =
            (f64::from(response_minutes) * 60.0 * share_of_target(rng, late_response)).max(60.0);
        let active = (f64::from(resolution_minutes) * 60.0 * share_of_target(rng, late_resolution))
            .max(response + 300.0);
        let held = rng.random_bool(0.12);
        let reopened = rng.random_bool(0.03);
        let backlog =
            opened_at > now - Duration::days(BACKLOG_DAYS) && rng.random_bool(BACKLOG_SHARE);
        let hold_at = response
            + rng.random::<f64>() * ((if reopened { 0.7 } else { 1.0 }) * active - response);
        let hold_length = if held {
            1_800.0 + 5.0 * 86_400.0 * rng.random::<f64>().powi(3)
        } else {
            0.0
        };
        let reopen_gap = if reopened {
            3_600.0 + 47.0 * 3_600.0 * rng.random::<f64>()
        } else {
            0.0
        };
        let close_delay = if rng.random_bool(0.7) {
            3.0 * 86_400.0
        } else {
            3_600.0 + 3.0 * 86_400.0 * rng.random::<f64>()
        };
        let monitoring = rng.random_bool(0.3);
        let caller = if monitoring {
            "monitoring".to_owned()
        } else {
            format!("user.{:05}", rng.random_range(0..20_000))
        };
        let opened_by = if monitoring {
            "monitoring".to_owned()
        } else {
            format!("desk.agent.{:02}", rng.random_range(0..25))
        };
        let group = self.estate.teams[first]
            .clone()
            .unwrap_or_else(|| "Service Desk".to_owned());
        let assignee = format!("engineer.{:03}", rng.random_range(0..300));
        let code = match rng.random_range(0..100) {
            _ if change.is_some() => {
                if rng.random_bool(0.6) {
                    ResolutionCode::Workaround
                } else {
                    ResolutionCode::Fixed
                }
            }
            0..60 => ResolutionCode::Fixed,
            60..80 => ResolutionCode::Workaround,
            80..88 => ResolutionCode::NotReproducible,
            88..93 => ResolutionCode::Duplicate,
            _ => ResolutionCode::NotAnIncident,
        };
        let backlog_state = rng.random_range(0..100);
        let backlog_hold = rng.random::<f64>();
        let hold_reason = pick(rng, &HOLD_REASONS).to_owned();
        let major = priority == Priority::P1 && rng.random_bool(0.25);
        let title = title(
            rng,
            self.estate.classes[first],
            &self.estate.names[first],
            change.is_some(),
        );
        let channel = if monitoring {
            "an alert from monitoring"
        } else {
            pick(rng, &["phone", "the portal", "e-mail", "chat"])
        };

        let at = |offset: f64| opened_at + seconds(offset);
        let responded = at(response);
        let mut model = sla::retarget(
            Model {
                id,
                number,
                description: Some(format!("{title}. Reported through {channel}.")),
                title,
                impact,
                urgency,
                priority,
                state: IncidentState::New,
                caller: Some(caller),
                assignment_group: Some(group),
                assignee: None,
                caused_by_change_id: change.map(|change| change.id.clone()),
                problem_id: None,
                major_incident: major,
                resolution_code: None,
                resolution_notes: None,
                reopen_count: 0,
                hold_reason: None,
                opened_by,
                opened_at,
                responded_at: None,
                response_target_minutes: 0,
                resolution_target_minutes: 0,
                response_due: opened_at,
                resolution_due: opened_at,
                on_hold_since: None,
                paused_seconds: 0,
                resolved_at: None,
                closed_at: None,
                version: 1,
                updated_at: opened_at,
            },
            response_minutes,
            resolution_minutes,
        );
        let pause = |mut model: Model, length: f64| {
            model.paused_seconds += length as i64;
            model.resolution_due += seconds(length);
            model
        };
        if responded > now || (backlog && backlog_state < 5) {
            // Not picked up yet (or, for a few in the backlog, never).
            return (model, items);
        }
        model.state = IncidentState::InProgress;
        model.responded_at = Some(responded);
        model.assignee = Some(assignee);
        model.updated_at = responded;
        if backlog {
            // Stuck: on hold since some time after the response, or in progress after a hold.
            let since = responded + seconds(backlog_hold * (now - responded).num_seconds() as f64);
            if backlog_state < 50 {
                model.state = IncidentState::OnHold;
                model.on_hold_since = Some(since);
                model.hold_reason = Some(hold_reason);
                model.updated_at = since;
            } else if held {
                let length = hold_length.min((now - since).num_seconds() as f64);
                model = pause(model, length);
                model.updated_at = since + seconds(length);
            }
            return (model, items);
        }
        let hold_start = at(hold_at);
        if held && hold_start <= now {
            if hold_start + seconds(hold_length) > now {
                model.state = IncidentState::OnHold;
                model.on_hold_since = Some(hold_start);
                model.hold_reason = Some(hold_reason);
                model.updated_at = hold_start;
                return (model, items);
            }
            model = pause(model, hold_length);
            model.updated_at = hold_start + seconds(hold_length);
        }
        let resolve = |mut model: Model, when: DateTime<Utc>| {
            model.state = IncidentState::Resolved;
            model.resolved_at = Some(when);
            model.resolution_code = Some(code);
            model.resolution_notes = Some(
                match code {
                    ResolutionCode::Fixed => "Cause removed; service verified with the caller.",
                    ResolutionCode::Workaround => "Service restored by a workaround.",
                    ResolutionCode::NotReproducible => "Could not be reproduced.",
                    ResolutionCode::Duplicate => "Tracked by another incident.",
                    ResolutionCode::NotAnIncident => "A request, not a fault.",
                }
                .to_owned(),
            );
            model.updated_at = when;
            model
        };
        if reopened {
            let first_resolution = at(0.7 * active + hold_length);
            if first_resolution > now {
                return (model, items);
            }
            let reopened_at = first_resolution + seconds(reopen_gap);
            if reopened_at > now {
                return (resolve(model, first_resolution), items);
            }
            model = pause(model, reopen_gap);
            model.reopen_count = 1;
            model.updated_at = reopened_at;
        }
        let resolved = at(active + hold_length + reopen_gap);
        if resolved > now {
            return (model, items);
        }
        model = resolve(model, resolved);
        let closed = resolved + seconds(close_delay);
        if closed <= now {
            model.state = IncidentState::Closed;
            model.closed_at = Some(closed);
            model.updated_at = closed;
        }
        (model, items)
    }
}

/// Seeds `count` incidents as of `now` on the CIs in the CMDB, deterministically from `seed`,
/// in one transaction, then refreshes the planner statistics. Needs at least one live CI.
pub async fn seed(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    count: usize,
    seed: u64,
) -> DomainResult<SeedSummary> {
    actor.authorize(Permission::CreateIncident)?;
    actor.authorize(Permission::LinkIncidentToChange)?;
    let mut summary = SeedSummary::default();
    if count == 0 {
        return Ok(summary);
    }
    let estate = load_estate(db).await?;
    if estate.ids.is_empty() {
        return Err(DomainError::bad_input(
            "incidents",
            "the CMDB has no live configuration items to raise incidents on; seed or import \
             some first",
        ));
    }
    let changes = load_started_changes(db, &estate, now).await?;
    let targets = load_targets(db).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // The openings, in order: those caused by a change come shortly after it started.
    let troublesome: Vec<usize> = (0..changes.len())
        .filter(|_| rng.random_bool(TROUBLESOME_CHANGES))
        .collect();
    let troublesome = if troublesome.is_empty() && !changes.is_empty() {
        vec![changes.len() - 1]
    } else {
        troublesome
    };
    let caused = if troublesome.is_empty() {
        0
    } else {
        (count as f64 * CAUSED_BY_CHANGE).round() as usize
    };
    let mut openings: Vec<(DateTime<Utc>, Option<usize>)> = Vec::with_capacity(count);
    for index in 0..count {
        if index < caused {
            let change = troublesome[rng.random_range(0..troublesome.len())];
            let start = changes[change].actual_start;
            let mut at = start + seconds(300.0 + 48.0 * 3_600.0 * rng.random::<f64>().powi(2));
            if at >= now {
                at = start + seconds(rng.random::<f64>() * (now - start).num_seconds() as f64);
            }
            openings.push((at, Some(change)));
        } else {
            openings.push((opening(&mut rng, now), None));
        }
    }
    openings.sort();

    let mut generator = Generator {
        rng,
        now,
        estate: &estate,
        changes: &changes,
        targets,
    };
    let txn = quorum_core::begin_write(db).await?;
    let total = i64::try_from(count).unwrap_or(i64::MAX);
    let numbers = reserve_numbers(&txn, INCIDENT_NUMBER_PREFIX, total).await?;
    for (chunk_index, chunk) in openings.chunks(CHUNK).enumerate() {
        let mut models = Vec::with_capacity(chunk.len());
        let mut links = Vec::with_capacity(chunk.len() * 2);
        let mut events = Vec::with_capacity(chunk.len());
        for (offset, (opened_at, change)) in chunk.iter().enumerate() {
            let position = chunk_index * CHUNK + offset;
            let mut random = [0u8; 10];
            generator.rng.fill(&mut random);
            let millis = u64::try_from(opened_at.timestamp_millis()).unwrap_or(0);
            let id = uuid::Builder::from_unix_timestamp_millis(millis, &random)
                .into_uuid()
                .to_string();
            let number = format_number(INCIDENT_NUMBER_PREFIX, numbers[position]);
            let (model, items) = generator.incident(id, number, *opened_at, *change);
            let mut ids: Vec<String> = items
                .iter()
                .map(|&at| estate.ids[at as usize].clone())
                .collect();
            ids.sort();
            let status = sla::status(&model, now);
            summary.incidents += 1;
            summary.affected_items += ids.len();
            summary.by_priority[Priority::ALL
                .iter()
                .position(|p| *p == model.priority)
                .unwrap_or(0)] += 1;
            if matches!(
                model.state,
                IncidentState::New | IncidentState::InProgress | IncidentState::OnHold
            ) {
                summary.open += 1;
            }
            if model.state == IncidentState::OnHold {
                summary.on_hold += 1;
            }
            if model.caused_by_change_id.is_some() {
                summary.caused_by_change += 1;
            }
            if status.response_breached || status.resolution_breached {
                summary.breached += 1;
            }
            events.push(quorum_core::write::event_of(
                EventAction::Created,
                None,
                None,
                (&model, &ids),
            )?);
            links.extend(ids.into_iter().map(|ci_id| affected_item::ActiveModel {
                incident_id: sea_orm::Set(model.id.clone()),
                ci_id: sea_orm::Set(ci_id),
            }));
            models.push(incident::ActiveModel::from(model).reset_all());
        }
        incident::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await?;
        affected_item::Entity::insert_many(links)
            .exec_without_returning(&txn)
            .await?;
        event::append_many(&txn, actor, now, events).await?;
    }
    txn.commit().await?;
    refresh_statistics(db).await;
    tracing::info!(?summary, "incident.seeded");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openings_fall_in_the_two_years_before_now_mostly_in_working_hours() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let openings: Vec<_> = (0..10_000).map(|_| opening(&mut rng, now)).collect();
        assert!(
            openings
                .iter()
                .all(|t| *t < now && *t > now - Duration::days(SPAN_DAYS))
        );
        let working = openings
            .iter()
            .filter(|t| (8..18).contains(&t.hour()))
            .count();
        assert!(working > 7_000, "{working} of 10 000 in working hours");
        let recent = openings
            .iter()
            .filter(|t| **t > now - Duration::days(SPAN_DAYS / 2))
            .count();
        assert!(
            recent > 5_200,
            "the rate grows: {recent} in the second year"
        );
    }

    #[test]
    fn most_shares_of_target_are_within_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let late = (0..10_000)
            .filter(|_| share_of_target(&mut rng, 0.1) > 1.0)
            .count();
        assert!((800..1_200).contains(&late), "{late} late of 10 000");
    }
}
