//! Relay-style paging over keyset cursors.
//!
//! A cursor is the sort key of a row, serialized as JSON and base64url-encoded: opaque to
//! clients, stable under inserts, and cheap for the database (a range scan, no OFFSET).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::IntoValueTuple;
use sea_orm::{ConnectionTrait, EntityTrait, IntoIdentity, PaginatorTrait, Select};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DomainError, DomainResult};

/// Rows per page when the client asks for neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The most rows one page may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The four Relay arguments as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// The caller does not need `total_count` (the client did not select `totalCount`): the
    /// count, often the costliest statement of a page, is not run and the total is 0.
    pub skip_total: bool,
}

/// Which way the key columns are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// One page of rows, each with its cursor.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub edges: Vec<(String, T)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    /// Rows matching the filter, on all pages.
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            edges: self
                .edges
                .into_iter()
                .map(|(cursor, item)| (cursor, f(item)))
                .collect(),
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

/// How many rows to take and from which end, once the request has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Take {
    First(u64),
    Last(u64),
}

impl PageRequest {
    pub fn first(count: i32) -> Self {
        Self {
            first: Some(count),
            ..Self::default()
        }
    }

    fn take(&self) -> DomainResult<Take> {
        let checked = |field: &str, count: i32| -> DomainResult<u64> {
            let count = u64::try_from(count).map_err(|_| {
                DomainError::bad_input(field, format!("`{field}` must not be negative"))
            })?;
            if count > MAX_PAGE_SIZE {
                return Err(DomainError::bad_input(
                    field,
                    format!(
                        "`{field}` must be at most {MAX_PAGE_SIZE}; page through the rest with cursors"
                    ),
                ));
            }
            Ok(count)
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(DomainError::bad_input(
                "last",
                "pass either `first` or `last`, not both",
            )),
            (Some(first), None) => checked("first", first).map(Take::First),
            (None, Some(last)) => checked("last", last).map(Take::Last),
            (None, None) => Ok(Take::First(DEFAULT_PAGE_SIZE)),
        }
    }
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    // Serializing plain keys (numbers, strings, uuids, tuples of them) cannot fail.
    let json = serde_json::to_vec(key).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is BAD_USER_INPUT on `field`.
pub fn decode_cursor<K: DeserializeOwned>(field: &str, cursor: &str) -> DomainResult<K> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            DomainError::bad_input(
                field,
                format!("`{field}` is not a cursor returned by this list"),
            )
        })
}

/// Pages through `select` by the unique key `columns` (whose value for a row is `key_of(row)`).
///
/// Costs two statements: the count of `select` (unless `request.skip_total`) and one keyset
/// range read of at most one row more than the page, which tells whether there is a further
/// page. The two run at once.
pub async fn paginate<E, K, C, I>(
    db: &C,
    select: Select<E>,
    columns: I,
    order: SortOrder,
    key_of: impl Fn(&E::Model) -> K,
    request: &PageRequest,
) -> DomainResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    K: Serialize + DeserializeOwned + IntoValueTuple,
    C: ConnectionTrait,
    I: IntoIdentity,
{
    // Cloned only for a count that runs: a page without `totalCount` pays nothing for it.
    let counted = (!request.skip_total).then(|| select.clone());
    let total = async move {
        match counted {
            Some(counted) => Ok(counted.count(db).await?),
            None => Ok(0),
        }
    };
    paginate_counted(db, select, columns, order, key_of, request, total).await
}

/// As [`paginate`], with the total given by `total` instead of a count of `select` (a list
/// whose total the database keeps, [`crate::tally`]). `total` is awaited only when the
/// request wants the total, beside the range read.
pub async fn paginate_counted<E, K, C, I>(
    db: &C,
    select: Select<E>,
    columns: I,
    order: SortOrder,
    key_of: impl Fn(&E::Model) -> K,
    request: &PageRequest,
    total: impl Future<Output = DomainResult<u64>>,
) -> DomainResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    K: Serialize + DeserializeOwned + IntoValueTuple,
    C: ConnectionTrait,
    I: IntoIdentity,
{
    let take = request.take()?;
    let after = request
        .after
        .as_deref()
        .map(|cursor| decode_cursor::<K>("after", cursor))
        .transpose()?;
    let before = request
        .before
        .as_deref()
        .map(|cursor| decode_cursor::<K>("before", cursor))
        .transpose()?;

    let mut cursor = select.cursor_by(columns);
    if order == SortOrder::Descending {
        cursor.desc();
    }
    let has_after = after.is_some();
    let has_before = before.is_some();
    if let Some(after) = after {
        cursor.after(after);
    }
    if let Some(before) = before {
        cursor.before(before);
    }

    let range = async {
        Ok(match take {
            Take::First(count) => {
                let mut rows = cursor.first(count + 1).all(db).await?;
                let more = rows.len() as u64 > count;
                rows.truncate(count as usize);
                (rows, has_after, more)
            }
            Take::Last(count) => {
                let mut rows = cursor.last(count + 1).all(db).await?;
                let more = rows.len() as u64 > count;
                if more {
                    rows.remove(0);
                }
                (rows, more, has_before)
            }
        })
    };
    let (total_count, (rows, has_previous_page, has_next_page)) = if request.skip_total {
        (0, range.await?)
    } else {
        tokio::try_join!(total, range)?
    };

    Ok(Page {
        edges: rows
            .into_iter()
            .map(|row| (encode_cursor(&key_of(&row)), row))
            .collect(),
        has_previous_page,
        has_next_page,
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_input_field(error: DomainError) -> String {
        match error {
            DomainError::BadInput { field, .. } => field,
            other => panic!("expected BadInput, got {other:?}"),
        }
    }

    #[test]
    fn a_page_larger_than_the_maximum_is_refused_on_the_field_that_asked() {
        let request = PageRequest::first(MAX_PAGE_SIZE as i32 + 1);
        assert_eq!(bad_input_field(request.take().unwrap_err()), "first");
    }

    #[test]
    fn a_negative_last_is_refused() {
        let request = PageRequest {
            last: Some(-1),
            ..PageRequest::default()
        };
        assert_eq!(bad_input_field(request.take().unwrap_err()), "last");
    }

    #[test]
    fn first_and_last_together_are_refused() {
        let request = PageRequest {
            first: Some(1),
            last: Some(1),
            ..PageRequest::default()
        };
        assert!(request.take().is_err());
    }

    #[test]
    fn no_size_means_the_default_page() {
        assert_eq!(
            PageRequest::default().take().unwrap(),
            Take::First(DEFAULT_PAGE_SIZE)
        );
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_bad_input() {
        let cursor = encode_cursor(&(42i64, "abc".to_owned()));
        let key: (i64, String) = decode_cursor("after", &cursor).unwrap();
        assert_eq!(key, (42, "abc".to_owned()));
        assert_eq!(
            bad_input_field(decode_cursor::<i64>("after", "not a cursor!").unwrap_err()),
            "after"
        );
    }
}
