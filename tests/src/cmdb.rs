//! Helpers for CMDB tests: create and relate configuration items through the API.

use quorum_core::Role;
use serde_json::{Value, json};

use crate::TestApp;

pub const CI_FIELDS: &str = "id number class name status environment criticality ownerTeam description attributes version createdAt updatedAt retiredAt";

impl TestApp {
    /// Creates a CI of `class` named `name` (production, criticality 2) as an engineer and
    /// returns it; panics on any error.
    pub async fn create_ci(&self, class: &str, name: &str) -> Value {
        self.create_ci_with(json!({
            "class": class,
            "name": name,
            "environment": "PRODUCTION",
            "criticality": 2,
        }))
        .await
    }

    pub async fn create_ci_with(&self, input: Value) -> Value {
        let response = self
            .graphql_as(
                &[Role::Engineer],
                &format!("mutation($input: CreateConfigurationItemInput!) {{ createConfigurationItem(input: $input) {{ {CI_FIELDS} }} }}"),
                json!({ "input": input }),
            )
            .await;
        let json = response.json();
        assert!(json.get("errors").is_none(), "{}", response.text());
        json["data"]["createConfigurationItem"].clone()
    }

    /// Relates `source` —`relationship_type`→ `target` (CI JSON values) and returns the
    /// relationship's id.
    pub async fn relate(&self, source: &Value, relationship_type: &str, target: &Value) -> String {
        let response = self
            .graphql_as(
                &[Role::Engineer],
                "mutation($input: RelateConfigurationItemsInput!) { relateConfigurationItems(input: $input) { id } }",
                json!({ "input": {
                    "sourceId": source["id"],
                    "targetId": target["id"],
                    "type": relationship_type,
                } }),
            )
            .await;
        let json = response.json();
        assert!(json.get("errors").is_none(), "{}", response.text());
        json["data"]["relateConfigurationItems"]["id"]
            .as_str()
            .expect("relationship id")
            .to_owned()
    }
}
