//! The relationships of configuration items (both ends), now or at a past instant.

use std::collections::HashMap;
use std::sync::Arc;

use super::Load;
use chrono::{DateTime, Utc};
use quorum_cmdb::Relationship;
use quorum_core::{Actor, DomainError};
use sea_orm::DatabaseConnection;

/// The relationships touching CI `id`, live now (`as_of` none) or at `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelationshipsOf {
    pub id: String,
    pub as_of: Option<DateTime<Utc>>,
}

pub struct RelationshipsLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl RelationshipsLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

impl Load for RelationshipsLoader {
    type Key = RelationshipsOf;
    type Value = Vec<Relationship>;
    type Error = Arc<DomainError>;

    async fn load(
        &self,
        keys: &[RelationshipsOf],
    ) -> Result<HashMap<RelationshipsOf, Self::Value>, Self::Error> {
        let by_instant = super::ids_by_instant(keys.iter().map(|key| (&key.id, key.as_of)));
        let mut found: HashMap<RelationshipsOf, Vec<Relationship>> =
            keys.iter().map(|key| (key.clone(), Vec::new())).collect();
        for (as_of, ids) in by_instant {
            let relationships = quorum_cmdb::relationships_of(&self.db, &self.actor, &ids, as_of)
                .await
                .map_err(Arc::new)?;
            for relationship in relationships {
                for end in [&relationship.source_id, &relationship.target_id] {
                    let key = RelationshipsOf {
                        id: end.clone(),
                        as_of,
                    };
                    if let Some(list) = found.get_mut(&key) {
                        list.push(relationship.clone());
                    }
                }
            }
        }
        Ok(found)
    }
}
