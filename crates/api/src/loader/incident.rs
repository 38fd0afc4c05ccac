//! Loaders across changes, incidents and problems: each relation a list can ask for is one
//! batch per request level.

use std::collections::HashMap;
use std::sync::Arc;

use super::Load;
use quorum_change::Change;
use quorum_cmdb::ConfigurationItem;
use quorum_core::{Actor, DomainError};
use quorum_incident::{Incident, IncidentColumn};
use quorum_problem::Problem;
use sea_orm::DatabaseConnection;

/// Defines a loader struct holding the database and the request's actor.
macro_rules! loader {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            db: DatabaseConnection,
            actor: Actor,
        }

        impl $name {
            pub fn new(db: DatabaseConnection, actor: Actor) -> Self {
                Self { db, actor }
            }
        }
    };
}

loader!(
    /// Changes by id (drafts only for those who may see them).
    ChangeLoader
);
loader!(
    /// The CI ids of an incident, by incident id.
    IncidentItemsLoader
);
loader!(
    /// The incidents a change caused, by change id.
    CausedIncidentsLoader
);
loader!(
    /// The incidents linked to a problem, by problem id.
    ProblemIncidentsLoader
);
loader!(
    /// Problems by id.
    ProblemLoader
);
loader!(
    /// The CI ids of a problem (its own and its incidents'), by problem id.
    ProblemItemsLoader
);
loader!(
    /// The fix change ids of a problem, by problem id.
    FixChangesLoader
);
loader!(
    /// The problems a change was raised to fix, by change id.
    ResolvedProblemsLoader
);

impl Load for ChangeLoader {
    type Key = String;
    type Value = Change;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Change>, Self::Error> {
        quorum_change::find_changes(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)
    }
}

impl Load for IncidentItemsLoader {
    type Key = String;
    type Value = Vec<Arc<ConfigurationItem>>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        quorum_incident::affected_configuration_items_of(&self.db, &self.actor, keys)
            .await
            .map(super::shared_items)
            .map_err(Arc::new)
    }
}

impl Load for CausedIncidentsLoader {
    type Key = String;
    type Value = Vec<Incident>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<Incident>>, Self::Error> {
        quorum_incident::incidents_by(
            &self.db,
            &self.actor,
            IncidentColumn::CausedByChangeId,
            keys,
        )
        .await
        .map_err(Arc::new)
    }
}

impl Load for ProblemIncidentsLoader {
    type Key = String;
    type Value = Vec<Incident>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<Incident>>, Self::Error> {
        quorum_incident::incidents_by(&self.db, &self.actor, IncidentColumn::ProblemId, keys)
            .await
            .map_err(Arc::new)
    }
}

impl Load for ProblemLoader {
    type Key = String;
    type Value = Problem;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Problem>, Self::Error> {
        quorum_problem::find_problems(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)
    }
}

impl Load for ProblemItemsLoader {
    type Key = String;
    type Value = Vec<Arc<ConfigurationItem>>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let ids = quorum_problem::affected_items_of(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)?;
        super::with_items(&self.db, &self.actor, ids).await
    }
}

impl Load for FixChangesLoader {
    type Key = String;
    type Value = Vec<String>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<String>>, Self::Error> {
        quorum_problem::fix_changes_of(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)
    }
}

impl Load for ResolvedProblemsLoader {
    type Key = String;
    type Value = Vec<Problem>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<Problem>>, Self::Error> {
        quorum_problem::problems_fixed_by(&self.db, &self.actor, keys)
            .await
            .map_err(Arc::new)
    }
}
