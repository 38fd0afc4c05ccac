//! The one table of who may do what. Every domain operation names its [`Permission`] and asks
//! [`crate::Actor::authorize`]; resolvers never decide access themselves.

use crate::actor::Role;

/// An operation, as the domain authorizes it: one entry per mutation or restricted read, so
/// that the whole role × operation matrix is this one table (and `docs/permissions.md`, which
/// is generated from it). Domain issues add their operations here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// `auditEvents`: the event table across all records.
    ReadAuditLog,
    /// `configurationItem(s)` with relationships, impact, dependencies and history.
    ReadCmdb,
    /// `createConfigurationItem`.
    CreateConfigurationItem,
    /// `updateConfigurationItem`.
    UpdateConfigurationItem,
    /// `retireConfigurationItem`.
    RetireConfigurationItem,
    /// `relateConfigurationItems`.
    RelateConfigurationItems,
    /// `removeRelationship`.
    RemoveRelationship,
    /// `importConfigurationItems` and `quorum import`.
    ImportConfigurationItems,
}

const EVERY_ROLE: &[Role] = &Role::ALL;
const CMDB_WRITERS: &[Role] = &[Role::Engineer, Role::ChangeManager];

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::ReadAuditLog,
        Permission::ReadCmdb,
        Permission::CreateConfigurationItem,
        Permission::UpdateConfigurationItem,
        Permission::RetireConfigurationItem,
        Permission::RelateConfigurationItems,
        Permission::RemoveRelationship,
        Permission::ImportConfigurationItems,
    ];

    /// The roles granted this permission.
    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Permission::ReadAuditLog => &[Role::ChangeManager, Role::ServiceHead],
            Permission::ReadCmdb => EVERY_ROLE,
            Permission::CreateConfigurationItem
            | Permission::UpdateConfigurationItem
            | Permission::RetireConfigurationItem
            | Permission::RelateConfigurationItems
            | Permission::RemoveRelationship
            | Permission::ImportConfigurationItems => CMDB_WRITERS,
        }
    }

    /// What the permission allows, as the end of "you are not allowed to …".
    pub fn name(self) -> &'static str {
        match self {
            Permission::ReadAuditLog => "read the audit log",
            Permission::ReadCmdb => "read the CMDB",
            Permission::CreateConfigurationItem => "create configuration items",
            Permission::UpdateConfigurationItem => "update configuration items",
            Permission::RetireConfigurationItem => "retire configuration items",
            Permission::RelateConfigurationItems => "relate configuration items",
            Permission::RemoveRelationship => "remove relationships",
            Permission::ImportConfigurationItems => "import configuration items",
        }
    }

    /// The API operations this permission guards, as `docs/permissions.md` lists them.
    pub fn operations(self) -> &'static str {
        match self {
            Permission::ReadAuditLog => "`auditEvents`",
            Permission::ReadCmdb => {
                "`configurationItem`, `configurationItems` (with relationships, impact, dependencies, history)"
            }
            Permission::CreateConfigurationItem => "`createConfigurationItem`",
            Permission::UpdateConfigurationItem => "`updateConfigurationItem`",
            Permission::RetireConfigurationItem => "`retireConfigurationItem`",
            Permission::RelateConfigurationItems => "`relateConfigurationItems`",
            Permission::RemoveRelationship => "`removeRelationship`",
            Permission::ImportConfigurationItems => "`importConfigurationItems`, `quorum import`",
        }
    }

    /// The role × operation matrix as Markdown: the body of `docs/permissions.md`.
    pub fn matrix_markdown() -> String {
        let mut text = String::from(
            "# Permissions\n\n\
             Generated from `quorum_core::Permission` (crates/core/src/permission.rs), the one \
             table the domain authorizes every operation with; a test fails when this file \
             differs. Every data field also needs a valid bearer token.\n\n\
             | operation | ENGINEER | CHANGE_MANAGER | CAB_MEMBER | SERVICE_HEAD |\n\
             |---|---|---|---|---|\n",
        );
        for permission in Permission::ALL {
            text.push_str("| ");
            text.push_str(permission.operations());
            for role in Role::ALL {
                let allowed = permission.allowed_roles().contains(&role);
                text.push_str(if allowed { " | yes" } else { " | —" });
            }
            text.push_str(" |\n");
        }
        text
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
