//! DataLoaders: every relation a list can ask for is batched, so a page costs a bounded number
//! of statements whatever its size. Loaders are made per request: they carry the request's
//! actor (the domain authorizes each batch) and cache nothing.
//!
//! A batch is gathered without a timer ([`Batched`]): a request's resolvers all run in the
//! request's one task, so every sibling field that needs a key asks for it in the same pass
//! over the task's futures. The first to ask yields twice (to let that pass, and the wake-ups
//! of the level before it, reach every sibling), then runs the batch for all keys gathered.

mod batched;
mod change;
mod configuration_item;
mod incident;
mod relationships;

use quorum_core::Actor;

pub use batched::{Batched, Load};

pub use change::{AffectedItemsLoader, PolicyLoader, TemplateLoader, VotesLoader};
pub use configuration_item::{CiAt, ConfigurationItemLoader};
pub use incident::{
    CausedIncidentsLoader, ChangeLoader, FixChangesLoader, IncidentItemsLoader,
    ProblemIncidentsLoader, ProblemItemsLoader, ProblemLoader, ResolvedProblemsLoader,
};
pub use relationships::{RelationshipsLoader, RelationshipsOf};

use crate::context::AppData;
use crate::error::GqlResultExt;

/// What came with a record (`read`: the list or the write that produced it read it too), or
/// else `key`'s value from the request's loader `T`.
pub(crate) async fn read_or_load<T, V>(
    ctx: &async_graphql::Context<'_>,
    key: &str,
    read: Option<&Vec<V>>,
) -> async_graphql::Result<Vec<V>>
where
    T: Load<Key = String, Value = Vec<V>, Error = std::sync::Arc<quorum_core::DomainError>>,
    V: Clone + Send + Sync + 'static,
{
    if let Some(read) = read {
        return Ok(read.clone());
    }
    Ok(ctx
        .data::<Batched<T>>()?
        .load_one(key.to_owned())
        .await
        .gql(ctx)?
        .unwrap_or_default())
}

/// The values of the request's loader `T` for `keys`, read now when `wanted`; `None` when not
/// wanted or when the read fails (the fields' loaders then report its error).
pub(crate) async fn read_now<T: Load<Key = String>>(
    ctx: &async_graphql::Context<'_>,
    wanted: bool,
    keys: &[String],
) -> Option<std::collections::HashMap<String, T::Value>> {
    match wanted {
        false => None,
        true => ctx.data::<Batched<T>>().ok()?.load_now(keys).await.ok(),
    }
}

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

/// Each key's CIs, shared between the fields that ask for them.
pub(crate) fn shared_items(
    items: std::collections::HashMap<String, Vec<quorum_cmdb::ConfigurationItem>>,
) -> std::collections::HashMap<String, Vec<std::sync::Arc<quorum_cmdb::ConfigurationItem>>> {
    items
        .into_iter()
        .map(|(key, items)| (key, items.into_iter().map(std::sync::Arc::new).collect()))
        .collect()
}

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
    request
        .data(Batched::new(ConfigurationItemLoader::new(db(), who())))
        .data(Batched::new(RelationshipsLoader::new(db(), who())))
        .data(Batched::new(AffectedItemsLoader::new(db(), who())))
        .data(Batched::new(VotesLoader::new(db(), who())))
        .data(Batched::new(TemplateLoader::new(db(), who())))
        .data(Batched::new(PolicyLoader::new(db(), who())))
        .data(Batched::new(ChangeLoader::new(db(), who())))
        .data(Batched::new(IncidentItemsLoader::new(db(), who())))
        .data(Batched::new(CausedIncidentsLoader::new(db(), who())))
        .data(Batched::new(ProblemIncidentsLoader::new(db(), who())))
        .data(Batched::new(ProblemLoader::new(db(), who())))
        .data(Batched::new(ProblemItemsLoader::new(db(), who())))
        .data(Batched::new(FixChangesLoader::new(db(), who())))
        .data(Batched::new(ResolvedProblemsLoader::new(db(), who())))
}
