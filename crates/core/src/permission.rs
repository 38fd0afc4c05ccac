//! The one table of who may do what. Every domain operation names its [`Permission`] and asks
//! [`crate::Actor::authorize`]; resolvers never decide access themselves.

use crate::actor::Role;

/// An operation that not every role may perform. Domain issues add their operations here, so
/// that the whole role × operation matrix stays in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read the audit log (the event table) across all records.
    ReadAuditLog,
    /// Read configuration items, their relationships, impact and history.
    ReadCmdb,
    /// Create, update and retire configuration items.
    ManageConfigurationItems,
    /// Relate configuration items and remove relationships.
    ManageRelationships,
    /// Import configuration items and relationships in bulk.
    ImportConfigurationItems,
}

const EVERY_ROLE: &[Role] = &Role::ALL;
const CMDB_WRITERS: &[Role] = &[Role::Engineer, Role::ChangeManager];

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::ReadAuditLog,
        Permission::ReadCmdb,
        Permission::ManageConfigurationItems,
        Permission::ManageRelationships,
        Permission::ImportConfigurationItems,
    ];

    /// The roles granted this permission.
    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Permission::ReadAuditLog => &[Role::ChangeManager, Role::ServiceHead],
            Permission::ReadCmdb => EVERY_ROLE,
            Permission::ManageConfigurationItems
            | Permission::ManageRelationships
            | Permission::ImportConfigurationItems => CMDB_WRITERS,
        }
    }

    /// A stable, human-readable name used in error messages and generated docs.
    pub fn name(self) -> &'static str {
        match self {
            Permission::ReadAuditLog => "read the audit log",
            Permission::ReadCmdb => "read the CMDB",
            Permission::ManageConfigurationItems => "create, update or retire configuration items",
            Permission::ManageRelationships => "relate configuration items or remove relationships",
            Permission::ImportConfigurationItems => "import configuration items",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Actor;

    #[test]
    fn an_engineer_may_not_read_the_audit_log_but_a_service_head_may() {
        let engineer = Actor::new("eve", [Role::Engineer]);
        let head = Actor::new("hana", [Role::ServiceHead]);
        assert!(engineer.authorize(Permission::ReadAuditLog).is_err());
        assert!(head.authorize(Permission::ReadAuditLog).is_ok());
    }

    #[test]
    fn an_actor_with_no_known_role_is_refused_everything() {
        let nobody = Actor::new("nobody", []);
        for permission in Permission::ALL {
            assert!(!nobody.can(permission), "{permission:?}");
        }
    }
}
