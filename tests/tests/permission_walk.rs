//! The whole permission table, walked through the HTTP API: for every `Permission` and every
//! role, one operation it guards, set up so that only the role can decide the outcome. Allowed
//! roles succeed; the others get FORBIDDEN and nothing is written. A permission added without a
//! case here fails the walk.

use quorum_core::{Permission, Role};
use quorum_tests::change::{CAB, ENGINEER, HEAD, IMPLEMENTER, MANAGER, Person};
use quorum_tests::{TestApp, TestResponse};
use serde_json::{Value, json};

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
    let db = app
        .create_ci("DATABASE", &format!("db-{}", uuid::Uuid::new_v4().simple()))
        .await;
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
    let change = app.act(IMPLEMENTER, "startImplementation", &change).await;
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
            json!({ "name": format!("walk-{}", uuid::Uuid::new_v4().simple()) }),
        ),
        P::UpdateConfigurationItem | P::RetireConfigurationItem => {
            let item = app
                .create_ci("SERVER", &format!("srv-{}", uuid::Uuid::new_v4().simple()))
                .await;
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
            let a = app
                .create_ci(
                    "APPLICATION",
                    &format!("app-{}", uuid::Uuid::new_v4().simple()),
                )
                .await;
            let b = app
                .create_ci("SERVER", &format!("srv-{}", uuid::Uuid::new_v4().simple()))
                .await;
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
                "mutation { importConfigurationItems(input: { items: [{ class: OTHER, name: \"walk\", environment: TEST, criticality: 4 }] }) { created } }",
            ),
            json!({}),
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
            on("startImplementation", "", ""),
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
                "mutation { createStandardChangeTemplate(input: { name: \"walk\", implementationPlan: \"a\", backoutPlan: \"b\" }) { id } }",
            ),
            json!({}),
        ),
        P::ManageFreezeWindows => (
            doc(
                "mutation { createFreezeWindow(name: \"walk\", start: \"2026-04-01T00:00:00Z\", end: \"2026-04-02T00:00:00Z\") { id } }",
            ),
            json!({}),
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
        P::ReadCabAgenda => (doc("{ cabAgenda { section } }"), json!({})),
    }
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

fn errors(response: &TestResponse) -> Vec<String> {
    response.error_codes()
}

#[tokio::test]
async fn every_permission_is_granted_to_exactly_its_roles_through_the_api() {
    let mut failures = Vec::new();
    for permission in Permission::ALL {
        let app = TestApp::new().await;
        for role in Role::ALL {
            let (document, variables) = case(&app, permission, role).await;
            let who = person(role, permission);
            let events = app.event_count().await;
            let response = app.graphql_by(who, &document, variables).await;
            let allowed = permission.allowed_roles().contains(&role);
            let codes = errors(&response);
            let outcome = if permission == Permission::ReadDraftChanges {
                // A draft is hidden, not refused: null for those who may not see it.
                let seen = !response.json()["data"]["change"].is_null();
                (codes.is_empty() && seen == allowed).then_some(())
            } else if allowed {
                codes.is_empty().then_some(())
            } else {
                (codes == ["FORBIDDEN"] && app.event_count().await == events).then_some(())
            };
            if outcome.is_none() {
                failures.push(format!(
                    "{permission:?} as {role} (allowed: {allowed}): {}",
                    response.text()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
