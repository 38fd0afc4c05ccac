//! Lists with relations cost a bounded number of SQL statements, whatever the page size.

use quorum_core::Role;
use quorum_tests::TestApp;
use serde_json::json;

const PAGE: &str =
    "query($first: Int) { configurationItems(first: $first, orderBy: { field: NUMBER }) {
  totalCount
  nodes { name relationships(direction: OUTGOING) { type target { name relationships { id } } } }
} }";

#[tokio::test]
async fn a_page_of_items_with_their_relationships_costs_a_bounded_number_of_statements() {
    let app = TestApp::computing().await;
    let items: Vec<_> = (0..60)
        .map(|n| json!({ "class": "VIRTUAL_MACHINE", "name": format!("vm-{n:02}"), "environment": "PRODUCTION", "criticality": 3 }))
        .chain((0..6).map(|n| json!({ "class": "SERVER", "name": format!("host-{n}"), "environment": "PRODUCTION", "criticality": 2 })))
        .collect();
    let relationships: Vec<_> = (0..60)
        .map(|n| json!({ "sourceClass": "VIRTUAL_MACHINE", "sourceName": format!("vm-{n:02}"), "type": "HOSTED_ON", "targetClass": "SERVER", "targetName": format!("host-{}", n % 6) }))
        .collect();
    let imported = app
        .graphql_as(
            &[Role::Engineer],
            "mutation($input: ImportConfigurationItemsInput!) { importConfigurationItems(input: $input) { created relationshipsCreated } }",
            json!({ "input": { "items": items, "relationships": relationships } }),
        )
        .await;
    assert_eq!(
        imported.json()["data"]["importConfigurationItems"],
        json!({ "created": 66, "relationshipsCreated": 60 })
    );

    let mut costs = Vec::new();
    let mut statements = Vec::new();
    for first in [5, 50] {
        let (response, run) = app
            .cheapest_of_three(&[Role::CabMember], PAGE, json!({ "first": first }))
            .await;
        costs.push(run.len());
        statements.push(run);
        let nodes = response["data"]["configurationItems"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .clone();
        assert_eq!(nodes.len(), first);
        assert_eq!(
            nodes[7.min(first - 1)]["relationships"][0]["type"],
            "HOSTED_ON"
        );
        assert_eq!(
            nodes[0]["relationships"][0]["target"]["relationships"]
                .as_array()
                .map(Vec::len),
            Some(10),
            "each host carries ten VMs"
        );
    }
    // Count + page, then one batch per level: relationships, their targets, the targets'
    // relationships: 5, whatever the page size (batches gather without a timer, so none is
    // ever split; with async-graphql's 2 ms timer CI once saw 17).
    assert_eq!(
        costs,
        vec![5, 5],
        "statements for 5 and 50 rows: {statements:#?}"
    );
}
