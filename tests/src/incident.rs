//! Helpers for incident and problem tests, driven through the API.

use serde_json::{Value, json};

use crate::TestApp;
use crate::TestResponse;
use crate::change::{ENGINEER, Person};

/// The fields tests read back from an incident.
pub const INCIDENT_FIELDS: &str = "id number title state impact urgency priority version assignee assignmentGroup majorIncident reopenCount resolutionCode openedAt respondedAt resolvedAt closedAt sla { responseTargetMinutes resolutionTargetMinutes responseDue resolutionDue responseBreached resolutionBreached remainingSeconds pausedSeconds } affectedItems { id number } causedByChange { number } problem { number }";

/// The fields tests read back from a problem.
pub const PROBLEM_FIELDS: &str = "id number title state rootCause workaround knownErrorAt resolvedAt resolutionReason closedAt closeReason version incidents { number } fixChanges { number } affectedItems { number }";

impl TestApp {
    /// Logs an incident as ENGINEER with `impact`/`urgency` on `items`.
    pub async fn new_incident(&self, impact: &str, urgency: &str, items: &[&Value]) -> Value {
        let data = self
            .data_by(
                ENGINEER,
                &format!("mutation($input: CreateIncidentInput!) {{ createIncident(input: $input) {{ {INCIDENT_FIELDS} }} }}"),
                json!({ "input": {
                    "title": "Card payments time out",
                    "description": "Checkout fails for some customers",
                    "impact": impact,
                    "urgency": urgency,
                    "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
                    "caller": "service.desk",
                    "assignmentGroup": "Payments",
                } }),
            )
            .await;
        data["createIncident"].clone()
    }

    /// Calls an incident mutation `name(id, version, extra…)` as `who`.
    pub async fn incident_action(
        &self,
        who: Person,
        name: &str,
        incident: &Value,
        extra_params: &str,
        extra_args: &str,
        mut variables: Value,
    ) -> Result<Value, TestResponse> {
        let query = format!(
            "mutation($id: ID!, $version: Int!{extra_params}) {{ {name}(id: $id, version: $version{extra_args}) {{ {INCIDENT_FIELDS} }} }}"
        );
        variables["id"] = incident["id"].clone();
        variables["version"] = incident["version"].clone();
        let response = self.graphql_by(who, &query, variables).await;
        if response.json().get("errors").is_some() {
            return Err(response);
        }
        Ok(response.json()["data"][name].clone())
    }

    /// Calls a problem mutation `name(id, version, extra…)` as `who`.
    pub async fn problem_action(
        &self,
        who: Person,
        name: &str,
        problem: &Value,
        extra_params: &str,
        extra_args: &str,
        mut variables: Value,
    ) -> Result<Value, TestResponse> {
        let query = format!(
            "mutation($id: ID!, $version: Int!{extra_params}) {{ {name}(id: $id, version: $version{extra_args}) {{ {PROBLEM_FIELDS} }} }}"
        );
        variables["id"] = problem["id"].clone();
        variables["version"] = problem["version"].clone();
        let response = self.graphql_by(who, &query, variables).await;
        if response.json().get("errors").is_some() {
            return Err(response);
        }
        Ok(response.json()["data"][name].clone())
    }
}
