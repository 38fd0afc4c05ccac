//! Impact and dependency walks over the relationship graph.
//!
//! Breadth-first, one statement per level (per 500 frontier ids), each CI visited once: cycles
//! cannot loop and diamonds cannot duplicate. The path shown for a CI is a shortest one; among
//! several, the one through the earliest-created CIs (ids are time-ordered UUIDv7).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entity::configuration_item::Model;
use crate::entity::relationship::{self, live_at};
use crate::entity::{CiClass, RelationshipType};
use crate::item::{ID_CHUNK, find_configuration_items, find_configuration_items_as_of};

/// The deepest walk one request may ask for.
pub const MAX_WALK_DEPTH: u32 = 10;

/// Which way to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkDirection {
    /// Against the arrow: what a change to or outage of the root reaches.
    Impact,
    /// With the arrow: what the root relies on.
    Dependencies,
}

/// A CI reached by a walk.
#[derive(Debug, Clone)]
pub struct Reached {
    pub item: Model,
    /// Hops from the root.
    pub distance: u32,
    /// The CIs from the root (first) to this one (last).
    pub path: Vec<Model>,
    /// The type of the relationship of the last hop.
    pub via: RelationshipType,
}

/// The result of a walk.
#[derive(Debug, Clone)]
pub struct Walk {
    pub root: Model,
    pub depth: u32,
    /// Every CI reached, nearest first, then by number.
    pub reached: Vec<Reached>,
    /// Whether CIs lie beyond `depth`.
    pub truncated: bool,
}

impl Walk {
    /// The business services among the CIs reached.
    pub fn business_services(&self) -> impl Iterator<Item = &Reached> {
        self.reached
            .iter()
            .filter(|reached| reached.item.class == CiClass::BusinessService)
    }
}

struct Hop {
    from: String,
    to: String,
    via: RelationshipType,
}

/// The next hops out of `frontier`, live at `as_of`.
async fn hops<C: ConnectionTrait>(
    db: &C,
    frontier: &[String],
    direction: WalkDirection,
    as_of: Option<DateTime<Utc>>,
) -> DomainResult<Vec<Hop>> {
    let (near, far) = match direction {
        WalkDirection::Impact => (
            relationship::Column::TargetId,
            relationship::Column::SourceId,
        ),
        WalkDirection::Dependencies => (
            relationship::Column::SourceId,
            relationship::Column::TargetId,
        ),
    };
    let mut hops = Vec::new();
    for chunk in frontier.chunks(ID_CHUNK) {
        let rows: Vec<(String, String, RelationshipType)> = relationship::Entity::find()
            .select_only()
            .column(near)
            .column(far)
            .column(relationship::Column::RelationshipType)
            .filter(near.is_in(chunk.iter().map(String::as_str)))
            .filter(live_at(as_of))
            .into_tuple()
            .all(db)
            .await?;
        hops.extend(
            rows.into_iter()
                .map(|(from, to, via)| Hop { from, to, via }),
        );
    }
    Ok(hops)
}

/// Walks from `root_id` up to `depth` hops, over the graph as it is now or as it was at `as_of`.
#[tracing::instrument(skip(db, actor))]
pub async fn walk<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    root_id: &str,
    direction: WalkDirection,
    depth: i32,
    as_of: Option<DateTime<Utc>>,
) -> DomainResult<Walk> {
    actor.authorize(Permission::ReadCmdb)?;
    let depth = u32::try_from(depth)
        .ok()
        .filter(|depth| (1..=MAX_WALK_DEPTH).contains(depth))
        .ok_or_else(|| {
            DomainError::bad_input(
                "depth",
                format!("depth must be 1 to {MAX_WALK_DEPTH}, not {depth}"),
            )
        })?;

    // Breadth-first: `parent` records, for each CI reached, the CI it was first reached from.
    let mut parent: HashMap<String, (String, RelationshipType, u32)> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::from([root_id.to_owned()]);
    let mut frontier = vec![root_id.to_owned()];
    let mut truncated = false;
    for distance in 1..=depth + 1 {
        if frontier.is_empty() {
            break;
        }
        let mut hops = hops(db, &frontier, direction, as_of).await?;
        if distance > depth {
            // One look past the limit tells whether the walk was cut short.
            truncated = hops.iter().any(|hop| !seen.contains(&hop.to));
            break;
        }
        // Deterministic choice among equally short paths: earliest-created parent first.
        hops.sort_by(|a, b| (&a.to, &a.from, a.via).cmp(&(&b.to, &b.from, b.via)));
        let mut next = Vec::new();
        for hop in hops {
            if seen.insert(hop.to.clone()) {
                parent.insert(hop.to.clone(), (hop.from, hop.via, distance));
                next.push(hop.to);
            }
        }
        frontier = next;
    }

    let mut ids: Vec<String> = parent.keys().cloned().collect();
    ids.push(root_id.to_owned());
    let items = match as_of {
        None => find_configuration_items(db, actor, &ids).await?,
        Some(instant) => find_configuration_items_as_of(db, actor, &ids, instant).await?,
    };
    let root = items
        .get(root_id)
        .cloned()
        .ok_or_else(|| DomainError::not_found("ConfigurationItem", root_id))?;

    let mut reached: Vec<Reached> = Vec::with_capacity(parent.len());
    for (id, (_, via, distance)) in &parent {
        let Some(item) = items.get(id) else { continue };
        let mut path = vec![item.clone()];
        let mut cursor = id;
        while let Some((from, _, _)) = parent.get(cursor) {
            if let Some(step) = items.get(from) {
                path.push(step.clone());
            }
            cursor = from;
        }
        path.reverse();
        reached.push(Reached {
            item: item.clone(),
            distance: *distance,
            path,
            via: *via,
        });
    }
    reached.sort_by(|a, b| (a.distance, &a.item.number).cmp(&(b.distance, &b.item.number)));
    Ok(Walk {
        root,
        depth,
        reached,
        truncated,
    })
}
