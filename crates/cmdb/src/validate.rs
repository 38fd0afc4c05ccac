//! Checks on the fields of a configuration item, shared by create, update and import. Each
//! failure names the input field at fault.

use quorum_core::{DomainError, DomainResult};
use serde_json::Value as Json;

use crate::entity::{CiClass, CiStatus, Environment};

const MAX_NAME_CHARS: usize = 200;
const MAX_TEAM_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 10_000;
const MAX_ATTRIBUTES_BYTES: usize = 64 * 1024;

/// The fields a writer sets on a configuration item, before they are checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemFields {
    pub class: CiClass,
    pub name: String,
    pub status: CiStatus,
    pub environment: Environment,
    pub criticality: i32,
    pub owner_team: Option<String>,
    pub description: Option<String>,
    pub attributes: Json,
}

impl ItemFields {
    /// The fields trimmed and checked; `prefix` is the input path the fields sit under
    /// (`input` gives `input.name`). A writer may never set RETIRED: retiring is its own
    /// operation.
    pub(crate) fn validated(self, prefix: &str) -> DomainResult<ItemFields> {
        let field = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            }
        };
        if self.status == CiStatus::Retired {
            return Err(DomainError::bad_input(
                field("status"),
                "status RETIRED is set by retiring the configuration item, not by writing it",
            ));
        }
        Ok(ItemFields {
            class: self.class,
            name: name(&field("name"), &self.name)?,
            status: self.status,
            environment: self.environment,
            criticality: criticality(&field("criticality"), self.criticality)?,
            owner_team: optional_text(&field("ownerTeam"), self.owner_team, MAX_TEAM_CHARS)?,
            description: optional_text(
                &field("description"),
                self.description,
                MAX_DESCRIPTION_CHARS,
            )?,
            attributes: attributes(&field("attributes"), self.attributes)?,
        })
    }
}

/// The key names are unique by: the name, lower-cased.
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn name(field: &str, raw: &str) -> DomainResult<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::bad_input(field, "name must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::bad_input(
            field,
            format!("name must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::bad_input(
            field,
            "name must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

fn criticality(field: &str, value: i32) -> DomainResult<i32> {
    if (1..=4).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::bad_input(
            field,
            format!("criticality must be 1 (most critical) to 4, not {value}"),
        ))
    }
}

fn optional_text(
    field: &str,
    value: Option<String>,
    max_chars: usize,
) -> DomainResult<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(DomainError::bad_input(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

fn attributes(field: &str, value: Json) -> DomainResult<Json> {
    match &value {
        Json::Object(_) => {
            let size = value.to_string().len();
            if size > MAX_ATTRIBUTES_BYTES {
                return Err(DomainError::bad_input(
                    field,
                    format!(
                        "attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON, not {size}"
                    ),
                ));
            }
            Ok(value)
        }
        Json::Null => Ok(Json::Object(Default::default())),
        _ => Err(DomainError::bad_input(
            field,
            "attributes must be a JSON object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> ItemFields {
        ItemFields {
            class: CiClass::Database,
            name: "  payments-db  ".into(),
            status: CiStatus::InService,
            environment: Environment::Production,
            criticality: 1,
            owner_team: Some(" ".into()),
            description: None,
            attributes: Json::Null,
        }
    }

    fn field_of(result: DomainResult<ItemFields>) -> String {
        match result {
            Err(DomainError::BadInput { field, .. }) => field,
            other => panic!("expected BadInput, got {other:?}"),
        }
    }

    #[test]
    fn names_are_trimmed_blank_teams_dropped_and_null_attributes_become_an_object() {
        let valid = fields().validated("input").unwrap();
        assert_eq!(valid.name, "payments-db");
        assert_eq!(valid.owner_team, None);
        assert_eq!(valid.attributes, json!({}));
    }

    #[test]
    fn an_empty_name_is_rejected_on_the_name_field() {
        let mut input = fields();
        input.name = "   ".into();
        assert_eq!(field_of(input.validated("input")), "input.name");
    }

    #[test]
    fn a_name_longer_than_200_chars_is_rejected() {
        let mut input = fields();
        input.name = "x".repeat(201);
        assert_eq!(field_of(input.validated("input")), "input.name");
    }

    #[test]
    fn criticality_outside_one_to_four_is_rejected() {
        for value in [0, 5, -1] {
            let mut input = fields();
            input.criticality = value;
            assert_eq!(field_of(input.validated("input")), "input.criticality");
        }
    }

    #[test]
    fn attributes_that_are_not_an_object_are_rejected() {
        for value in [json!([1, 2]), json!("text"), json!(3)] {
            let mut input = fields();
            input.attributes = value;
            assert_eq!(field_of(input.validated("input")), "input.attributes");
        }
    }

    #[test]
    fn a_writer_cannot_set_retired() {
        let mut input = fields();
        input.status = CiStatus::Retired;
        assert_eq!(field_of(input.validated("")), "status");
    }

    #[test]
    fn name_keys_ignore_case() {
        assert_eq!(name_key("Payments-DB"), name_key("payments-db"));
    }
}
