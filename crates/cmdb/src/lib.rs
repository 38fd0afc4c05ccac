//! Configuration management: configuration items (CIs), their typed and directed
//! relationships, impact and dependency walks, history (any past instant can be read back) and
//! bulk import.
//!
//! Every operation takes the caller's [`quorum_core::Actor`] and checks its permission first;
//! every write runs in one transaction that also appends its event.

pub mod entity;
mod import;
mod item;
mod relationship;
pub mod snapshot;
mod validate;
mod walk;

pub use entity::configuration_item::Model as ConfigurationItem;
pub use entity::relationship::Model as Relationship;
pub use entity::{CiClass, CiStatus, Environment, RelationshipType};
pub use import::{
    ImportInput, ImportItem, ImportRelationship, ImportSummary, import_configuration_items,
};
pub use item::{
    CiFilter, CiOrder, CiOrderField, ConfigurationItemChanges, NewConfigurationItem, SortDirection,
    create_configuration_item, find_configuration_item, find_configuration_item_as_of,
    find_configuration_items, find_configuration_items_as_of, history, is_empty,
    linked_configuration_items, list_configuration_items, live_configuration_items,
    retire_configuration_item, update_configuration_item,
};
pub use relationship::{
    NewRelationship, RelationshipDirection, relate_configuration_items, relationships_of,
    remove_relationship,
};
pub use walk::{
    MAX_WALK_DEPTH, MultiWalk, Reach, Reached, Walk, WalkDirection, paths_between, reach_from,
    walk, walk_from,
};

/// The `entity_kind` of CI events.
pub const CI_EVENT_KIND: &str = quorum_core::event::EntityKind::ConfigurationItem.as_str();
/// The `entity_kind` of relationship events.
pub const RELATIONSHIP_EVENT_KIND: &str =
    quorum_core::event::EntityKind::ConfigurationItemRelationship.as_str();
/// Prefix of CI numbers: `CI0000001`.
pub const CI_NUMBER_PREFIX: &str = "CI";
pub use item::CiKey;
pub use snapshot::{ConfigurationItemSnapshot, RelationshipSnapshot};
