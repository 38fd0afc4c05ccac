//! The changes `quorum serve --dev` adds to the demo CMDB: a story a CAB can click through —
//! a successful upgrade, a change that FAILED with its review, the fix scheduled, a standard
//! change scheduled over a conflict with a recorded reason, a high-risk change in CAB review,
//! an emergency before the ECAB, a draft, and a year-end freeze.

use chrono::{DateTime, Duration, Utc};
use quorum_cmdb::entity::configuration_item;
use quorum_core::{Actor, Context, DomainError, DomainResult, ManualClock, Role};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use quorum_change::{
    Change, ChangeOutcome, NewChange, NewFreezeWindow, NewStandardChange, NewTemplate,
    RiskQuestionnaire, ScheduleRequest, UserImpact, VoteDecision,
};

async fn ci_id(db: &DatabaseConnection, name: &str) -> DomainResult<String> {
    configuration_item::Entity::find()
        .filter(configuration_item::Column::NameKey.eq(name.to_lowercase()))
        .one(db)
        .await?
        .map(|item| item.id)
        .ok_or_else(|| DomainError::Internal(format!("the demo CMDB has no `{name}`")))
}

fn normal(title: &str, items: Vec<String>, assignee: &str) -> NewChange {
    NewChange {
        change_type: None,
        title: title.to_owned(),
        description: Some(format!("{title}.")),
        justification: Some("Keeps the service supported and secure.".to_owned()),
        implementation_plan: Some("1. Announce. 2. Apply. 3. Verify dashboards.".to_owned()),
        backout_plan: Some("Restore the previous release and configuration.".to_owned()),
        test_plan: Some("Rehearsed in staging; smoke tests after.".to_owned()),
        affected_item_ids: items,
        planned_start: None,
        planned_end: None,
        assignee: Some(assignee.to_owned()),
    }
}

fn answers(user_impact: UserImpact, outage_required: bool, tested: bool) -> RiskQuestionnaire {
    RiskQuestionnaire {
        user_impact,
        outage_required,
        tested,
        backout_tested: tested,
        done_before: tested,
    }
}

/// An evening window `days` from `now`, from `hour` for `hours`.
fn evening(now: DateTime<Utc>, days: i64, hour: u32, hours: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = (now + Duration::days(days)).date_naive();
    let start = day
        .and_hms_opt(hour, 0, 0)
        .map(|start| start.and_utc())
        .unwrap_or(now);
    (start, start + Duration::hours(hours))
}

fn window(request: (DateTime<Utc>, DateTime<Utc>)) -> ScheduleRequest {
    ScheduleRequest {
        planned_start: request.0,
        planned_end: request.1,
        override_conflicts: false,
        reason: None,
    }
}

/// What the demo added, for the demos built on it.
#[derive(Debug, Clone)]
pub struct DemoChanges {
    /// How many changes it raised.
    pub count: usize,
    /// The change that FAILED nine days before `now`.
    pub failed: Change,
    /// The change scheduled to fix what it broke.
    pub fix: Change,
}

/// Adds the demo changes, as of `now`.
pub async fn seed(db: &DatabaseConnection, now: DateTime<Utc>) -> DomainResult<DemoChanges> {
    let engineer = Actor::new("dev.engineer", [Role::Engineer]);
    let implementer = Actor::new("dev.engineer", [Role::Engineer]);
    let manager = Actor::new("dev.change.manager", [Role::ChangeManager]);
    let cab = Actor::new("dev.cab.member", [Role::CabMember]);
    let clock = ManualClock::new(now - Duration::days(45));
    let payments_db = ci_id(db, "payments-db").await?;
    let payments_api = ci_id(db, "Payments API").await?;
    let vm_api = ci_id(db, "vm-api-01").await?;
    let banking_db = ci_id(db, "banking-db").await?;
    let idp = ci_id(db, "Identity Provider").await?;
    let support_db = ci_id(db, "support-db").await?;

    // A successful upgrade, 40 days ago.
    let upgrade = quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        normal(
            "Upgrade payments-db to PostgreSQL 16.4",
            vec![payments_db.clone()],
            "dev.engineer",
        ),
    )
    .await?;
    let upgrade = quorum_change::submit_change(
        Context::new(db, &clock, &engineer),
        &upgrade.id,
        upgrade.version,
    )
    .await?;
    let upgrade = quorum_change::assess_change(
        Context::new(db, &clock, &manager),
        &upgrade.id,
        upgrade.version,
        answers(UserImpact::Low, false, true),
    )
    .await?;
    let upgrade = quorum_change::authorize_change(
        Context::new(db, &clock, &manager),
        &upgrade.id,
        upgrade.version,
        None,
    )
    .await?;
    let slot = evening(now, -40, 21, 2);
    let upgrade = quorum_change::schedule_change(
        Context::new(db, &clock, &manager),
        &upgrade.id,
        upgrade.version,
        window(slot),
    )
    .await?;
    clock.set(slot.0 + Duration::minutes(5));
    let upgrade = quorum_change::start_implementation(
        Context::new(db, &clock, &implementer),
        &upgrade.id,
        upgrade.version,
        None,
    )
    .await?;
    clock.advance(Duration::minutes(70));
    let upgrade = quorum_change::complete_implementation(
        Context::new(db, &clock, &implementer),
        &upgrade.id,
        upgrade.version,
        ChangeOutcome::Successful,
        None,
    )
    .await?;
    clock.advance(Duration::days(1));
    quorum_change::close_change(
        Context::new(db, &clock, &manager),
        &upgrade.id,
        upgrade.version,
    )
    .await?;

    // A change that failed, 9 days ago, reviewed and closed.
    clock.set(now - Duration::days(12));
    let pooling = quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        normal(
            "Enable connection pooling on the Payments API",
            vec![payments_api.clone()],
            "dev.engineer",
        ),
    )
    .await?;
    let pooling = quorum_change::submit_change(
        Context::new(db, &clock, &engineer),
        &pooling.id,
        pooling.version,
    )
    .await?;
    let pooling = quorum_change::assess_change(
        Context::new(db, &clock, &manager),
        &pooling.id,
        pooling.version,
        answers(UserImpact::Medium, false, true),
    )
    .await?;
    let pooling = quorum_change::authorize_change(
        Context::new(db, &clock, &manager),
        &pooling.id,
        pooling.version,
        Some("Medium risk, tested in staging".to_owned()),
    )
    .await?;
    let slot = evening(now, -9, 21, 2);
    let pooling = quorum_change::schedule_change(
        Context::new(db, &clock, &manager),
        &pooling.id,
        pooling.version,
        window(slot),
    )
    .await?;
    clock.set(slot.0);
    let pooling = quorum_change::start_implementation(
        Context::new(db, &clock, &implementer),
        &pooling.id,
        pooling.version,
        None,
    )
    .await?;
    clock.advance(Duration::minutes(95));
    let pooling = quorum_change::complete_implementation(
        Context::new(db, &clock, &implementer),
        &pooling.id,
        pooling.version,
        ChangeOutcome::Failed,
        Some("Pool exhausted under the evening peak; card authorizations timed out until the pool size was raised by hand.".to_owned()),
    )
    .await?;
    clock.advance(Duration::days(2));
    let pooling = quorum_change::record_review(
        Context::new(db, &clock, &manager),
        &pooling.id,
        pooling.version,
        "Staging had a tenth of production's peak; load-test pool sizes at production volume."
            .to_owned(),
        false,
        Some("Raise a fix change with a sized pool; add pool saturation alerts.".to_owned()),
    )
    .await?;
    let failed = quorum_change::close_change(
        Context::new(db, &clock, &manager),
        &pooling.id,
        pooling.version,
    )
    .await?;

    // The fix, scheduled in three days.
    clock.set(now - Duration::days(2));
    let fix = quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        normal(
            "Size the Payments API connection pool for peak load",
            vec![payments_api.clone()],
            "dev.engineer",
        ),
    )
    .await?;
    let fix =
        quorum_change::submit_change(Context::new(db, &clock, &engineer), &fix.id, fix.version)
            .await?;
    let fix = quorum_change::assess_change(
        Context::new(db, &clock, &manager),
        &fix.id,
        fix.version,
        answers(UserImpact::Low, false, true),
    )
    .await?;
    let fix = quorum_change::authorize_change(
        Context::new(db, &clock, &manager),
        &fix.id,
        fix.version,
        None,
    )
    .await?;
    let fix_slot = evening(now, 3, 21, 2);
    let fix = quorum_change::schedule_change(
        Context::new(db, &clock, &manager),
        &fix.id,
        fix.version,
        window(fix_slot),
    )
    .await?;

    // A standard change on the VM the Payments API runs on, overlapping the fix: scheduled
    // over the conflict with a reason.
    let template = quorum_change::create_template(
        Context::new(db, &clock, &manager),
        NewTemplate {
            name: "Rotate TLS certificates on a VM".to_owned(),
            description: Some("Replace expiring certificates from the internal CA.".to_owned()),
            implementation_plan: "Issue, install, reload the proxy, verify the chain.".to_owned(),
            backout_plan: "Reinstall the previous certificate and reload.".to_owned(),
            test_plan: Some("openssl s_client against the endpoint.".to_owned()),
        },
    )
    .await?;
    let rotation = quorum_change::create_change_from_template(
        Context::new(db, &clock, &engineer),
        NewStandardChange {
            template_id: template.id.clone(),
            title: Some("Rotate TLS certificates on vm-api-01".to_owned()),
            affected_item_ids: vec![vm_api],
            assignee: Some("dev.engineer".to_owned()),
            ..NewStandardChange::default()
        },
    )
    .await?;
    let rotation = quorum_change::submit_change(
        Context::new(db, &clock, &engineer),
        &rotation.id,
        rotation.version,
    )
    .await?;
    quorum_change::schedule_change(
        Context::new(db, &clock, &manager),
        &rotation.id,
        rotation.version,
        ScheduleRequest {
            planned_start: fix_slot.0 + Duration::minutes(30),
            planned_end: fix_slot.0 + Duration::minutes(60),
            override_conflicts: true,
            reason: Some(
                "The certificate expires in four days; the rotation reloads the proxy only."
                    .to_owned(),
            ),
        },
    )
    .await?;

    // A high-risk migration before the CAB, with one approval so far.
    clock.set(now - Duration::days(1));
    let migration = quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        normal(
            "Move banking-db to the new storage array",
            vec![banking_db],
            "dev.engineer",
        ),
    )
    .await?;
    let migration = quorum_change::submit_change(
        Context::new(db, &clock, &engineer),
        &migration.id,
        migration.version,
    )
    .await?;
    let migration = quorum_change::assess_change(
        Context::new(db, &clock, &manager),
        &migration.id,
        migration.version,
        answers(UserImpact::High, true, false),
    )
    .await?;
    let migration = quorum_change::refer_change_to_cab(
        Context::new(db, &clock, &manager),
        &migration.id,
        migration.version,
        Some("High risk: outage of Online Banking".to_owned()),
    )
    .await?;
    quorum_change::cast_cab_vote(
        Context::new(db, &clock, &cab),
        &migration.id,
        VoteDecision::Approve,
        Some("Rehearsal plan looks solid".to_owned()),
    )
    .await?;

    // An emergency before the ECAB.
    clock.set(now - Duration::hours(3));
    let patch = quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        NewChange {
            change_type: Some(quorum_change::ChangeType::Emergency),
            ..normal(
                "Patch the Identity Provider for an actively exploited CVE",
                vec![idp],
                "dev.engineer",
            )
        },
    )
    .await?;
    quorum_change::submit_change(
        Context::new(db, &clock, &engineer),
        &patch.id,
        patch.version,
    )
    .await?;

    // A draft, and the year-end freeze.
    clock.set(now);
    quorum_change::create_change(
        Context::new(db, &clock, &engineer),
        NewChange {
            implementation_plan: None,
            ..normal("Decommission support-db", vec![support_db], "dev.engineer")
        },
    )
    .await?;
    let (freeze_start, _) = evening(now, 20, 0, 0);
    quorum_change::create_freeze_window(
        Context::new(db, &clock, &manager),
        NewFreezeWindow {
            name: "Year-end freeze".to_owned(),
            start: freeze_start,
            end: freeze_start + Duration::days(14),
            reason: Some("Peak trading; only emergency changes.".to_owned()),
            ci_ids: Vec::new(),
        },
    )
    .await?;
    Ok(DemoChanges {
        count: 7,
        failed,
        fix,
    })
}
