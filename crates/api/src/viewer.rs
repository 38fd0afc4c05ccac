//! `viewer`: who the token says you are.

use async_graphql::{Context, Object, SimpleObject};
use quorum_core::Role;

use crate::context::ContextExt;

#[derive(Default)]
pub struct ViewerQuery;

/// The authenticated caller, as the bearer token describes them.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The token's `sub` claim.
    subject: String,
    /// The Quorum roles found in the token's roles claim; unknown values are left out.
    roles: Vec<Role>,
}

#[Object]
impl ViewerQuery {
    /// Who the bearer token says you are. UNAUTHENTICATED without a valid token.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let actor = ctx.actor()?;
        Ok(Viewer {
            subject: actor.subject().to_owned(),
            roles: actor.roles().collect(),
        })
    }
}
