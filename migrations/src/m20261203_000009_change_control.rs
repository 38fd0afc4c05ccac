//! Change control without holes (issue "Change control without holes"): the policy says
//! whether a change's requester may also authorize it, vote on it and review it (separation of
//! duties, off by default), and how long a change window may be.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangePolicy {
    Table,
    RequesterMayAuthorize,
    MaxWindowHours,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(ChangePolicy::Table)
                    .add_column(
                        ColumnDef::new(ChangePolicy::RequesterMayAuthorize)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ChangePolicy::Table)
                    .add_column(
                        ColumnDef::new(ChangePolicy::MaxWindowHours)
                            .integer()
                            .not_null()
                            .default(168),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ChangePolicy::RequesterMayAuthorize,
            ChangePolicy::MaxWindowHours,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ChangePolicy::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
