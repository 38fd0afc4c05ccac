//! A change list's `totalCount` when only states narrow it (a dashboard's "n changes"): read
//! from the tally the database keeps of changes per state (`quorum_core::tally`), never from
//! a count of the rows, and always what counting the rows gives.

use quorum_core::{Actor, Role};
use quorum_tests::TestApp;
use quorum_tests::change::{ENGINEER, MANAGER};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const COUNT: &str = "query($filter: ChangeFilter) {
  changes(first: 100, filter: $filter) { totalCount nodes { state } }
}";

/// The list's total and rows as `roles` see them, and the statements the request ran.
async fn counted(app: &TestApp, roles: &[Role], filter: &Value) -> (u64, usize, Vec<String>) {
    let before = app.statements();
    let response = app
        .graphql_as(roles, COUNT, json!({ "filter": filter }))
        .await
        .json();
    let run = app.statements_since(before);
    let list = &response["data"]["changes"];
    let total = list["totalCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("{response}"));
    let rows = list["nodes"].as_array().map_or(0, Vec::len);
    (total, rows, run)
}

async fn cancel(app: &TestApp, change: &Value) {
    app.change_action(
        ENGINEER,
        "cancelChange",
        change,
        ", $reason: String!",
        ", reason: $reason",
        json!({ "reason": "no longer needed" }),
    )
    .await
    .unwrap_or_else(|response| panic!("cancelChange failed: {}", response.text()));
}

fn counts_rows(run: &[String]) -> bool {
    run.iter()
        .any(|statement| statement.to_uppercase().contains("COUNT("))
}

fn reads_tally(run: &[String]) -> bool {
    run.iter()
        .any(|statement| statement.contains("state_tally"))
}

/// How many rows of the tally there are, and how many distinct (record, state) they hold.
async fn tally_rows(app: &TestApp) -> (i64, i64) {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*), COUNT(DISTINCT record || '/' || state) FROM state_tally",
        ))
        .await
        .expect("the tally reads")
        .expect("a row");
    (
        row.try_get_by_index(0).expect("a count"),
        row.try_get_by_index(1).expect("a count"),
    )
}

/// Where each row of the tally is stored (PostgreSQL's `ctid`, SQLite's `rowid`): a rewritten
/// row moves.
async fn row_places(app: &TestApp) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let place = match backend {
        sea_orm::DatabaseBackend::Postgres => "ctid::text",
        _ => "CAST(rowid AS TEXT)",
    };
    let mut places: Vec<String> = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT {place} FROM state_tally"),
        ))
        .await
        .expect("the tally reads")
        .into_iter()
        .map(|row| row.try_get_by_index(0).expect("a place"))
        .collect();
    places.sort();
    places
}

#[tokio::test]
async fn a_count_narrowed_by_states_reads_the_tally_and_agrees_with_the_rows() {
    let app = TestApp::new().await;
    let item = app.create_ci("DATABASE", "orders-db").await;
    // Two drafts, one in assessment, two in CAB review, one cancelled.
    for _ in 0..2 {
        app.new_change("NORMAL", &[&item]).await;
    }
    let submitted = app.new_change("NORMAL", &[&item]).await;
    app.act(ENGINEER, "submitChange", &submitted).await;
    for _ in 0..2 {
        app.referred_change(&[&item]).await;
    }
    let cancelled = app.new_change("NORMAL", &[&item]).await;
    cancel(&app, &cancelled).await;

    let by_states = [
        json!(null),
        json!({}),
        json!({ "states": ["DRAFT"] }),
        json!({ "states": ["CAB_REVIEW", "CANCELLED"] }),
        json!({ "states": ["CLOSED"] }),
        json!({ "states": [] }),
    ];
    let expect = |roles: &[Role], filter: &Value| -> u64 {
        let drafts = if roles.contains(&Role::CabMember) {
            0
        } else {
            2
        };
        match filter["states"]
            .as_array()
            .map(|states| states.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        {
            None => 4 + drafts,
            Some(states) if states == ["DRAFT"] => drafts,
            Some(states) if states == ["CAB_REVIEW", "CANCELLED"] => 3,
            Some(_) => 0,
        }
    };
    for round in ["as written", "folded"] {
        for roles in [&[Role::Engineer][..], &[Role::CabMember]] {
            for filter in &by_states {
                let (total, rows, run) = counted(&app, roles, filter).await;
                assert_eq!(
                    (total, rows as u64),
                    (expect(roles, filter), expect(roles, filter)),
                    "{round}, {roles:?}, {filter}"
                );
                assert!(
                    reads_tally(&run) && !counts_rows(&run),
                    "{round}, {roles:?}, {filter}: the total comes from the tally: {run:#?}"
                );
            }
        }
        // Anything else narrowing the list counts its rows, and agrees.
        let filter = json!({ "states": ["DRAFT", "CAB_REVIEW"], "types": ["NORMAL"] });
        let (total, rows, run) = counted(&app, &[Role::Engineer], &filter).await;
        assert_eq!((total, rows), (4, 4), "{round}");
        assert!(counts_rows(&run) && !reads_tally(&run), "{run:#?}");

        quorum_core::tally::fold(&app.db)
            .await
            .expect("the tally folds");
        let (rows, states) = tally_rows(&app).await;
        assert_eq!(rows, states, "one row per state once folded");
        // Folding a folded tally rewrites nothing.
        let folded = row_places(&app).await;
        quorum_core::tally::fold(&app.db)
            .await
            .expect("the tally folds");
        assert_eq!(
            row_places(&app).await,
            folded,
            "{round}: a second fold rewrote rows"
        );
    }

    // A refused move leaves the count as it was; a cancel moves a draft out of DRAFT.
    let draft = app.new_change("NORMAL", &[&item]).await;
    let refused = app
        .change_action(MANAGER, "closeChange", &draft, "", "", json!({}))
        .await;
    assert!(refused.is_err(), "a draft cannot close");
    let (total, _, _) = counted(&app, &[Role::Engineer], &json!({ "states": ["DRAFT"] })).await;
    assert_eq!(total, 3);
    cancel(&app, &draft).await;
    let (total, _, _) = counted(&app, &[Role::Engineer], &json!({ "states": ["DRAFT"] })).await;
    assert_eq!(total, 2);
}

/// Bulk inserts (the seeds: hundreds of changes per statement, counted once per statement on
/// PostgreSQL) leave the tally equal to a count of the rows, state by state.
#[tokio::test]
async fn a_bulk_seed_is_tallied_state_by_state() {
    let app = TestApp::new().await;
    let importer = Actor::new("fixture", [Role::ChangeManager]);
    quorum_cmdb::import_configuration_items(
        quorum_core::Context::new(&app.db, &quorum_core::SystemClock, &importer),
        quorum_seed::cmdb::demo(),
    )
    .await
    .expect("the demo estate imports");
    quorum_seed::bulk::changes::seed(&app.db, &importer, chrono::Utc::now(), 400, 7)
        .await
        .expect("the changes seed");

    let counts = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            let mut rows: Vec<(String, i64)> = db
                .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("counts read")
                .into_iter()
                .map(|row| {
                    (
                        row.try_get_by_index(0).expect("a state"),
                        row.try_get_by_index(1).expect("a count"),
                    )
                })
                .collect();
            rows.sort();
            rows
        }
    };
    let rows = counts("SELECT state, COUNT(*) FROM change_request GROUP BY state").await;
    let tally = "SELECT state, CAST(SUM(n) AS BIGINT) FROM state_tally
                 WHERE record = 'change_request' GROUP BY state HAVING SUM(n) <> 0";
    assert!(rows.len() > 3, "the seed spreads over states: {rows:?}");
    assert_eq!(counts(tally).await, rows);
    quorum_core::tally::fold(&app.db)
        .await
        .expect("the tally folds");
    assert_eq!(counts(tally).await, rows);

    let (total, _, _) = counted(&app, &[Role::Engineer], &json!(null)).await;
    assert_eq!(total, rows.iter().map(|(_, n)| *n as u64).sum::<u64>());
}

/// A list filter's enum values given again and again (70 000 times, past SQLite's 32 766
/// parameters) mean what they mean once: the same answer, no INTERNAL error.
#[tokio::test]
async fn a_filter_repeating_its_values_answers_as_if_each_came_once() {
    let app = TestApp::new().await;
    let item = app.create_ci("DATABASE", "orders-db").await;
    app.new_change("NORMAL", &[&item]).await;
    app.new_incident("HIGH", "HIGH", &[&item]).await;
    let cases = [
        (
            "query($v: [ChangeState!]) { list: changes(filter: { states: $v }) { totalCount } }",
            "DRAFT",
        ),
        (
            "query($v: [IncidentState!]) { list: incidents(filter: { states: $v }) { totalCount } }",
            "NEW",
        ),
        (
            "query($v: [CiClass!]) { list: configurationItems(filter: { classes: $v }) { totalCount } }",
            "DATABASE",
        ),
    ];
    for (query, value) in cases {
        let once = app
            .graphql_as(&[Role::Engineer], query, json!({ "v": [value] }))
            .await
            .json();
        assert_eq!(once["data"]["list"]["totalCount"], 1, "{once}");
        let repeated = app
            .graphql_as(
                &[Role::Engineer],
                query,
                json!({ "v": vec![value; 70_000] }),
            )
            .await
            .json();
        assert_eq!(repeated, once, "{value} × 70 000");
    }
}
