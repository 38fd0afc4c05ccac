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
    // Loaders gather keys for 50 ms here (2 ms when served), so that a descheduled request
    // thread (two cores, tests in parallel) does not split a level into several batches.
    let app = TestApp::builder()
        .batch_window(std::time::Duration::from_millis(50))
        .build()
        .await;
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
    // Count + page, then one batch each for the CI ids, the CIs, the votes and the policy: 6,
    // whatever the page size.
    assert!(
        costs[0] <= 6 && costs[1] <= 6,
        "statements for 5 and 50 rows: {costs:?}\n{statements:#?}"
    );
}
