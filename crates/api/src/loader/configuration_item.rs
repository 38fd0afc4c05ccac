//! Configuration items by id, now or at a past instant.

use std::collections::HashMap;
use std::sync::Arc;

use super::Load;
use chrono::{DateTime, Utc};
use quorum_cmdb::ConfigurationItem;
use quorum_core::{Actor, DomainError};
use sea_orm::DatabaseConnection;

/// A CI as it is now (`as_of` none) or as it was at `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CiAt {
    pub id: String,
    pub as_of: Option<DateTime<Utc>>,
}

pub struct ConfigurationItemLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl ConfigurationItemLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

impl Load for ConfigurationItemLoader {
    type Key = CiAt;
    type Value = ConfigurationItem;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[CiAt]) -> Result<HashMap<CiAt, Self::Value>, Self::Error> {
        let by_instant = super::ids_by_instant(keys.iter().map(|key| (&key.id, key.as_of)));
        let mut found = HashMap::with_capacity(keys.len());
        for (as_of, ids) in by_instant {
            let items = match as_of {
                None => quorum_cmdb::find_configuration_items(&self.db, &self.actor, &ids).await,
                Some(instant) => {
                    quorum_cmdb::find_configuration_items_as_of(
                        &self.db,
                        &self.actor,
                        &ids,
                        instant,
                    )
                    .await
                }
            }
            .map_err(Arc::new)?;
            found.extend(
                items
                    .into_iter()
                    .map(|(id, item)| (CiAt { id, as_of }, item)),
            );
        }
        Ok(found)
    }
}
