//! `incident_affected_item`: the CIs an incident hits.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_affected_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub incident_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ci_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "quorum_cmdb::entity::configuration_item::Entity",
        from = "Column::CiId",
        to = "quorum_cmdb::entity::configuration_item::Column::Id"
    )]
    ConfigurationItem,
}

impl Related<quorum_cmdb::entity::configuration_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ConfigurationItem.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
