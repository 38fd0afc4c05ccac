//! DataLoaders: every relation a list can ask for is batched, so a page costs a bounded number
//! of statements whatever its size. Loaders are made per request: they carry the request's
//! actor (the domain authorizes each batch) and cache only within the request.

mod configuration_item;
mod relationships;

use async_graphql::dataloader::DataLoader;
use quorum_core::Actor;

pub use configuration_item::{CiAt, ConfigurationItemLoader};
pub use relationships::{RelationshipsLoader, RelationshipsOf};

use crate::context::AppData;

/// How long a loader waits for more keys after the first before it runs its batch.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// Attaches every loader to `request`.
pub(crate) fn register(
    request: async_graphql::Request,
    app: &AppData,
    actor: &Actor,
) -> async_graphql::Request {
    request
        .data(
            DataLoader::new(
                ConfigurationItemLoader::new(app.db.clone(), actor.clone()),
                tokio::spawn,
            )
            .delay(BATCH_WINDOW),
        )
        .data(
            DataLoader::new(
                RelationshipsLoader::new(app.db.clone(), actor.clone()),
                tokio::spawn,
            )
            .delay(BATCH_WINDOW),
        )
}
