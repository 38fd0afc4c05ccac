//! Objects answered from memory in one pass over their selection, without a future per field.
//!
//! async-graphql resolves every field of every object as a boxed future, polled through a
//! `FuturesUnordered` and gathered into a map: on a page of 50 changes with their risk, CIs
//! and votes that is some 1 500 futures for values already in memory (`bench/README.md`,
//! "Runs F, G and H: plain fields", has what it cost and what is left). A type that implements
//! [`Plain`] says which of its fields it can answer from the value alone; wrapped in [`Fast`],
//! its selection is walked once: those fields (and nested objects that are plain all the
//! way down) are written straight into the response in selection order, and only the others
//! (a loader, the database, arguments, an error to report) go through the type's own
//! resolvers, concurrently, as before; a loader still batches them across the level.
//!
//! The schema does not change: `Fast<T>` registers as `T`. A test runs every field of every
//! plain type both ways and compares the answers (`tests` below), so a plain field cannot
//! drift from its resolver.

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{
    ContainerType, ContextSelectionSet, InputType, Name, OutputType, Positioned, ServerResult,
    Value,
};
use chrono::{DateTime, Utc};

/// An object some of whose fields need nothing but the value itself.
pub(crate) trait Plain: ContainerType {
    /// `field`'s value from `self` alone, or `None` when it needs its resolver. Only called for
    /// fields without arguments; `walk` answers nested objects' selections.
    fn plain(&self, field: &Field, walk: &Walk<'_>) -> Option<Value>;
}

/// `T` with its selection answered by [`Plain`] first: registers and answers as `T` does.
pub(crate) struct Fast<T>(pub(crate) T);

impl<T: Plain> OutputType for Fast<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let walk = Walk::of(ctx);
        let Some(fields) = walk.fields(&T::type_name(), &ctx.item.node) else {
            return resolve_container(ctx, &self.0).await;
        };
        let root = &self.0;
        let mut values: IndexMap<Name, Value> = IndexMap::with_capacity(fields.len());
        let mut pending = Vec::new();
        for field in fields {
            let key = field.node.response_key().node.clone();
            let value = walk.field(root, &field.node);
            if value.is_none() {
                pending.push((values.len(), field));
            }
            if values.insert(key, value.unwrap_or_default()).is_some() {
                // A key selected twice: async-graphql merges the two selections.
                return resolve_container(ctx, root).await;
            }
        }
        let resolved = futures_util::future::join_all(pending.into_iter().map(|(index, field)| {
            let ctx = ctx.clone();
            async move {
                let ctx_field = ctx.with_field(field);
                (index, root.resolve_field(&ctx_field).await)
            }
        }))
        .await;
        let mut failed = Vec::new();
        for (index, result) in resolved {
            match result {
                Ok(value) => {
                    if let Some((_, slot)) = values.get_index_mut(index) {
                        *slot = value.unwrap_or_default();
                    }
                }
                Err(error) => {
                    ctx.add_error(error);
                    failed.push(index);
                }
            }
        }
        // As async-graphql does: a failed field's key is left out (`shape` puts the null back
        // where the spec wants it).
        for index in failed.into_iter().rev() {
            values.shift_remove_index(index);
        }
        Ok(if values.is_empty() {
            Value::Null
        } else {
            Value::Object(values)
        })
    }
}

/// A list of `T`, registered and answered as `Vec<T>`; when every field its items select is
/// plain, the whole list is written in one pass (no future per item).
pub(crate) struct FastList<T>(pub(crate) Vec<Fast<T>>);

impl<T> FromIterator<T> for FastList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self(items.into_iter().map(Fast).collect())
    }
}

impl<T: Plain> OutputType for FastList<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<Fast<T>> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Fast<T>> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<Fast<T>> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let walk = Walk::of(ctx);
        // The items share one selection: its fields are collected once.
        let items = walk
            .fields(&T::type_name(), &ctx.item.node)
            .and_then(|fields| {
                self.0
                    .iter()
                    .map(|item| walk.answer(&item.0, &fields))
                    .collect::<Option<Vec<_>>>()
            });
        match items {
            Some(items) => Ok(Value::List(items)),
            None => OutputType::resolve(&self.0, ctx, field).await,
        }
    }
}

/// What a selection needs beyond itself: the document's fragments and the schema's registry
/// (which interfaces a type implements, for type conditions).
pub(crate) struct Walk<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

impl<'a> Walk<'a> {
    fn of(ctx: &'a ContextSelectionSet<'_>) -> Self {
        Self {
            registry: &ctx.schema_env.registry,
            fragments: &ctx.query_env.fragments,
        }
    }

    /// The fields `set` selects on `type_name`, fragments that apply expanded in place; `None`
    /// when a fragment is unknown (left to async-graphql to report).
    fn fields<'s>(
        &self,
        type_name: &str,
        set: &'s SelectionSet,
    ) -> Option<Vec<&'s Positioned<Field>>>
    where
        'a: 's,
    {
        let mut fields = Vec::with_capacity(set.items.len());
        self.collect(type_name, set, &mut fields).then_some(fields)
    }

    fn collect<'s>(
        &self,
        type_name: &str,
        set: &'s SelectionSet,
        out: &mut Vec<&'s Positioned<Field>>,
    ) -> bool
    where
        'a: 's,
    {
        for selection in &set.items {
            let (condition, inner) = match &selection.node {
                Selection::Field(field) => {
                    out.push(field);
                    continue;
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.fragments.get(&spread.node.fragment_name.node) else {
                        return false;
                    };
                    (
                        Some(fragment.node.type_condition.node.on.node.as_str()),
                        &fragment.node.selection_set.node,
                    )
                }
                Selection::InlineFragment(fragment) => (
                    fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str()),
                    &fragment.node.selection_set.node,
                ),
            };
            let applies = condition.is_none_or(|condition| {
                condition == type_name
                    || self
                        .registry
                        .implements
                        .get(type_name)
                        .is_some_and(|interfaces| interfaces.contains(condition))
            });
            if applies && !self.collect(type_name, inner, out) {
                return false;
            }
        }
        true
    }

    /// One field of `root` when it is plain: `__typename`, or a field without arguments that
    /// [`Plain::plain`] answers.
    fn field<T: Plain>(&self, root: &T, field: &Field) -> Option<Value> {
        if field.name.node == "__typename" {
            return Some(Value::String(root.introspection_type_name().into_owned()));
        }
        if !field.arguments.is_empty() {
            return None;
        }
        root.plain(field, self)
    }

    /// `root` selected by `field`'s selection set, when every field it selects is plain.
    pub(crate) fn object<T: Plain>(&self, root: &T, field: &Field) -> Option<Value> {
        self.object_in(root, &field.selection_set.node)
    }

    /// `root` selected by `set`, when every field it selects is plain.
    fn object_in<T: Plain>(&self, root: &T, set: &SelectionSet) -> Option<Value> {
        self.answer(root, &self.fields(&T::type_name(), set)?)
    }

    /// `root` answered for `fields` (collected by [`Walk::fields`]), when every one is plain
    /// and no response key comes twice (async-graphql merges those).
    fn answer<T: Plain>(&self, root: &T, fields: &[&Positioned<Field>]) -> Option<Value> {
        let mut values = IndexMap::with_capacity(fields.len());
        for selected in fields {
            let value = self.field(root, &selected.node)?;
            if values
                .insert(selected.node.response_key().node.clone(), value)
                .is_some()
            {
                return None;
            }
        }
        Some(if values.is_empty() {
            Value::Null
        } else {
            Value::Object(values)
        })
    }

    /// A list of plain objects selected by `field`, when every item is plain.
    pub(crate) fn list<T: Plain>(
        &self,
        items: impl IntoIterator<Item = T>,
        field: &Field,
    ) -> Option<Value> {
        let fields = self.fields(&T::type_name(), &field.selection_set.node)?;
        items
            .into_iter()
            .map(|item| self.answer(&item, &fields))
            .collect::<Option<Vec<_>>>()
            .map(Value::List)
    }
}

/// A scalar or enum as its resolver would write it.
pub(crate) fn value<T: InputType>(value: &T) -> Option<Value> {
    Some(value.to_value())
}

/// An instant as the response carries it (`shape` writes every `DateTime` so).
pub(crate) fn instant(at: &DateTime<Utc>) -> Option<Value> {
    Some(Value::String(crate::shape::js_instant(at)))
}

/// An optional instant as the response carries it.
pub(crate) fn maybe_instant(at: Option<&DateTime<Utc>>) -> Option<Value> {
    Some(at.map_or(Value::Null, |at| {
        Value::String(crate::shape::js_instant(at))
    }))
}

/// A string field as its resolver would write it.
pub(crate) fn text(value: &str) -> Option<Value> {
    Some(Value::String(value.to_owned()))
}

/// An optional string field as its resolver would write it.
pub(crate) fn maybe_text(value: Option<&str>) -> Option<Value> {
    Some(value.map_or(Value::Null, |value| Value::String(value.to_owned())))
}

#[cfg(test)]
mod tests {
    //! Every field of every plain type, answered by [`Plain`] and by its resolver, on values
    //! that set every field and on values that set none: the two answers must be equal.

    use std::collections::BTreeSet;

    use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
    use chrono::{DateTime, TimeZone, Utc};
    use quorum_change::{Board, ChangeOutcome, ChangeState, ChangeType, UserImpact, VoteDecision};

    use quorum_core::event::EventAction;
    use sea_orm::ModelTrait;

    use super::{Fast, FastList};
    use crate::audit::AuditEvent;
    use std::sync::Arc;

    use crate::change::objects::{CabVote, Change, ListRelated};
    use crate::cmdb::objects::ConfigurationItem;
    use crate::incident::objects::Incident;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
            .single()
            .expect("a valid instant")
    }

    fn risk() -> serde_json::Value {
        let answers = quorum_change::RiskQuestionnaire {
            user_impact: UserImpact::High,
            outage_required: true,
            tested: false,
            backout_tested: true,
            done_before: false,
        };
        let facts = quorum_change::risk::RiskFacts {
            affected: Vec::new(),
            business_services: Vec::new(),
            failed: 1,
            completed: 3,
        };
        let assessment =
            quorum_change::RiskAssessment::from_facts(answers, &facts, at(3), "manager");
        serde_json::to_value(assessment).expect("an assessment serializes")
    }

    fn changes() -> Vec<quorum_change::Change> {
        let mut bare = quorum_change::draft_row(
            "CHG0000001".to_owned(),
            ChangeType::Normal,
            "Bare".to_owned(),
            "alice",
            at(1),
        );
        bare.id = "change-1".to_owned();
        let mut full = quorum_change::draft_row(
            "CHG0000002".to_owned(),
            ChangeType::Emergency,
            "Everything set".to_owned(),
            "bob",
            at(2),
        );
        full.id = "change-2".to_owned();
        full.state = ChangeState::Closed;
        full.description = Some("what".to_owned());
        full.justification = Some("why".to_owned());
        full.implementation_plan = Some("how".to_owned());
        full.backout_plan = Some("undo".to_owned());
        full.test_plan = Some("check".to_owned());
        full.assignee = Some("carol".to_owned());
        full.planned_start = Some(at(4));
        full.planned_end = Some(at(6));
        full.actual_start = Some(at(4));
        full.actual_end = Some(at(5));
        full.started_outside_window = true;
        full.outcome = Some(ChangeOutcome::Failed);
        full.completion_notes = Some("notes".to_owned());
        full.risk = Some(risk());
        full.risk_score = Some(61);
        full.risk_level = Some(quorum_change::RiskLevel::High);
        full.schedule_override_reason = Some("override".to_owned());
        full.submitted_at = Some(at(2));
        full.referred_at = Some(at(3));
        full.decided_at = Some(at(3));
        full.completed_at = Some(at(5));
        full.closed_at = Some(at(7));
        full.version = 9;
        // Score and level read from the stored assessment, not their columns.
        let mut uncolumned = full.clone();
        uncolumned.id = "change-3".to_owned();
        uncolumned.number = "CHG0000003".to_owned();
        uncolumned.risk_score = None;
        uncolumned.risk_level = None;
        // An assessment that does not decode: the resolver's error, both ways.
        let mut unreadable = full.clone();
        unreadable.id = "change-4".to_owned();
        unreadable.number = "CHG0000004".to_owned();
        unreadable.risk = Some(serde_json::json!({ "score": "many" }));
        vec![bare, full, uncolumned, unreadable]
    }

    fn items() -> Vec<(quorum_cmdb::ConfigurationItem, Option<DateTime<Utc>>)> {
        let item = |number: &str, full: bool| quorum_cmdb::ConfigurationItem {
            id: format!("id-{number}"),
            number: number.to_owned(),
            class: quorum_cmdb::CiClass::Server,
            name: format!("host {number}"),
            name_key: format!("host {number}"),
            status: quorum_cmdb::CiStatus::InService,
            environment: quorum_cmdb::Environment::Production,
            criticality: 2,
            owner_team: full.then(|| "ops".to_owned()),
            description: full.then(|| "a host".to_owned()),
            attributes: serde_json::json!({ "cpu": 8 }),
            version: 3,
            created_at: at(1),
            updated_at: at(2),
            retired_at: full.then(|| at(3)),
        };
        vec![
            (item("CI0000001", false), None),
            (item("CI0000002", true), Some(at(4))),
        ]
    }

    fn votes() -> Vec<quorum_change::Vote> {
        let vote = |voter: &str, comment: Option<&str>| quorum_change::Vote {
            change_id: "change".to_owned(),
            voter: voter.to_owned(),
            board: Board::Cab,
            decision: VoteDecision::Approve,
            comment: comment.map(str::to_owned),
            cast_at: at(2),
        };
        vec![vote("dave", None), vote("erin", Some("fine"))]
    }

    fn incidents() -> Vec<quorum_incident::Incident> {
        let incident = |number: &str, full: bool| quorum_incident::Incident {
            id: format!("id-{number}"),
            number: number.to_owned(),
            title: "Checkout is down".to_owned(),
            description: full.then(|| "502s".to_owned()),
            impact: quorum_incident::Level::High,
            urgency: quorum_incident::Level::Medium,
            priority: quorum_incident::Priority::P2,
            state: quorum_incident::IncidentState::OnHold,
            caller: full.then(|| "frank".to_owned()),
            assignment_group: full.then(|| "web".to_owned()),
            assignee: full.then(|| "grace".to_owned()),
            caused_by_change_id: None,
            problem_id: None,
            major_incident: full,
            resolution_code: full.then_some(quorum_incident::ResolutionCode::Workaround),
            resolution_notes: full.then(|| "restarted".to_owned()),
            reopen_count: 2,
            hold_reason: full.then(|| "vendor".to_owned()),
            opened_by: "heidi".to_owned(),
            opened_at: at(1),
            responded_at: full.then(|| at(2)),
            response_target_minutes: 30,
            resolution_target_minutes: 240,
            response_due: at(2),
            resolution_due: at(5),
            on_hold_since: full.then(|| at(3)),
            paused_seconds: 60,
            resolved_at: full.then(|| at(4)),
            closed_at: full.then(|| at(5)),
            version: 4,
            updated_at: at(5),
        };
        vec![incident("INC0000001", false), incident("INC0000002", true)]
    }

    fn events() -> Vec<quorum_core::event::Model> {
        let event =
            |id: i64, kind: &str, action: &str, reason: Option<&str>| quorum_core::event::Model {
                id,
                occurred_at: at(2),
                actor: "ivan".to_owned(),
                entity_kind: kind.to_owned(),
                entity_id: format!("record-{id}"),
                action: action.to_owned(),
                reason: reason.map(str::to_owned),
                before: None,
                after: Some(serde_json::json!({ "state": "NEW" })),
            };
        vec![
            event(1, "Change", EventAction::RaisedMajor.as_str(), None),
            event(2, "Incident", EventAction::Reopened.as_str(), Some("again")),
            // Unknown to today's code: the resolver's error, both ways.
            event(3, "Spaceship", "launched", None),
        ]
    }

    /// `changes` with what a root list reads with them: every change but the first has CIs
    /// and votes.
    fn with_related(changes: Vec<quorum_change::Change>) -> Vec<Change> {
        let others = || changes.iter().skip(1).map(|change| change.id.clone());
        let items = others()
            .map(|id| {
                let items = items().into_iter().map(|(item, _)| Arc::new(item));
                (id, items.collect())
            })
            .collect();
        let votes = others().map(|id| (id, votes())).collect();
        let mut related = ListRelated::of(items, votes);
        changes
            .into_iter()
            .map(|change| related.attach(change))
            .collect()
    }

    fn incidents_with_items() -> Vec<Incident> {
        incidents()
            .into_iter()
            .map(|incident| {
                Incident::with_items(
                    incident,
                    items().into_iter().map(|(item, _)| item).collect(),
                )
            })
            .collect()
    }

    /// The changes as the write path stores them: score and level are written with the
    /// assessment (the uncolumned value is a case of reading, not of writing).
    fn stored_changes() -> Vec<quorum_change::Change> {
        changes()
            .into_iter()
            .filter(|change| change.risk.is_some() == change.risk_score.is_some())
            .collect()
    }

    struct Both;

    #[Object]
    impl Both {
        async fn stored_changes(&self) -> Vec<Fast<Change>> {
            stored_changes()
                .into_iter()
                .map(|row| Fast(Change::new(row)))
                .collect()
        }
        /// As read when the selection's unread columns come back NULL.
        async fn projected_changes(&self, ctx: &Context<'_>) -> Vec<Fast<Change>> {
            let unread =
                crate::change::objects::unread_columns(&ctx.look_ahead().selection_fields());
            stored_changes()
                .into_iter()
                .map(|mut row| {
                    for column in &unread {
                        row.set(*column, row.get(*column).as_null());
                    }
                    Fast(Change::new(row))
                })
                .collect()
        }
        async fn changes(&self) -> Vec<Change> {
            changes().into_iter().map(Change::new).collect()
        }
        /// As a root list reads them: with their CIs and votes (none for the first).
        async fn related_changes(&self) -> Vec<Change> {
            with_related(changes())
        }
        async fn fast_related_changes(&self) -> Vec<Fast<Change>> {
            with_related(changes()).into_iter().map(Fast).collect()
        }
        async fn fast_changes(&self) -> Vec<Fast<Change>> {
            changes()
                .into_iter()
                .map(|row| Fast(Change::new(row)))
                .collect()
        }
        async fn items(&self) -> Vec<ConfigurationItem> {
            items()
                .into_iter()
                .map(|(item, as_of)| ConfigurationItem::new(item, as_of))
                .collect()
        }
        async fn fast_items(&self) -> Vec<Fast<ConfigurationItem>> {
            items()
                .into_iter()
                .map(|(item, as_of)| Fast(ConfigurationItem::new(item, as_of)))
                .collect()
        }
        async fn incidents(&self) -> Vec<Incident> {
            incidents().into_iter().map(Incident::new).collect()
        }
        /// As a creation answers: with the CIs it linked.
        async fn incidents_with_items(&self) -> Vec<Incident> {
            incidents_with_items()
        }
        async fn fast_incidents_with_items(&self) -> Vec<Fast<Incident>> {
            incidents_with_items().into_iter().map(Fast).collect()
        }
        async fn fast_incidents(&self) -> Vec<Fast<Incident>> {
            incidents()
                .into_iter()
                .map(|incident| Fast(Incident::new(incident)))
                .collect()
        }
        async fn events(&self) -> Vec<AuditEvent> {
            events().into_iter().map(AuditEvent::from).collect()
        }
        async fn fast_events(&self) -> Vec<Fast<AuditEvent>> {
            events().into_iter().map(Fast::from).collect()
        }
        async fn fast_item_list(&self) -> FastList<ConfigurationItem> {
            items()
                .into_iter()
                .map(|(item, as_of)| ConfigurationItem::new(item, as_of))
                .collect()
        }
        async fn fast_vote_list(&self) -> FastList<CabVote> {
            votes().into_iter().map(CabVote).collect()
        }
        async fn votes(&self) -> Vec<CabVote> {
            votes().into_iter().map(CabVote).collect()
        }
        async fn fast_votes(&self) -> Vec<Fast<CabVote>> {
            votes()
                .into_iter()
                .map(|vote| Fast(CabVote(vote)))
                .collect()
        }
    }

    fn instants_as_clients_get_them(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::String(text) => serde_json::Value::String(
                DateTime::parse_from_rfc3339(&text)
                    .map_or(text, |at| crate::shape::js_instant(&at.with_timezone(&Utc))),
            ),
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(instants_as_clients_get_them)
                .collect(),
            serde_json::Value::Object(map) => map
                .into_iter()
                .map(|(key, value)| (key, instants_as_clients_get_them(value)))
                .collect(),
            other => other,
        }
    }

    /// Every field of `type_name` that takes no argument, objects selected the same way down
    /// to `depth`, each object type once on a path.
    fn selection(
        types: &std::collections::HashMap<String, Vec<(String, bool, String)>>,
        type_name: &str,
        depth: usize,
        path: &mut Vec<String>,
    ) -> String {
        let mut out = vec!["__typename".to_owned()];
        path.push(type_name.to_owned());
        for (field, has_arguments, of) in &types[type_name] {
            if *has_arguments {
                continue;
            }
            if !types.contains_key(of) {
                out.push(field.clone());
            } else if depth > 0 && !path.contains(of) {
                out.push(format!(
                    "{field} {{ {} }}",
                    selection(types, of, depth - 1, path)
                ));
            }
        }
        path.pop();
        out.join(" ")
    }

    /// Each object type of `schema`'s SDL: its fields' names, whether they take arguments, and
    /// their named (innermost) types.
    fn object_types(
        schema: &Schema<Both, EmptyMutation, EmptySubscription>,
    ) -> std::collections::HashMap<String, Vec<(String, bool, String)>> {
        let document = async_graphql::parser::parse_schema(schema.sdl()).expect("the SDL parses");
        let mut types = std::collections::HashMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let TypeKind::Object(object) = ty.node.kind else {
                continue;
            };
            let fields = object
                .fields
                .into_iter()
                .map(|field| {
                    let mut ty = &field.node.ty.node.base;
                    while let BaseType::List(inner) = ty {
                        ty = &inner.base;
                    }
                    let BaseType::Named(name) = ty else {
                        unreachable!("a list's item type is named in the end")
                    };
                    (
                        field.node.name.node.to_string(),
                        !field.node.arguments.is_empty(),
                        name.to_string(),
                    )
                })
                .collect();
            types.insert(ty.node.name.node.to_string(), fields);
        }
        types
    }

    /// The errors of `response` under the root field `root`, by path and message.
    fn errors_under(response: &async_graphql::Response, root: &str) -> BTreeSet<String> {
        response
            .errors
            .iter()
            .filter(|error| {
                matches!(error.path.first(), Some(async_graphql::PathSegment::Field(name)) if name == root)
            })
            .map(|error| format!("{:?} {}", &error.path[1..], error.message))
            .collect()
    }

    /// `query` asked by a CAB member who voted on the related changes (`myVote`).
    fn as_a_member(query: &str) -> async_graphql::Request {
        async_graphql::Request::new(query).data(crate::context::RequestContext::new(
            Some(quorum_core::Actor::new(
                "erin",
                [quorum_core::Role::CabMember],
            )),
            "plain-test".to_owned(),
        ))
    }

    #[tokio::test]
    async fn every_plain_field_answers_as_its_resolver_does() {
        let schema = Schema::new(Both, EmptyMutation, EmptySubscription);
        let types = object_types(&schema);
        for (slow, fast, type_name) in [
            ("changes", "fastChanges", "Change"),
            ("relatedChanges", "fastRelatedChanges", "Change"),
            ("items", "fastItems", "ConfigurationItem"),
            ("votes", "fastVotes", "CabVote"),
            ("items", "fastItemList", "ConfigurationItem"),
            ("votes", "fastVoteList", "CabVote"),
            ("incidents", "fastIncidents", "Incident"),
            ("incidentsWithItems", "fastIncidentsWithItems", "Incident"),
            ("events", "fastEvents", "AuditEvent"),
        ] {
            let fields = selection(&types, type_name, 3, &mut Vec::new());
            let query = format!("{{ {slow} {{ {fields} }} {fast} {{ {fields} }} }}");
            let response = schema.execute(as_a_member(&query)).await;
            // Instants as clients get them (`shape` writes every `DateTime` as JavaScript
            // does; a plain field writes it so already).
            let data = instants_as_clients_get_them(
                response.data.clone().into_json().expect("data is JSON"),
            );
            assert!(
                data[slow].as_array().is_some_and(|rows| !rows.is_empty()),
                "{type_name}: no rows in {data}"
            );
            assert_eq!(data[slow], data[fast], "{type_name}, selected by {fields}");
            assert_eq!(
                errors_under(&response, slow),
                errors_under(&response, fast),
                "{type_name}: errors differ"
            );
        }
    }

    /// Each field of a change, alone, answers the same when the columns it is said not to need
    /// come back NULL (`unread_columns`) as when the whole row is read.
    #[tokio::test]
    async fn a_change_read_for_its_selection_answers_as_one_read_whole() {
        let schema = Schema::new(Both, EmptyMutation, EmptySubscription);
        let types = object_types(&schema);
        let mut selections: Vec<String> = types["Change"]
            .iter()
            .filter(|(_, has_arguments, _)| !has_arguments)
            .map(|(field, _, of)| match types.contains_key(of) {
                false => field.clone(),
                true => format!(
                    "{field} {{ {} }}",
                    selection(&types, of, 2, &mut vec!["Change".to_owned()])
                ),
            })
            .collect();
        selections.extend(
            [
                "score",
                "level",
                "score level __typename",
                "factors { name }",
            ]
            .map(|part| format!("risk {{ {part} }}")),
        );
        for fields in selections {
            let query =
                format!("{{ storedChanges {{ {fields} }} projectedChanges {{ {fields} }} }}");
            let response = schema.execute(query.as_str()).await;
            let data = response.data.clone().into_json().expect("data is JSON");
            assert!(
                data["storedChanges"]
                    .as_array()
                    .is_some_and(|rows| rows.len() == 3),
                "no rows in {data}"
            );
            assert_eq!(
                data["storedChanges"], data["projectedChanges"],
                "selected by {fields}"
            );
            assert_eq!(
                errors_under(&response, "storedChanges"),
                errors_under(&response, "projectedChanges"),
                "errors differ, selected by {fields}"
            );
        }
    }
}
