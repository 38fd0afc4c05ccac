//! The whole permission table, walked through the HTTP API: for every `Permission` and every
//! role, one operation it guards, set up so that only the role can decide the outcome. Allowed
//! roles succeed (and a mutation writes its event); the others get FORBIDDEN and nothing is
//! written. Each condition the table prints beside a role ("as requester", "NORMAL changes
//! (CAB), not their own") is walked too: someone of that role who does not meet it is
//! FORBIDDEN. A permission added without a case here does not compile; a condition added
//! without a case fails the walk; a mutation or query missing from the table fails
//! `every_operation_is_in_the_permission_table`.
//!
//! The walk shares one database: each case sets up its own records.

use quorum_core::{Permission, Role};
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, OTHER_ENGINEER, Person};
use serde_json::{Value, json};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The person who calls as `role`: for an engineer, the requester of the walk's changes (or,
/// for implementation, their assignee), so that conditions on the person hold.
fn person(role: Role, permission: Permission) -> Person {
    match role {
        Role::Engineer if permission == Permission::ImplementChange => IMPLEMENTER,
        Role::Engineer => ENGINEER,
        Role::ChangeManager => MANAGER,
        Role::CabMember => CAB[0],
        Role::ServiceHead => HEAD,
    }
}

/// A mutation on the record `target` (`id` and `version` from it) with `extra` arguments.
fn on(name: &str, params: &str, args: &str) -> String {
    format!(
        "mutation($id: ID!, $version: Int!{params}) {{ {name}(id: $id, version: $version{args}) {{ id }} }}"
    )
}

fn ids(target: &Value, extra: Value) -> Value {
    let mut variables = json!({ "id": target["id"], "version": target["version"] });
    if let (Some(object), Some(extra)) = (variables.as_object_mut(), extra.as_object()) {
        object.extend(extra.clone());
    }
    variables
}

/// A change of `change_type` driven as far as `state`.
async fn change_in(app: &TestApp, change_type: &str, state: &str) -> Value {
    let db = app.create_ci("DATABASE", &unique("db")).await;
    let change = app.new_change(change_type, &[&db]).await;
    if state == "DRAFT" {
        return change;
    }
    let change = app.act(ENGINEER, "submitChange", &change).await;
    if change_type == "EMERGENCY" || state == "ASSESSMENT" {
        return change;
    }
    if state == "REFERRED" {
        let change = app.assess(&change, TestApp::high_risk_answers()).await;
        return app.act(MANAGER, "referChangeToCab", &change).await;
    }
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    if state == "ASSESSED" {
        return change;
    }
    let change = app.act(MANAGER, "authorizeChange", &change).await;
    if state == "AUTHORIZED" {
        return change;
    }
    let change = app
        .schedule_in(
            &change,
            "2026-02-10T10:00:00Z",
            "2026-02-10T12:00:00Z",
            true,
            Some("walk"),
        )
        .await
        .expect("scheduled");
    if state == "SCHEDULED" {
        return change;
    }
    let change = app.start_implementation(&change).await;
    app.complete(
        &change,
        if state == "REVIEW_FAILED" {
            "FAILED"
        } else {
            "SUCCESSFUL"
        },
    )
    .await
}

async fn incident_in(app: &TestApp, state: &str) -> Value {
    let incident = app.new_incident("MEDIUM", "MEDIUM", &[]).await;
    let name = match state {
        "NEW" => return incident,
        "MAJOR" => "raiseMajorIncident",
        _ => "resolveIncident",
    };
    let (params, args, variables) = if name == "resolveIncident" {
        (
            ", $code: ResolutionCode!, $notes: String!",
            ", code: $code, notes: $notes",
            json!({ "code": "FIXED", "notes": "done" }),
        )
    } else {
        ("", "", json!({}))
    };
    app.incident_action(MANAGER, name, &incident, params, args, variables)
        .await
        .expect("incident set up")
}

async fn problem(app: &TestApp, investigated: bool) -> Value {
    let created = app
        .data_by(
            ENGINEER,
            "mutation { createProblem(input: { title: \"walk\" }) { id version } }",
            json!({}),
        )
        .await["createProblem"]
        .clone();
    if !investigated {
        return created;
    }
    app.problem_action(
        ENGINEER,
        "recordRootCause",
        &created,
        ", $text: String!",
        ", rootCause: $text",
        json!({ "text": "x" }),
    )
    .await
    .expect("investigated")
}

/// Sets up what `permission`'s operation acts on for `role` and returns the document and its
/// variables.
async fn case(app: &TestApp, permission: Permission, role: Role) -> (String, Value) {
    use Permission as P;
    let doc = |text: &str| text.to_owned();
    match permission {
        P::ReadAuditLog => (doc("{ auditEvents(first: 1) { totalCount } }"), json!({})),
        P::ReadCmdb => (doc("{ configurationItems { totalCount } }"), json!({})),
        P::CreateConfigurationItem => (
            doc(
                "mutation($name: String!) { createConfigurationItem(input: { class: SERVER, name: $name, environment: TEST, criticality: 3 }) { id } }",
            ),
            json!({ "name": unique("walk") }),
        ),
        P::UpdateConfigurationItem | P::RetireConfigurationItem => {
            let item = app.create_ci("SERVER", &unique("srv")).await;
            let document = if permission == P::UpdateConfigurationItem {
                on(
                    "updateConfigurationItem",
                    ", $input: UpdateConfigurationItemInput!",
                    ", input: $input",
                )
            } else {
                on("retireConfigurationItem", "", "")
            };
            (
                document,
                ids(&item, json!({ "input": { "criticality": 1 } }))
                    .tap_if(permission == P::RetireConfigurationItem),
            )
        }
        P::RelateConfigurationItems | P::RemoveRelationship => {
            let a = app.create_ci("APPLICATION", &unique("app")).await;
            let b = app.create_ci("SERVER", &unique("srv")).await;
            if permission == P::RelateConfigurationItems {
                (
                    doc(
                        "mutation($input: RelateConfigurationItemsInput!) { relateConfigurationItems(input: $input) { id } }",
                    ),
                    json!({ "input": { "sourceId": a["id"], "targetId": b["id"], "type": "RUNS_ON" } }),
                )
            } else {
                let relationship = app.relate(&a, "RUNS_ON", &b).await;
                (
                    doc("mutation($id: ID!) { removeRelationship(id: $id) { id } }"),
                    json!({ "id": relationship }),
                )
            }
        }
        P::ImportConfigurationItems => (
            doc(
                "mutation($name: String!) { importConfigurationItems(input: { items: [{ class: OTHER, name: $name, environment: TEST, criticality: 4 }] }) { created } }",
            ),
            json!({ "name": unique("walk") }),
        ),
        P::ReadChanges => (doc("{ changes { totalCount } }"), json!({})),
        P::ReadDraftChanges => {
            let draft = change_in(app, "NORMAL", "DRAFT").await;
            (
                doc("query($id: ID!) { change(id: $id) { id } }"),
                json!({ "id": draft["id"] }),
            )
        }
        P::CreateChange => (
            doc("mutation { createChange(input: { title: \"walk\" }) { id } }"),
            json!({}),
        ),
        P::UpdateChange => (
            on(
                "updateChange",
                ", $input: UpdateChangeInput!",
                ", input: $input",
            ),
            ids(
                &change_in(app, "NORMAL", "DRAFT").await,
                json!({ "input": { "title": "renamed" } }),
            ),
        ),
        P::SubmitChange => (
            on("submitChange", "", ""),
            ids(&change_in(app, "NORMAL", "DRAFT").await, json!({})),
        ),
        P::AssessChange => (
            on(
                "assessChange",
                ", $input: RiskQuestionnaireInput!",
                ", input: $input",
            ),
            ids(
                &change_in(app, "NORMAL", "ASSESSMENT").await,
                json!({ "input": TestApp::low_risk_answers() }),
            ),
        ),
        P::AuthorizeChange => (
            on("authorizeChange", "", ""),
            ids(&change_in(app, "NORMAL", "ASSESSED").await, json!({})),
        ),
        P::ReferChangeToCab => (
            on("referChangeToCab", "", ""),
            ids(&change_in(app, "NORMAL", "ASSESSED").await, json!({})),
        ),
        P::RejectChange => (
            on("rejectChange", ", $reason: String!", ", reason: $reason"),
            ids(
                &change_in(app, "NORMAL", "ASSESSMENT").await,
                json!({ "reason": "no" }),
            ),
        ),
        P::CastCabVote => {
            // Each board votes on its own kind of change.
            let change = match role {
                Role::ChangeManager | Role::ServiceHead => {
                    change_in(app, "EMERGENCY", "SUBMITTED").await
                }
                _ => change_in(app, "NORMAL", "REFERRED").await,
            };
            (
                doc("mutation($id: ID!) { castCabVote(changeId: $id, decision: ABSTAIN) { id } }"),
                json!({ "id": change["id"] }),
            )
        }
        P::ScheduleChange => (
            on(
                "scheduleChange",
                ", $start: DateTime!, $end: DateTime!",
                ", plannedStart: $start, plannedEnd: $end, overrideConflicts: true, reason: \"walk\"",
            ),
            ids(
                &change_in(app, "NORMAL", "AUTHORIZED").await,
                json!({ "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z" }),
            ),
        ),
        P::ImplementChange => (
            on("startImplementation", "", ", reason: \"walk\""),
            ids(&change_in(app, "NORMAL", "SCHEDULED").await, json!({})),
        ),
        P::RecordReview => (
            on(
                "recordReview",
                ", $lessons: String!",
                ", lessonsLearned: $lessons",
            ),
            ids(
                &change_in(app, "NORMAL", "REVIEW_FAILED").await,
                json!({ "lessons": "test more" }),
            ),
        ),
        P::CloseChange => (
            on("closeChange", "", ""),
            ids(&change_in(app, "NORMAL", "REVIEW").await, json!({})),
        ),
        P::CancelChange => (
            on("cancelChange", ", $reason: String!", ", reason: $reason"),
            ids(
                &change_in(app, "NORMAL", "DRAFT").await,
                json!({ "reason": "no longer needed" }),
            ),
        ),
        P::ManageStandardChangeTemplates => (
            doc(
                "mutation($name: String!) { createStandardChangeTemplate(input: { name: $name, implementationPlan: \"a\", backoutPlan: \"b\" }) { id } }",
            ),
            json!({ "name": unique("walk") }),
        ),
        P::ManageFreezeWindows => (
            doc(
                "mutation($name: String!) { createFreezeWindow(name: $name, start: \"2026-04-01T00:00:00Z\", end: \"2026-04-02T00:00:00Z\") { id } }",
            ),
            json!({ "name": unique("walk") }),
        ),
        P::UpdateChangePolicy => (
            doc("mutation { updateChangePolicy(input: { conflictDepth: 2 }) { version } }"),
            json!({}),
        ),
        P::ReadIncidents => (
            doc("{ incidents { totalCount } slaTargets { priority } }"),
            json!({}),
        ),
        P::CreateIncident => (
            doc(
                "mutation { createIncident(input: { title: \"walk\", impact: LOW, urgency: LOW }) { id } }",
            ),
            json!({}),
        ),
        P::UpdateIncident => (
            on(
                "updateIncident",
                ", $input: UpdateIncidentInput!",
                ", input: $input",
            ),
            ids(
                &incident_in(app, "NEW").await,
                json!({ "input": { "title": "renamed" } }),
            ),
        ),
        P::WorkIncident => (
            on("acknowledgeIncident", "", ""),
            ids(&incident_in(app, "NEW").await, json!({})),
        ),
        P::CloseIncident => (
            on("closeIncident", "", ""),
            ids(&incident_in(app, "RESOLVED").await, json!({})),
        ),
        P::ReopenIncident => (
            on("reopenIncident", ", $reason: String!", ", reason: $reason"),
            ids(
                &incident_in(app, "RESOLVED").await,
                json!({ "reason": "back" }),
            ),
        ),
        P::LinkIncidentToChange => (
            on("setIncidentCause", ", $change: ID", ", changeId: $change"),
            ids(&incident_in(app, "NEW").await, json!({ "change": null })),
        ),
        P::RaiseMajorIncident => (
            on("raiseMajorIncident", "", ""),
            ids(&incident_in(app, "NEW").await, json!({})),
        ),
        P::LowerMajorIncident => (
            on(
                "lowerMajorIncident",
                ", $reason: String!",
                ", reason: $reason",
            ),
            ids(
                &incident_in(app, "MAJOR").await,
                json!({ "reason": "contained" }),
            ),
        ),
        P::UpdateSlaTargets => (
            doc(
                "mutation { updateSlaTargets(targets: [{ priority: P5, responseMinutes: 600, resolutionMinutes: 6000 }]) { priority } }",
            ),
            json!({}),
        ),
        P::ReadProblems => (
            doc("{ problems { totalCount } knownErrors { totalCount } }"),
            json!({}),
        ),
        P::CreateProblem => (
            doc("mutation { createProblem(input: { title: \"walk\" }) { id } }"),
            json!({}),
        ),
        P::InvestigateProblem => (
            on("recordRootCause", ", $text: String!", ", rootCause: $text"),
            ids(&problem(app, false).await, json!({ "text": "found it" })),
        ),
        P::ResolveProblem => (
            on("resolveProblem", ", $reason: String", ", reason: $reason"),
            ids(
                &problem(app, true).await,
                json!({ "reason": "fixed by the vendor" }),
            ),
        ),
        P::CloseProblem => (
            on("closeProblem", ", $reason: String", ", reason: $reason"),
            ids(
                &problem(app, false).await,
                json!({ "reason": "not reproducible" }),
            ),
        ),
        P::ReadCabAgenda => {
            // Something on the agenda, read as a meeting would read it: nothing in it may be
            // refused to a role that may read the agenda.
            change_in(app, "NORMAL", "REFERRED").await;
            (
                doc(
                    "{ cabAgenda { section blastRadius { itemCount businessServices } myVote { decision } change { number risk { level factors { name points detail } } affectedItems { number } conflicts { kind } votes { voter decision } myVote { decision } availableTransitions { action allowed } } } }",
                ),
                json!({}),
            )
        }
        P::ReadKpis => (
            doc(KPI_QUERY),
            json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z" }),
        ),
    }
}

/// The KPI queries the walk calls for [`Permission::ReadKpis`]: all three, each refused on
/// its own.
const KPI_QUERY: &str = "query($from: DateTime!, $to: DateTime!) {
  changeKpis(from: $from, to: $to, bucket: WEEK) { totals { completed successRate } series { start } }
  incidentKpis(from: $from, to: $to) { totals { opened mttrMinutes } }
  problemKpis(from: $from, to: $to) { totals { opened } }
}";

/// Calls as someone of `role` who does not meet `permission`'s condition for that role, on
/// records set up so that the condition alone decides: each must be FORBIDDEN. A condition
/// without a case here fails the walk.
async fn unmet_condition(
    app: &TestApp,
    permission: Permission,
    role: Role,
    condition: &str,
) -> Result<Vec<(Person, String, Value)>, String> {
    use Permission as P;
    let vote = "mutation($id: ID!) { castCabVote(changeId: $id, decision: ABSTAIN) { id } }";
    Ok(match (permission, role) {
        // Another engineer's draft.
        (P::UpdateChange | P::SubmitChange | P::CancelChange, Role::Engineer) => {
            let (document, variables) = case(app, permission, role).await;
            vec![(OTHER_ENGINEER, document, variables)]
        }
        // The requester is not the assignee.
        (P::ImplementChange, Role::Engineer) => {
            let (document, variables) = case(app, permission, role).await;
            vec![(ENGINEER, document, variables)]
        }
        // The CAB does not vote on EMERGENCY changes.
        (P::CastCabVote, Role::CabMember) => {
            let change = change_in(app, "EMERGENCY", "SUBMITTED").await;
            vec![(CAB[1], vote.to_owned(), json!({ "id": change["id"] }))]
        }
        // The ECAB does not vote on NORMAL changes, nor on its own emergency.
        (P::CastCabVote, Role::ChangeManager | Role::ServiceHead) => {
            let who = if role == Role::ChangeManager {
                MANAGER
            } else {
                HEAD
            };
            let normal = change_in(app, "NORMAL", "REFERRED").await;
            let mut calls = vec![(who, vote.to_owned(), json!({ "id": normal["id"] }))];
            if role == Role::ChangeManager {
                let own = own_emergency(app, MANAGER).await;
                calls.push((MANAGER, vote.to_owned(), json!({ "id": own["id"] })));
            }
            calls
        }
        _ => {
            return Err(format!(
                "{permission:?} as {role} has the condition \"{condition}\" but the walk has no case where it is not met"
            ));
        }
    })
}

/// An EMERGENCY change requested by `who` (a change manager), submitted to the ECAB.
async fn own_emergency(app: &TestApp, who: Person) -> Value {
    let item = app.create_ci("SERVER", &unique("srv")).await;
    let created = app
        .data_by(
            who,
            "mutation($input: CreateChangeInput!) { createChange(input: $input) { id version } }",
            json!({ "input": {
                "type": "EMERGENCY", "title": "walk", "justification": "outage",
                "implementationPlan": "a", "backoutPlan": "b", "affectedItemIds": [item["id"]],
            } }),
        )
        .await["createChange"]
        .clone();
    app.act(who, "submitChange", &created).await
}

/// Variables helper: drops `input` when `drop` (retirement takes none).
trait TapIf {
    fn tap_if(self, drop: bool) -> Value;
}

impl TapIf for Value {
    fn tap_if(mut self, drop: bool) -> Value {
        if drop && let Some(object) = self.as_object_mut() {
            object.remove("input");
        }
        self
    }
}

/// What one call did, against what the table says.
async fn outcome(
    app: &TestApp,
    permission: Permission,
    who: Person,
    document: &str,
    variables: Value,
    allowed: bool,
) -> Result<(), String> {
    let events = app.event_count().await;
    let response = app.graphql_by(who, document, variables).await;
    let written = app.event_count().await - events;
    let codes = response.error_codes();
    let ok = if permission == Permission::ReadDraftChanges {
        // A draft is hidden, not refused: null for those who may not see it.
        let seen = !response.json()["data"]["change"].is_null();
        codes.is_empty() && seen == allowed
    } else if allowed {
        codes.is_empty() && (written > 0 || !document.starts_with("mutation"))
    } else {
        // One FORBIDDEN per refused field (the KPI case asks for three).
        !codes.is_empty() && codes.iter().all(|code| code == "FORBIDDEN") && written == 0
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{permission:?} as {} (allowed: {allowed}; {written} events written): {}",
            who.subject,
            response.text()
        ))
    }
}

#[tokio::test]
async fn every_permission_is_granted_to_exactly_its_roles_through_the_api() {
    let app = TestApp::new().await;
    let mut failures = Vec::new();
    let mut calls = 0;
    for permission in Permission::ALL {
        for role in Role::ALL {
            let (document, variables) = case(&app, permission, role).await;
            let allowed = permission.allowed_roles().contains(&role);
            let who = person(role, permission);
            calls += 1;
            if let Err(failure) =
                outcome(&app, permission, who, &document, variables, allowed).await
            {
                failures.push(failure);
            }
            let Some(condition) = permission.condition(role).filter(|_| allowed) else {
                continue;
            };
            match unmet_condition(&app, permission, role, condition).await {
                Ok(unmet) => {
                    for (who, document, variables) in unmet {
                        calls += 1;
                        if let Err(failure) =
                            outcome(&app, permission, who, &document, variables, false).await
                        {
                            failures.push(format!("condition \"{condition}\" unmet: {failure}"));
                        }
                    }
                }
                Err(missing) => failures.push(missing),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(calls > Permission::ALL.len() * Role::ALL.len());
}

/// The names of the fields of `type_name` in the SDL.
fn fields_of(sdl: &str, type_name: &str) -> Vec<String> {
    let start = format!("type {type_name} {{");
    let body = sdl
        .split_once(&start)
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no `{start}` in the SDL"));
    let mut in_description = false;
    let mut names = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        if line == "\"\"\"" {
            in_description = !in_description;
            continue;
        }
        if in_description || line.is_empty() || line.starts_with('"') {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// Every mutation and every root query but `viewer` (which only echoes the token) is named by
/// exactly one permission in the table (mutations) or at least one (reads), so none escapes
/// the walk above or `docs/permissions.md`.
#[test]
fn every_operation_is_in_the_permission_table() {
    let sdl = quorum_api::sdl();
    let named = |name: &str| {
        Permission::ALL
            .into_iter()
            .filter(|permission| permission.operations().contains(&format!("`{name}`")))
            .count()
    };
    let mut missing = Vec::new();
    for mutation in fields_of(&sdl, "Mutation") {
        if named(&mutation) != 1 {
            missing.push(format!(
                "mutation {mutation} is named by {} permissions",
                named(&mutation)
            ));
        }
    }
    for query in fields_of(&sdl, "Query") {
        if query != "viewer" && named(&query) == 0 {
            missing.push(format!("query {query} is named by no permission"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
