//! Answers to queries, kept and handed out again for as long as the database's commit mark
//! ([`quorum_core::mark`]) has not moved.
//!
//! Dashboards ask the same queries again and again, and most of the time nothing they read has
//! changed. An answer is kept under the caller (subject and roles: what a caller may see, and
//! fields such as `myVote`, depend on who asks) and the exact request it answered (the body of
//! a POST, the query string of a GET), with the mark read before it ran. The next identical
//! request reads the mark again, one short statement, and gets the kept answer only if the
//! mark is the same: no transaction that wrote anything has ended since, on any instance. So
//! a kept answer is always the answer the database would give now, and a caller that wrote
//! reads its write, wherever it reads.
//!
//! Kept are only answers a repeat would reproduce: a query (not a mutation) that executed,
//! for a caller with a token, with no error, that never read the clock (an SLA's remaining
//! time changes with no write), of a request that is one operation (not a batch). Memory is
//! bounded by weight (the request's and the answer's bytes); quick_cache evicts by its
//! scan-resistant policy, so a stream of distinct requests cannot push out the hot ones.

use std::sync::Arc;

use axum::body::Bytes;
use quorum_core::Actor;
use quorum_core::mark::{Mark, commit_mark};
use sea_orm::{DatabaseBackend, DatabaseConnection};

/// The largest number of entries the table is sized for at start (it grows past it).
const MOST_ENTRIES_ESTIMATED: u64 = 1 << 16;

/// Bytes each entry is counted for beyond its request and answer (key, mark, bookkeeping).
const ENTRY_OVERHEAD: u64 = 256;

/// What an answer was kept under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    actor: Actor,
    /// A GET's query string and a POST's body are different requests even when the bytes
    /// match.
    get: bool,
    request: Bytes,
}

/// One kept answer.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    mark: Mark,
    /// The response body as it was sent.
    pub(crate) body: Bytes,
    /// The operation's name, for metrics.
    pub(crate) operation: Option<Arc<str>>,
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Key, Kept> for Weight {
    fn weight(&self, key: &Key, kept: &Kept) -> u64 {
        (key.request.len() + kept.body.len() + kept.mark.len()) as u64 + ENTRY_OVERHEAD
    }
}

/// What a request finds.
pub(crate) enum Lookup {
    /// Nothing is kept for it and nothing will be (no caller, or the mark is unreadable).
    Off,
    /// The kept answer, still the database's.
    Hit(Kept),
    /// Run it; its answer may be kept under `key`, with `mark` when it was read already (an
    /// answer was kept, but from before the last write), else with one read once the request
    /// turns out to be a query ([`Results::mark`]).
    Miss { key: Key, mark: Option<Mark> },
}

pub(crate) struct Results {
    kept: quick_cache::sync::Cache<Key, Kept, Weight>,
    /// An answer heavier than this, with its request, is not kept (one entry must not evict
    /// most others: a request's variables may run to megabytes).
    largest: usize,
}

impl Results {
    /// A store of at most `capacity` bytes for a database of `backend`; none when `capacity`
    /// is 0 or the store has no commit mark (SQLite).
    pub(crate) fn new(capacity: u64, backend: DatabaseBackend) -> Option<Self> {
        let marked = backend == DatabaseBackend::Postgres;
        (capacity > 0 && marked).then(|| Self {
            // quick_cache sizes its table from an estimate of the number of entries, up front:
            // bounded, so that a huge setting does not allocate a huge table at start.
            kept: quick_cache::sync::Cache::with_weighter(
                (capacity / 16_384).clamp(64, MOST_ENTRIES_ESTIMATED) as usize,
                capacity,
                Weight,
            ),
            largest: (capacity / 64) as usize,
        })
    }

    /// Looks `request` of `actor` up; reads the database's mark only when an answer is kept
    /// for it, so that a request refused before it runs, or a mutation, reads nothing.
    pub(crate) async fn look(
        &self,
        db: &DatabaseConnection,
        actor: Option<&Actor>,
        get: bool,
        request: &Bytes,
    ) -> Lookup {
        let Some(actor) = actor else {
            return Lookup::Off;
        };
        let key = Key {
            actor: actor.clone(),
            get,
            request: request.clone(),
        };
        let Some(kept) = self.kept.get(&key) else {
            return Lookup::Miss { key, mark: None };
        };
        match Self::mark(db).await {
            Some(mark) if mark == kept.mark => Lookup::Hit(kept),
            Some(mark) => Lookup::Miss {
                key,
                mark: Some(mark),
            },
            None => Lookup::Off,
        }
    }

    /// The database's commit mark now; none when it cannot be read (logged: nothing is kept
    /// or reused then).
    pub(crate) async fn mark(db: &DatabaseConnection) -> Option<Mark> {
        match commit_mark(db).await {
            Ok(mark) => mark,
            Err(error) => {
                tracing::warn!(error = %error, "results.mark_unreadable");
                None
            }
        }
    }

    /// Keeps `body`, the answer to `key` computed after `mark` was read.
    pub(crate) fn keep(&self, key: Key, mark: Mark, body: Bytes, operation: Option<&str>) {
        if key.request.len() + body.len() > self.largest {
            return;
        }
        let kept = Kept {
            mark,
            body,
            operation: operation.map(Arc::from),
        };
        self.kept.insert(key, kept);
    }

    /// Bytes held now (answers, requests and overhead).
    #[cfg(test)]
    fn weight(&self) -> u64 {
        self.kept.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_core::Role;

    fn key(n: usize) -> Key {
        Key {
            actor: Actor::new("ann", [Role::Engineer]),
            get: false,
            request: Bytes::from(format!("{{\"query\":\"{{ n{n} }}\"}}")),
        }
    }

    #[test]
    fn what_is_kept_stays_within_its_capacity_however_many_requests_come() {
        let results = Results::new(64 << 10, DatabaseBackend::Postgres).expect("a capacity");
        let mark: Mark = Arc::from("1:1:");
        for n in 0..10_000 {
            results.keep(key(n), mark.clone(), Bytes::from(vec![b'x'; 700]), None);
            assert!(results.weight() <= 64 << 10, "{} bytes", results.weight());
        }
        let too_large = Bytes::from(vec![b'x'; 2 << 10]);
        results.keep(key(20_000), mark.clone(), too_large, None);
        assert!(results.kept.get(&key(20_000)).is_none());
        // A small answer to a request of megabytes (variables no query uses) is not kept.
        let mut heavy = key(30_000);
        heavy.request = Bytes::from(vec![b' '; 2 << 10]);
        results.keep(heavy.clone(), mark, Bytes::from_static(b"{}"), None);
        assert!(results.kept.get(&heavy).is_none());
    }

    #[test]
    fn a_huge_capacity_starts_with_a_bounded_table() {
        let results = Results::new(u64::MAX / 2, DatabaseBackend::Postgres).expect("a capacity");
        results.keep(key(1), Arc::from("1:1:"), Bytes::from_static(b"{}"), None);
        assert!(results.kept.get(&key(1)).is_some());
    }

    #[test]
    fn no_capacity_or_no_mark_keeps_nothing() {
        assert!(Results::new(0, DatabaseBackend::Postgres).is_none());
        assert!(Results::new(1 << 20, DatabaseBackend::Sqlite).is_none());
    }
}
