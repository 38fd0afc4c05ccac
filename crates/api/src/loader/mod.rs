//! DataLoaders: every relation a list can ask for is batched, so a page costs a bounded number
//! of statements whatever its size. Loaders are made per request: they carry the request's
//! actor (the domain authorizes each batch) and cache only within the request.

mod change;
mod configuration_item;
mod incident;
mod relationships;

use async_graphql::dataloader::DataLoader;
use quorum_core::Actor;

pub use change::{AffectedItemsLoader, PolicyLoader, TemplateLoader, VotesLoader};
pub use configuration_item::{CiAt, ConfigurationItemLoader};
pub use incident::{
    CausedIncidentsLoader, ChangeLoader, FixChangesLoader, IncidentItemsLoader,
    ProblemIncidentsLoader, ProblemItemsLoader, ProblemLoader, ResolvedProblemsLoader,
};
pub use relationships::{RelationshipsLoader, RelationshipsOf};

use crate::context::AppData;

/// Groups the ids of a batch by the instant they are read at (none: now), so that each instant
/// costs one domain call.
pub(crate) fn ids_by_instant<'a>(
    keys: impl Iterator<Item = (&'a String, Option<chrono::DateTime<chrono::Utc>>)>,
) -> std::collections::HashMap<Option<chrono::DateTime<chrono::Utc>>, Vec<String>> {
    let mut grouped: std::collections::HashMap<_, Vec<String>> = std::collections::HashMap::new();
    for (id, as_of) in keys {
        grouped.entry(as_of).or_default().push(id.clone());
    }
    grouped
}

/// How long a loader waits for more keys after the first before it runs its batch, unless
/// [`SchemaOptions`](crate::SchemaOptions) says otherwise. Every level of a page pays it once,
/// so it is short; async-graphql's 1 ms split 50-row pages into several batches in debug
/// builds.
pub(crate) const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(2);

/// Replaces each key's CI ids by the CIs (by number), loaded in one batch for all keys: a
/// record's CIs cost one loader level, not two.
pub(crate) async fn with_items(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    ids: std::collections::HashMap<String, Vec<String>>,
) -> Result<
    std::collections::HashMap<String, Vec<std::sync::Arc<quorum_cmdb::ConfigurationItem>>>,
    std::sync::Arc<quorum_core::DomainError>,
> {
    let mut all: Vec<String> = ids.values().flatten().cloned().collect();
    all.sort();
    all.dedup();
    let items: std::collections::HashMap<String, std::sync::Arc<quorum_cmdb::ConfigurationItem>> =
        quorum_cmdb::find_configuration_items(db, actor, &all)
            .await
            .map_err(std::sync::Arc::new)?
            .into_iter()
            .map(|(id, item)| (id, std::sync::Arc::new(item)))
            .collect();
    Ok(ids
        .into_iter()
        .map(|(key, ids)| {
            let mut found: Vec<_> = ids.iter().filter_map(|id| items.get(id).cloned()).collect();
            found.sort_by(|a, b| a.number.cmp(&b.number));
            (key, found)
        })
        .collect())
}

/// Attaches every loader to `request`.
pub(crate) fn register(
    request: async_graphql::Request,
    app: &AppData,
    actor: &Actor,
) -> async_graphql::Request {
    let db = || app.db.clone();
    let who = || actor.clone();
    let window = app.batch_window;
    request
        .data(batched(ConfigurationItemLoader::new(db(), who()), window))
        .data(batched(RelationshipsLoader::new(db(), who()), window))
        .data(batched(AffectedItemsLoader::new(db(), who()), window))
        .data(batched(VotesLoader::new(db(), who()), window))
        .data(batched(TemplateLoader::new(db(), who()), window))
        .data(batched(PolicyLoader::new(db(), who()), window))
        .data(batched(ChangeLoader::new(db(), who()), window))
        .data(batched(IncidentItemsLoader::new(db(), who()), window))
        .data(batched(CausedIncidentsLoader::new(db(), who()), window))
        .data(batched(ProblemIncidentsLoader::new(db(), who()), window))
        .data(batched(ProblemLoader::new(db(), who()), window))
        .data(batched(ProblemItemsLoader::new(db(), who()), window))
        .data(batched(FixChangesLoader::new(db(), who()), window))
        .data(batched(ResolvedProblemsLoader::new(db(), who()), window))
}

fn batched<T: Send + Sync + 'static>(loader: T, window: std::time::Duration) -> DataLoader<T> {
    DataLoader::new(loader, tokio::spawn).delay(window)
}
