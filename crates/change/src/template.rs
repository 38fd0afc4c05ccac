//! Standard change templates, kept by change managers.

use quorum_core::event::{EntityKind, EventAction};
use quorum_core::write::{self, Loaded, Record, Step};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Statement,
};

use crate::change::{optional_text, required_text};
use crate::entity::template::{self, Model};
use crate::snapshot::TemplateSnapshot;

/// What `createStandardChangeTemplate` takes.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub description: Option<String>,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: Option<String>,
}

/// Creates an active template (CHANGE_MANAGER). Its plans are what its changes carry.
pub async fn create_template(cx: Context<'_>, input: NewTemplate) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::ManageStandardChangeTemplates)?;
    let now = clock.now();
    let model = Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: required_text("input.name", input.name, 200)?,
        description: optional_text("input.description", input.description, 20_000)?,
        implementation_plan: Some(required_text(
            "input.implementationPlan",
            input.implementation_plan,
            20_000,
        )?),
        backout_plan: Some(required_text(
            "input.backoutPlan",
            input.backout_plan,
            20_000,
        )?),
        test_plan: optional_text("input.testPlan", input.test_plan, 20_000)?,
        active: true,
        version: 1,
        created_by: actor.subject().to_owned(),
        created_at: now,
        updated_at: now,
    };
    let txn = quorum_core::begin_write(db).await?;
    // Template writes queue here (PostgreSQL; SQLite holds the write lock from BEGIN), so two
    // creations of one name cannot both find it free.
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(72737002)",
        ))
        .await?;
    }
    let key = model.name.to_lowercase();
    let taken = template::Entity::find()
        .filter(template::Column::Active.eq(true))
        .all(&txn)
        .await?
        .into_iter()
        .find(|other| other.name.to_lowercase() == key);
    if let Some(other) = taken {
        return Err(DomainError::bad_input(
            "input.name",
            format!(
                "an active template is named `{}` already; names of active templates are unique, \
                 ignoring case (retire it first to replace it)",
                other.name
            ),
        ));
    }
    write::create(
        &txn,
        actor,
        now,
        None,
        &Loaded {
            record: model.clone(),
            extra: (),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Retires a template (CHANGE_MANAGER): it raises no new changes; drafts raised from it can no
/// longer be submitted.
pub async fn retire_template(cx: Context<'_>, id: &str, version: i32) -> DomainResult<Model> {
    write::act(
        cx,
        Permission::ManageStandardChangeTemplates,
        id,
        version,
        Step::new(EventAction::Retired),
        async |_, current: &Loaded<Model>, _| {
            let current = &current.record;
            if !current.active {
                return Err(DomainError::InvalidTransition {
                    message: format!("template `{}` is already retired", current.name),
                });
            }
            Ok(Model {
                active: false,
                ..current.clone()
            })
        },
    )
    .await
}

impl Record for Model {
    type Entity = template::Entity;
    type Extra = ();
    const KIND: EntityKind = EntityKind::StandardChangeTemplate;

    // Templates have no number: errors and logs name them by name.
    quorum_core::versioned_row!(template, number = name);

    async fn read_extra(_: &DatabaseTransaction, _: &str) -> DomainResult<()> {
        Ok(())
    }

    type Snapshot = TemplateSnapshot;

    fn snapshot(&self, _: &()) -> TemplateSnapshot {
        TemplateSnapshot::of_row(self)
    }
}

/// Templates by name; only active ones unless `include_retired`.
pub async fn templates<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    include_retired: bool,
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut select = template::Entity::find();
    if !include_retired {
        select = select.filter(template::Column::Active.eq(true));
    }
    Ok(select
        .order_by_asc(template::Column::Name)
        .order_by_asc(template::Column::Id)
        .all(db)
        .await?)
}

/// Templates by id (any state), for loaders.
pub async fn templates_by_id<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    ids: &[String],
) -> DomainResult<Vec<Model>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut found = Vec::new();
    for batch in quorum_core::ids::batches(db, ids) {
        found.extend(
            template::Entity::find()
                .filter(quorum_core::ids::one_of(db, template::Column::Id, batch))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}
