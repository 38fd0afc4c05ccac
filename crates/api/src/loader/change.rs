//! What a page of changes asks for per row: its CIs, its votes, its template, and the policy
//! (one read per request).

use std::collections::HashMap;
use std::sync::Arc;

use super::Load;
use quorum_change::{ChangePolicy, StandardChangeTemplate, Vote};
use quorum_cmdb::ConfigurationItem;
use quorum_core::{Actor, DomainError};
use sea_orm::DatabaseConnection;

/// The CI ids of a change.
pub struct AffectedItemsLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl AffectedItemsLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

/// Keyed by change id; the CIs come in the same batch (one loader level, not two), by number.
impl Load for AffectedItemsLoader {
    type Key = String;
    type Value = Vec<Arc<ConfigurationItem>>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        quorum_change::affected_configuration_items_of(&self.db, &self.actor, keys)
            .await
            .map(super::shared_items)
            .map_err(Arc::new)
    }
}

/// The standing votes on a change.
pub struct VotesLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl VotesLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

/// Keyed by change id.
impl Load for VotesLoader {
    type Key = String;
    type Value = Vec<Vote>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let mut found: HashMap<String, Vec<Vote>> = HashMap::new();
        for vote in quorum_change::votes_of(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)?
        {
            found.entry(vote.change_id.clone()).or_default().push(vote);
        }
        Ok(found)
    }
}

/// Standard change templates by id.
pub struct TemplateLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl TemplateLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

impl Load for TemplateLoader {
    type Key = String;
    type Value = StandardChangeTemplate;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        Ok(quorum_change::templates_by_id(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)?
            .into_iter()
            .map(|template| (template.id.clone(), template))
            .collect())
    }
}

/// The change policy, read once per request (every `availableTransitions` needs it).
pub struct PolicyLoader {
    db: DatabaseConnection,
    actor: Actor,
}

impl PolicyLoader {
    pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
        Self { db, actor }
    }
}

/// The policy is one row: its key is `()`.
impl Load for PolicyLoader {
    type Key = ();
    type Value = ChangePolicy;
    type Error = Arc<DomainError>;

    async fn load(&self, _: &[()]) -> Result<HashMap<(), Self::Value>, Self::Error> {
        let policy = quorum_change::change_policy(&self.db, &self.actor)
            .await
            .map_err(Arc::new)?;
        Ok(HashMap::from([((), policy)]))
    }
}
