//! Gives an executed response the shape the GraphQL spec asks for, which async-graphql does not:
//!
//! - **Selection order.** async-graphql resolves a query's fields concurrently and keeps them in
//!   the order they finish, so the same request came back with its keys in a different order
//!   each time. Every object is rebuilt in the order its fields were selected (fragments
//!   expanded where they are spread, `@skip`/`@include` honoured).
//! - **Null propagation.** async-graphql drops the key of a field that failed. The spec puts
//!   `null` there, and when the field is non-null the null moves up to the nearest nullable
//!   position (a nullable field or list item, or `data` itself).
//!
//! The schema's types come from its SDL, read once; the document is the one executed.

use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, Directive, ExecutableDocument, Field, OperationType, Selection, SelectionSet, Type,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Positioned, Response, Value as ConstValue, Variables};
use async_graphql_value::Value;

/// The output types of the schema: each object's (and interface's) fields and their types.
pub(crate) struct Shapes {
    fields: HashMap<String, HashMap<String, Type>>,
    query: String,
    mutation: String,
    subscription: String,
}

impl Shapes {
    pub(crate) fn from_sdl(sdl: &str) -> Self {
        let mut fields: HashMap<String, HashMap<String, Type>> = HashMap::new();
        if let Ok(document) = async_graphql::parser::parse_schema(sdl) {
            for definition in document.definitions {
                let TypeSystemDefinition::Type(ty) = definition else {
                    continue;
                };
                let own = match ty.node.kind {
                    TypeKind::Object(object) => object.fields,
                    TypeKind::Interface(interface) => interface.fields,
                    _ => continue,
                };
                fields.insert(
                    ty.node.name.node.to_string(),
                    own.into_iter()
                        .map(|field| (field.node.name.node.to_string(), field.node.ty.node))
                        .collect(),
                );
            }
        }
        Self {
            fields,
            query: "Query".to_owned(),
            mutation: "Mutation".to_owned(),
            subscription: "Subscription".to_owned(),
        }
    }

    fn field(&self, type_name: &str, field: &str) -> Option<&Type> {
        self.fields
            .get(type_name)
            .and_then(|fields| fields.get(field))
    }

    fn is_composite(&self, type_name: &str) -> bool {
        self.fields.contains_key(type_name)
    }
}

/// The selected operation's selection set and kind, as execution chose it.
pub(crate) fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, &'a SelectionSet)> {
    let operation = match name {
        Some(name) => {
            document
                .operations
                .iter()
                .find(|(operation_name, _)| operation_name.is_some_and(|n| n.as_str() == name))?
                .1
        }
        None => document.operations.iter().next()?.1,
    };
    Some((operation.node.ty, &operation.node.selection_set.node))
}

/// Reorders `response.data` in selection order and propagates the nulls of failed non-null
/// fields, for the operation `kind` with `selection` of `document`.
pub(crate) fn shape(
    response: &mut Response,
    shapes: &Shapes,
    document: &ExecutableDocument,
    kind: OperationType,
    selection: &SelectionSet,
    variables: &Variables,
) {
    if response.errors.is_empty() && matches!(response.data, ConstValue::Null) {
        return;
    }
    let root = match kind {
        OperationType::Query => &shapes.query,
        OperationType::Mutation => &shapes.mutation,
        OperationType::Subscription => &shapes.subscription,
    };
    let walk = Walk {
        shapes,
        document,
        variables,
    };
    let data = std::mem::take(&mut response.data);
    response.data = match walk.object(data, root, &[selection]) {
        Ok(data) => data,
        Err(NonNull) => ConstValue::Null,
    };
}

/// A non-null position that came out null: the null moves to the enclosing position.
struct NonNull;

struct Walk<'a> {
    shapes: &'a Shapes,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
}

/// One response key of a selection: the field it names, the type the field is looked up on,
/// and every selection set given to it.
struct Key<'a> {
    field: &'a str,
    on: Option<&'a str>,
    sets: Vec<&'a SelectionSet>,
}

/// The response keys of a selection, in selection order.
type Keys<'a> = IndexMap<&'a str, Key<'a>>;

impl<'a> Walk<'a> {
    /// `value` as an object of `type_name` selected by `sets`.
    fn object(
        &self,
        value: ConstValue,
        type_name: &str,
        sets: &[&'a SelectionSet],
    ) -> Result<ConstValue, NonNull> {
        self.object_with(value, type_name, &self.keys(sets))
    }

    /// The response keys `sets` select, collected once for every object of a list.
    fn keys(&self, sets: &[&'a SelectionSet]) -> Keys<'a> {
        let mut keys = IndexMap::new();
        for set in sets {
            self.collect(set, None, &mut keys, 0);
        }
        keys
    }

    /// `value` as an object of `type_name` with the response `keys`.
    fn object_with(
        &self,
        value: ConstValue,
        type_name: &str,
        keys: &Keys<'a>,
    ) -> Result<ConstValue, NonNull> {
        let mut results = match value {
            ConstValue::Object(results) => results,
            ConstValue::Null => IndexMap::new(),
            other => return Ok(other),
        };
        let in_order = results.len() == keys.len()
            && results
                .keys()
                .zip(keys.keys())
                .all(|(result, key)| result.as_str() == *key);
        if in_order {
            // Every field answered, in selection order (a plain object): completed in place.
            for ((_, slot), key) in results.iter_mut().zip(keys.values()) {
                let value = std::mem::take(slot);
                *slot = self.field(Some(value), key, type_name)?.unwrap_or_default();
            }
            return Ok(ConstValue::Object(results));
        }
        let mut shaped = IndexMap::with_capacity(results.len());
        for (response_key, key) in keys {
            let (name, value) = match results.shift_remove_entry(*response_key) {
                Some((name, value)) => (name, Some(value)),
                None => (Name::new(response_key), None),
            };
            if value.is_none() && key.on.is_some_and(|on| on != type_name) {
                // Selected on another type than this object's: not for it.
                continue;
            }
            if let Some(value) = self.field(value, key, type_name)? {
                shaped.insert(name, value);
            }
        }
        // Anything execution returned that the selection does not name (it should not happen)
        // is kept, after the rest.
        shaped.extend(results);
        Ok(ConstValue::Object(shaped))
    }

    /// One field's value (none: it failed) completed by its type; none when it stays absent.
    fn field(
        &self,
        value: Option<ConstValue>,
        key: &Key<'a>,
        type_name: &str,
    ) -> Result<Option<ConstValue>, NonNull> {
        if key.field == "__typename" {
            return Ok(value);
        }
        let on = key.on.unwrap_or(type_name);
        match self.shapes.field(on, key.field) {
            Some(ty) => self.value(value, ty, &key.sets).map(Some),
            // Introspection and fields of a type condition this object may not have: as
            // execution left them.
            None => Ok(value),
        }
    }

    /// `value` (none: the field failed) at a position of type `ty`.
    fn value(
        &self,
        value: Option<ConstValue>,
        ty: &Type,
        sets: &[&'a SelectionSet],
    ) -> Result<ConstValue, NonNull> {
        let mut named = &ty.base;
        while let BaseType::List(inner) = named {
            named = &inner.base;
        }
        let keys = match named {
            BaseType::Named(name) if self.shapes.is_composite(name) => Some(self.keys(sets)),
            _ => None,
        };
        self.complete(value, ty, keys.as_ref())
    }

    /// `value` at a position of type `ty`; `keys` are the selection's when the named type is
    /// an object (the same for every item of a list).
    fn complete(
        &self,
        value: Option<ConstValue>,
        ty: &Type,
        keys: Option<&Keys<'a>>,
    ) -> Result<ConstValue, NonNull> {
        let completed = match value {
            None | Some(ConstValue::Null) => Err(NonNull),
            Some(value) => match &ty.base {
                BaseType::List(inner) => match value {
                    ConstValue::List(items) => items
                        .into_iter()
                        .map(|item| self.complete(Some(item), inner, keys))
                        .collect::<Result<Vec<_>, _>>()
                        .map(ConstValue::List),
                    other => Ok(other),
                },
                BaseType::Named(name) => match keys {
                    Some(keys) => self.object_with(value, name, keys),
                    None if name == "DateTime" => Ok(instant(value)),
                    None => Ok(value),
                },
            },
        };
        match completed {
            Ok(value) => Ok(value),
            Err(NonNull) if ty.nullable => Ok(ConstValue::Null),
            Err(NonNull) => Err(NonNull),
        }
    }

    /// The response keys of `set` in selection order, fragments expanded where they are
    /// spread (under their type condition).
    fn collect(
        &self,
        set: &'a SelectionSet,
        on: Option<&'a str>,
        keys: &mut IndexMap<&'a str, Key<'a>>,
        depth: usize,
    ) {
        // Validation refuses fragment cycles; the bound only keeps a bug from recursing.
        if depth > 64 {
            return;
        }
        for selection in &set.items {
            if !self.included(selection_directives(&selection.node)) {
                continue;
            }
            match &selection.node {
                Selection::Field(field) => {
                    let field: &'a Positioned<Field> = field;
                    let key = keys
                        .entry(field.node.response_key().node.as_str())
                        .or_insert_with(|| Key {
                            field: field.node.name.node.as_str(),
                            on,
                            sets: Vec::new(),
                        });
                    key.sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    let condition = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str())
                        .or(on);
                    self.collect(
                        &fragment.node.selection_set.node,
                        condition,
                        keys,
                        depth + 1,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        let condition = Some(fragment.node.type_condition.node.on.node.as_str());
                        self.collect(
                            &fragment.node.selection_set.node,
                            condition,
                            keys,
                            depth + 1,
                        );
                    }
                }
            }
        }
    }

    /// Whether `@skip` and `@include` let a selection through.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|directive| {
            let condition = directive
                .node
                .get_argument("if")
                .map(|value| match &value.node {
                    Value::Boolean(flag) => *flag,
                    Value::Variable(name) => {
                        matches!(self.variables.get(name), Some(ConstValue::Boolean(true)))
                    }
                    _ => false,
                });
            match directive.node.name.node.as_str() {
                "skip" => condition != Some(true),
                "include" => condition != Some(false),
                _ => true,
            }
        })
    }
}

/// A `DateTime` as JavaScript's `Date.toISOString()` writes it: UTC, `Z`, milliseconds
/// (`2026-12-03T18:48:28.918Z`). async-graphql writes `…918327+00:00`; plain fields already
/// write it so ([`js_instant`]), and are left as they are.
fn instant(value: ConstValue) -> ConstValue {
    match &value {
        ConstValue::String(text) if is_js_instant(text) => value,
        ConstValue::String(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(at) => ConstValue::String(
                at.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            Err(_) => value,
        },
        _ => value,
    }
}

/// An instant as JavaScript's `Date.toISOString()` writes it.
pub(crate) fn js_instant(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether `text` is already written as [`js_instant`] writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
fn is_js_instant(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 24
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            19 => *byte == b'.',
            23 => *byte == b'Z',
            _ => byte.is_ascii_digit(),
        })
}

fn selection_directives(selection: &Selection) -> &[Positioned<Directive>] {
    match selection {
        Selection::Field(field) => &field.node.directives,
        Selection::InlineFragment(fragment) => &fragment.node.directives,
        Selection::FragmentSpread(spread) => &spread.node.directives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        scalar DateTime
        type Query { a: String b: Obj! c: Obj list: [Obj!] strict: [Obj!]! at: DateTime }
        type Obj { x: String y: String! }
    "#;

    fn shaped(query: &str, data: serde_json::Value) -> serde_json::Value {
        shaped_value(query, data).into_json().expect("json")
    }

    /// The shaped data as it is serialized (serde_json's own map would sort the keys).
    fn shaped_value(query: &str, data: serde_json::Value) -> ConstValue {
        let shapes = Shapes::from_sdl(SDL);
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let (kind, selection) = operation(&document, None).expect("one operation");
        let mut response = Response::new(ConstValue::from_json(data).expect("json"));
        response
            .errors
            .push(async_graphql::ServerError::new("failed", None));
        shape(
            &mut response,
            &shapes,
            &document,
            kind,
            selection,
            &Variables::default(),
        );
        response.data
    }

    #[test]
    fn keys_come_back_in_selection_order_with_fragments_where_they_are_spread() {
        let data = serde_json::json!({ "c": { "y": "2", "x": "1" }, "b": { "x": "3", "y": "4" }, "a": "0" });
        let out = shaped_value("{ b { ...F } a c { y x } } fragment F on Obj { y x }", data);
        assert_eq!(
            serde_json::to_string(&out).expect("json"),
            r#"{"b":{"y":"4","x":"3"},"a":"0","c":{"y":"2","x":"1"}}"#
        );
    }

    #[test]
    fn a_failed_nullable_field_is_null() {
        let out = shaped("{ a c { x } }", serde_json::json!({ "a": "0" }));
        assert_eq!(out, serde_json::json!({ "a": "0", "c": null }));
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nullable_parent() {
        let out = shaped(
            "{ a c { x y } }",
            serde_json::json!({ "a": "0", "c": { "x": "1" } }),
        );
        assert_eq!(out, serde_json::json!({ "a": "0", "c": null }));
    }

    #[test]
    fn a_failed_non_null_item_nulls_a_nullable_list() {
        let out = shaped(
            "{ list { y } }",
            serde_json::json!({ "list": [{ "y": "1" }, {}] }),
        );
        assert_eq!(out, serde_json::json!({ "list": null }));
    }

    #[test]
    fn a_failure_under_non_null_positions_up_to_the_root_nulls_data() {
        assert_eq!(
            shaped("{ a b { x } }", serde_json::json!({ "a": "0" })),
            serde_json::Value::Null
        );
        assert_eq!(
            shaped(
                "{ a strict { y } }",
                serde_json::json!({ "a": "0", "strict": [{}] })
            ),
            serde_json::Value::Null
        );
    }

    #[test]
    fn instants_are_written_in_utc_with_milliseconds_and_z() {
        let out = shaped(
            "{ at }",
            serde_json::json!({ "at": "2026-12-03T19:48:28.918327+01:00" }),
        );
        assert_eq!(out, serde_json::json!({ "at": "2026-12-03T18:48:28.918Z" }));
    }

    #[test]
    fn objects_already_in_selection_order_are_completed_in_place_with_the_same_rules() {
        let out = shaped_value(
            "{ c { x y } at list { y } }",
            serde_json::json!({
                "c": { "x": null, "y": "2" },
                "at": "2026-12-03T18:48:28.918Z",
                "list": [{ "y": "1" }, { "y": "2" }],
            }),
        );
        assert_eq!(
            serde_json::to_string(&out).expect("json"),
            r#"{"c":{"x":null,"y":"2"},"at":"2026-12-03T18:48:28.918Z","list":[{"y":"1"},{"y":"2"}]}"#
        );
        // In order, but a non-null field is null: the null still moves up.
        assert_eq!(
            shaped(
                "{ a b { x y } }",
                serde_json::json!({ "a": "0", "b": { "x": "1", "y": null } })
            ),
            serde_json::Value::Null
        );
    }

    #[test]
    fn skipped_fields_stay_absent() {
        let out = shaped(
            "{ a @skip(if: true) c @include(if: false) { x } b { x } }",
            serde_json::json!({ "b": { "x": "1" } }),
        );
        assert_eq!(out, serde_json::json!({ "b": { "x": "1" } }));
    }
}
