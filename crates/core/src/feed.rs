//! The live feed: committed events, in commit order, pushed to this instance's subscribers.
//!
//! One pump per instance reads the event table (the outbox) after its last position and
//! publishes each event once to a bounded broadcast ring shared by every subscriber. On
//! PostgreSQL the pump LISTENs on `quorum_events` (each insert into `event` NOTIFYs with the
//! event id, migration 7) and reads after every notification, so instances behind a load
//! balancer all see every write, whichever instance made it. On SQLite (one instance) the
//! server wakes the pump after each request that may have written. Both also poll now and then,
//! which covers a notification lost while the listening connection was down.
//!
//! Order. An event's position is `(tx_id, id)` on PostgreSQL (the writing transaction, then the
//! sequence) and `(0, id)` on SQLite. PostgreSQL hands out ids in insert order, not commit order,
//! so the pump reads only events whose transaction is older than every transaction still
//! running (`pg_snapshot_xmin`): no event can appear below that mark later, and a reader that
//! remembers its last position neither skips a committed event nor sees one twice. The cost:
//! while a write transaction runs, events of transactions that started after it wait for it.
//!
//! Subscribers start from the live position, or resume after an event id: they first read what
//! they missed from the table (up to the position the feed had published when they joined),
//! then take live events past it. A subscriber that falls more than the ring's capacity behind
//! gets [`FeedError::Lagged`] and its stream ends; writers and other subscribers never wait.

use std::any::Any;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, FromQueryResult, Statement,
};
use serde_json::Value as Json;
use tokio::sync::{Notify, broadcast};

use crate::event;
use crate::store::on_a_live_connection;

/// Where an event stands in commit order: the writing transaction (0 on SQLite), then its id.
pub type Position = (i64, i64);

/// Before every event.
const BEFORE_ALL: Position = (i64::MIN, i64::MIN);
/// The PostgreSQL channel that migration 7's trigger notifies.
pub const CHANNEL: &str = "quorum_events";
/// Events kept for subscribers that are behind; one further behind is dropped.
pub const DEFAULT_CAPACITY: usize = 4_096;
/// Events read per statement.
const BATCH: i64 = 500;
/// How far back a subscription may resume, in rings: events of its scope between its `after`
/// and the present, at most this many times the ring's capacity. A subscriber dropped for
/// lagging a ring behind can always resume; a resume from the dawn of a large log is refused
/// (read the present with a query, then subscribe from now).
const REPLAY_RINGS: usize = 4;
/// Replay reads of one instance running at once: many subscriptions resuming together queue
/// here instead of taking every database connection.
const REPLAY_READERS: usize = 2;
/// Most record ids a scope sends to the database; a longer list is filtered after reading.
const MAX_SCOPED_IDS: usize = 100;
/// How often the pump reads without being told to (a lost notification, a write by another
/// process on SQLite).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// First wait before reading again while committed events wait for an older transaction.
const HELD_POLL: Duration = Duration::from_millis(5);
const RETRY: Duration = Duration::from_secs(1);

/// One committed event and its place in the feed.
pub struct FeedEvent {
    pub position: Position,
    pub event: event::Model,
    /// What subscribers decoded from the event, once for all of them.
    decoded: OnceLock<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for FeedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedEvent")
            .field("position", &self.position)
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

impl FeedEvent {
    pub fn new(position: Position, event: event::Model) -> Self {
        Self {
            position,
            event,
            decoded: OnceLock::new(),
        }
    }

    /// `decode(event)`, computed once per event for all the subscribers that ask for the same
    /// type (a thousand subscribers decode each event's JSON once, not a thousand times).
    pub fn decoded<T: Any + Send + Sync>(&self, decode: impl Fn(&event::Model) -> T) -> Arc<T> {
        let stored = self
            .decoded
            .get_or_init(|| Arc::new(decode(&self.event)) as Arc<dyn Any + Send + Sync>);
        match stored.clone().downcast::<T>() {
            Ok(decoded) => decoded,
            Err(_) => Arc::new(decode(&self.event)),
        }
    }
}

/// Why a subscription's stream ended early.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FeedError {
    #[error(
        "this subscriber fell more than {capacity} events behind and was dropped; subscribe again \
         with `after` set to the last event id received"
    )]
    Lagged {
        capacity: usize,
        /// The event this subscriber had reached (delivered, or passed over as not its
        /// business), to resume after; none when it had reached none.
        last_event_id: Option<i64>,
    },
    #[error("no event has id {0}")]
    UnknownEvent(i64),
    #[error(
        "more than {max} events of this subscription have passed since event {after}; read the \
         present with a query and subscribe without `after`"
    )]
    TooFarBehind { after: i64, max: usize },
    #[error("the event feed stopped")]
    Closed,
    #[error("the event table could not be read: {0}")]
    Database(String),
}

impl From<DbErr> for FeedError {
    fn from(error: DbErr) -> Self {
        FeedError::Database(error.to_string())
    }
}

/// A handle on this instance's feed; clones share it.
#[derive(Clone)]
pub struct EventFeed {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    capacity: usize,
    wake: Notify,
    published: Mutex<Published>,
    /// Held by each replay read ([`REPLAY_READERS`]).
    replays: tokio::sync::Semaphore,
    /// How many times the pump has read the event table.
    reads: std::sync::atomic::AtomicU64,
}

/// Which events a subscription wants: some kinds of record (none named: every kind) and,
/// when given, only some records. What it leaves out is left out by the database when a
/// subscription resumes, so a resume costs what it delivers, not the size of the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    kinds: Vec<&'static str>,
    records: Option<Vec<String>>,
}

impl Scope {
    /// Every event.
    pub fn all() -> Self {
        Self::default()
    }

    /// The events of records of `kind`.
    pub fn kind(kind: &'static str) -> Self {
        Self {
            kinds: vec![kind],
            records: None,
        }
    }

    /// Only the events of these records.
    pub fn records(mut self, ids: Vec<String>) -> Self {
        self.records = Some(ids);
        self
    }

    /// Whether `event` is in scope.
    pub fn holds(&self, event: &event::Model) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.entity_kind.as_str()))
            && self
                .records
                .as_ref()
                .is_none_or(|ids| ids.contains(&event.entity_id))
    }

    /// The SQL conditions on `e` that keep the scope's events, with their values, numbered
    /// from `$first` on PostgreSQL (`?` on SQLite).
    fn sql(&self, backend: DatabaseBackend, first: usize) -> (String, Vec<sea_orm::Value>) {
        let mut sql = String::new();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        let placeholder = |values: &mut Vec<sea_orm::Value>, value: sea_orm::Value| {
            values.push(value);
            match backend {
                DatabaseBackend::Postgres => format!("${}", first + values.len() - 1),
                _ => "?".to_owned(),
            }
        };
        let any_of = |column: &str, items: Vec<String>, values: &mut Vec<sea_orm::Value>| {
            let marks: Vec<String> = items
                .into_iter()
                .map(|item| placeholder(values, item.into()))
                .collect();
            format!(" AND e.{column} IN ({})", marks.join(", "))
        };
        if !self.kinds.is_empty() {
            let kinds = self.kinds.iter().map(|kind| (*kind).to_owned()).collect();
            sql.push_str(&any_of("entity_kind", kinds, &mut values));
        }
        if let Some(ids) = self
            .records
            .as_ref()
            .filter(|ids| ids.len() <= MAX_SCOPED_IDS)
        {
            sql.push_str(&any_of("entity_id", ids.clone(), &mut values));
        }
        (sql, values)
    }
}

struct Published {
    /// The last position published; none while the table is empty.
    last: Option<Position>,
    sender: broadcast::Sender<Arc<FeedEvent>>,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: i64,
    occurred_at: DateTime<Utc>,
    actor: String,
    entity_kind: String,
    entity_id: String,
    action: String,
    reason: Option<String>,
    before: Option<Json>,
    after: Option<Json>,
    tx_id: i64,
}

impl Row {
    fn into_feed_event(self) -> FeedEvent {
        FeedEvent::new(
            (self.tx_id, self.id),
            event::Model {
                id: self.id,
                occurred_at: self.occurred_at,
                actor: self.actor,
                entity_kind: self.entity_kind,
                entity_id: self.entity_id,
                action: self.action,
                reason: self.reason,
                before: self.before,
                after: self.after,
            },
        )
    }
}

const COLUMNS: &str = "e.id, e.occurred_at, e.actor, e.entity_kind, e.entity_id, e.action, e.reason, e.before, e.after";

/// How far a read of the feed goes.
#[derive(Debug, Clone, Copy)]
enum Until {
    /// Up to the mark: on PostgreSQL, events of transactions older than every one still
    /// running (what the pump may publish); on SQLite, every event.
    Mark,
    /// Up to and including this position (what a resuming subscriber missed).
    Position(Position),
}

/// The events in `scope` after `after` in commit order, at most `limit`, up to `until`.
async fn read_events(
    db: &DatabaseConnection,
    after: Position,
    until: Until,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<FeedEvent>, DbErr> {
    let (range, values) = range_sql(db.get_database_backend(), after, until, scope);
    let backend = db.get_database_backend();
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {COLUMNS}, e.tx_id FROM event e WHERE {range} \
                 ORDER BY e.tx_id, e.id LIMIT {limit}"
            ),
            values,
        ),
        _ => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {COLUMNS}, 0 AS tx_id FROM event e WHERE {range} \
                 ORDER BY e.id LIMIT {limit}"
            ),
            values,
        ),
    };
    Ok(
        on_a_live_connection(|| Row::find_by_statement(statement.clone()).all(db))
            .await?
            .into_iter()
            .map(Row::into_feed_event)
            .collect(),
    )
}

/// The condition on `e` for the events in `scope` after `after`, up to `until`, with its values.
fn range_sql(
    backend: DatabaseBackend,
    after: Position,
    until: Until,
    scope: &Scope,
) -> (String, Vec<sea_orm::Value>) {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let range = match backend {
        DatabaseBackend::Postgres => {
            values.extend([after.0.into(), after.1.into()]);
            let bound = match until {
                Until::Mark => {
                    "e.tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint".to_owned()
                }
                Until::Position(upto) => {
                    values.extend([upto.0.into(), upto.1.into()]);
                    "(e.tx_id, e.id) <= ($3, $4)".to_owned()
                }
            };
            format!("(e.tx_id, e.id) > ($1, $2) AND {bound}")
        }
        _ => {
            let upto = match until {
                Until::Mark => i64::MAX,
                Until::Position(upto) => upto.1,
            };
            values.extend([after.1.into(), upto.into()]);
            "e.id > ? AND e.id <= ?".to_owned()
        }
    };
    let (scoped, scope_values) = scope.sql(backend, values.len() + 1);
    values.extend(scope_values);
    (format!("{range}{scoped}"), values)
}

/// How many events in `scope` lie after `after` up to `upto`, counting no further than
/// `limit` (so the count costs at most `limit` index entries).
async fn count_events(
    db: &DatabaseConnection,
    after: Position,
    upto: Position,
    scope: &Scope,
    limit: usize,
) -> Result<usize, DbErr> {
    let backend = db.get_database_backend();
    let (range, values) = range_sql(backend, after, Until::Position(upto), scope);
    let statement = Statement::from_sql_and_values(
        backend,
        format!("SELECT count(*) AS n FROM (SELECT 1 FROM event e WHERE {range} LIMIT {limit}) t"),
        values,
    );
    let row = on_a_live_connection(|| db.query_one_raw(statement.clone())).await?;
    let count: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Whether committed events after `after` wait above the mark (PostgreSQL only): then the
/// pump reads again soon even if no notification comes.
///
/// Some do exactly when the newest committed event is after `after` and at or above the mark,
/// so this reads one index entry from the end of `event_feed`. (An `EXISTS` over the same
/// condition may be planned as a scan of the whole table, read to the end whenever the answer
/// is no: at 7 800 events it was, 2.7 ms on every pump cycle of every instance.)
async fn held_after(db: &DatabaseConnection, after: Position) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    if backend != DatabaseBackend::Postgres {
        return Ok(false);
    }
    let statement = Statement::from_sql_and_values(
        backend,
        "SELECT e.tx_id >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS held \
         FROM event e WHERE (e.tx_id, e.id) > ($1, $2) \
         ORDER BY e.tx_id DESC, e.id DESC LIMIT 1",
        [after.0.into(), after.1.into()],
    );
    let row = on_a_live_connection(|| db.query_one_raw(statement.clone())).await?;
    Ok(match row {
        Some(row) => row.try_get("", "held")?,
        None => false,
    })
}

/// The newest position below the mark (where a starting feed begins) and the committed
/// events above it (waiting for an older transaction), in one snapshot.
async fn newest_position(
    db: &DatabaseConnection,
) -> Result<(Option<Position>, Vec<Position>), DbErr> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_string(
            backend,
            "WITH mark AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) \
             (SELECT e.tx_id, e.id, false AS held FROM event e, mark WHERE e.tx_id < mark.xmin \
              ORDER BY e.tx_id DESC, e.id DESC LIMIT 1) \
             UNION ALL \
             (SELECT e.tx_id, e.id, true AS held FROM event e, mark WHERE e.tx_id >= mark.xmin \
              ORDER BY e.tx_id, e.id LIMIT 10000)",
        ),
        _ => Statement::from_string(
            backend,
            "SELECT 0 AS tx_id, e.id, 0 AS held FROM event e ORDER BY e.id DESC LIMIT 1",
        ),
    };
    let mut newest = None;
    let mut held = Vec::new();
    for row in on_a_live_connection(|| db.query_all_raw(statement.clone())).await? {
        let position: Position = (row.try_get("", "tx_id")?, row.try_get("", "id")?);
        if row.try_get::<bool>("", "held")? {
            held.push(position);
        } else {
            newest = Some(position);
        }
    }
    Ok((newest, held))
}

/// Where a subscription starts: after `after`, leaving out the events in `skip` (committed
/// before it started but not yet published, because an older transaction still runs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartPoint {
    pub after: Option<Position>,
    pub skip: Vec<Position>,
}

impl StartPoint {
    /// Just after the event at `position`.
    pub fn after(position: Position) -> Self {
        Self {
            after: Some(position),
            skip: Vec::new(),
        }
    }
}

impl EventFeed {
    /// A feed that starts at the newest committed event: subscribers get what is written from
    /// now on (and, resuming, what they missed). Nothing is published until [`EventFeed::run`].
    pub async fn start(db: DatabaseConnection, capacity: usize) -> Result<Self, DbErr> {
        let (last, _) = newest_position(&db).await?;
        let (sender, _) = broadcast::channel(capacity.max(1));
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                capacity: capacity.max(1),
                wake: Notify::new(),
                published: Mutex::new(Published { last, sender }),
                replays: tokio::sync::Semaphore::new(REPLAY_READERS),
                reads: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// Tells the pump that something may have been written here, so that it reads now. On
    /// SQLite this is how a write reaches subscribers without waiting for the next poll; on
    /// PostgreSQL the notification usually arrives first and this read finds nothing new.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// How many times the pump has read the event table since the feed started: once per
    /// wake, notification or poll that found the pump waiting.
    pub fn reads(&self) -> u64 {
        self.inner.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The last position published, if any.
    pub fn last_published(&self) -> Option<Position> {
        self.lock().last
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Published> {
        self.inner
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes what was committed since the last read, in order; returns whether committed
    /// events wait for an older transaction to end.
    async fn publish_pending(&self) -> Result<bool, DbErr> {
        self.inner
            .reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        loop {
            let after = self.last_published().unwrap_or(BEFORE_ALL);
            let events =
                read_events(&self.inner.db, after, Until::Mark, &Scope::all(), BATCH).await?;
            let full = events.len() as i64 == BATCH;
            let last = {
                let mut published = self.lock();
                for event in events {
                    published.last = Some(event.position);
                    // No receivers is not an error: the event is simply not needed here.
                    let _ = published.sender.send(Arc::new(event));
                }
                published.last
            };
            if !full {
                return held_after(&self.inner.db, last.unwrap_or(BEFORE_ALL)).await;
            }
        }
    }

    /// The pump: reads and publishes until the process ends. `listen_url` is the PostgreSQL
    /// URL to LISTEN on (none on SQLite).
    pub async fn run(self, listen_url: Option<String>) {
        if let Some(url) = listen_url {
            tokio::spawn(listen(url, self.inner.clone()));
        }
        let mut held_wait = HELD_POLL;
        loop {
            let held = match self.publish_pending().await {
                Ok(held) => held,
                Err(error) => {
                    tracing::warn!(error = %error, "feed.read_failed");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            let wait = if held {
                let wait = held_wait;
                held_wait = (held_wait * 2).min(IDLE_POLL);
                wait
            } else {
                held_wait = HELD_POLL;
                IDLE_POLL
            };
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    () = self.inner.wake.notified() => {
                        // A write, here or (NOTIFY) on another instance: read it now for the
                        // subscribers here. With none, the poll keeps the position fresh, and a
                        // subscription wakes the pump as it starts: at a thousand creations a
                        // second, reading after each cost the server and the database a
                        // statement or two per write that nobody was waiting for.
                        if self.listened() {
                            break;
                        }
                    }
                    () = tokio::time::sleep_until(deadline) => break,
                }
            }
        }
    }

    /// Whether any subscription of this instance is receiving.
    fn listened(&self) -> bool {
        self.lock().sender.receiver_count() > 0
    }

    /// The newest committed position now: where a subscription "from now on" starts, so that
    /// it never receives a write that committed before it was made, even one this feed has not
    /// published yet.
    pub async fn current_position(&self) -> Result<StartPoint, FeedError> {
        let (after, skip) = newest_position(&self.inner.db).await?;
        Ok(StartPoint { after, skip })
    }

    /// The position of event `id`, to resume after it.
    pub async fn position_of(&self, id: i64) -> Result<Position, FeedError> {
        let backend = self.inner.db.get_database_backend();
        let statement = match backend {
            DatabaseBackend::Postgres => Statement::from_sql_and_values(
                backend,
                "SELECT tx_id FROM event WHERE id = $1",
                [id.into()],
            ),
            _ => Statement::from_sql_and_values(
                backend,
                "SELECT 0 AS tx_id FROM event WHERE id = ?",
                [id.into()],
            ),
        };
        let db = &self.inner.db;
        let row = on_a_live_connection(|| db.query_one_raw(statement.clone()))
            .await?
            .ok_or(FeedError::UnknownEvent(id))?;
        Ok((row.try_get("", "tx_id")?, id))
    }

    /// Every event committed after `start` (from [`EventFeed::current_position`] or
    /// [`EventFeed::position_of`]): what was missed first (read from the table), then live
    /// ones, each once and in commit order.
    pub fn subscribe(
        &self,
        start: StartPoint,
    ) -> impl Stream<Item = Result<Arc<FeedEvent>, FeedError>> + Send + use<> {
        self.subscribe_to(start, Scope::all())
    }

    /// The events in `scope` committed after `start`, as [`EventFeed::subscribe`]. What was
    /// missed is read with the scope's conditions, and at most [`REPLAY_RINGS`] rings of it:
    /// further behind, the stream ends at once with [`FeedError::TooFarBehind`].
    pub fn subscribe_to(
        &self,
        start: StartPoint,
        scope: Scope,
    ) -> impl Stream<Item = Result<Arc<FeedEvent>, FeedError>> + Send + use<> {
        let feed = self.clone();
        async_stream::try_stream! {
            let (mut receiver, joined_at) = {
                let published = feed.lock();
                (published.sender.subscribe(), published.last)
            };
            // The pump may have let writes wait for its poll while nobody listened.
            feed.wake();
            // Everything at or before `cursor` has been delivered, or was before the start, or
            // committed before the subscription was made (`skip`).
            let StartPoint { after, skip } = start;
            let mut skip: HashSet<Position> = skip.into_iter().collect();
            let mut cursor = after.unwrap_or(BEFORE_ALL);
            if let Some(upto) = joined_at.filter(|upto| cursor < *upto) {
                let max = feed.inner.capacity.saturating_mul(REPLAY_RINGS);
                let missed = {
                    let _reading = feed.inner.replays.acquire().await.map_err(|_| FeedError::Closed)?;
                    count_events(&feed.inner.db, cursor, upto, &scope, max.saturating_add(1))
                        .await
                        .map_err(FeedError::from)?
                };
                if missed > max {
                    Err(FeedError::TooFarBehind { after: cursor.1, max })?;
                }
                while cursor < upto {
                    let events = {
                        let _reading = feed.inner.replays.acquire().await.map_err(|_| FeedError::Closed)?;
                        read_events(&feed.inner.db, cursor, Until::Position(upto), &scope, BATCH)
                            .await
                            .map_err(FeedError::from)?
                    };
                    let full = events.len() as i64 == BATCH;
                    for event in events {
                        cursor = event.position;
                        if !skip.remove(&event.position) && scope.holds(&event.event) {
                            yield Arc::new(event);
                        }
                    }
                    if !full {
                        break;
                    }
                }
                cursor = cursor.max(upto);
            }
            loop {
                match receiver.recv().await {
                    Ok(event) => {
                        if event.position <= cursor {
                            continue;
                        }
                        cursor = event.position;
                        if !skip.remove(&event.position) && scope.holds(&event.event) {
                            yield event;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let last_event_id = (cursor != BEFORE_ALL).then_some(cursor.1);
                        Err(FeedError::Lagged { capacity: feed.inner.capacity, last_event_id })?;
                    }
                    Err(broadcast::error::RecvError::Closed) => Err(FeedError::Closed)?,
                }
            }
        }
    }
}

/// LISTENs on [`CHANNEL`] and wakes the pump on every notification. When the connection drops
/// (a restart, `pg_terminate_backend`), it reconnects, LISTENs again and wakes the pump, whose
/// read catches up on whatever the lost notifications would have announced.
async fn listen(url: String, inner: Arc<Inner>) {
    let mut listener: Option<PgListener> = None;
    loop {
        if listener.is_none() {
            let connected = async {
                let mut pg = PgListener::connect(&url).await?;
                pg.listen(CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(pg)
            };
            match connected.await {
                Ok(pg) => {
                    tracing::info!("feed.listening");
                    listener = Some(pg);
                    inner.wake.notify_one();
                }
                Err(error) => {
                    tracing::warn!(error = %error, "feed.listen_failed");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            }
        }
        let Some(pg) = listener.as_mut() else {
            continue;
        };
        match pg.try_recv().await {
            Ok(Some(_)) => inner.wake.notify_one(),
            // The connection dropped; the next call reconnects and LISTENs again.
            Ok(None) => {
                tracing::warn!("feed.listener_disconnected");
                inner.wake.notify_one();
            }
            Err(error) => {
                tracing::warn!(error = %error, "feed.listener_failed");
                listener = None;
                inner.wake.notify_one();
                tokio::time::sleep(RETRY / 10).await;
            }
        }
    }
}
