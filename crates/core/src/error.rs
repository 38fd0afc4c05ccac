//! The error every domain operation returns. It knows nothing of GraphQL; the api crate maps
//! each variant to an `extensions.code`.

use crate::permission::Permission;

pub type DomainResult<T> = Result<T, DomainError>;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The actor's roles do not grant the operation.
    #[error("you are not allowed to {}", permission.name())]
    Forbidden { permission: Permission },

    /// The role grants the operation, but not on this record (an engineer acting on someone
    /// else's change, a member voting on their own).
    #[error("{message}")]
    Refused { message: String },

    /// No record of this kind with this id or number (or the actor may not see it).
    #[error("{entity} `{id}` was not found")]
    NotFound { entity: &'static str, id: String },

    /// The input is invalid; `field` is the input path of the offending value.
    #[error("{message}")]
    BadInput { field: String, message: String },

    /// Several rows of a bulk input are invalid; nothing was written.
    #[error("{message}")]
    BadRows {
        message: String,
        rows: Vec<RowError>,
    },

    /// The write names a `version` the record is no longer at, or lost the race to write it:
    /// reload and retry. `current_version`, when known, is the version the record is at.
    #[error("{message}")]
    Stale {
        message: String,
        current_version: Option<i32>,
    },

    /// The write collides with another record (a duplicate, a link that exists).
    #[error("{message}")]
    Conflict { message: String },

    /// The operation collides with other records, listed in `details` for the client (e.g. a
    /// change window that conflicts with other changes).
    #[error("{message}")]
    ConflictWith {
        message: String,
        details: serde_json::Value,
    },

    /// The record's state does not allow this operation.
    #[error("{message}")]
    InvalidTransition { message: String },

    /// A failure that is not the caller's fault. The message never reaches the client.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),

    /// Any other internal failure. The message never reaches the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        DomainError::NotFound {
            entity,
            id: id.into(),
        }
    }

    /// `record` is at `current`, not at the `given` version the caller read.
    pub fn stale_version(record: &str, current: i32, given: i32) -> Self {
        DomainError::Stale {
            message: format!(
                "{record} is at version {current}, not {given}: it changed since you read it; \
                 reload and retry"
            ),
            current_version: Some(current),
        }
    }

    /// `record` was written by someone else between this write's read and its write.
    pub fn lost_race(record: &str) -> Self {
        DomainError::Stale {
            message: format!("{record} changed while you were writing it; reload and retry"),
            current_version: None,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict {
            message: message.into(),
        }
    }
}

/// What is wrong with one row of a bulk input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// Which list the row is in, e.g. `items` or `relationships`.
    pub section: String,
    /// The row's position in its list, counted from 1.
    pub row: usize,
    /// The row's field at fault.
    pub field: String,
    pub message: String,
}

/// Whether `error` is the database refusing a duplicate key.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

impl From<sea_orm::TransactionError<DomainError>> for DomainError {
    fn from(error: sea_orm::TransactionError<DomainError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(db) => DomainError::Database(db),
            sea_orm::TransactionError::Transaction(domain) => domain,
        }
    }
}

/// Why an action is not open to a viewer now, for clients to switch on beside the sentence
/// `availableTransitions` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "TransitionBlock", rename_items = "SCREAMING_SNAKE_CASE")]
pub enum TransitionBlock {
    /// The viewer's roles do not grant it (FORBIDDEN).
    Role,
    /// The role grants it, but not to this person on this record: only the requester or the
    /// assignee, the other board, never one's own change (FORBIDDEN).
    Person,
    /// The record's state does not allow it (INVALID_TRANSITION).
    State,
    /// The state allows it, but something it needs is missing: an assessment, plans, a review,
    /// a risk under the CAB threshold (INVALID_TRANSITION).
    Prerequisite,
}

impl TransitionBlock {
    /// What a refusal says about why, when it is a refusal of a transition at all; a refusal
    /// for the record's state counts as `State` unless the caller knows better.
    pub fn of(error: &DomainError) -> Option<Self> {
        match error {
            DomainError::Forbidden { .. } => Some(TransitionBlock::Role),
            DomainError::Refused { .. } => Some(TransitionBlock::Person),
            DomainError::InvalidTransition { .. } => Some(TransitionBlock::State),
            _ => None,
        }
    }
}
