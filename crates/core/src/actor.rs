//! The authenticated caller of a domain operation.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::DomainError;
use crate::permission::Permission;

/// A Quorum role, as carried in the bearer token's roles claim (the value is the role's name).
/// Claim values that are not Quorum roles are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Service desk, technicians and implementers.
    Engineer,
    /// The IT change manager.
    ChangeManager,
    /// A member of the change advisory board.
    CabMember,
    /// The head of IT service management.
    ServiceHead,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Engineer,
        Role::ChangeManager,
        Role::CabMember,
        Role::ServiceHead,
    ];

    /// The value of this role in a token's roles claim.
    pub fn as_claim(self) -> &'static str {
        match self {
            Role::Engineer => "ENGINEER",
            Role::ChangeManager => "CHANGE_MANAGER",
            Role::CabMember => "CAB_MEMBER",
            Role::ServiceHead => "SERVICE_HEAD",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_claim())
    }
}

/// The claim value was not one of the four Quorum roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of ENGINEER, CHANGE_MANAGER, CAB_MEMBER, SERVICE_HEAD")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_claim() == value)
            .ok_or_else(|| UnknownRole(value.to_owned()))
    }
}

/// Who is calling: the token's subject and the Quorum roles it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    subject: String,
    roles: BTreeSet<Role>,
}

impl Actor {
    pub fn new(subject: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        Self {
            subject: subject.into(),
            roles: roles.into_iter().collect(),
        }
    }

    /// Builds an actor from raw claim values, keeping the known roles and ignoring the rest:
    /// identity providers put many unrelated roles in the same claim.
    pub fn from_claims<'a>(
        subject: impl Into<String>,
        role_claims: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::new(
            subject,
            role_claims
                .into_iter()
                .filter_map(|value| value.parse().ok()),
        )
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn roles(&self) -> impl ExactSizeIterator<Item = Role> + '_ {
        self.roles.iter().copied()
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether any of this actor's roles grants `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        permission
            .allowed_roles()
            .iter()
            .any(|role| self.has_role(*role))
    }

    /// Refuses with [`DomainError::Forbidden`] unless one of the actor's roles grants
    /// `permission`. Every domain operation calls this before it touches data.
    pub fn authorize(&self, permission: Permission) -> Result<(), DomainError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(DomainError::Forbidden { permission })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_role_claims_are_ignored_not_errors() {
        let actor = Actor::from_claims("ada", ["offline_access", "CAB_MEMBER", "engineer"]);
        assert_eq!(actor.roles().collect::<Vec<_>>(), vec![Role::CabMember]);
    }

    #[test]
    fn every_role_round_trips_through_its_claim_value() {
        for role in Role::ALL {
            assert_eq!(role.as_claim().parse::<Role>(), Ok(role));
        }
    }
}
