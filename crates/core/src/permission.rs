//! The one table of who may do what. Every domain operation names its [`Permission`] and asks
//! [`crate::Actor::authorize`]; resolvers never decide access themselves.

use crate::actor::Role;

/// An operation, as the domain authorizes it: one entry per mutation or restricted read, so
/// that the whole role × operation matrix is this one table (and `docs/permissions.md`, which
/// is generated from it). Domain issues add their operations here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
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
    /// `change`, `changes`, `changeCalendar`, `changePolicy`, `standardChangeTemplates`,
    /// `freezeWindows`: every change but drafts.
    ReadChanges,
    /// Seeing changes in DRAFT (a CAB member never does).
    ReadDraftChanges,
    /// `createChange`, `createChangeFromTemplate`.
    CreateChange,
    /// `updateChange`, `addChangeAffectedItems`, `removeChangeAffectedItems`.
    UpdateChange,
    /// `submitChange`.
    SubmitChange,
    /// `assessChange`.
    AssessChange,
    /// `authorizeChange`.
    AuthorizeChange,
    /// `referChangeToCab`.
    ReferChangeToCab,
    /// `rejectChange`.
    RejectChange,
    /// `castCabVote`.
    CastCabVote,
    /// `scheduleChange`.
    ScheduleChange,
    /// `startImplementation`, `completeImplementation`.
    ImplementChange,
    /// `recordReview`.
    RecordReview,
    /// `closeChange`.
    CloseChange,
    /// `cancelChange`.
    CancelChange,
    /// `createStandardChangeTemplate`, `retireStandardChangeTemplate`.
    ManageStandardChangeTemplates,
    /// `createFreezeWindow`, `removeFreezeWindow`.
    ManageFreezeWindows,
    /// `updateChangePolicy`.
    UpdateChangePolicy,
    /// `incident`, `incidents`, `slaTargets`, `Change.causedIncidents`,
    /// `ConfigurationItem.incidents`.
    ReadIncidents,
    /// `createIncident`.
    CreateIncident,
    /// `updateIncident`: title, description, impact, urgency, caller, group, CIs.
    UpdateIncident,
    /// `assignIncident`, `acknowledgeIncident`, `putIncidentOnHold`, `resumeIncident`,
    /// `resolveIncident`.
    WorkIncident,
    /// `closeIncident`.
    CloseIncident,
    /// `reopenIncident`.
    ReopenIncident,
    /// `setIncidentCause`: the change that caused the incident.
    LinkIncidentToChange,
    /// `raiseMajorIncident`.
    RaiseMajorIncident,
    /// `lowerMajorIncident`.
    LowerMajorIncident,
    /// `updateSlaTargets`.
    UpdateSlaTargets,
    /// `problem`, `problems`, `knownErrors`, `Change.resolvesProblems`, `Incident.problem`.
    ReadProblems,
    /// `createProblem`.
    CreateProblem,
    /// `recordRootCause`, `recordWorkaround`, `markKnownError`, `linkIncidentsToProblem`,
    /// `unlinkIncidentFromProblem`, `linkFixChange`.
    InvestigateProblem,
    /// `resolveProblem`.
    ResolveProblem,
    /// `closeProblem`.
    CloseProblem,
    /// `cabAgenda`: what the CAB meets about.
    ReadCabAgenda,
    /// `changeKpis`, `incidentKpis`, `problemKpis`.
    ReadKpis,
}

const EVERY_ROLE: &[Role] = &Role::ALL;
const CMDB_WRITERS: &[Role] = &[Role::Engineer, Role::ChangeManager];
const CHANGE_MANAGER: &[Role] = &[Role::ChangeManager];
const NOT_CAB: &[Role] = &[Role::Engineer, Role::ChangeManager, Role::ServiceHead];

impl Permission {
    pub const ALL: [Permission; 43] = [
        Permission::ReadAuditLog,
        Permission::ReadCmdb,
        Permission::CreateConfigurationItem,
        Permission::UpdateConfigurationItem,
        Permission::RetireConfigurationItem,
        Permission::RelateConfigurationItems,
        Permission::RemoveRelationship,
        Permission::ImportConfigurationItems,
        Permission::ReadChanges,
        Permission::ReadDraftChanges,
        Permission::CreateChange,
        Permission::UpdateChange,
        Permission::SubmitChange,
        Permission::AssessChange,
        Permission::AuthorizeChange,
        Permission::ReferChangeToCab,
        Permission::RejectChange,
        Permission::CastCabVote,
        Permission::ScheduleChange,
        Permission::ImplementChange,
        Permission::RecordReview,
        Permission::CloseChange,
        Permission::CancelChange,
        Permission::ManageStandardChangeTemplates,
        Permission::ManageFreezeWindows,
        Permission::UpdateChangePolicy,
        Permission::ReadIncidents,
        Permission::CreateIncident,
        Permission::UpdateIncident,
        Permission::WorkIncident,
        Permission::CloseIncident,
        Permission::ReopenIncident,
        Permission::LinkIncidentToChange,
        Permission::RaiseMajorIncident,
        Permission::LowerMajorIncident,
        Permission::UpdateSlaTargets,
        Permission::ReadProblems,
        Permission::CreateProblem,
        Permission::InvestigateProblem,
        Permission::ResolveProblem,
        Permission::CloseProblem,
        Permission::ReadCabAgenda,
        Permission::ReadKpis,
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
            Permission::ReadChanges => EVERY_ROLE,
            Permission::ReadDraftChanges => NOT_CAB,
            Permission::CreateChange
            | Permission::UpdateChange
            | Permission::SubmitChange
            | Permission::ImplementChange
            | Permission::CancelChange => CMDB_WRITERS,
            Permission::AssessChange
            | Permission::AuthorizeChange
            | Permission::ReferChangeToCab
            | Permission::RejectChange
            | Permission::ScheduleChange
            | Permission::RecordReview
            | Permission::CloseChange
            | Permission::ManageStandardChangeTemplates
            | Permission::ManageFreezeWindows => CHANGE_MANAGER,
            Permission::CastCabVote => &[Role::CabMember, Role::ChangeManager, Role::ServiceHead],
            Permission::UpdateChangePolicy => &[Role::ServiceHead],
            Permission::ReadIncidents | Permission::ReadProblems => EVERY_ROLE,
            Permission::CreateIncident
            | Permission::UpdateIncident
            | Permission::WorkIncident
            | Permission::CloseIncident
            | Permission::ReopenIncident
            | Permission::RaiseMajorIncident => NOT_CAB,
            Permission::LinkIncidentToChange
            | Permission::CreateProblem
            | Permission::InvestigateProblem
            | Permission::ResolveProblem
            | Permission::CloseProblem => CMDB_WRITERS,
            Permission::LowerMajorIncident | Permission::UpdateSlaTargets => &[Role::ServiceHead],
            Permission::ReadCabAgenda => &[Role::ChangeManager, Role::CabMember, Role::ServiceHead],
            Permission::ReadKpis => &[Role::ChangeManager, Role::ServiceHead],
        }
    }

    /// A condition the domain adds for `role`, on top of the role: whose records it may act
    /// on, or which board it votes on. `docs/permissions.md` prints it beside the role.
    pub fn condition(self, role: Role) -> Option<&'static str> {
        match (self, role) {
            (
                Permission::UpdateChange | Permission::SubmitChange | Permission::CancelChange,
                Role::Engineer,
            ) => Some("as requester"),
            (Permission::ImplementChange, Role::Engineer) => Some("as assignee"),
            (Permission::CastCabVote, Role::CabMember) => {
                Some("NORMAL changes (CAB), not their own")
            }
            (Permission::CastCabVote, Role::ChangeManager | Role::ServiceHead) => {
                Some("EMERGENCY changes (ECAB), not their own")
            }
            _ => None,
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
            Permission::ReadChanges => "read changes",
            Permission::ReadDraftChanges => "read draft changes",
            Permission::CreateChange => "create changes",
            Permission::UpdateChange => "update changes",
            Permission::SubmitChange => "submit changes",
            Permission::AssessChange => "assess changes",
            Permission::AuthorizeChange => "authorize changes",
            Permission::ReferChangeToCab => "refer changes to the CAB",
            Permission::RejectChange => "reject changes",
            Permission::CastCabVote => "vote on changes",
            Permission::ScheduleChange => "schedule changes",
            Permission::ImplementChange => "implement changes",
            Permission::RecordReview => "record post-implementation reviews",
            Permission::CloseChange => "close changes",
            Permission::CancelChange => "cancel changes",
            Permission::ManageStandardChangeTemplates => "manage standard change templates",
            Permission::ManageFreezeWindows => "manage freeze windows",
            Permission::UpdateChangePolicy => "change the change policy",
            Permission::ReadIncidents => "read incidents",
            Permission::CreateIncident => "log incidents",
            Permission::UpdateIncident => "update incidents",
            Permission::WorkIncident => "work incidents",
            Permission::CloseIncident => "close incidents",
            Permission::ReopenIncident => "reopen incidents",
            Permission::LinkIncidentToChange => "link incidents to the changes that caused them",
            Permission::RaiseMajorIncident => "raise major incidents",
            Permission::LowerMajorIncident => "lower major incidents",
            Permission::UpdateSlaTargets => "change SLA targets",
            Permission::ReadProblems => "read problems",
            Permission::CreateProblem => "create problems",
            Permission::InvestigateProblem => "investigate problems",
            Permission::ResolveProblem => "resolve problems",
            Permission::CloseProblem => "close problems",
            Permission::ReadCabAgenda => "read the CAB agenda",
            Permission::ReadKpis => "read KPIs",
        }
    }

    /// The API operations this permission guards, as `docs/permissions.md` lists them.
    pub fn operations(self) -> &'static str {
        match self {
            Permission::ReadAuditLog => "`auditEvents`",
            Permission::ReadCmdb => {
                "`configurationItem`, `configurationItems` (with relationships, impact, dependencies, history), `node`"
            }
            Permission::CreateConfigurationItem => "`createConfigurationItem`",
            Permission::UpdateConfigurationItem => "`updateConfigurationItem`",
            Permission::RetireConfigurationItem => "`retireConfigurationItem`",
            Permission::RelateConfigurationItems => "`relateConfigurationItems`",
            Permission::RemoveRelationship => "`removeRelationship`",
            Permission::ImportConfigurationItems => "`importConfigurationItems`, `quorum import`",
            Permission::ReadChanges => {
                "`change`, `changes`, `changeCalendar`, `changePolicy`, `standardChangeTemplates`, `freezeWindows`, `ConfigurationItem.changes`, `node`"
            }
            Permission::ReadDraftChanges => "changes in DRAFT, in every read above",
            Permission::CreateChange => "`createChange`, `createChangeFromTemplate`",
            Permission::UpdateChange => {
                "`updateChange`, `addChangeAffectedItems`, `removeChangeAffectedItems`"
            }
            Permission::SubmitChange => "`submitChange`",
            Permission::AssessChange => "`assessChange`",
            Permission::AuthorizeChange => "`authorizeChange`",
            Permission::ReferChangeToCab => "`referChangeToCab`",
            Permission::RejectChange => "`rejectChange`",
            Permission::CastCabVote => "`castCabVote`",
            Permission::ScheduleChange => "`scheduleChange`",
            Permission::ImplementChange => "`startImplementation`, `completeImplementation`",
            Permission::RecordReview => "`recordReview`",
            Permission::CloseChange => "`closeChange`",
            Permission::CancelChange => "`cancelChange`",
            Permission::ManageStandardChangeTemplates => {
                "`createStandardChangeTemplate`, `retireStandardChangeTemplate`"
            }
            Permission::ManageFreezeWindows => "`createFreezeWindow`, `removeFreezeWindow`",
            Permission::UpdateChangePolicy => "`updateChangePolicy`",
            Permission::ReadIncidents => {
                "`incident`, `incidents`, `slaTargets`, `Change.causedIncidents`, `ConfigurationItem.incidents`, `node`"
            }
            Permission::CreateIncident => "`createIncident`",
            Permission::UpdateIncident => "`updateIncident`",
            Permission::WorkIncident => {
                "`assignIncident`, `acknowledgeIncident`, `putIncidentOnHold`, `resumeIncident`, `resolveIncident`"
            }
            Permission::CloseIncident => "`closeIncident`",
            Permission::ReopenIncident => "`reopenIncident`",
            Permission::LinkIncidentToChange => "`setIncidentCause`",
            Permission::RaiseMajorIncident => "`raiseMajorIncident`",
            Permission::LowerMajorIncident => "`lowerMajorIncident`",
            Permission::UpdateSlaTargets => "`updateSlaTargets`",
            Permission::ReadProblems => {
                "`problem`, `problems`, `knownErrors`, `Change.resolvesProblems`, `Incident.problem`, `node`"
            }
            Permission::CreateProblem => "`createProblem`",
            Permission::InvestigateProblem => {
                "`recordRootCause`, `recordWorkaround`, `markKnownError`, `linkIncidentsToProblem`, `unlinkIncidentFromProblem`, `linkFixChange`"
            }
            Permission::ResolveProblem => "`resolveProblem`",
            Permission::CloseProblem => "`closeProblem`",
            Permission::ReadCabAgenda => "`cabAgenda`",
            Permission::ReadKpis => "`changeKpis`, `incidentKpis`, `problemKpis`",
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
                match (allowed, permission.condition(role)) {
                    (false, _) => text.push_str(" | —"),
                    (true, None) => text.push_str(" | yes"),
                    (true, Some(condition)) => {
                        text.push_str(" | yes, ");
                        text.push_str(condition);
                    }
                }
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
