//! A page of changes with their CIs, votes, template, risk and transitions costs a bounded
//! number of SQL statements, whatever the page size.

use quorum_core::Role;
use quorum_tests::TestApp;
use quorum_tests::change::{CAB, ENGINEER, MANAGER};
use serde_json::json;

const PAGE: &str = "query($first: Int) { changes(first: $first) {
  totalCount
  nodes { number state risk { score level factors { name points } } affectedItems { number name }
          votes { voter decision } template { name } availableTransitions { action allowed } }
} }";

#[tokio::test]
async fn a_page_of_changes_with_their_relations_costs_a_bounded_number_of_statements() {
    let app = TestApp::computing().await;
    let items: Vec<_> = (0..10)
        .map(|n| json!({ "class": "VIRTUAL_MACHINE", "name": format!("vm-{n:02}"), "environment": "PRODUCTION", "criticality": 3 }))
        .collect();
    let imported = app
        .graphql_as(
            &[Role::Engineer],
            "mutation($input: ImportConfigurationItemsInput!) { importConfigurationItems(input: $input) { created } }",
            json!({ "input": { "items": items } }),
        )
        .await
        .json();
    assert_eq!(imported["data"]["importConfigurationItems"]["created"], 10);
    let cis = app
        .data_by(
            ENGINEER,
            "{ configurationItems(first: 10, orderBy: { field: NUMBER }) { nodes { id } } }",
            json!({}),
        )
        .await["configurationItems"]["nodes"]
        .as_array()
        .expect("CIs")
        .clone();
    // 55 changes in CAB review, each on two CIs, each with one vote.
    for n in 0..55 {
        let change = app
            .new_change_with(
                "NORMAL",
                &[&cis[n % 10], &cis[(n + 1) % 10]],
                json!({ "title": format!("change {n}") }),
            )
            .await;
        let change = app.act(ENGINEER, "submitChange", &change).await;
        let change = app.assess(&change, TestApp::high_risk_answers()).await;
        let change = app.act(MANAGER, "referChangeToCab", &change).await;
        app.vote(CAB[n % 5], &change, "APPROVE", None)
            .await
            .expect("a vote");
    }

    let mut costs = Vec::new();
    let mut statements = Vec::new();
    for first in [5, 50] {
        let (response, run) = app
            .cheapest_of_three(&[Role::CabMember], PAGE, json!({ "first": first }))
            .await;
        costs.push(run.len());
        statements.push(run);
        let nodes = response["data"]["changes"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .clone();
        assert_eq!(nodes.len(), first);
        for node in &nodes {
            assert_eq!(node["affectedItems"].as_array().map(Vec::len), Some(2));
            assert_eq!(node["votes"].as_array().map(Vec::len), Some(1));
            assert_eq!(node["risk"]["score"], 65, "{node}");
        }
    }
    // Count + page, then one batch each for the CIs (links joined to items), the votes and the
    // policy: 5, whatever the page size (batches gather without a timer, so none is split).
    assert_eq!(
        costs,
        vec![5, 5],
        "statements for 5 and 50 rows: {statements:#?}"
    );

    // A dashboard's page: no totalCount, so no count; one batch each for the CIs
    // and the votes the rows ask for.
    for first in [5, 50] {
        let (response, run) = app
            .cheapest_of_three(
                &[Role::CabMember],
                DASHBOARD_PAGE,
                json!({ "first": first }),
            )
            .await;
        let nodes: Vec<_> = response["data"]["changes"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect();
        assert_eq!(nodes.len(), first);
        assert!(nodes.iter().all(
            |node| node["affectedItems"].as_array().map(Vec::len) == Some(2)
                && node["votes"].as_array().map(Vec::len) == Some(1)
        ));
        // The page, the CIs (links joined to items), the votes.
        assert_eq!(run.len(), 3, "{first} rows: {run:#?}");
        assert!(
            !run.iter().any(|statement| statement.contains("COUNT(")),
            "no count without totalCount: {run:#?}"
        );
    }
}

const DASHBOARD_PAGE: &str = "query($first: Int) { changes(first: $first) {
  edges { node { number title state risk { score level factors { name points detail } }
                 affectedItems { number name } votes { voter decision } } }
} }";

/// A page reads the long texts and the stored assessment only when its selection asks for a
/// field that shows them: otherwise the statement selects NULL in their place. Both ways, the
/// answers are those of the change read whole.
#[tokio::test]
async fn a_page_reads_only_the_columns_its_selection_shows() {
    let app = TestApp::computing().await;
    let item = app.create_ci("DATABASE", "orders-db").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let change = app.act(ENGINEER, "submitChange", &change).await;
    app.assess(&change, TestApp::high_risk_answers()).await;
    let whole = app
        .data_by(
            ENGINEER,
            "query($id: ID!) { change(id: $id) { number description backoutPlan risk { score level factors { name } } } }",
            json!({ "id": change["id"] }),
        )
        .await["change"]
        .clone();
    assert_eq!(whole["description"], "Minor version upgrade", "{whole}");
    assert!(whole["risk"]["score"].is_i64(), "{whole}");
    let page_statement = |run: &[String]| {
        run.iter()
            .find(|statement| statement.contains("FROM \"change_request\""))
            .unwrap_or_else(|| panic!("no page statement in {run:#?}"))
            .clone()
    };

    let (response, run) = app
        .cheapest_of_three(
            &[Role::Engineer],
            "{ changes(first: 5) { nodes { number risk { score level } } } }",
            json!({}),
        )
        .await;
    let node = &response["data"]["changes"]["nodes"][0];
    assert_eq!(node["number"], whole["number"], "{response}");
    assert_eq!(node["risk"]["score"], whole["risk"]["score"], "{response}");
    assert_eq!(node["risk"]["level"], whole["risk"]["level"], "{response}");
    let statement = page_statement(&run);
    for column in ["description", "backout_plan", "review", "risk"] {
        assert!(
            statement.contains(&format!("NULL AS \"{column}\"")),
            "{column} is read: {statement}"
        );
    }

    let (response, run) = app
        .cheapest_of_three(
            &[Role::Engineer],
            "{ changes(first: 5) { edges { node { ...texts } } } } \
             fragment texts on Change { number description backoutPlan risk { score level factors { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"]["changes"]["edges"][0]["node"], whole,
        "{response}"
    );
    let statement = page_statement(&run);
    for column in ["description", "backout_plan", "risk"] {
        assert!(
            !statement.contains(&format!("NULL AS \"{column}\"")),
            "{column} is not read: {statement}"
        );
    }
    assert!(statement.contains("NULL AS \"review\""), "{statement}");
}

/// One change with its CIs, votes and history reads each once: the record, the CIs (links
/// joined to items), the votes, the history.
#[tokio::test]
async fn a_change_with_its_relations_reads_each_once() {
    let app = TestApp::computing().await;
    let item = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let (response, run) = app
        .cheapest_of_three(
            &[Role::Engineer],
            "query($id: ID!) { change(id: $id) { number affectedItems { number } votes { voter } history { nodes { action } } } }",
            json!({ "id": change["id"] }),
        )
        .await;
    assert_eq!(
        response["data"]["change"]["affectedItems"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{response}"
    );
    assert_eq!(run.len(), 4, "{run:#?}");
}

/// A change's risk score and level are read from their columns; the stored assessment is
/// decoded only for its factors, and one that does not decode is an INTERNAL error that quotes
/// a trace id, never a silent null.
#[tokio::test]
async fn risk_reads_its_columns_and_a_stored_assessment_that_does_not_decode_is_an_error() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    let item = app.create_ci("DATABASE", "ledger-db").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let id = change["id"].as_str().expect("id");
    app.db
        .execute_unprepared(&format!(
            "UPDATE change_request SET risk = '{{\"score\": \"forty\"}}', risk_score = 40, \
             risk_level = 'MEDIUM' WHERE id = '{id}'"
        ))
        .await
        .expect("corrupts the stored risk");
    let query = "query($id: ID!, $factors: Boolean!) { change(id: $id) {
      number risk { score level factors @include(if: $factors) { name } } } }";

    let columns = app
        .graphql_as(
            &[Role::Engineer],
            query,
            json!({ "id": id, "factors": false }),
        )
        .await
        .json();
    assert_eq!(
        columns["data"]["change"]["risk"],
        json!({ "score": 40, "level": "MEDIUM" }),
        "{columns}"
    );
    assert!(columns.get("errors").is_none(), "{columns}");

    let factors = app
        .graphql_as(
            &[Role::Engineer],
            query,
            json!({ "id": id, "factors": true }),
        )
        .await
        .json();
    assert_eq!(
        factors["errors"][0]["extensions"]["code"], "INTERNAL",
        "{factors}"
    );
    assert!(
        factors["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("trace id")),
        "{factors}"
    );
    assert_eq!(factors["data"]["change"]["risk"], json!(null), "{factors}");
    assert!(factors["data"]["change"]["number"].is_string(), "{factors}");
}

#[tokio::test]
async fn a_stored_review_that_does_not_decode_is_an_error_not_a_silent_null() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    let item = app.create_ci("DATABASE", "ledger-db").await;
    let change = app.new_change("NORMAL", &[&item]).await;
    let id = change["id"].as_str().expect("id");
    app.db
        .execute_unprepared(&format!(
            "UPDATE change_request SET review = '{{\"objectivesMet\": \"maybe\"}}' WHERE id = '{id}'"
        ))
        .await
        .expect("corrupts the stored review");
    let response = app
        .graphql_as(
            &[Role::Engineer],
            "query($id: ID!) { change(id: $id) { number review { objectivesMet } } }",
            json!({ "id": id }),
        )
        .await
        .json();
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "INTERNAL",
        "{response}"
    );
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains("trace id")),
        "{response}"
    );
    assert!(
        response["data"]["change"]["number"].is_string(),
        "{response}"
    );
}
