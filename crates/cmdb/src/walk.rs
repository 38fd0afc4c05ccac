//! Impact and dependency walks over the relationship graph.
//!
//! One statement computes each CI's shortest distance from the root and the CI it is reached
//! from; each CI appears once: cycles cannot loop and diamonds cannot duplicate. The path shown
//! for a CI is a shortest one; among several, the one through the earliest-created CIs (ids
//! are time-ordered UUIDv7).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use quorum_core::{Actor, DomainError, DomainResult, Permission};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseBackend, DatabaseConnection, FromQueryResult,
    IsolationLevel, Statement, TransactionTrait,
};

use crate::entity::configuration_item::Model;
use crate::entity::{CiClass, RelationshipType};
use crate::item::find_configuration_items_as_of;

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
    pub item: Arc<Model>,
    /// Hops from the root.
    pub distance: u32,
    /// The CIs from the root (first) to this one (last).
    pub path: Vec<Arc<Model>>,
    /// The type of the relationship of the last hop.
    pub via: RelationshipType,
}

/// The result of a walk.
#[derive(Debug, Clone)]
pub struct Walk {
    pub root: Arc<Model>,
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

/// The whole walk as one portable statement (SQLite runs it; PostgreSQL runs
/// [`POSTGRES_WALK`]): a recursive CTE
/// collects every (CI, distance) pair up to `depth`, `seen` keeps each CI's shortest distance,
/// `edges` the links into each CI reached, and each CI's parent is the smallest id among the
/// CIs one hop nearer the root that link to it (ids are time-ordered, so the earliest-created),
/// with the smallest relationship type of that hop. The CTEs are materialized so that every
/// join is on ids (planners have no statistics for CTEs and otherwise picked a join on depth
/// alone that compared every pair of CIs). `beyond` counts links from the last level to CIs not reached: the walk was cut.
///
/// One round trip whatever the size of the walk: the ids never travel to the database as
/// parameters (a walk that sent each level's ids back paid a network round trip, and on
/// PostgreSQL a ~40 ms delayed-ACK stall, per level).
fn walk_sql(direction: WalkDirection, as_of: bool, backend: DatabaseBackend) -> String {
    walk_sql_from(
        "SELECT CAST($1 AS TEXT), 0",
        direction,
        as_of,
        backend,
        FULL_ROWS,
    )
}

/// The rows a walk returns: each CI with its walk columns and the count past the depth.
const FULL_ROWS: &str =
    "SELECT c.*, s.depth AS walk_depth, h.parent AS walk_parent, h.via AS walk_via,
            (SELECT COUNT(*) FROM seen f
             JOIN ci_relationship b ON b.{near} = f.id AND {live_b}
             WHERE f.depth = $2 AND b.{far} NOT IN (SELECT id FROM seen)) AS walk_beyond
        FROM seen s
        JOIN configuration_item c ON c.id = s.id
        LEFT JOIN hops h ON h.child = s.id";

/// The rows a reach returns: ids, distances and parents only.
const REACH_ROWS: &str = "SELECT s.id AS walk_id, s.depth AS walk_depth, h.parent AS walk_parent
        FROM seen s LEFT JOIN hops h ON h.child = s.id";

/// [`walk_sql`] from the roots that `roots` selects (rows of id and depth 0).
fn walk_sql_from(
    roots: &str,
    direction: WalkDirection,
    as_of: bool,
    backend: DatabaseBackend,
    rows: &str,
) -> String {
    let (near, far) = match direction {
        WalkDirection::Impact => ("target_id", "source_id"),
        WalkDirection::Dependencies => ("source_id", "target_id"),
    };
    let live = |alias: &str| {
        if as_of {
            format!(
                "{alias}.created_at <= $3 AND ({alias}.removed_at IS NULL OR {alias}.removed_at > $3)"
            )
        } else {
            format!("{alias}.removed_at IS NULL")
        }
    };
    let sql = format!(
        "WITH RECURSIVE walk(id, depth) AS (
            {roots}
            UNION
            SELECT r.{far}, w.depth + 1 FROM walk w
            JOIN ci_relationship r ON r.{near} = w.id
            WHERE w.depth < $2 AND {live_r}
        ),
        seen AS MATERIALIZED (SELECT id, MIN(depth) AS depth FROM walk GROUP BY id),
        edges AS MATERIALIZED (
            SELECT s.id AS child, s.depth AS depth, r.{near} AS parent, r.type AS via
            FROM seen s JOIN ci_relationship r ON r.{far} = s.id AND {live_r}
            WHERE s.depth > 0
        ),
        parents AS (
            SELECT e.child, MIN(e.parent) AS parent FROM edges e
            JOIN seen p ON p.id = e.parent AND p.depth = e.depth - 1
            GROUP BY e.child
        ),
        hops AS (
            SELECT pa.child, pa.parent, MIN(e.via) AS via FROM parents pa
            JOIN edges e ON e.child = pa.child AND e.parent = pa.parent
            GROUP BY pa.child, pa.parent
        )
        {rows}",
        rows = rows
            .replace("{near}", near)
            .replace("{far}", far)
            .replace("{live_b}", &live("b")),
        live_r = live("r"),
    );
    match backend {
        // SQLite numbers its parameters `?N`.
        DatabaseBackend::Sqlite => sql.replace('$', "?"),
        _ => sql,
    }
}

/// On PostgreSQL the walk is the `quorum_walk` function (migration
/// `m20261123_000003_walk_function`), which expands each CI once; its rows have the shape of
/// [`walk_sql`]'s.
const POSTGRES_WALK: &str = "SELECT c.*, w.depth AS walk_depth, w.parent AS walk_parent, \
     w.via AS walk_via, w.beyond AS walk_beyond \
     FROM quorum_walk($1, $2, $3, $4) w JOIN configuration_item c ON c.id = w.id";

/// One row of the walk statement.
struct Step {
    item: Model,
    depth: u32,
    parent: Option<String>,
    via: Option<RelationshipType>,
    beyond: i64,
}

fn step(row: &sea_orm::QueryResult) -> DomainResult<Step> {
    let item = Model::from_query_result(row, "")?;
    let depth: i32 = row.try_get("", "walk_depth")?;
    let via: Option<String> = row.try_get("", "walk_via")?;
    let via = via
        .map(|via| {
            RelationshipType::try_from_value(&via).map_err(|error| {
                DomainError::Internal(format!("unknown relationship type `{via}`: {error}"))
            })
        })
        .transpose()?;
    Ok(Step {
        item,
        depth: u32::try_from(depth).unwrap_or(0),
        parent: row.try_get("", "walk_parent")?,
        via,
        beyond: row.try_get("", "walk_beyond")?,
    })
}

/// Walks from `root_id` up to `depth` hops, over the graph as it is now or as it was at `as_of`.
#[tracing::instrument(skip(db, actor))]
pub async fn walk(
    db: &DatabaseConnection,
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

    let backend = db.get_database_backend();
    // One snapshot for the whole walk: `quorum_walk` runs a statement per level, and each
    // would otherwise see the writes committed since the one before.
    let txn = match backend {
        DatabaseBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), None)
                .await?
        }
        _ => db.begin().await?,
    };
    let depth_value = i32::try_from(depth).unwrap_or(1);
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            POSTGRES_WALK,
            [
                root_id.into(),
                depth_value.into(),
                (direction == WalkDirection::Impact).into(),
                as_of.into(),
            ],
        ),
        _ => {
            let mut values: Vec<sea_orm::Value> = vec![root_id.into(), depth_value.into()];
            if let Some(instant) = as_of {
                values.push(instant.into());
            }
            Statement::from_sql_and_values(
                backend,
                walk_sql(direction, as_of.is_some(), backend),
                values,
            )
        }
    };
    let steps = txn
        .query_all_raw(statement)
        .await?
        .iter()
        .map(step)
        .collect::<DomainResult<Vec<Step>>>()?;

    let truncated = steps.iter().any(|step| step.beyond > 0);
    // `parent` records, for each CI reached, the CI it was first reached from.
    let mut parent: HashMap<String, (String, RelationshipType, u32)> = HashMap::new();
    // Shared, not copied: a CI stands in many paths.
    let mut items: HashMap<String, Arc<Model>> = HashMap::with_capacity(steps.len());
    for step in steps {
        if let (Some(from), Some(via)) = (step.parent, step.via) {
            parent.insert(step.item.id.clone(), (from, via, step.depth));
        }
        items.insert(step.item.id.clone(), Arc::new(step.item));
    }
    if let Some(instant) = as_of {
        // The rows are today's; the walk is as of `instant`, and so must the CIs be.
        let ids: Vec<String> = items.keys().cloned().collect();
        items = find_configuration_items_as_of(&txn, actor, &ids, instant)
            .await?
            .into_iter()
            .map(|(id, item)| (id, Arc::new(item)))
            .collect();
    }
    txn.commit().await?;
    let root = items
        .get(root_id)
        .cloned()
        .ok_or_else(|| DomainError::not_found("ConfigurationItem", root_id))?;
    let reached = paths(&parent, &items);
    Ok(Walk {
        root,
        depth,
        reached,
        truncated,
    })
}

/// CIs reached from several roots at once.
#[derive(Debug, Clone)]
pub struct MultiWalk {
    /// Every CI reached (no root), nearest first, then by number; its path starts at the root
    /// nearest to it.
    pub reached: Vec<Reached>,
    /// Whether CIs lie beyond the depth.
    pub truncated: bool,
}

impl MultiWalk {
    /// The business services among the CIs reached.
    pub fn business_services(&self) -> impl Iterator<Item = &Reached> {
        self.reached
            .iter()
            .filter(|reached| reached.item.class == CiClass::BusinessService)
    }
}

/// Walks from every CI of `root_ids` at once, up to `depth` hops, over the graph as it is now:
/// one statement, whatever the number of roots. A root reached from another root stays a root.
/// Changes use it for their blast radius and their conflicts.
#[tracing::instrument(skip(db, actor, root_ids), fields(roots = root_ids.len()))]
pub async fn walk_from<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    root_ids: &[String],
    direction: WalkDirection,
    depth: u32,
) -> DomainResult<MultiWalk> {
    actor.authorize(Permission::ReadCmdb)?;
    if root_ids.is_empty() || depth == 0 {
        return Ok(MultiWalk {
            reached: Vec::new(),
            truncated: false,
        });
    }
    let depth = depth.min(MAX_WALK_DEPTH);
    let backend = db.get_database_backend();
    let depth_value = i32::try_from(depth).unwrap_or(1);
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT c.*, w.depth AS walk_depth, w.parent AS walk_parent, w.via AS walk_via, \
             w.beyond AS walk_beyond FROM quorum_walk_from($1, $2, $3) w \
             JOIN configuration_item c ON c.id = w.id",
            [
                root_ids.to_vec().into(),
                depth_value.into(),
                (direction == WalkDirection::Impact).into(),
            ],
        ),
        _ => {
            let (roots_sql, roots) = roots_parameter(backend, root_ids)?;
            Statement::from_sql_and_values(
                backend,
                walk_sql_from(roots_sql, direction, false, backend, FULL_ROWS),
                [roots, depth_value.into()],
            )
        }
    };
    let steps = db
        .query_all_raw(statement)
        .await?
        .iter()
        .map(step)
        .collect::<DomainResult<Vec<Step>>>()?;
    let (_, reached, truncated) = assemble(steps);
    Ok(MultiWalk { reached, truncated })
}

/// Builds each reached CI's path from the rows of a walk; returns every CI of the walk (roots
/// included) by id, the CIs reached (roots excluded) and whether the walk was cut.
fn assemble(steps: Vec<Step>) -> (HashMap<String, Arc<Model>>, Vec<Reached>, bool) {
    let truncated = steps.iter().any(|step| step.beyond > 0);
    // `parent` records, for each CI reached, the CI it was first reached from.
    let mut parent: HashMap<String, (String, RelationshipType, u32)> = HashMap::new();
    // Shared, not copied: a CI stands in many paths.
    let mut items: HashMap<String, Arc<Model>> = HashMap::with_capacity(steps.len());
    for step in steps {
        if let (Some(from), Some(via)) = (step.parent, step.via) {
            parent.insert(step.item.id.clone(), (from, via, step.depth));
        }
        items.insert(step.item.id.clone(), Arc::new(step.item));
    }
    let reached = paths(&parent, &items);
    (items, reached, truncated)
}

fn paths(
    parent: &HashMap<String, (String, RelationshipType, u32)>,
    items: &HashMap<String, Arc<Model>>,
) -> Vec<Reached> {
    let mut reached: Vec<Reached> = Vec::with_capacity(parent.len());
    for (id, (_, via, distance)) in parent {
        let Some(item) = items.get(id) else { continue };
        let mut path = vec![Arc::clone(item)];
        let mut cursor = id;
        while let Some((from, _, _)) = parent.get(cursor) {
            if let Some(step) = items.get(from) {
                path.push(Arc::clone(step));
            }
            cursor = from;
        }
        path.reverse();
        reached.push(Reached {
            item: Arc::clone(item),
            distance: *distance,
            path,
            via: *via,
        });
    }
    reached.sort_by(|a, b| (a.distance, &a.item.number).cmp(&(b.distance, &b.item.number)));
    reached
}

/// A CI reached by [`reach_from`]: how far, and the CI one hop nearer the roots (none for a
/// root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub distance: u32,
    pub parent: Option<String>,
}

/// Which CIs lie within `depth` hops of `root_ids` (roots included, at distance 0), with the
/// CI each is first reached from: [`walk_from`] without loading the CIs, for callers that need
/// only a few of them (conflict checks). One statement.
#[tracing::instrument(skip(db, actor, root_ids), fields(roots = root_ids.len()))]
pub async fn reach_from<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    root_ids: &[String],
    direction: WalkDirection,
    depth: u32,
) -> DomainResult<HashMap<String, Reach>> {
    actor.authorize(Permission::ReadCmdb)?;
    if root_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let depth = depth.min(MAX_WALK_DEPTH);
    let backend = db.get_database_backend();
    let depth_value: sea_orm::Value = i32::try_from(depth).unwrap_or(1).into();
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT w.id AS walk_id, w.depth AS walk_depth, w.parent AS walk_parent \
             FROM quorum_walk_from($1, $2, $3) w",
            [
                root_ids.to_vec().into(),
                depth_value,
                (direction == WalkDirection::Impact).into(),
            ],
        ),
        _ => {
            let (roots_sql, roots) = roots_parameter(backend, root_ids)?;
            Statement::from_sql_and_values(
                backend,
                walk_sql_from(roots_sql, direction, false, backend, REACH_ROWS),
                [roots, depth_value],
            )
        }
    };
    let mut reached = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let id: String = row.try_get("", "walk_id")?;
        let distance: i32 = row.try_get("", "walk_depth")?;
        reached.insert(
            id,
            Reach {
                distance: u32::try_from(distance).unwrap_or(0),
                parent: row.try_get("", "walk_parent")?,
            },
        );
    }
    Ok(reached)
}

/// The statement text that selects the roots, and its parameter: one array on PostgreSQL, one
/// JSON list on SQLite.
fn roots_parameter(
    backend: DatabaseBackend,
    root_ids: &[String],
) -> DomainResult<(&'static str, sea_orm::Value)> {
    Ok(match backend {
        DatabaseBackend::Postgres => (
            "SELECT unnest(CAST($1 AS TEXT[])), 0",
            root_ids.to_vec().into(),
        ),
        _ => (
            "SELECT value, 0 FROM json_each($1)",
            serde_json::to_string(root_ids)
                .map_err(|error| DomainError::Internal(error.to_string()))?
                .into(),
        ),
    })
}

/// For each CI of `from_ids`, a shortest path to any CI of `to_ids` within `depth` hops,
/// following `direction` (the `from` CI first), when there is one. One statement that walks
/// from every root on its own, so each root keeps its own answer; meant for roots whose walks
/// are small (a conflict check walks other changes' CIs towards what they depend on). Among
/// paths of the same length, the one whose ids sort first.
#[tracing::instrument(skip(db, actor, from_ids, to_ids), fields(from = from_ids.len(), to = to_ids.len()))]
pub async fn paths_between<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from_ids: &[String],
    to_ids: &[String],
    direction: WalkDirection,
    depth: u32,
) -> DomainResult<HashMap<String, Vec<String>>> {
    actor.authorize(Permission::ReadCmdb)?;
    if from_ids.is_empty() || to_ids.is_empty() || depth == 0 {
        return Ok(HashMap::new());
    }
    let (near, far) = match direction {
        WalkDirection::Impact => ("target_id", "source_id"),
        WalkDirection::Dependencies => ("source_id", "target_id"),
    };
    let backend = db.get_database_backend();
    let (roots_sql, roots) = roots_parameter(backend, from_ids)?;
    let (targets_sql, targets) = roots_parameter(backend, to_ids)?;
    let targets_sql = targets_sql.replace("$1", "$3").replace(", 0", "");
    let sql = format!(
        "WITH RECURSIVE roots(id, depth) AS ({roots_sql}),
        targets(id) AS ({targets_sql}),
        walk(root, id, depth, path) AS (
            SELECT id, id, 0, CAST(id AS TEXT) FROM roots
            UNION ALL
            SELECT w.root, r.{far}, w.depth + 1, w.path || ',' || r.{far}
            FROM walk w JOIN ci_relationship r ON r.{near} = w.id AND r.removed_at IS NULL
            WHERE w.depth < $2
        )
        SELECT w.root AS walk_root, w.depth AS walk_depth, w.path AS walk_path
        FROM walk w WHERE w.depth > 0 AND w.id IN (SELECT id FROM targets)"
    );
    let sql = match backend {
        DatabaseBackend::Sqlite => sql.replace('$', "?"),
        _ => sql,
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            roots,
            i32::try_from(depth.min(MAX_WALK_DEPTH)).unwrap_or(1).into(),
            targets,
        ],
    );
    let mut best: HashMap<String, (i32, String)> = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let root: String = row.try_get("", "walk_root")?;
        let distance: i32 = row.try_get("", "walk_depth")?;
        let path: String = row.try_get("", "walk_path")?;
        let better = best
            .get(&root)
            .is_none_or(|(known, known_path)| (distance, &path) < (*known, known_path));
        if better {
            best.insert(root, (distance, path));
        }
    }
    Ok(best
        .into_iter()
        .map(|(root, (_, path))| (root, path.split(',').map(str::to_owned).collect()))
        .collect())
}
