//! Change enablement: change requests, their affected CIs, CAB votes, standard-change
//! templates, freeze windows and the one change policy.
//!
//! Ids are text (UUIDv7), as in the CMDB, so they compare with the event table's `entity_id`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ChangeRequest {
    Table,
    Id,
    Number,
    ChangeType,
    State,
    Title,
    Description,
    Justification,
    ImplementationPlan,
    BackoutPlan,
    TestPlan,
    RequestedBy,
    Assignee,
    TemplateId,
    PlannedStart,
    PlannedEnd,
    ActualStart,
    ActualEnd,
    StartedOutsideWindow,
    Outcome,
    CompletionNotes,
    Review,
    Risk,
    RiskScore,
    RiskLevel,
    ScheduleOverrideReason,
    SubmittedAt,
    ReferredAt,
    DecidedAt,
    CompletedAt,
    ClosedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangeAffectedItem {
    Table,
    ChangeId,
    CiId,
}

#[derive(DeriveIden, Clone, Copy)]
enum CabVote {
    Table,
    ChangeId,
    Voter,
    Board,
    Decision,
    Comment,
    CastAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StandardChangeTemplate {
    Table,
    Id,
    Name,
    Description,
    ImplementationPlan,
    BackoutPlan,
    TestPlan,
    Active,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FreezeWindow {
    Table,
    Id,
    Name,
    StartsAt,
    EndsAt,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FreezeWindowItem {
    Table,
    WindowId,
    CiId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChangePolicy {
    Table,
    Id,
    CabQuorum,
    RejectVetoes,
    CabThreshold,
    EcabQuorum,
    ConflictDepth,
    Version,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConfigurationItem {
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
                    .table(ChangeRequest::Table)
                    .col(text(ChangeRequest::Id).primary_key())
                    .col(text(ChangeRequest::Number).unique_key())
                    .col(text(ChangeRequest::ChangeType))
                    .col(text(ChangeRequest::State))
                    .col(text(ChangeRequest::Title))
                    .col(text_null(ChangeRequest::Description))
                    .col(text_null(ChangeRequest::Justification))
                    .col(text_null(ChangeRequest::ImplementationPlan))
                    .col(text_null(ChangeRequest::BackoutPlan))
                    .col(text_null(ChangeRequest::TestPlan))
                    .col(text(ChangeRequest::RequestedBy))
                    .col(ColumnDef::new(ChangeRequest::Assignee).string().null())
                    .col(ColumnDef::new(ChangeRequest::TemplateId).string().null())
                    .col(instant_null(ChangeRequest::PlannedStart))
                    .col(instant_null(ChangeRequest::PlannedEnd))
                    .col(instant_null(ChangeRequest::ActualStart))
                    .col(instant_null(ChangeRequest::ActualEnd))
                    .col(
                        ColumnDef::new(ChangeRequest::StartedOutsideWindow)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(ChangeRequest::Outcome).string().null())
                    .col(text_null(ChangeRequest::CompletionNotes))
                    .col(ColumnDef::new(ChangeRequest::Review).json().null())
                    .col(ColumnDef::new(ChangeRequest::Risk).json().null())
                    .col(ColumnDef::new(ChangeRequest::RiskScore).integer().null())
                    .col(ColumnDef::new(ChangeRequest::RiskLevel).string().null())
                    .col(text_null(ChangeRequest::ScheduleOverrideReason))
                    .col(instant_null(ChangeRequest::SubmittedAt))
                    .col(instant_null(ChangeRequest::ReferredAt))
                    .col(instant_null(ChangeRequest::DecidedAt))
                    .col(instant_null(ChangeRequest::CompletedAt))
                    .col(instant_null(ChangeRequest::ClosedAt))
                    .col(ColumnDef::new(ChangeRequest::Version).integer().not_null())
                    .col(instant(ChangeRequest::CreatedAt))
                    .col(instant(ChangeRequest::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Conflict checks and the calendar read in-flight changes by state and window.
        for (name, columns) in [
            (
                "change_request_state_window_idx",
                &["state", "planned_start", "planned_end"][..],
            ),
            ("change_request_updated_idx", &["updated_at", "id"][..]),
            ("change_request_requested_by_idx", &["requested_by"][..]),
            ("change_request_assignee_idx", &["assignee"][..]),
            ("change_request_completed_idx", &["completed_at"][..]),
        ] {
            manager
                .create_index(index(name, ChangeRequest::Table, columns))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ChangeAffectedItem::Table)
                    .col(text(ChangeAffectedItem::ChangeId))
                    .col(text(ChangeAffectedItem::CiId))
                    .primary_key(
                        Index::create()
                            .col(ChangeAffectedItem::ChangeId)
                            .col(ChangeAffectedItem::CiId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("change_affected_item_change_fk")
                            .from(ChangeAffectedItem::Table, ChangeAffectedItem::ChangeId)
                            .to(ChangeRequest::Table, ChangeRequest::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("change_affected_item_ci_fk")
                            .from(ChangeAffectedItem::Table, ChangeAffectedItem::CiId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "change_affected_item_ci_idx",
                ChangeAffectedItem::Table,
                &["ci_id", "change_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CabVote::Table)
                    .col(text(CabVote::ChangeId))
                    .col(text(CabVote::Voter))
                    .col(text(CabVote::Board))
                    .col(text(CabVote::Decision))
                    .col(text_null(CabVote::Comment))
                    .col(instant(CabVote::CastAt))
                    .primary_key(Index::create().col(CabVote::ChangeId).col(CabVote::Voter))
                    .foreign_key(
                        ForeignKey::create()
                            .name("cab_vote_change_fk")
                            .from(CabVote::Table, CabVote::ChangeId)
                            .to(ChangeRequest::Table, ChangeRequest::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StandardChangeTemplate::Table)
                    .col(text(StandardChangeTemplate::Id).primary_key())
                    .col(text(StandardChangeTemplate::Name))
                    .col(text_null(StandardChangeTemplate::Description))
                    .col(text_null(StandardChangeTemplate::ImplementationPlan))
                    .col(text_null(StandardChangeTemplate::BackoutPlan))
                    .col(text_null(StandardChangeTemplate::TestPlan))
                    .col(
                        ColumnDef::new(StandardChangeTemplate::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StandardChangeTemplate::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(text(StandardChangeTemplate::CreatedBy))
                    .col(instant(StandardChangeTemplate::CreatedAt))
                    .col(instant(StandardChangeTemplate::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FreezeWindow::Table)
                    .col(text(FreezeWindow::Id).primary_key())
                    .col(text(FreezeWindow::Name))
                    .col(instant(FreezeWindow::StartsAt))
                    .col(instant(FreezeWindow::EndsAt))
                    .col(text_null(FreezeWindow::Reason))
                    .col(text(FreezeWindow::CreatedBy))
                    .col(instant(FreezeWindow::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "freeze_window_span_idx",
                FreezeWindow::Table,
                &["starts_at", "ends_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FreezeWindowItem::Table)
                    .col(text(FreezeWindowItem::WindowId))
                    .col(text(FreezeWindowItem::CiId))
                    .primary_key(
                        Index::create()
                            .col(FreezeWindowItem::WindowId)
                            .col(FreezeWindowItem::CiId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("freeze_window_item_window_fk")
                            .from(FreezeWindowItem::Table, FreezeWindowItem::WindowId)
                            .to(FreezeWindow::Table, FreezeWindow::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("freeze_window_item_ci_fk")
                            .from(FreezeWindowItem::Table, FreezeWindowItem::CiId)
                            .to(ConfigurationItem::Table, ConfigurationItem::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChangePolicy::Table)
                    .col(
                        ColumnDef::new(ChangePolicy::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ChangePolicy::CabQuorum).integer().not_null())
                    .col(
                        ColumnDef::new(ChangePolicy::RejectVetoes)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(ChangePolicy::CabThreshold))
                    .col(
                        ColumnDef::new(ChangePolicy::EcabQuorum)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ChangePolicy::ConflictDepth)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ChangePolicy::Version).integer().not_null())
                    .col(ColumnDef::new(ChangePolicy::UpdatedBy).string().null())
                    .col(instant_null(ChangePolicy::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The one policy row, with the defaults the product ships with.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ChangePolicy::Table)
                    .columns([
                        ChangePolicy::Id,
                        ChangePolicy::CabQuorum,
                        ChangePolicy::RejectVetoes,
                        ChangePolicy::CabThreshold,
                        ChangePolicy::EcabQuorum,
                        ChangePolicy::ConflictDepth,
                        ChangePolicy::Version,
                    ])
                    .values_panic([
                        1.into(),
                        2.into(),
                        true.into(),
                        "HIGH".into(),
                        1.into(),
                        3.into(),
                        1.into(),
                    ])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ChangePolicy::Table.into_iden(),
            FreezeWindowItem::Table.into_iden(),
            FreezeWindow::Table.into_iden(),
            StandardChangeTemplate::Table.into_iden(),
            CabVote::Table.into_iden(),
            ChangeAffectedItem::Table.into_iden(),
            ChangeRequest::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
