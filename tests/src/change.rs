//! Helpers for change tests: people with roles, and changes driven through the API.
//!
//! The clock starts at 2026-01-05T09:00:00Z; [`WINDOW_START`]..[`WINDOW_END`] is a planned
//! window five days later.

use quorum_core::Role;
use serde_json::{Value, json};

use crate::{TestApp, TestResponse};

/// Someone calling the API: a subject and its roles.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub subject: &'static str,
    pub roles: &'static [Role],
}

pub const ENGINEER: Person = Person {
    subject: "eve",
    roles: &[Role::Engineer],
};
/// Another engineer, neither requester nor assignee of the helpers' changes.
pub const OTHER_ENGINEER: Person = Person {
    subject: "otto",
    roles: &[Role::Engineer],
};
/// The assignee of the helpers' changes.
pub const IMPLEMENTER: Person = Person {
    subject: "ivan",
    roles: &[Role::Engineer],
};
pub const MANAGER: Person = Person {
    subject: "max",
    roles: &[Role::ChangeManager],
};
pub const SECOND_MANAGER: Person = Person {
    subject: "mia",
    roles: &[Role::ChangeManager],
};
pub const HEAD: Person = Person {
    subject: "hana",
    roles: &[Role::ServiceHead],
};
pub const CAB: [Person; 5] = [
    Person {
        subject: "cab1",
        roles: &[Role::CabMember],
    },
    Person {
        subject: "cab2",
        roles: &[Role::CabMember],
    },
    Person {
        subject: "cab3",
        roles: &[Role::CabMember],
    },
    Person {
        subject: "cab4",
        roles: &[Role::CabMember],
    },
    Person {
        subject: "cab5",
        roles: &[Role::CabMember],
    },
];

pub const WINDOW_START: &str = "2026-01-10T10:00:00Z";
pub const WINDOW_END: &str = "2026-01-10T12:00:00Z";

/// The fields tests read back from a change.
pub const CHANGE_FIELDS: &str = "id number type state title version requestedBy assignee plannedStart plannedEnd actualStart actualEnd startedOutsideWindow outcome reviewRequired scheduleOverrideReason submittedAt referredAt decidedAt completedAt closedAt risk { score level factors { name points detail } } review { lessonsLearned objectivesMet reviewedBy } affectedItems { id number } votes { voter board decision comment }";

/// The `availableTransitions` action behind a change mutation; None for other mutations.
pub fn action_of(mutation: &str) -> Option<&'static str> {
    Some(match mutation {
        "updateChange" => "UPDATE",
        "addChangeAffectedItems" | "removeChangeAffectedItems" => "EDIT_AFFECTED_ITEMS",
        "submitChange" => "SUBMIT",
        "assessChange" => "ASSESS",
        "authorizeChange" => "AUTHORIZE",
        "referChangeToCab" => "REFER_TO_CAB",
        "rejectChange" => "REJECT",
        "castCabVote" => "VOTE",
        "scheduleChange" => "SCHEDULE",
        "startImplementation" => "START_IMPLEMENTATION",
        "completeImplementation" => "COMPLETE_IMPLEMENTATION",
        "recordReview" => "RECORD_REVIEW",
        "closeChange" => "CLOSE",
        "cancelChange" => "CANCEL",
        _ => return None,
    })
}

impl TestApp {
    /// POSTs `query` as `who`.
    pub async fn graphql_by(&self, who: Person, query: &str, variables: Value) -> TestResponse {
        let token = self.token(who.subject, who.roles);
        self.graphql_with(query, variables, Some(&token)).await
    }

    /// POSTs `query` as `who` and returns `data`; panics on any error.
    pub async fn data_by(&self, who: Person, query: &str, variables: Value) -> Value {
        let response = self.graphql_by(who, query, variables).await;
        let json = response.json();
        assert!(
            json.get("errors").is_none(),
            "{} failed: {}",
            query,
            response.text()
        );
        json["data"].clone()
    }

    /// Calls a change mutation `name(id, version, extra…)` as `who` and returns the change, or
    /// the response when it failed (`Err`).
    pub async fn change_action(
        &self,
        who: Person,
        name: &str,
        change: &Value,
        extra_params: &str,
        extra_args: &str,
        mut variables: Value,
    ) -> Result<Value, TestResponse> {
        let query = format!(
            "mutation($id: ID!, $version: Int!{extra_params}) {{ {name}(id: $id, version: $version{extra_args}) {{ {CHANGE_FIELDS} }} }}"
        );
        variables["id"] = change["id"].clone();
        variables["version"] = change["version"].clone();
        let response = self.graphql_by(who, &query, variables).await;
        let json = response.json();
        if json.get("errors").is_some() {
            return Err(response);
        }
        Ok(json["data"][name].clone())
    }

    /// Like [`TestApp::change_action`] without extra arguments; panics on error.
    pub async fn act(&self, who: Person, name: &str, change: &Value) -> Value {
        self.change_action(who, name, change, "", "", json!({}))
            .await
            .unwrap_or_else(|response| panic!("{name} failed: {}", response.text()))
    }

    /// Starts implementing `change` as IMPLEMENTER, giving a reason in case the clock is outside
    /// its window (the suites' clock mostly stands before it); panics on error.
    pub async fn start_implementation(&self, change: &Value) -> Value {
        self.change_action(
            IMPLEMENTER,
            "startImplementation",
            change,
            ", $reason: String",
            ", reason: $reason",
            json!({ "reason": "the test starts it now" }),
        )
        .await
        .unwrap_or_else(|response| panic!("startImplementation failed: {}", response.text()))
    }

    /// Creates a change of `change_type` (NORMAL or EMERGENCY) touching `items`, with every
    /// plan, the standard window and IMPLEMENTER as assignee, requested by ENGINEER.
    pub async fn new_change(&self, change_type: &str, items: &[&Value]) -> Value {
        self.new_change_with(change_type, items, json!({})).await
    }

    /// [`TestApp::new_change`] with fields of `overrides` replacing the defaults.
    pub async fn new_change_with(
        &self,
        change_type: &str,
        items: &[&Value],
        overrides: Value,
    ) -> Value {
        let mut input = json!({
            "type": change_type,
            "title": "Upgrade the payments database",
            "description": "Minor version upgrade",
            "justification": "Security fixes",
            "implementationPlan": "Fail over, upgrade, fail back",
            "backoutPlan": "Restore the snapshot",
            "testPlan": "Smoke tests",
            "affectedItemIds": items.iter().map(|item| item["id"].clone()).collect::<Vec<_>>(),
            "plannedStart": WINDOW_START,
            "plannedEnd": WINDOW_END,
            "assignee": IMPLEMENTER.subject,
        });
        if let (Some(input), Some(overrides)) = (input.as_object_mut(), overrides.as_object()) {
            for (key, value) in overrides {
                input.insert(key.clone(), value.clone());
            }
        }
        let data = self
            .data_by(
                ENGINEER,
                &format!("mutation($input: CreateChangeInput!) {{ createChange(input: $input) {{ {CHANGE_FIELDS} }} }}"),
                json!({ "input": input }),
            )
            .await;
        data["createChange"].clone()
    }

    /// Assesses a NORMAL change in ASSESSMENT with `answers` as MANAGER.
    pub async fn assess(&self, change: &Value, answers: Value) -> Value {
        self.change_action(
            MANAGER,
            "assessChange",
            change,
            ", $input: RiskQuestionnaireInput!",
            ", input: $input",
            json!({ "input": answers }),
        )
        .await
        .unwrap_or_else(|response| panic!("assessChange failed: {}", response.text()))
    }

    /// A questionnaire that scores low: no impact, no outage, everything tested and done before.
    pub fn low_risk_answers() -> Value {
        json!({ "userImpact": "NONE", "outageRequired": false, "tested": true, "backoutTested": true, "doneBefore": true })
    }

    /// A questionnaire that scores high: high impact, outage, nothing tested, never done.
    pub fn high_risk_answers() -> Value {
        json!({ "userImpact": "HIGH", "outageRequired": true, "tested": false, "backoutTested": false, "doneBefore": false })
    }

    /// Votes on a change as `who`; returns the change or the failed response.
    pub async fn vote(
        &self,
        who: Person,
        change: &Value,
        decision: &str,
        comment: Option<&str>,
    ) -> Result<Value, TestResponse> {
        let response = self
            .graphql_by(
                who,
                &format!("mutation($id: ID!, $decision: VoteDecision!, $comment: String) {{ castCabVote(changeId: $id, decision: $decision, comment: $comment) {{ {CHANGE_FIELDS} }} }}"),
                json!({ "id": change["id"], "decision": decision, "comment": comment }),
            )
            .await;
        let json = response.json();
        if json.get("errors").is_some() {
            return Err(response);
        }
        Ok(json["data"]["castCabVote"].clone())
    }

    /// Schedules a change as MANAGER in the standard window; returns the change or the failed
    /// response.
    pub async fn schedule(&self, change: &Value) -> Result<Value, TestResponse> {
        self.schedule_in(change, WINDOW_START, WINDOW_END, false, None)
            .await
    }

    pub async fn schedule_in(
        &self,
        change: &Value,
        start: &str,
        end: &str,
        override_conflicts: bool,
        reason: Option<&str>,
    ) -> Result<Value, TestResponse> {
        self.change_action(
            MANAGER,
            "scheduleChange",
            change,
            ", $start: DateTime!, $end: DateTime!, $override: Boolean!, $reason: String",
            ", plannedStart: $start, plannedEnd: $end, overrideConflicts: $override, reason: $reason",
            json!({ "start": start, "end": end, "override": override_conflicts, "reason": reason }),
        )
        .await
    }

    /// A NORMAL change on `items` driven to AUTHORIZED by the change manager (low risk).
    pub async fn authorized_change(&self, items: &[&Value]) -> Value {
        let change = self.new_change("NORMAL", items).await;
        let change = self.act(ENGINEER, "submitChange", &change).await;
        let change = self.assess(&change, Self::low_risk_answers()).await;
        self.act(MANAGER, "authorizeChange", &change).await
    }

    /// A NORMAL change on `items` assessed HIGH and referred to the CAB (CAB_REVIEW).
    pub async fn referred_change(&self, items: &[&Value]) -> Value {
        let change = self.new_change("NORMAL", items).await;
        let change = self.act(ENGINEER, "submitChange", &change).await;
        let change = self.assess(&change, Self::high_risk_answers()).await;
        self.act(MANAGER, "referChangeToCab", &change).await
    }

    /// `change` as the change manager reads it now ([`CHANGE_FIELDS`]).
    pub async fn read_change(&self, change: &Value) -> Value {
        self.data_by(
            MANAGER,
            &format!("query($id: ID) {{ change(id: $id) {{ {CHANGE_FIELDS} }} }}"),
            json!({ "id": change["id"] }),
        )
        .await["change"]
            .clone()
    }

    /// A NORMAL change on `items` driven to SCHEDULED in the standard window.
    pub async fn scheduled_change(&self, items: &[&Value]) -> Value {
        let change = self.authorized_change(items).await;
        self.schedule(&change)
            .await
            .unwrap_or_else(|response| panic!("scheduleChange failed: {}", response.text()))
    }

    /// Completes a change in IMPLEMENTING with `outcome` (and notes) as IMPLEMENTER.
    pub async fn complete(&self, change: &Value, outcome: &str) -> Value {
        self.change_action(
            IMPLEMENTER,
            "completeImplementation",
            change,
            ", $outcome: ChangeOutcome!, $notes: String",
            ", outcome: $outcome, notes: $notes",
            json!({ "outcome": outcome, "notes": "what happened" }),
        )
        .await
        .unwrap_or_else(|response| panic!("completeImplementation failed: {}", response.text()))
    }

    /// Rows in the event table: to check that a refused write wrote nothing.
    pub async fn event_count(&self) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM event",
            ))
            .await
            .expect("count runs")
            .expect("one row");
        row.try_get("", "n").expect("a count")
    }
}
