//! The incidents and problem `quorum serve --dev` adds on top of the demo changes: the failed
//! pooling change caused two incidents, a problem links them with its root cause and
//! workaround (a known error), and the scheduled fix change is linked to it; a few other
//! incidents fill the queues.

use crate::demo::changes::DemoChanges;
use chrono::{DateTime, Duration, Utc};
use quorum_cmdb::entity::configuration_item;
use quorum_core::{Actor, Context, DomainError, DomainResult, ManualClock, Role};
use quorum_incident::{Level, NewIncident, ResolutionCode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use quorum_problem::NewProblem;

async fn ci_id(db: &DatabaseConnection, name: &str) -> DomainResult<String> {
    configuration_item::Entity::find()
        .filter(configuration_item::Column::NameKey.eq(name.to_lowercase()))
        .one(db)
        .await?
        .map(|item| item.id)
        .ok_or_else(|| DomainError::Internal(format!("the demo CMDB has no `{name}`")))
}

fn incident(title: &str, impact: Level, urgency: Level, items: Vec<String>) -> NewIncident {
    NewIncident {
        title: title.to_owned(),
        description: Some(format!("{title}. Reported through the service desk.")),
        impact,
        urgency,
        affected_item_ids: items,
        caller: Some("service.desk".to_owned()),
        assignment_group: Some("Payments".to_owned()),
    }
}

/// Adds the demo incidents and problem, as of `now`; returns how many incidents it logged.
pub async fn seed(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    changes: &DemoChanges,
) -> DomainResult<usize> {
    let desk = Actor::new("dev.engineer", [Role::Engineer]);
    let manager = Actor::new("dev.change.manager", [Role::ChangeManager]);
    let started = changes
        .failed
        .actual_start
        .ok_or_else(|| DomainError::Internal("the failed demo change never started".to_owned()))?;
    let clock = ManualClock::new(started + Duration::minutes(40));
    let payments_api = ci_id(db, "Payments API").await?;
    let card_payments = ci_id(db, "Card Payments").await?;
    let portal = ci_id(db, "Support Portal").await?;
    let web = ci_id(db, "Banking Web App").await?;

    // Two incidents caused by the failed change, resolved by a workaround.
    let mut caused = Vec::new();
    for (title, items) in [
        (
            "Card authorizations time out at checkout",
            vec![payments_api.clone(), card_payments.clone()],
        ),
        (
            "Payments API returns 503 under load",
            vec![payments_api.clone()],
        ),
    ] {
        let logged = quorum_incident::create_incident(
            Context::new(db, &clock, &desk),
            incident(title, Level::High, Level::High, items),
        )
        .await?;
        // Card payments down at checkout: a major incident from the first minutes.
        clock.advance(Duration::minutes(2));
        let logged = quorum_incident::raise_major_incident(
            Context::new(db, &clock, &manager),
            &logged.id,
            logged.version,
            Some("customer-facing payments failing during a change".to_owned()),
        )
        .await?;
        clock.advance(Duration::minutes(4));
        let worked = quorum_incident::assign_incident(
            Context::new(db, &clock, &desk),
            &logged.id,
            logged.version,
            "dev.engineer".to_owned(),
            None,
        )
        .await?;
        let linked = quorum_incident::set_incident_cause(
            Context::new(db, &clock, &desk),
            &worked.id,
            worked.version,
            Some(changes.failed.id.clone()),
        )
        .await?;
        clock.advance(Duration::minutes(50));
        let resolved = quorum_incident::resolve_incident(
            Context::new(db, &clock, &desk),
            &linked.id,
            linked.version,
            ResolutionCode::Workaround,
            "Raised the pool size by hand and restarted the API.".to_owned(),
        )
        .await?;
        caused.push(resolved);
        clock.advance(Duration::minutes(9));
    }

    // The problem behind them: a known error, with the fix change linked.
    clock.set(started + Duration::days(1));
    let problem = quorum_problem::create_problem(
        Context::new(db, &clock, &manager),
        NewProblem {
            title: "Payments API connection pool exhausts at peak".to_owned(),
            description: Some("Two P1 incidents during the pooling change.".to_owned()),
            incident_ids: caused.iter().map(|incident| incident.id.clone()).collect(),
            affected_item_ids: vec![payments_api.clone()],
            incidents_elsewhere: quorum_problem::IncidentsElsewhere::Refuse,
        },
    )
    .await?;
    let problem = quorum_problem::record_root_cause(
        Context::new(db, &clock, &manager),
        &problem.id,
        problem.version,
        "The pool was sized from staging traffic, a tenth of the production peak.".to_owned(),
    )
    .await?;
    let problem = quorum_problem::record_workaround(
        Context::new(db, &clock, &manager),
        &problem.id,
        problem.version,
        "Raise `pool.max` to 200 on the Payments API and restart it.".to_owned(),
    )
    .await?;
    quorum_problem::link_fix_change(
        Context::new(db, &clock, &manager),
        &problem.id,
        problem.version,
        changes.fix.id.clone(),
    )
    .await?;

    // Today's queue: an open P3 on hold, a new P4, a P2 in progress.
    clock.set(now - Duration::hours(5));
    let portal_down = quorum_incident::create_incident(
        Context::new(db, &clock, &desk),
        NewIncident {
            assignment_group: Some("Service Desk".to_owned()),
            ..incident(
                "Support Portal search returns nothing",
                Level::Medium,
                Level::Medium,
                vec![portal],
            )
        },
    )
    .await?;
    let portal_down = quorum_incident::acknowledge_incident(
        Context::new(db, &clock, &desk),
        &portal_down.id,
        portal_down.version,
    )
    .await?;
    clock.advance(Duration::minutes(30));
    quorum_incident::put_incident_on_hold(
        Context::new(db, &clock, &desk),
        &portal_down.id,
        portal_down.version,
        "Waiting for the search vendor".to_owned(),
    )
    .await?;
    clock.set(now - Duration::hours(1));
    let web_slow = quorum_incident::create_incident(
        Context::new(db, &clock, &desk),
        NewIncident {
            assignment_group: Some("Digital Channels".to_owned()),
            ..incident(
                "Online banking login is slow",
                Level::High,
                Level::Medium,
                vec![web.clone()],
            )
        },
    )
    .await?;
    clock.advance(Duration::minutes(12));
    quorum_incident::assign_incident(
        Context::new(db, &clock, &desk),
        &web_slow.id,
        web_slow.version,
        "dev.engineer".to_owned(),
        None,
    )
    .await?;
    clock.set(now - Duration::minutes(20));
    quorum_incident::create_incident(
        Context::new(db, &clock, &desk),
        NewIncident {
            assignment_group: Some("Digital Channels".to_owned()),
            ..incident(
                "Typo on the statements page",
                Level::Low,
                Level::Medium,
                vec![web],
            )
        },
    )
    .await?;
    Ok(caused.len() + 3)
}
