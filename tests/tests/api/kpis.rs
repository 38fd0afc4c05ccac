//! KPI reports through the API, against a history built through the API with the clock moved
//! to known instants, so that every figure is known in advance: an empty bucket, a change
//! completed in one month that causes an incident in the next, work before the range, time on
//! hold, a reopened incident, a resolution exactly at its due time, an opening exactly on a
//! bucket boundary; then the filters, the roles that may not read KPIs and bad ranges.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use quorum_tests::change::{CAB, ENGINEER, HEAD, MANAGER, Person};
use quorum_tests::{TestApp, at};
use serde_json::{Value, json};

fn iso(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Compares a response with what is expected: numbers within 1e-9 (relative), strings that
/// are both instants as instants, everything else exactly; `path` names the place.
fn assert_close(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (
                a.as_f64().unwrap_or(f64::NAN),
                e.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (a - e).abs() <= 1e-9 * e.abs().max(1.0),
                "{path}: {a} but expected {e}"
            );
        }
        (Value::String(a), Value::String(e)) => {
            match (
                DateTime::parse_from_rfc3339(a),
                DateTime::parse_from_rfc3339(e),
            ) {
                (Ok(a), Ok(e)) => assert_eq!(a, e, "{path}"),
                _ => assert_eq!(a, e, "{path}"),
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            for (key, e) in e {
                let a = a.get(key).unwrap_or(&Value::Null);
                assert_close(a, e, &format!("{path}.{key}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{path}: {actual} but expected {expected}");
            for (index, (a, e)) in a.iter().zip(e).enumerate() {
                assert_close(a, e, &format!("{path}[{index}]"));
            }
        }
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

const CHANGE_FIGURES: &str = "start end completed successful successfulWithIssues failed backedOut emergency causingIncidents successRate failureRate emergencyRatio meanLeadTimeHours cabDecisions meanCabDecisionHours backlog";
const INCIDENT_FIGURES: &str = "opened resolved mttaMinutes mttrMinutes slaCompliance reopenRate";
const PROBLEM_FIGURES: &str = "start end opened resolved knownErrorsOpen incidentsPerProblem";

fn change_query() -> String {
    format!(
        "query($from: DateTime!, $to: DateTime!, $bucket: KpiBucket!, $filter: ChangeKpiFilter) {{
            changeKpis(from: $from, to: $to, bucket: $bucket, filter: $filter) {{
                from to bucket totals {{ {CHANGE_FIGURES} }} series {{ {CHANGE_FIGURES} }}
            }}
        }}"
    )
}

fn incident_query() -> String {
    let figures =
        format!("start end {INCIDENT_FIGURES} byPriority {{ priority {INCIDENT_FIGURES} }}");
    format!(
        "query($from: DateTime!, $to: DateTime!, $bucket: KpiBucket!, $filter: KpiFilter) {{
            incidentKpis(from: $from, to: $to, bucket: $bucket, filter: $filter) {{
                from to bucket totals {{ {figures} }} series {{ {figures} }}
            }}
        }}"
    )
}

fn problem_query() -> String {
    format!(
        "query($from: DateTime!, $to: DateTime!, $bucket: KpiBucket!, $filter: KpiFilter) {{
            problemKpis(from: $from, to: $to, bucket: $bucket, filter: $filter) {{
                from to bucket totals {{ {PROBLEM_FIGURES} }} series {{ {PROBLEM_FIGURES} }}
            }}
        }}"
    )
}

/// The report `field` (`changeKpis`, …) over `[from, to)` as `who`.
async fn report(
    app: &TestApp,
    who: Person,
    field: &str,
    range: (&str, &str, &str),
    filter: Value,
) -> Value {
    let query = match field {
        "changeKpis" => change_query(),
        "incidentKpis" => incident_query(),
        _ => problem_query(),
    };
    let (from, to, bucket) = range;
    let data = app
        .data_by(
            who,
            &query,
            json!({ "from": from, "to": to, "bucket": bucket, "filter": filter }),
        )
        .await;
    data[field].clone()
}

/// The four months of 2026 the history is read over; March is empty.
const MONTHS: (&str, &str, &str) = ("2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z", "MONTH");

/// The CIs of the history: the Payments service depends on its API, which depends on its
/// database; the mail host is elsewhere.
struct Estate {
    service: Value,
    api: Value,
    database: Value,
    mail: Value,
}

async fn estate(app: &TestApp) -> Estate {
    let ci = |class: &str, name: &str, team: &str| json!({ "class": class, "name": name, "environment": "PRODUCTION", "criticality": 2, "ownerTeam": team });
    let service = app
        .create_ci_with(ci("BUSINESS_SERVICE", "Payments", "Payments"))
        .await;
    let api = app
        .create_ci_with(ci("APPLICATION", "payments-api", "Payments"))
        .await;
    let database = app
        .create_ci_with(ci("DATABASE", "payments-db", "DBA"))
        .await;
    let mail = app.create_ci_with(ci("SERVER", "mail-host", "Mail")).await;
    app.relate(&service, "DEPENDS_ON", &api).await;
    app.relate(&api, "DEPENDS_ON", &database).await;
    Estate {
        service,
        api,
        database,
        mail,
    }
}

/// A change of `change_type` on `item`, created and submitted at `submitted`.
async fn submitted(app: &TestApp, change_type: &str, item: &Value, submitted: &str) -> Value {
    app.clock.set(at(submitted));
    let change = app
        .new_change_with(
            change_type,
            &[item],
            json!({ "plannedStart": null, "plannedEnd": null }),
        )
        .await;
    app.act(ENGINEER, "submitChange", &change).await
}

/// A low-risk NORMAL change authorized by the change manager at `when`.
async fn authorized(app: &TestApp, change: &Value, when: &str) -> Value {
    app.clock.set(at(when));
    let change = app.assess(change, TestApp::low_risk_answers()).await;
    app.act(MANAGER, "authorizeChange", &change).await
}

/// Schedules an authorized change at `started` less an hour, starts it at `started` and
/// completes it with `outcome` at `completed`.
async fn implemented(
    app: &TestApp,
    change: &Value,
    started: &str,
    completed: &str,
    outcome: &str,
) -> Value {
    let start = at(started);
    app.clock.set(start - Duration::hours(1));
    let change = app
        .schedule_in(
            change,
            &iso(start),
            &iso(start + Duration::hours(1)),
            true,
            Some("KPI history"),
        )
        .await
        .unwrap_or_else(|response| panic!("scheduleChange failed: {}", response.text()));
    app.clock.set(start);
    let change = app.start_implementation(&change).await;
    app.clock.set(at(completed));
    app.complete(&change, outcome).await
}

async fn with_reason(app: &TestApp, who: Person, name: &str, change: &Value, when: &str) -> Value {
    app.clock.set(at(when));
    app.change_action(
        who,
        name,
        change,
        ", $reason: String!",
        ", reason: $reason",
        json!({ "reason": "KPI history" }),
    )
    .await
    .unwrap_or_else(|response| panic!("{name} failed: {}", response.text()))
}

/// The changes of the history (submitted, decided, completed, finished):
/// - Z on the mail host: submitted 2025-12-15, never decided: in every backlog.
/// - A on the database: submitted 01-05 09:00, authorized, completed SUCCESSFUL 01-12 09:00
///   (168 h), closed 01-13; causes an incident opened 02-10.
/// - B on the API: submitted 01-06 09:00, completed FAILED 01-20 09:00 (336 h), left in REVIEW.
/// - C on the mail host: submitted 01-07 09:00, referred to the CAB 01-07 10:00, authorized by
///   the second approval 01-09 10:00 (48 h), completed SUCCESSFUL_WITH_ISSUES 04-02 09:00
///   (2 040 h), closed 04-03.
/// - D, EMERGENCY, on the API: submitted (so referred) 01-26 09:00, authorized by the ECAB
///   01-26 11:00 (2 h), completed BACKED_OUT 02-03 09:00 (192 h), left in REVIEW.
/// - E on the database: submitted 01-15, rejected 01-16.
/// - F on the mail host: submitted 02-10, cancelled 04-10.
/// - a draft, never submitted.
struct Changes {
    a: Value,
}

async fn changes(app: &TestApp, estate: &Estate) -> Changes {
    submitted(app, "NORMAL", &estate.mail, "2025-12-15T09:00:00Z").await;

    let a = submitted(app, "NORMAL", &estate.database, "2026-01-05T09:00:00Z").await;
    let a = authorized(app, &a, "2026-01-05T10:00:00Z").await;
    let b = submitted(app, "NORMAL", &estate.api, "2026-01-06T09:00:00Z").await;
    let b = authorized(app, &b, "2026-01-06T10:00:00Z").await;
    let c = submitted(app, "NORMAL", &estate.mail, "2026-01-07T09:00:00Z").await;

    app.clock.set(at("2026-01-07T09:30:00Z"));
    let c = app.assess(&c, TestApp::high_risk_answers()).await;
    app.clock.set(at("2026-01-07T10:00:00Z"));
    let c = app.act(MANAGER, "referChangeToCab", &c).await;
    app.clock.set(at("2026-01-08T10:00:00Z"));
    let c = app.vote(CAB[0], &c, "APPROVE", None).await.expect("vote");
    app.clock.set(at("2026-01-09T10:00:00Z"));
    let c = app.vote(CAB[1], &c, "APPROVE", None).await.expect("vote");
    assert_eq!(c["state"], "AUTHORIZED");

    let a = implemented(
        app,
        &a,
        "2026-01-11T10:00:00Z",
        "2026-01-12T09:00:00Z",
        "SUCCESSFUL",
    )
    .await;
    app.clock.set(at("2026-01-13T09:00:00Z"));
    let a = app.act(MANAGER, "closeChange", &a).await;

    let e = submitted(app, "NORMAL", &estate.database, "2026-01-15T09:00:00Z").await;
    with_reason(app, MANAGER, "rejectChange", &e, "2026-01-16T09:00:00Z").await;

    implemented(
        app,
        &b,
        "2026-01-19T10:00:00Z",
        "2026-01-20T09:00:00Z",
        "FAILED",
    )
    .await;

    let d = submitted(app, "EMERGENCY", &estate.api, "2026-01-26T09:00:00Z").await;
    assert_eq!(d["state"], "CAB_REVIEW");
    app.clock.set(at("2026-01-26T11:00:00Z"));
    let d = app.assess(&d, TestApp::low_risk_answers()).await;
    let d = app.vote(MANAGER, &d, "APPROVE", None).await.expect("vote");
    assert_eq!(d["state"], "AUTHORIZED");
    implemented(
        app,
        &d,
        "2026-02-02T10:00:00Z",
        "2026-02-03T09:00:00Z",
        "BACKED_OUT",
    )
    .await;

    let f = submitted(app, "NORMAL", &estate.mail, "2026-02-10T09:00:00Z").await;

    let c = implemented(
        app,
        &c,
        "2026-04-01T10:00:00Z",
        "2026-04-02T09:00:00Z",
        "SUCCESSFUL_WITH_ISSUES",
    )
    .await;
    app.clock.set(at("2026-04-03T09:00:00Z"));
    app.act(MANAGER, "closeChange", &c).await;
    with_reason(app, ENGINEER, "cancelChange", &f, "2026-04-10T09:00:00Z").await;

    app.clock.set(at("2026-04-20T09:00:00Z"));
    app.new_change_with(
        "NORMAL",
        &[&estate.api],
        json!({ "plannedStart": null, "plannedEnd": null }),
    )
    .await;
    Changes { a }
}

async fn incident_step(app: &TestApp, name: &str, incident: &Value, when: &str) -> Value {
    app.clock.set(at(when));
    let (params, args, variables) = match name {
        "putIncidentOnHold" | "reopenIncident" => (
            ", $reason: String!",
            ", reason: $reason",
            json!({ "reason": "KPI history" }),
        ),
        "resolveIncident" => (
            ", $notes: String!",
            ", code: FIXED, notes: $notes",
            json!({ "notes": "KPI history" }),
        ),
        _ => ("", "", json!({})),
    };
    app.incident_action(ENGINEER, name, incident, params, args, variables)
        .await
        .unwrap_or_else(|response| panic!("{name} failed: {}", response.text()))
}

async fn opened(app: &TestApp, impact: &str, urgency: &str, item: &Value, when: &str) -> Value {
    app.clock.set(at(when));
    app.new_incident(impact, urgency, &[item]).await
}

/// The incidents of the history (opened, responded, resolved):
/// - I0, P3, mail host: opened 2025-12-31 12:00, acknowledged 13:00, resolved 2026-01-01 12:00,
///   exactly at its due time (24 h: in time), 1 440 min.
/// - I1, P1, database: opened 01-20 10:00, acknowledged 10:10 (10 min), resolved 13:00 (180 min,
///   in time).
/// - I2, P3, API: opened 01-22 09:00, acknowledged 10:00 (60 min), on hold 12:00 to 01-23 12:00,
///   resolved 01-23 15:00: 30 h less 24 h on hold, 360 min, in time.
/// - I3, P2, mail host: opened 01-28 09:00, acknowledged 09:20 (20 min), resolved 19:00,
///   reopened 02-02 09:00, resolved 02-02 10:00: 10 h + 1 h = 660 min, late (due 8 h after
///   opening moved on by the time it sat resolved: 02-02 07:00), counts in February.
/// - I4, P4, database: opened 02-10 09:00, never responded to, caused by change A.
/// - I5, P5, mail host: opened 04-01 00:00 (a bucket's first instant), acknowledged 02:00
///   (120 min), resolved 04-03 00:00 (2 880 min, in time).
struct Incidents {
    i1: Value,
    i2: Value,
    i3: Value,
}

async fn incidents(app: &TestApp, estate: &Estate, changes: &Changes) -> Incidents {
    let i0 = opened(
        app,
        "MEDIUM",
        "MEDIUM",
        &estate.mail,
        "2025-12-31T12:00:00Z",
    )
    .await;
    let i0 = incident_step(app, "acknowledgeIncident", &i0, "2025-12-31T13:00:00Z").await;
    let i0 = incident_step(app, "resolveIncident", &i0, "2026-01-01T12:00:00Z").await;
    assert_eq!(i0["sla"]["resolutionBreached"], false);

    let i1 = opened(
        app,
        "HIGH",
        "HIGH",
        &estate.database,
        "2026-01-20T10:00:00Z",
    )
    .await;
    let i1 = incident_step(app, "acknowledgeIncident", &i1, "2026-01-20T10:10:00Z").await;
    let i1 = incident_step(app, "resolveIncident", &i1, "2026-01-20T13:00:00Z").await;

    let i2 = opened(app, "HIGH", "LOW", &estate.api, "2026-01-22T09:00:00Z").await;
    let i2 = incident_step(app, "acknowledgeIncident", &i2, "2026-01-22T10:00:00Z").await;
    let i2 = incident_step(app, "putIncidentOnHold", &i2, "2026-01-22T12:00:00Z").await;
    let i2 = incident_step(app, "resumeIncident", &i2, "2026-01-23T12:00:00Z").await;
    let i2 = incident_step(app, "resolveIncident", &i2, "2026-01-23T15:00:00Z").await;
    assert_eq!(i2["sla"]["pausedSeconds"], 24 * 3600);

    let i3 = opened(app, "HIGH", "MEDIUM", &estate.mail, "2026-01-28T09:00:00Z").await;
    let i3 = incident_step(app, "acknowledgeIncident", &i3, "2026-01-28T09:20:00Z").await;
    let i3 = incident_step(app, "resolveIncident", &i3, "2026-01-28T19:00:00Z").await;
    let i3 = incident_step(app, "reopenIncident", &i3, "2026-02-02T09:00:00Z").await;
    let i3 = incident_step(app, "resolveIncident", &i3, "2026-02-02T10:00:00Z").await;
    assert_eq!(i3["sla"]["resolutionBreached"], true);
    assert_eq!(i3["reopenCount"], 1);

    let i4 = opened(
        app,
        "MEDIUM",
        "LOW",
        &estate.database,
        "2026-02-10T09:00:00Z",
    )
    .await;
    app.clock.set(at("2026-02-10T09:05:00Z"));
    let i4 = app
        .incident_action(
            ENGINEER,
            "setIncidentCause",
            &i4,
            ", $change: ID",
            ", changeId: $change",
            json!({ "change": changes.a["id"] }),
        )
        .await
        .unwrap_or_else(|response| panic!("setIncidentCause failed: {}", response.text()));
    assert_eq!(i4["priority"], "P4");
    assert!(i4["respondedAt"].is_null());

    let i5 = opened(app, "LOW", "LOW", &estate.mail, "2026-04-01T00:00:00Z").await;
    let i5 = incident_step(app, "acknowledgeIncident", &i5, "2026-04-01T02:00:00Z").await;
    incident_step(app, "resolveIncident", &i5, "2026-04-03T00:00:00Z").await;
    Incidents { i1, i2, i3 }
}

async fn problem_step(app: &TestApp, problem: &Value, name: &str, argument: &str) -> Value {
    app.problem_action(
        MANAGER,
        name,
        problem,
        ", $text: String",
        &format!(", {argument}: $text"),
        json!({ "text": "KPI history" }),
    )
    .await
    .unwrap_or_else(|response| panic!("{name} failed: {}", response.text()))
}

async fn new_problem(app: &TestApp, incidents: &[&Value], when: &str) -> Value {
    app.clock.set(at(when));
    let data = app
        .data_by(
            ENGINEER,
            "mutation($input: CreateProblemInput!) { createProblem(input: $input) { id version state } }",
            json!({ "input": {
                "title": "KPI history",
                "incidentIds": incidents.iter().map(|incident| incident["id"].clone()).collect::<Vec<_>>(),
            } }),
        )
        .await;
    data["createProblem"].clone()
}

async fn known_error(app: &TestApp, problem: &Value, when: &str) -> Value {
    app.clock.set(at(when));
    let problem = app
        .problem_action(
            ENGINEER,
            "recordRootCause",
            problem,
            ", $text: String!",
            ", rootCause: $text",
            json!({ "text": "KPI history" }),
        )
        .await
        .unwrap_or_else(|response| panic!("recordRootCause failed: {}", response.text()));
    let problem = app
        .problem_action(
            ENGINEER,
            "recordWorkaround",
            &problem,
            ", $text: String!",
            ", workaround: $text",
            json!({ "text": "KPI history" }),
        )
        .await
        .unwrap_or_else(|response| panic!("recordWorkaround failed: {}", response.text()));
    assert_eq!(problem["state"], "KNOWN_ERROR");
    problem
}

/// The problems of the history:
/// - P0: created 2025-12-20, a known error from 2025-12-22, still open.
/// - P1: created 01-21 with I1 and I2, a known error from 01-25, resolved 04-05.
/// - P2: created 02-15 with I3, closed (never a known error) 02-20.
async fn problems(app: &TestApp, incidents: &Incidents) {
    let p0 = new_problem(app, &[], "2025-12-20T09:00:00Z").await;
    known_error(app, &p0, "2025-12-22T09:00:00Z").await;

    let p1 = new_problem(app, &[&incidents.i1, &incidents.i2], "2026-01-21T09:00:00Z").await;
    let p1 = known_error(app, &p1, "2026-01-25T09:00:00Z").await;
    app.clock.set(at("2026-04-05T09:00:00Z"));
    problem_step(app, &p1, "resolveProblem", "reason").await;

    let p2 = new_problem(app, &[&incidents.i3], "2026-02-15T09:00:00Z").await;
    app.clock.set(at("2026-02-20T09:00:00Z"));
    problem_step(app, &p2, "closeProblem", "reason").await;
}

fn month(index: usize) -> (&'static str, &'static str) {
    [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
    ][index]
}

#[allow(clippy::too_many_arguments)]
fn change_figures(
    period: (&str, &str),
    completed: i64,
    outcomes: [i64; 4],
    emergency: i64,
    causing: i64,
    rates: [Option<f64>; 3],
    lead: Option<f64>,
    cab: (i64, Option<f64>),
    backlog: i64,
) -> Value {
    json!({
        "start": period.0, "end": period.1,
        "completed": completed,
        "successful": outcomes[0], "successfulWithIssues": outcomes[1],
        "failed": outcomes[2], "backedOut": outcomes[3],
        "emergency": emergency, "causingIncidents": causing,
        "successRate": rates[0], "failureRate": rates[1], "emergencyRatio": rates[2],
        "meanLeadTimeHours": lead,
        "cabDecisions": cab.0, "meanCabDecisionHours": cab.1,
        "backlog": backlog,
    })
}

/// opened, resolved, MTTA, MTTR, SLA compliance, reopen rate.
type Incident = (i64, i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>);

const NO_INCIDENTS: Incident = (0, 0, None, None, None, None);

fn incident_figures(figures: Incident) -> Value {
    json!({
        "opened": figures.0, "resolved": figures.1,
        "mttaMinutes": figures.2, "mttrMinutes": figures.3,
        "slaCompliance": figures.4, "reopenRate": figures.5,
    })
}

fn incident_period(period: (&str, &str), all: Incident, by_priority: [Incident; 5]) -> Value {
    let mut figures = incident_figures(all);
    figures["start"] = json!(period.0);
    figures["end"] = json!(period.1);
    figures["byPriority"] = by_priority
        .iter()
        .enumerate()
        .map(|(index, counts)| {
            let mut counts = incident_figures(*counts);
            counts["priority"] = json!(format!("P{}", index + 1));
            counts
        })
        .collect();
    figures
}

fn problem_figures(period: (&str, &str), figures: (i64, i64, i64, Option<f64>)) -> Value {
    json!({
        "start": period.0, "end": period.1,
        "opened": figures.0, "resolved": figures.1,
        "knownErrorsOpen": figures.2, "incidentsPerProblem": figures.3,
    })
}

#[tokio::test]
async fn kpis_match_a_hand_built_history() {
    let app = TestApp::new().await;
    let estate = estate(&app).await;
    let changes = changes(&app, &estate).await;
    let incidents = incidents(&app, &estate, &changes).await;
    problems(&app, &incidents).await;
    app.clock.set(at("2026-06-01T00:00:00Z"));
    let whole = (MONTHS.0, MONTHS.1);

    // Changes by month. January: A (successful, but it caused an incident opened in
    // February) and B (failed); C and D decided by the CAB and ECAB in 48 h and 2 h.
    let expected = json!({
        "from": MONTHS.0, "to": MONTHS.1, "bucket": "MONTH",
        "series": [
            change_figures(month(0), 2, [1, 0, 1, 0], 0, 1, [Some(0.5), Some(1.0), Some(0.0)], Some(252.0), (2, Some(25.0)), 4),
            change_figures(month(1), 1, [0, 0, 0, 1], 1, 0, [Some(0.0), Some(1.0), Some(1.0)], Some(192.0), (0, None), 5),
            change_figures(month(2), 0, [0, 0, 0, 0], 0, 0, [None, None, None], None, (0, None), 5),
            change_figures(month(3), 1, [0, 1, 0, 0], 0, 0, [Some(1.0), Some(0.0), Some(0.0)], Some(2040.0), (0, None), 3),
        ],
        "totals": change_figures(whole, 4, [1, 1, 1, 1], 1, 1, [Some(0.5), Some(0.75), Some(0.25)], Some(684.0), (2, Some(25.0)), 3),
    });
    let changes_by_month = report(&app, HEAD, "changeKpis", MONTHS, Value::Null).await;
    assert_close(&changes_by_month, &expected, "changeKpis");

    // The same as a change manager; by week, clipped at both ends: [Wed 01-07, Mon 01-12),
    // [01-12, 01-19), [01-19, Wed 01-21).
    let weeks = report(
        &app,
        MANAGER,
        "changeKpis",
        ("2026-01-07T00:00:00Z", "2026-01-21T00:00:00Z", "WEEK"),
        Value::Null,
    )
    .await;
    let series: Vec<(Value, Value, Value)> = weeks["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|bucket| {
            (
                bucket["start"].clone(),
                bucket["end"].clone(),
                bucket["completed"].clone(),
            )
        })
        .collect();
    assert_close(
        &json!(series),
        &json!([
            ["2026-01-07T00:00:00Z", "2026-01-12T00:00:00Z", 0],
            ["2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z", 1],
            ["2026-01-19T00:00:00Z", "2026-01-21T00:00:00Z", 1],
        ]),
        "weekly changeKpis",
    );
    // Z, A, B and C were submitted before 01-12 and are open then; A closed 01-13 and E came
    // and went: three open at 01-19 and 01-21.
    assert_eq!(weeks["series"][0]["cabDecisions"], 1);
    let backlogs: Vec<&Value> = weeks["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|bucket| &bucket["backlog"])
        .collect();
    assert_eq!(backlogs, [&json!(4), &json!(3), &json!(3)]);

    // Incidents by month, per priority.
    let expected = json!({
        "series": [
            incident_period(
                month(0),
                (3, 3, Some(30.0), Some(660.0), Some(1.0), Some(0.0)),
                [
                    (1, 1, Some(10.0), Some(180.0), Some(1.0), Some(0.0)),
                    (1, 0, Some(20.0), None, None, None),
                    (1, 2, Some(60.0), Some(900.0), Some(1.0), Some(0.0)),
                    NO_INCIDENTS,
                    NO_INCIDENTS,
                ],
            ),
            incident_period(
                month(1),
                (1, 1, None, Some(660.0), Some(0.0), Some(1.0)),
                [
                    NO_INCIDENTS,
                    (0, 1, None, Some(660.0), Some(0.0), Some(1.0)),
                    NO_INCIDENTS,
                    (1, 0, None, None, None, None),
                    NO_INCIDENTS,
                ],
            ),
            incident_period(month(2), NO_INCIDENTS, [NO_INCIDENTS; 5]),
            incident_period(
                month(3),
                (1, 1, Some(120.0), Some(2880.0), Some(1.0), Some(0.0)),
                [
                    NO_INCIDENTS,
                    NO_INCIDENTS,
                    NO_INCIDENTS,
                    NO_INCIDENTS,
                    (1, 1, Some(120.0), Some(2880.0), Some(1.0), Some(0.0)),
                ],
            ),
        ],
        "totals": incident_period(
            whole,
            (5, 5, Some(52.5), Some(1104.0), Some(0.8), Some(0.2)),
            [
                (1, 1, Some(10.0), Some(180.0), Some(1.0), Some(0.0)),
                (1, 1, Some(20.0), Some(660.0), Some(0.0), Some(1.0)),
                (1, 2, Some(60.0), Some(900.0), Some(1.0), Some(0.0)),
                (1, 0, None, None, None, None),
                (1, 1, Some(120.0), Some(2880.0), Some(1.0), Some(0.0)),
            ],
        ),
    });
    let incidents_by_month = report(&app, HEAD, "incidentKpis", MONTHS, Value::Null).await;
    assert_close(&incidents_by_month, &expected, "incidentKpis");

    // Problems by month: P0 is an open known error throughout, P1 from January to April.
    let expected = json!({
        "series": [
            problem_figures(month(0), (1, 0, 2, Some(2.0))),
            problem_figures(month(1), (1, 0, 2, Some(1.0))),
            problem_figures(month(2), (0, 0, 2, None)),
            problem_figures(month(3), (0, 1, 1, None)),
        ],
        "totals": problem_figures(whole, (2, 1, 1, Some(1.5))),
    });
    let problems_by_month = report(&app, MANAGER, "problemKpis", MONTHS, Value::Null).await;
    assert_close(&problems_by_month, &expected, "problemKpis");

    // The Payments service's dependency tree is the service, its API and its database:
    // changes A, B, D (E was never completed); incidents I1, I2, I4; problem P1 (through its
    // incidents).
    let service = json!({ "businessServiceId": estate.service["id"] });
    let before = app.statements();
    let totals = report(&app, HEAD, "changeKpis", MONTHS, service.clone()).await["totals"].clone();
    // The service, (on SQLite) its walk, the report.
    assert!(
        app.statements() - before <= 3,
        "{:?}",
        app.statements_since(before)
    );
    assert_close(
        &totals,
        &change_figures(
            whole,
            3,
            [1, 0, 1, 1],
            1,
            1,
            [Some(1.0 / 3.0), Some(1.0), Some(1.0 / 3.0)],
            Some(232.0),
            (1, Some(2.0)),
            2,
        ),
        "changeKpis for the service",
    );
    let totals =
        report(&app, HEAD, "incidentKpis", MONTHS, service.clone()).await["totals"].clone();
    assert_close(
        &totals,
        &json!({ "opened": 3, "resolved": 2, "mttaMinutes": 35.0, "mttrMinutes": 270.0 }),
        "incidentKpis for the service",
    );
    let totals = report(&app, HEAD, "problemKpis", MONTHS, service).await["totals"].clone();
    assert_close(
        &totals,
        &json!({ "opened": 1, "resolved": 1, "knownErrorsOpen": 0, "incidentsPerProblem": 2.0 }),
        "problemKpis for the service",
    );
    // A CI that is not a business service is refused.
    let refused = app
        .graphql_by(
            HEAD,
            &change_query(),
            json!({ "from": MONTHS.0, "to": MONTHS.1, "bucket": "MONTH", "filter": { "businessServiceId": estate.api["id"] } }),
        )
        .await;
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);

    // The DBA team owns the database: changes A and E, incidents I1 and I4.
    let team = json!({ "ownerTeam": "DBA" });
    let totals = report(&app, HEAD, "changeKpis", MONTHS, team.clone()).await["totals"].clone();
    assert_close(
        &totals,
        &json!({ "completed": 1, "successful": 1, "causingIncidents": 1, "failureRate": 1.0, "meanLeadTimeHours": 168.0, "backlog": 0 }),
        "changeKpis for DBA",
    );
    let totals = report(&app, HEAD, "incidentKpis", MONTHS, team).await["totals"].clone();
    assert_close(
        &totals,
        &json!({ "opened": 2, "resolved": 1, "mttaMinutes": 10.0, "mttrMinutes": 180.0 }),
        "incidentKpis for DBA",
    );

    // Emergency changes only: D.
    let totals = report(
        &app,
        HEAD,
        "changeKpis",
        MONTHS,
        json!({ "types": ["EMERGENCY"] }),
    )
    .await["totals"]
        .clone();
    assert_close(
        &totals,
        &change_figures(
            whole,
            1,
            [0, 0, 0, 1],
            1,
            0,
            [Some(0.0), Some(1.0), Some(1.0)],
            Some(192.0),
            (1, Some(2.0)),
            1,
        ),
        "changeKpis for EMERGENCY",
    );
}

#[tokio::test]
async fn a_report_is_one_statement_and_an_empty_range_has_zeros_and_null_rates() {
    let app = TestApp::computing().await;
    let before = app.statements();
    let empty_weeks = report(
        &app,
        HEAD,
        "changeKpis",
        ("2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "WEEK"),
        Value::Null,
    )
    .await;
    assert_eq!(
        app.statements() - before,
        1,
        "{:?}",
        app.statements_since(before)
    );
    let empty = |start: &str, end: &str| {
        change_figures((start, end), 0, [0; 4], 0, 0, [None; 3], None, (0, None), 0)
    };
    assert_close(
        &empty_weeks,
        &json!({
            "totals": empty("2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z"),
            "series": [
                empty("2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"),
                empty("2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"),
            ],
        }),
        "empty changeKpis",
    );
    for field in ["incidentKpis", "problemKpis"] {
        let before = app.statements();
        let report = report(&app, MANAGER, field, MONTHS, Value::Null).await;
        assert_eq!(app.statements() - before, 1, "{field}");
        assert_eq!(
            report["series"].as_array().map(Vec::len),
            Some(4),
            "{field}"
        );
    }
    let incidents = report(&app, MANAGER, "incidentKpis", MONTHS, Value::Null).await;
    assert_close(
        &incidents["totals"],
        &incident_period((MONTHS.0, MONTHS.1), NO_INCIDENTS, [NO_INCIDENTS; 5]),
        "empty incidentKpis",
    );
}

#[tokio::test]
async fn only_change_managers_and_service_heads_read_kpis() {
    let app = TestApp::new().await;
    let variables = json!({ "from": MONTHS.0, "to": MONTHS.1, "bucket": "MONTH" });
    for query in [change_query(), incident_query(), problem_query()] {
        for who in [ENGINEER, CAB[0]] {
            let response = app.graphql_by(who, &query, variables.clone()).await;
            assert_eq!(response.error_codes(), ["FORBIDDEN"], "{}", who.subject);
            // The report nulls itself; the page keeps the rest.
            let data = response.json()["data"].clone();
            assert!(
                data.as_object()
                    .is_some_and(|fields| fields.values().all(serde_json::Value::is_null)),
                "{}",
                response.text()
            );
        }
        for who in [MANAGER, HEAD] {
            let response = app.graphql_by(who, &query, variables.clone()).await;
            assert!(response.error_codes().is_empty(), "{}", response.text());
        }
        let anonymous = app.graphql_with(&query, variables.clone(), None).await;
        assert_eq!(anonymous.error_codes(), ["UNAUTHENTICATED"]);
    }
}

#[tokio::test]
async fn bad_ranges_and_filters_are_refused_as_bad_user_input() {
    let app = TestApp::new().await;
    let database = app.create_ci("DATABASE", "payments-db").await;
    let cases = [
        (
            "2026-02-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            Value::Null,
            "to",
        ),
        (
            "2026-02-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Value::Null,
            "to",
        ),
        (
            "2020-01-01T00:00:00Z",
            "2025-01-01T00:00:01Z",
            Value::Null,
            "to",
        ),
        (
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            json!({ "businessServiceId": database["id"] }),
            "filter.businessServiceId",
        ),
        (
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            json!({ "businessServiceId": "no-such-ci" }),
            "filter.businessServiceId",
        ),
        (
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            json!({ "ownerTeam": "  " }),
            "filter.ownerTeam",
        ),
    ];
    for (from, to, filter, field) in cases {
        for query in [change_query(), incident_query(), problem_query()] {
            let response = app
                .graphql_by(
                    HEAD,
                    &query,
                    json!({ "from": from, "to": to, "bucket": "WEEK", "filter": filter }),
                )
                .await;
            assert_eq!(
                response.error_codes(),
                ["BAD_USER_INPUT"],
                "{from} {to} {filter}"
            );
            assert_eq!(
                response.json()["errors"][0]["extensions"]["field"],
                field,
                "{}",
                response.text()
            );
        }
    }
    // Five years exactly are allowed (262 weeks).
    let five_years = report(
        &app,
        HEAD,
        "changeKpis",
        ("2021-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "WEEK"),
        Value::Null,
    )
    .await;
    assert_eq!(five_years["series"].as_array().map(Vec::len), Some(262));
}
