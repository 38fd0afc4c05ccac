//! Incidents (with their SLA clocks and the targets per priority) and problems (with their
//! incidents, CIs and fix changes).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// `MajorIncident` is the column's name.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum Incident {
    Table,
    Id,
    Number,
    Title,
    Description,
    Impact,
    Urgency,
    Priority,
    State,
    Caller,
    AssignmentGroup,
    Assignee,
    CausedByChangeId,
    ProblemId,
    MajorIncident,
    ResolutionCode,
    ResolutionNotes,
    ReopenCount,
    HoldReason,
    OpenedBy,
    OpenedAt,
    RespondedAt,
    ResponseTargetMinutes,
    ResolutionTargetMinutes,
    ResponseDue,
    ResolutionDue,
    OnHoldSince,
    PausedSeconds,
    ResolvedAt,
    ClosedAt,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IncidentAffectedItem {
    Table,
    IncidentId,
    CiId,
}

#[derive(DeriveIden, Clone, Copy)]
enum SlaTarget {
    Table,
    Priority,
    ResponseMinutes,
    ResolutionMinutes,
    Version,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Problem {
    Table,
    Id,
    Number,
    Title,
    Description,
    State,
    RootCause,
    Workaround,
    KnownErrorAt,
    ResolvedAt,
    ResolutionReason,
    ClosedAt,
    CloseReason,
    CreatedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProblemAffectedItem {
    Table,
    ProblemId,
    CiId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProblemFixChange {
    Table,
    ProblemId,
    ChangeId,
    LinkedBy,
    LinkedAt,
}

#[derive(DeriveIden)]
enum ConfigurationItem {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChangeRequest {
    Table,
    Id,
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string().not_null().to_owned()
}

fn text_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn instant(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn instant_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn integer(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().to_owned()
}

fn index(name: &str, table: impl IntoIden, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Problem::Table)
                    .col(text(Problem::Id).primary_key())
                    .col(text(Problem::Number).unique_key())
                    .col(text(Problem::Title))
                    .col(text_null(Problem::Description))
                    .col(text(Problem::State))
                    .col(text_null(Problem::RootCause))
                    .col(text_null(Problem::Workaround))
                    .col(instant_null(Problem::KnownErrorAt))
                    .col(instant_null(Problem::ResolvedAt))
                    .col(text_null(Problem::ResolutionReason))
                    .col(instant_null(Problem::ClosedAt))
                    .col(text_null(Problem::CloseReason))
                    .col(text(Problem::CreatedBy))
                    .col(integer(Problem::Version))
                    .col(instant(Problem::CreatedAt))
                    .col(instant(Problem::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "problem_state_idx",
                Problem::Table,
                &["state", "number"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Incident::Table)
                    .col(text(Incident::Id).primary_key())
                    .col(text(Incident::Number).unique_key())
                    .col(text(Incident::Title))
                    .col(text_null(Incident::Description))
                    .col(text(Incident::Impact))
                    .col(text(Incident::Urgency))
                    .col(text(Incident::Priority))
                    .col(text(Incident::State))
                    .col(ColumnDef::new(Incident::Caller).string().null())
                    .col(ColumnDef::new(Incident::AssignmentGroup).string().null())
                    .col(ColumnDef::new(Incident::Assignee).string().null())
                    .col(ColumnDef::new(Incident::CausedByChangeId).string().null())
                    .col(ColumnDef::new(Incident::ProblemId).string().null())
                    .col(
                        ColumnDef::new(Incident::MajorIncident)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Incident::ResolutionCode).string().null())
                    .col(text_null(Incident::ResolutionNotes))
                    .col(integer(Incident::ReopenCount).default(0))
                    .col(text_null(Incident::HoldReason))
                    .col(text(Incident::OpenedBy))
                    .col(instant(Incident::OpenedAt))
                    .col(instant_null(Incident::RespondedAt))
                    .col(integer(Incident::ResponseTargetMinutes))
                    .col(integer(Incident::ResolutionTargetMinutes))
                    .col(instant(Incident::ResponseDue))
                    .col(instant(Incident::ResolutionDue))
                    .col(instant_null(Incident::OnHoldSince))
                    .col(
                        ColumnDef::new(Incident::PausedSeconds)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(instant_null(Incident::ResolvedAt))
                    .col(instant_null(Incident::ClosedAt))
                    .col(integer(Incident::Version))
                    .col(instant(Incident::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("incident_caused_by_change_fk")
                            .from(Incident::Table, Incident::CausedByChangeId)
                            .to(ChangeRequest::Table, ChangeRequest::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("incident_problem_fk")
                            .from(Incident::Table, Incident::ProblemId)
                            .to(Problem::Table, Problem::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "incident_priority_due_idx",
                &["priority", "resolution_due"][..],
            ),
            ("incident_state_idx", &["state", "number"][..]),
            ("incident_opened_idx", &["opened_at"][..]),
            ("incident_caused_by_idx", &["caused_by_change_id"][..]),
            ("incident_problem_idx", &["problem_id"][..]),
            ("incident_assignee_idx", &["assignee"][..]),
        ] {
            manager
                .create_index(index(name, Incident::Table, columns))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IncidentAffectedItem::Table)
                    .col(text(IncidentAffectedItem::IncidentId))
                    .col(text(IncidentAffectedItem::CiId))
                    .primary_key(
                        Index::create()
                            .col(IncidentAffectedItem::IncidentId)
                            .col(IncidentAffectedItem::CiId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("incident_affected_item_incident_fk")
                            .from(
                                IncidentAffectedItem::Table,
                                IncidentAffectedItem::IncidentId,
                            )
                            .to(Incident::Table, Incident::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("incident_affected_item_ci_fk")
                            .from(IncidentAffectedItem::Table, IncidentAffectedItem::CiId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "incident_affected_item_ci_idx",
                IncidentAffectedItem::Table,
                &["ci_id", "incident_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SlaTarget::Table)
                    .col(text(SlaTarget::Priority).primary_key())
                    .col(integer(SlaTarget::ResponseMinutes))
                    .col(integer(SlaTarget::ResolutionMinutes))
                    .col(integer(SlaTarget::Version))
                    .col(ColumnDef::new(SlaTarget::UpdatedBy).string().null())
                    .col(instant_null(SlaTarget::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The targets the product ships with: response / resolution in minutes.
        let mut defaults = Query::insert();
        defaults.into_table(SlaTarget::Table).columns([
            SlaTarget::Priority,
            SlaTarget::ResponseMinutes,
            SlaTarget::ResolutionMinutes,
            SlaTarget::Version,
        ]);
        for (priority, response, resolution) in [
            ("P1", 15, 4 * 60),
            ("P2", 30, 8 * 60),
            ("P3", 4 * 60, 24 * 60),
            ("P4", 8 * 60, 72 * 60),
            ("P5", 24 * 60, 120 * 60),
        ] {
            defaults.values_panic([
                priority.into(),
                response.into(),
                resolution.into(),
                1.into(),
            ]);
        }
        manager.exec_stmt(defaults).await?;

        manager
            .create_table(
                Table::create()
                    .table(ProblemAffectedItem::Table)
                    .col(text(ProblemAffectedItem::ProblemId))
                    .col(text(ProblemAffectedItem::CiId))
                    .primary_key(
                        Index::create()
                            .col(ProblemAffectedItem::ProblemId)
                            .col(ProblemAffectedItem::CiId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("problem_affected_item_problem_fk")
                            .from(ProblemAffectedItem::Table, ProblemAffectedItem::ProblemId)
                            .to(Problem::Table, Problem::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("problem_affected_item_ci_fk")
                            .from(ProblemAffectedItem::Table, ProblemAffectedItem::CiId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "problem_affected_item_ci_idx",
                ProblemAffectedItem::Table,
                &["ci_id", "problem_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProblemFixChange::Table)
                    .col(text(ProblemFixChange::ProblemId))
                    .col(text(ProblemFixChange::ChangeId))
                    .col(text(ProblemFixChange::LinkedBy))
                    .col(instant(ProblemFixChange::LinkedAt))
                    .primary_key(
                        Index::create()
                            .col(ProblemFixChange::ProblemId)
                            .col(ProblemFixChange::ChangeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("problem_fix_change_problem_fk")
                            .from(ProblemFixChange::Table, ProblemFixChange::ProblemId)
                            .to(Problem::Table, Problem::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("problem_fix_change_change_fk")
                            .from(ProblemFixChange::Table, ProblemFixChange::ChangeId)
                            .to(ChangeRequest::Table, ChangeRequest::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "problem_fix_change_change_idx",
                ProblemFixChange::Table,
                &["change_id", "problem_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProblemFixChange::Table.into_iden(),
            ProblemAffectedItem::Table.into_iden(),
            SlaTarget::Table.into_iden(),
            IncidentAffectedItem::Table.into_iden(),
            Incident::Table.into_iden(),
            Problem::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
