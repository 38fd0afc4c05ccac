//! Which records a report counts.

use quorum_change::ChangeType;
use quorum_cmdb::{CiClass, CiKey, MAX_WALK_DEPTH, WalkDirection};
use quorum_core::{Actor, DomainError, DomainResult};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseBackend};

use crate::sql::{Sql, literal};

/// Narrows a report; every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiFilter {
    /// Records on at least one CI of this business service's dependency tree: the service
    /// and every CI it depends on, directly or not (the CMDB as it is now, up to
    /// [`MAX_WALK_DEPTH`] hops).
    pub business_service_id: Option<String>,
    /// Records on at least one CI owned by this team (as the CMDB says now).
    pub owner_team: Option<String>,
    /// Changes of these types (changes only).
    pub change_types: Option<Vec<ChangeType>>,
}

/// A filter checked: ready to become SQL.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    items: Option<ServiceTree>,
    owner_team: Option<String>,
    change_types: Option<Vec<ChangeType>>,
}

/// The CIs of a business service's dependency tree.
#[derive(Debug, Clone)]
enum ServiceTree {
    /// Walked in the report statement itself (PostgreSQL: `quorum_walk_from`, the walk
    /// `quorum_cmdb::reach_from` runs, from migration 6): the ids never travel as a parameter,
    /// which for thousands of ids cost a ~40 ms delayed-ACK stall per statement (see
    /// ARCHITECTURE.md on walks).
    Walk { service_id: String },
    /// Walked beforehand (SQLite, in process: no network to cross).
    Ids(Vec<String>),
}

/// Where a kind of record lists its CIs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemLink {
    /// The link table, e.g. `change_affected_item`.
    pub table: &'static str,
    /// Its column naming the record, e.g. `change_id`.
    pub column: &'static str,
    /// The `incident` column naming the record, when the record's incidents' CIs are also its
    /// own (a problem's CIs are its own and its incidents').
    pub incidents: Option<&'static str>,
}

impl ItemLink {
    /// The ids of the records that have a CI for which `condition` holds: on the link row `f`
    /// (its `ci_id`), and with `join_items` on the CI itself, `t`.
    fn records_with(&self, join_items: bool, condition: &str) -> String {
        let join = if join_items {
            " JOIN configuration_item t ON t.id = f.ci_id"
        } else {
            ""
        };
        let own = format!(
            "SELECT f.{column} AS id FROM {table} f{join} WHERE {condition}",
            table = self.table,
            column = self.column,
        );
        match self.incidents {
            None => own,
            Some(column) => format!(
                "{own} UNION SELECT j.{column} FROM incident j \
                 JOIN incident_affected_item f ON f.incident_id = j.id{join} \
                 WHERE j.{column} IS NOT NULL AND {condition}"
            ),
        }
    }
}

/// What a scope adds to a report statement: the sets of records it admits, computed once
/// (`WITH` clauses, to put before the statement), and the conditions on the record.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopeSql {
    ctes: Vec<String>,
    /// Each starts with ` AND`; the same text serves every part of the statement.
    pub conditions: String,
}

impl ScopeSql {
    /// `WITH …` (or nothing) before `statement`, with the report's own `ctes` after the
    /// scope's.
    pub(crate) fn around(&self, ctes: &[String], statement: &str) -> String {
        let all: Vec<&str> = self.ctes.iter().chain(ctes).map(String::as_str).collect();
        if all.is_empty() {
            statement.to_owned()
        } else {
            format!("WITH {} {statement}", all.join(", "))
        }
    }
}

impl Scope {
    /// Checks `filter` and walks the business service's dependencies (one statement).
    pub(crate) async fn resolve<C: ConnectionTrait>(
        db: &C,
        actor: &Actor,
        filter: &KpiFilter,
    ) -> DomainResult<Self> {
        let items = match &filter.business_service_id {
            None => None,
            Some(id) => {
                let field = "filter.businessServiceId";
                let service =
                    quorum_cmdb::find_configuration_item(db, actor, &CiKey::Id(id.clone()))
                        .await?
                        .ok_or_else(|| {
                            DomainError::bad_input(
                                field,
                                format!("no configuration item has id `{id}`"),
                            )
                        })?;
                if service.class != CiClass::BusinessService {
                    return Err(DomainError::bad_input(
                        field,
                        format!(
                            "{} is a {}, not a BUSINESS_SERVICE",
                            service.number,
                            service.class.to_value()
                        ),
                    ));
                }
                if db.get_database_backend() == DatabaseBackend::Postgres {
                    Some(ServiceTree::Walk {
                        service_id: service.id,
                    })
                } else {
                    let reached = quorum_cmdb::reach_from(
                        db,
                        actor,
                        std::slice::from_ref(&service.id),
                        WalkDirection::Dependencies,
                        MAX_WALK_DEPTH,
                    )
                    .await?;
                    let mut ids: Vec<String> = reached.into_keys().collect();
                    if !ids.contains(&service.id) {
                        ids.push(service.id);
                    }
                    ids.sort();
                    Some(ServiceTree::Ids(ids))
                }
            }
        };
        let owner_team = match &filter.owner_team {
            None => None,
            Some(team) if team.trim().is_empty() => {
                return Err(DomainError::bad_input(
                    "filter.ownerTeam",
                    "name a team, or leave `ownerTeam` out",
                ));
            }
            Some(team) => Some(team.trim().to_owned()),
        };
        Ok(Self {
            items,
            owner_team,
            change_types: filter.change_types.clone(),
        })
    }

    /// Refuses a filter on change types for a report that is not about changes.
    pub(crate) fn without_change_types(self) -> DomainResult<Self> {
        if self.change_types.is_some() {
            return Err(DomainError::bad_input(
                "filter.types",
                "only change reports filter by change type",
            ));
        }
        Ok(self)
    }

    /// The SQL that limits the record aliased `alias` to the scope. The records on the
    /// service's CIs or the team's are found once per statement (a materialized set), and each
    /// record is looked up in it: the condition sits in a `CASE` so that PostgreSQL keeps it a
    /// hashed lookup rather than a join planned on a guess of the set's size (it cannot know
    /// how many CIs the walk reaches; guessing 200 ids among 30 000, it probed the changes'
    /// primary key 80 000 times per part).
    pub(crate) fn sql(&self, sql: &mut Sql, alias: &str, link: ItemLink) -> DomainResult<ScopeSql> {
        let mut scope = ScopeSql::default();
        let admit = |name: &str, records: String, scope: &mut ScopeSql| {
            scope
                .ctes
                .push(format!("{name} AS MATERIALIZED ({records})"));
            scope.conditions.push_str(&format!(
                " AND CASE WHEN {alias}.id IN (SELECT id FROM {name}) THEN 1 ELSE 0 END = 1"
            ));
        };
        if let Some(tree) = &self.items {
            let ids = match tree {
                ServiceTree::Ids(ids) => sql.in_ids(ids)?,
                ServiceTree::Walk { service_id } => {
                    let roots = sql.param(vec![service_id.clone()]);
                    format!(
                        "IN (SELECT w.id FROM quorum_walk_from(CAST({roots} AS TEXT[]), {MAX_WALK_DEPTH}, false) w)"
                    )
                }
            };
            admit(
                "in_service",
                link.records_with(false, &format!("f.ci_id {ids}")),
                &mut scope,
            );
        }
        if let Some(team) = &self.owner_team {
            let team = sql.param(team.clone());
            admit(
                "of_team",
                link.records_with(true, &format!("t.owner_team = {team}")),
                &mut scope,
            );
        }
        let conditions = &mut scope.conditions;
        if let Some(types) = &self.change_types {
            if types.is_empty() {
                conditions.push_str(" AND 1 = 0");
            } else {
                let list: Vec<String> = types
                    .iter()
                    .map(|change_type| literal(change_type.to_value()))
                    .collect();
                conditions.push_str(&format!(
                    " AND {alias}.change_type IN ({})",
                    list.join(", ")
                ));
            }
        }
        Ok(scope)
    }
}
