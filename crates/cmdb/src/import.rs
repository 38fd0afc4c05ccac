//! Bulk import: upsert CIs by (class, name) and relationships by (source, type, target), all
//! or nothing, in one transaction with multi-row statements.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use quorum_core::error::RowError;
use quorum_core::event::{self, EventAction};
use quorum_core::numbering::{format_number, reserve_numbers};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::CI_NUMBER_PREFIX;
use crate::entity::configuration_item::{self as ci, Model};
use crate::entity::relationship;
use crate::entity::{CiClass, CiStatus, Environment, RelationshipType};
use crate::relationship::relationship_event;
use crate::validate::{ItemFields, name_key};
use quorum_core::write::Record;

/// Bad rows listed in one error; the count says how many there were in all.
const MAX_LISTED_ROWS: usize = 50;
/// Rows per multi-row INSERT.
const INSERT_CHUNK: usize = 500;
/// Rows written by one import past which the planner statistics are refreshed at once: a bulk
/// load leaves them describing empty tables until autovacuum comes round, and walks then get
/// plans that scan whole indexes.
const REFRESH_STATISTICS_AFTER: usize = 10_000;

/// Refreshes the planner statistics of the CMDB tables. A failure is logged, never fatal: the
/// data is committed already.
async fn refresh_statistics(db: &DatabaseConnection) {
    let statement = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "ANALYZE configuration_item, ci_relationship",
        _ => "ANALYZE",
    };
    if let Err(error) = db.execute_unprepared(statement).await {
        tracing::warn!(error = %error, "cmdb.import_analyze_failed");
    }
}

/// One CI of an import: the whole desired state, matched to an existing CI by class and name
/// (ignoring case).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportItem {
    pub class: CiClass,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CiStatus>,
    pub environment: Environment,
    pub criticality: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Json>,
}

/// One relationship of an import, its ends named by class and name.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportRelationship {
    pub source_class: CiClass,
    pub source_name: String,
    #[serde(rename = "type")]
    pub relationship_type: RelationshipType,
    pub target_class: CiClass,
    pub target_name: String,
}

/// What an import brings; serialized, the JSON import file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportInput {
    pub items: Vec<ImportItem>,
    pub relationships: Vec<ImportRelationship>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub relationships_created: usize,
    pub relationships_unchanged: usize,
}

#[derive(Default)]
struct RowErrors {
    rows: Vec<RowError>,
    count: usize,
}

impl RowErrors {
    fn push(&mut self, section: &str, row: usize, field: &str, message: impl Into<String>) {
        self.count += 1;
        if self.rows.len() < MAX_LISTED_ROWS {
            self.rows.push(RowError {
                section: section.to_owned(),
                row,
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }

    fn into_result(self) -> DomainResult<()> {
        if self.count == 0 {
            return Ok(());
        }
        let listed = if self.count > self.rows.len() {
            format!(" (the first {} are listed)", self.rows.len())
        } else {
            String::new()
        };
        Err(DomainError::BadRows {
            message: format!(
                "import rejected: {}{listed}; nothing was written",
                quorum_core::text::counted(self.count, "invalid row")
            ),
            rows: self.rows,
        })
    }
}

impl ImportInput {
    /// Reads the JSON file shape `{ "items": [...], "relationships": [...] }`, row by row, so
    /// that every bad row is reported rather than only the first.
    pub fn from_json(text: &str) -> DomainResult<Self> {
        // Rows stay unparsed slices of `text` until each is read on its own: a large file is
        // not held twice as a tree of JSON values.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<'a> {
            #[serde(default, borrow)]
            items: Vec<&'a serde_json::value::RawValue>,
            #[serde(default, borrow)]
            relationships: Vec<&'a serde_json::value::RawValue>,
        }
        let raw: Raw<'_> = serde_json::from_str(text).map_err(|error| {
            DomainError::bad_input(
                "file",
                format!("not an import file ({error}); expected {{\"items\": [...], \"relationships\": [...]}}"),
            )
        })?;
        let mut errors = RowErrors::default();
        let items = parse_raw_rows(&mut errors, "items", &raw.items);
        let relationships = parse_raw_rows(&mut errors, "relationships", &raw.relationships);
        errors.into_result()?;
        Ok(Self {
            items,
            relationships,
        })
    }

    /// Reads items from CSV with a header row: `class,name,status,environment,criticality,
    /// ownerTeam,description,attributes` (attributes as a JSON object; empty cells are unset).
    pub fn from_csv(text: &str) -> DomainResult<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .from_reader(text.as_bytes());
        let columns = reader
            .headers()
            .map_err(|error| {
                DomainError::bad_input("file", format!("unreadable CSV header: {error}"))
            })?
            .clone();
        let mut errors = RowErrors::default();
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    errors.push("items", index + 1, "", error.to_string());
                    continue;
                }
            };
            let row: serde_json::Map<String, Json> = columns
                .iter()
                .zip(record.iter())
                .filter(|(_, cell)| !cell.is_empty())
                .map(|(column, cell)| {
                    let value = match column {
                        "criticality" => cell
                            .trim()
                            .parse::<i64>()
                            .map_or_else(|_| Json::from(cell), Json::from),
                        "attributes" => {
                            serde_json::from_str(cell).unwrap_or_else(|_| Json::from(cell))
                        }
                        _ => Json::from(cell),
                    };
                    (column.to_owned(), value)
                })
                .collect();
            rows.push(Json::Object(row));
        }
        let items = parse_rows(&mut errors, "items", rows);
        errors.into_result()?;
        Ok(Self {
            items,
            relationships: Vec::new(),
        })
    }
}

fn parse_raw_rows<T: serde::de::DeserializeOwned>(
    errors: &mut RowErrors,
    section: &str,
    rows: &[&serde_json::value::RawValue],
) -> Vec<T> {
    let mut parsed = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        match serde_json::from_str(row.get()) {
            Ok(value) => parsed.push(value),
            Err(error) => errors.push(section, index + 1, "", error.to_string()),
        }
    }
    parsed
}

fn parse_rows<T: serde::de::DeserializeOwned>(
    errors: &mut RowErrors,
    section: &str,
    rows: Vec<Json>,
) -> Vec<T> {
    let mut parsed = Vec::with_capacity(rows.len());
    for (index, row) in rows.into_iter().enumerate() {
        match serde_json::from_value(row) {
            Ok(value) => parsed.push(value),
            Err(error) => errors.push(section, index + 1, "", error.to_string()),
        }
    }
    parsed
}

type CiKey = (CiClass, String);

/// Existing CIs with these (class, name key) pairs.
async fn existing_items<C: ConnectionTrait>(
    db: &C,
    keys: &HashSet<CiKey>,
) -> DomainResult<HashMap<CiKey, Model>> {
    let names: Vec<String> = keys
        .iter()
        .map(|(_, name)| name.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut found = HashMap::new();
    for batch in quorum_core::ids::batches(db, &names) {
        let rows = ci::Entity::find()
            .filter(quorum_core::ids::one_of(db, ci::Column::NameKey, batch))
            // FOR UPDATE (PostgreSQL): the CIs the import compares and links to cannot be
            // renamed or retired under it.
            .lock_exclusive()
            .all(db)
            .await?;
        for row in rows {
            let key = (row.class, row.name_key.clone());
            if keys.contains(&key) {
                found.insert(key, row);
            }
        }
    }
    Ok(found)
}

/// Live relationships whose source is one of `source_ids`.
async fn existing_relationships<C: ConnectionTrait>(
    db: &C,
    source_ids: &[String],
) -> DomainResult<HashSet<(String, String, RelationshipType)>> {
    let mut found = HashSet::new();
    for batch in quorum_core::ids::batches(db, source_ids) {
        let rows: Vec<(String, String, RelationshipType)> = relationship::Entity::find()
            .select_only()
            .column(relationship::Column::SourceId)
            .column(relationship::Column::TargetId)
            .column(relationship::Column::RelationshipType)
            .filter(quorum_core::ids::one_of(
                db,
                relationship::Column::SourceId,
                batch,
            ))
            .filter(relationship::Column::RemovedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

#[tracing::instrument(skip_all, fields(import.items = input.items.len(), import.relationships = input.relationships.len()))]
pub async fn import_configuration_items(
    cx: Context<'_>,
    input: ImportInput,
) -> DomainResult<ImportSummary> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::ImportConfigurationItems)?;
    let mut errors = RowErrors::default();

    // 1. Every row on its own, before the database is touched.
    let mut wanted: Vec<(usize, ItemFields)> = Vec::with_capacity(input.items.len());
    let mut row_of_key: HashMap<CiKey, usize> = HashMap::with_capacity(input.items.len());
    for (index, item) in input.items.into_iter().enumerate() {
        let row = index + 1;
        let fields = ItemFields {
            class: item.class,
            name: item.name,
            status: item.status.unwrap_or(CiStatus::InService),
            environment: item.environment,
            criticality: item.criticality,
            owner_team: item.owner_team,
            description: item.description,
            attributes: item.attributes.unwrap_or(Json::Null),
        }
        .validated("");
        match fields {
            Ok(fields) => {
                let key = (fields.class, name_key(&fields.name));
                if let Some(first) = row_of_key.insert(key, row) {
                    errors.push("items", row, "name", format!("the same CI as row {first}"));
                } else {
                    wanted.push((row, fields));
                }
            }
            Err(DomainError::BadInput { field, message }) => {
                errors.push("items", row, &field, message)
            }
            Err(other) => return Err(other),
        }
    }
    let mut endpoint_keys: HashSet<CiKey> = row_of_key.keys().cloned().collect();
    for (index, rel) in input.relationships.iter().enumerate() {
        let source = (rel.source_class, name_key(rel.source_name.trim()));
        let target = (rel.target_class, name_key(rel.target_name.trim()));
        if source == target {
            errors.push(
                "relationships",
                index + 1,
                "targetName",
                "a CI cannot be related to itself",
            );
        }
        endpoint_keys.insert(source);
        endpoint_keys.insert(target);
    }
    errors.into_result()?;
    let mut errors = RowErrors::default();

    let txn = quorum_core::begin_write(db).await?;
    let existing = existing_items(&txn, &endpoint_keys).await?;
    // Stamped once the rows it builds on are read and locked, so its events follow theirs.
    let now = clock.now();

    // 2. Plan the items: create, update or leave.
    let mut summary = ImportSummary::default();
    let mut to_create: Vec<ItemFields> = Vec::new();
    let mut to_update: Vec<(Model, Model)> = Vec::new();
    let mut id_of_key: HashMap<CiKey, String> = existing
        .iter()
        .filter(|(_, model)| model.status != CiStatus::Retired)
        .map(|(key, model)| (key.clone(), model.id.clone()))
        .collect();
    for (row, fields) in wanted {
        let key = (fields.class, name_key(&fields.name));
        match existing.get(&key) {
            Some(current) if current.status == CiStatus::Retired => errors.push(
                "items",
                row,
                "name",
                format!("{} is retired and can no longer change", current.number),
            ),
            Some(current) if ItemFields::of(current) == fields => summary.unchanged += 1,
            Some(current) => {
                let updated = fields.applied_to(current).next_version(now);
                to_update.push((current.clone(), updated));
            }
            None => to_create.push(fields),
        }
    }
    let count = i64::try_from(to_create.len()).unwrap_or(i64::MAX);
    let numbers = reserve_numbers(&txn, CI_NUMBER_PREFIX, count).await?;
    let created: Vec<Model> = to_create
        .into_iter()
        .zip(numbers)
        .map(|(fields, number)| fields.into_new_model(format_number(CI_NUMBER_PREFIX, number), now))
        .collect();
    for model in &created {
        id_of_key.insert((model.class, model.name_key.clone()), model.id.clone());
    }

    // 3. Plan the relationships against the ends now known.
    let mut planned: Vec<relationship::Model> = Vec::new();
    let mut resolved: Vec<(usize, String, String, RelationshipType)> = Vec::new();
    for (index, rel) in input.relationships.iter().enumerate() {
        let row = index + 1;
        let mut end = |class: CiClass, name: &str, field: &str| -> Option<String> {
            let key = (class, name_key(name.trim()));
            match (id_of_key.get(&key), existing.get(&key)) {
                (Some(id), _) => Some(id.clone()),
                (None, Some(retired)) => {
                    errors.push(
                        "relationships",
                        row,
                        field,
                        format!("{} is retired", retired.number),
                    );
                    None
                }
                (None, None) => {
                    errors.push(
                        "relationships",
                        row,
                        field,
                        format!(
                            "no {class:?} named `{}` in the file or the CMDB",
                            name.trim()
                        ),
                    );
                    None
                }
            }
        };
        let source = end(rel.source_class, &rel.source_name, "sourceName");
        let target = end(rel.target_class, &rel.target_name, "targetName");
        if let (Some(source), Some(target)) = (source, target) {
            resolved.push((row, source, target, rel.relationship_type));
        }
    }
    errors.into_result()?;
    let sources: Vec<String> = resolved
        .iter()
        .map(|(_, source, _, _)| source.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut live = existing_relationships(&txn, &sources).await?;
    for (_, source, target, relationship_type) in resolved {
        if !live.insert((source.clone(), target.clone(), relationship_type)) {
            summary.relationships_unchanged += 1;
            continue;
        }
        planned.push(relationship::Model {
            id: uuid::Uuid::now_v7().to_string(),
            source_id: source,
            target_id: target,
            relationship_type,
            created_at: now,
            created_by: actor.subject().to_owned(),
            removed_at: None,
            removed_by: None,
        });
    }

    // 4. Write everything, then the events, in the same transaction.
    summary.created = created.len();
    summary.updated = to_update.len();
    summary.relationships_created = planned.len();
    write(&txn, actor, now, &created, &to_update, &planned)
        .await
        .map_err(|error| match error {
            DomainError::Database(db_error)
                if quorum_core::error::is_unique_violation(&db_error) =>
            {
                DomainError::conflict(
                    "configuration items or relationships in this import were written by \
                     someone else meanwhile; nothing was imported, run it again",
                )
            }
            other => other,
        })?;
    txn.commit().await?;
    if created.len() + planned.len() >= REFRESH_STATISTICS_AFTER {
        refresh_statistics(db).await;
    }
    tracing::info!(?summary, "cmdb.import_committed");
    Ok(summary)
}

/// Writes the planned rows and their events, chunk by chunk: each chunk's events are built
/// just before they are written, so memory holds one chunk of snapshots, not the whole import.
async fn write(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    created: &[Model],
    updated: &[(Model, Model)],
    relationships: &[relationship::Model],
) -> DomainResult<()> {
    for chunk in created.chunks(INSERT_CHUNK) {
        ci::Entity::insert_many(
            chunk
                .iter()
                .map(|model| ci::ActiveModel::from(model.clone()).reset_all()),
        )
        .exec_without_returning(txn)
        .await?;
        let events = chunk
            .iter()
            .map(|model| {
                quorum_core::write::event_of(EventAction::Created, None, None, (model, &()))
            })
            .collect::<DomainResult<Vec<_>>>()?;
        event::append_many(txn, actor, now, events).await?;
    }
    for (current, next) in updated {
        let result = ci::Entity::update_many()
            .set(ci::ActiveModel::from(next.clone()).reset_all())
            .filter(ci::Column::Id.eq(current.id.as_str()))
            .filter(ci::Column::Version.eq(current.version))
            .exec(txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(DomainError::Stale {
                message: format!("{} changed during the import; run it again", current.number),
                current_version: None,
            });
        }
    }
    for chunk in updated.chunks(INSERT_CHUNK) {
        let events = chunk
            .iter()
            .map(|(current, next)| {
                quorum_core::write::event_of(
                    EventAction::Updated,
                    None,
                    Some((current, &())),
                    (next, &()),
                )
            })
            .collect::<DomainResult<Vec<_>>>()?;
        event::append_many(txn, actor, now, events).await?;
    }
    for chunk in relationships.chunks(INSERT_CHUNK) {
        relationship::Entity::insert_many(
            chunk
                .iter()
                .map(|model| relationship::ActiveModel::from(model.clone()).reset_all()),
        )
        .exec_without_returning(txn)
        .await?;
        let events = chunk
            .iter()
            .map(|model| relationship_event(EventAction::Created, None, model))
            .collect::<DomainResult<Vec<_>>>()?;
        event::append_many(txn, actor, now, events).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_json_row_is_reported_with_its_position() {
        let text = r#"{"items": [
            {"class": "DATABASE", "name": "db1", "environment": "PRODUCTION", "criticality": 1},
            {"class": "DATABSE", "name": "db2", "environment": "PRODUCTION", "criticality": 1},
            {"class": "SERVER", "name": "s1", "environment": "PRODUCTION"}
        ]}"#;
        match ImportInput::from_json(text) {
            Err(DomainError::BadRows { rows, .. }) => {
                assert_eq!(rows.iter().map(|row| row.row).collect::<Vec<_>>(), [2, 3]);
            }
            other => panic!("expected BadRows, got {other:?}"),
        }
    }

    #[test]
    fn csv_rows_become_items() {
        let text = "class,name,environment,criticality,attributes\nDATABASE,payments-db,PRODUCTION,1,\"{\"\"engine\"\":\"\"postgres\"\"}\"\n";
        let input = ImportInput::from_csv(text).unwrap();
        assert_eq!(input.items.len(), 1);
        assert_eq!(input.items[0].name, "payments-db");
        assert_eq!(
            input.items[0].attributes,
            Some(serde_json::json!({"engine": "postgres"}))
        );
    }
}
