//! Subscriptions: live change, incident and CAB agenda events, fed by the event log through
//! this instance's [`EventFeed`](quorum_core::feed::EventFeed).
//!
//! Each subscription may resume `after` the last event id its client saw: it first receives
//! what it missed, then live events, each once and in commit order. The object each message
//! carries is the record as that event's write left it, so a client rendering messages in order
//! never shows an older state after a newer one.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use quorum_change::live::ChangeNews;
use quorum_change::{ChangeState, ChangeType};
use quorum_core::Actor;
use quorum_core::event::{EventAction, EventKind};
use quorum_core::feed::{FeedError, FeedEvent, Scope, StartPoint};
use quorum_incident::Priority;
use quorum_incident::live::{IncidentNews, IncidentNewsFilter};

use crate::change::objects::{CabVote, Change};
use crate::context::ContextExt;
use crate::error::{BAD_USER_INPUT, GqlResultExt, INTERNAL};
use crate::incident::objects::Incident;
use crate::loader::{Batched, ChangeLoader};

/// `extensions.code` of a subscription ended because its client fell too far behind.
pub const SUBSCRIBER_TOO_SLOW: &str = "SUBSCRIBER_TOO_SLOW";

#[derive(Default)]
pub struct Subscription;

/// Narrows change events; every given criterion must hold, on the change as the event left it.
#[derive(InputObject, Default)]
pub struct ChangeEventFilter {
    change_ids: Option<Vec<ID>>,
    states: Option<Vec<ChangeState>>,
    types: Option<Vec<ChangeType>>,
}

impl ChangeEventFilter {
    fn matches(&self, change: &quorum_change::Change) -> bool {
        self.change_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id.0 == change.id))
            && self
                .states
                .as_ref()
                .is_none_or(|states| states.contains(&change.state))
            && self
                .types
                .as_ref()
                .is_none_or(|types| types.contains(&change.change_type))
    }
}

/// Narrows incident events; every given criterion must hold, on the incident as the event left
/// it.
#[derive(InputObject, Default)]
pub struct IncidentEventFilter {
    priorities: Option<Vec<Priority>>,
    /// True: major incidents only.
    #[graphql(default)]
    major_only: bool,
    /// Incidents affecting at least one of these CIs.
    affected_ci_ids: Option<Vec<ID>>,
}

impl From<IncidentEventFilter> for IncidentNewsFilter {
    fn from(filter: IncidentEventFilter) -> Self {
        Self {
            priorities: filter.priorities,
            major_only: filter.major_only,
            affected_ci_ids: filter
                .affected_ci_ids
                .map(|ids| ids.into_iter().map(|id| id.0).collect()),
        }
    }
}

/// Something that happened to a change.
pub struct ChangeEvent {
    news: Arc<ChangeNews>,
    change: Change,
}

#[Object]
impl ChangeEvent {
    /// The event's id in the audit log; pass the last one received as `after` to resume.
    async fn event_id(&self) -> ID {
        ID(self.news.event.event_id.to_string())
    }

    async fn kind(&self) -> EventKind {
        self.news.event.kind
    }

    /// What the write did (`created`, `submitted`, `voted`…).
    async fn action(&self) -> async_graphql::Result<EventAction> {
        EventAction::from_stored(&self.news.event.action).ok_or_else(|| {
            async_graphql::Error::new(format!(
                "event {} names an unknown action",
                self.news.event.event_id
            ))
        })
    }

    /// The state before the write (none for a creation or a vote).
    async fn from_state(&self) -> Option<ChangeState> {
        self.news.event.from_state
    }

    /// The state after the write (none for a vote).
    async fn to_state(&self) -> Option<ChangeState> {
        self.news.event.to_state
    }

    /// Subject of who made the write.
    async fn actor(&self) -> &str {
        &self.news.event.actor
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.news.event.occurred_at
    }

    /// Why, when the operation took a reason (a vote's comment for a vote).
    async fn reason(&self) -> Option<&str> {
        self.news.event.reason.as_deref()
    }

    /// The change as this event's write left it (for a vote, as it is when delivered).
    async fn change(&self) -> &Change {
        &self.change
    }

    /// The vote cast, for a `VOTED` event.
    async fn vote(&self) -> Option<CabVote> {
        self.news.vote.clone().map(CabVote)
    }
}

/// Something that happened to an incident.
pub struct IncidentEvent {
    news: Arc<IncidentNews>,
    incident: Incident,
}

#[Object]
impl IncidentEvent {
    /// The event's id in the audit log; pass the last one received as `after` to resume.
    async fn event_id(&self) -> ID {
        ID(self.news.event.event_id.to_string())
    }

    async fn kind(&self) -> EventKind {
        self.news.event.kind
    }

    /// What the write did (`created`, `submitted`, `voted`…).
    async fn action(&self) -> async_graphql::Result<EventAction> {
        EventAction::from_stored(&self.news.event.action).ok_or_else(|| {
            async_graphql::Error::new(format!(
                "event {} names an unknown action",
                self.news.event.event_id
            ))
        })
    }

    async fn from_state(&self) -> Option<quorum_incident::IncidentState> {
        self.news.event.from_state
    }

    async fn to_state(&self) -> Option<quorum_incident::IncidentState> {
        self.news.event.to_state
    }

    /// Subject of who made the write.
    async fn actor(&self) -> &str {
        &self.news.event.actor
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.news.event.occurred_at
    }

    async fn reason(&self) -> Option<&str> {
        self.news.event.reason.as_deref()
    }

    /// The incident as this event's write left it.
    async fn incident(&self) -> &Incident {
        &self.incident
    }
}

fn feed_error(error: &FeedError) -> async_graphql::Error {
    let message = error.to_string();
    match error {
        FeedError::Lagged { last_event_id, .. } => {
            let last = last_event_id.map(|id| id.to_string());
            async_graphql::Error::new(message).extend_with(move |_, e| {
                e.set("code", SUBSCRIBER_TOO_SLOW);
                if let Some(last) = &last {
                    e.set("lastEventId", last.as_str());
                }
            })
        }
        FeedError::UnknownEvent(_) | FeedError::TooFarBehind { .. } => {
            async_graphql::Error::new(message).extend_with(|_, e| {
                e.set("code", BAD_USER_INPUT);
                e.set("field", "after");
            })
        }
        FeedError::Closed | FeedError::Database(_) => {
            tracing::error!(error = %error, "subscription.feed_failed");
            async_graphql::Error::new("the live feed failed; subscribe again with `after`")
                .extend_with(|_, e| e.set("code", INTERNAL))
        }
    }
}

/// Where the subscription starts: just after event `after` (checked before anything starts),
/// or after every event committed by now.
async fn resume_point(ctx: &Context<'_>, after: Option<ID>) -> async_graphql::Result<StartPoint> {
    let Some(after) = after else {
        return ctx
            .app()?
            .feed
            .current_position()
            .await
            .map_err(|error| feed_error(&error));
    };
    let id = after.0.parse::<i64>().map_err(|_| {
        async_graphql::Error::new(format!(
            "`after` must be the `eventId` of a message received, not `{}`",
            after.0.chars().take(40).collect::<String>()
        ))
        .extend_with(|_, e| {
            e.set("code", BAD_USER_INPUT);
            e.set("field", "after");
        })
    })?;
    let feed = &ctx.app()?.feed;
    feed.position_of(id)
        .await
        .map(StartPoint::after)
        .map_err(|error| feed_error(&error))
}

/// The feed's events, mapped by `map` (none: not for this subscriber), ending after the first
/// error.
fn deliver<T, F, Fut>(
    events: impl Stream<Item = Result<Arc<FeedEvent>, FeedError>> + Send + 'static,
    map: F,
) -> impl Stream<Item = async_graphql::Result<T>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(Arc<FeedEvent>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = async_graphql::Result<Option<T>>> + Send,
{
    async_stream::stream! {
        futures_util::pin_mut!(events);
        while let Some(item) = events.next().await {
            let mapped = match item {
                Ok(event) => map(event).await,
                Err(error) => Err(feed_error(&error)),
            };
            match mapped {
                Ok(Some(out)) => yield Ok(out),
                Ok(None) => {}
                Err(error) => {
                    yield Err(error);
                    break;
                }
            }
        }
    }
}

/// What an event tells subscribers, decoded once per event for every kind of subscription
/// (the event's decode slot holds one type).
enum News {
    Change(Arc<ChangeNews>),
    Incident(Arc<IncidentNews>),
    /// A change or incident event whose snapshot does not decode.
    Unreadable(Unreadable),
    Other,
}

/// An event that could not be decoded, and why.
struct Unreadable {
    kind: &'static str,
    event_id: i64,
    error: quorum_core::DomainError,
}

impl Unreadable {
    /// INTERNAL (the cause logged with `trace_id`), with the event's id as `lastEventId`: a
    /// client resumes after it rather than meeting it again.
    fn error(&self, trace_id: &str) -> async_graphql::Error {
        let last = self.event_id.to_string();
        crate::error::domain_error(&self.error, trace_id)
            .extend_with(move |_, e| e.set("lastEventId", last.as_str()))
    }
}

fn news(event: &FeedEvent) -> Arc<News> {
    event.decoded(|event| {
        let unreadable = |kind, error| {
            News::Unreadable(Unreadable {
                kind,
                event_id: event.id,
                error,
            })
        };
        match (
            quorum_change::live::read(event),
            quorum_incident::live::read(event),
        ) {
            (Some(Ok(news)), _) => News::Change(Arc::new(news)),
            (Some(Err(error)), _) => unreadable(quorum_change::CHANGE_EVENT_KIND, error),
            (_, Some(Ok(news))) => News::Incident(Arc::new(news)),
            (_, Some(Err(error))) => unreadable(quorum_incident::INCIDENT_EVENT_KIND, error),
            (None, None) => News::Other,
        }
    })
}

/// The subscribing request's trace id, for the errors its stream yields.
fn trace_id(ctx: &Context<'_>) -> String {
    ctx.request()
        .map(|request| request.trace_id.clone())
        .unwrap_or_default()
}

/// What the change subscriptions need once they have returned.
struct Subscriber {
    actor: Actor,
    changes: Batched<ChangeLoader>,
    /// The subscribing request's, for the errors its stream yields.
    trace_id: String,
}

impl Subscriber {
    fn of(ctx: &Context<'_>) -> async_graphql::Result<Self> {
        let actor = ctx.actor()?.clone();
        let app = ctx.app()?;
        Ok(Self {
            changes: Batched::new(ChangeLoader::new(app.db.clone(), actor.clone())),
            actor,
            trace_id: trace_id(ctx),
        })
    }

    /// The change event in `event` if this subscriber may see it, with its change: as the
    /// event left it or, for a vote, as it is now (a read per subscriber; votes are few).
    async fn change_event(
        &self,
        event: &FeedEvent,
    ) -> async_graphql::Result<Option<(Arc<ChangeNews>, Change)>> {
        let decoded = news(event);
        let news = match &*decoded {
            News::Change(news) => news,
            // Before the visibility check: whether this viewer may see an event that does not
            // decode cannot be known, and the error names only the event id and a trace id,
            // so every subscriber of its kind is told rather than one silently missing it.
            News::Unreadable(unreadable) if unreadable.kind == quorum_change::CHANGE_EVENT_KIND => {
                return Err(unreadable.error(&self.trace_id));
            }
            _ => return Ok(None),
        };
        let news = news.clone();
        if !news.visible_to(&self.actor) {
            return Ok(None);
        }
        let change = match &news.change {
            Some(change) => Change::shared(change.clone()),
            None => match self.changes.load_one(news.event.entity_id.clone()).await {
                Ok(Some(change)) => Change::new(change),
                // Gone from this viewer's sight (never for a vote: drafts take no votes).
                Ok(None) => return Ok(None),
                Err(error) => {
                    tracing::error!(error = %error, "subscription.change_unreadable");
                    return Err(async_graphql::Error::new(format!(
                        "the change of event {} could not be read; subscribe again with `after` \
                         set to the last event id received",
                        news.event.event_id
                    ))
                    .extend_with(|_, e| e.set("code", INTERNAL)));
                }
            },
        };
        Ok(Some((news, change)))
    }
}

#[Subscription]
impl Subscription {
    /// Every change event the viewer may see, from now on or, with `after` (the last `eventId`
    /// a subscription delivered, or `extensions.lastEventId` of `SUBSCRIBER_TOO_SLOW`), from
    /// just after that event: missed events first, then live ones, once each and in commit
    /// order. Whoever may not read drafts never receives a change its write left a
    /// draft. A subscriber more than a few thousand events behind is ended with
    /// `SUBSCRIBER_TOO_SLOW` (resubscribe with `after`). Every role.
    async fn change_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeEventFilter>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ChangeEvent>> + use<>> {
        let subscriber = Subscriber::of(ctx)?;
        quorum_change::live::authorize_change_events(&subscriber.actor).gql(ctx)?;
        let after = resume_point(ctx, after).await?;
        let filter = filter.unwrap_or_default();
        let mut scope = Scope::kind(quorum_change::CHANGE_EVENT_KIND);
        if let Some(ids) = &filter.change_ids {
            scope = scope.records(ids.iter().map(|id| id.0.clone()).collect());
        }
        let filter = Arc::new(filter);
        let subscriber = Arc::new(subscriber);
        let events = ctx.app()?.feed.subscribe_to(after, scope);
        Ok(deliver(events, move |event| {
            let subscriber = subscriber.clone();
            let filter = filter.clone();
            async move {
                let Some((news, change)) = subscriber.change_event(&event).await? else {
                    return Ok(None);
                };
                Ok(filter
                    .matches(&change.0)
                    .then_some(ChangeEvent { news, change }))
            }
        }))
    }

    /// Every incident event matching `filter`, from now on or from just after `after`, as for
    /// `changeEvents`. Every role.
    async fn incident_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<IncidentEventFilter>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<IncidentEvent>> + use<>>
    {
        quorum_incident::live::authorize_incident_events(ctx.actor()?).gql(ctx)?;
        let trace_id = trace_id(ctx);
        let after = resume_point(ctx, after).await?;
        let filter: Arc<IncidentNewsFilter> = Arc::new(filter.unwrap_or_default().into());
        let scope = Scope::kind(quorum_incident::INCIDENT_EVENT_KIND);
        let events = ctx.app()?.feed.subscribe_to(after, scope);
        Ok(deliver(events, move |event| {
            let filter = filter.clone();
            let trace_id = trace_id.clone();
            async move {
                let decoded = news(&event);
                let news = match &*decoded {
                    News::Incident(news) => news,
                    News::Unreadable(unreadable)
                        if unreadable.kind == quorum_incident::INCIDENT_EVENT_KIND =>
                    {
                        return Err(unreadable.error(&trace_id));
                    }
                    _ => return Ok(None),
                };
                let news = news.clone();
                if !filter.matches(&news) {
                    return Ok(None);
                }
                Ok(news.incident.clone().map(|incident| IncidentEvent {
                    news,
                    incident: Incident::shared(incident),
                }))
            }
        }))
    }

    /// The change events that alter what `cabAgenda` shows: a change entering or leaving CAB
    /// review, a vote, a HIGH or VERY_HIGH risk change authorized, scheduled or moved. A CAB
    /// screen re-renders the item (or asks `cabAgenda` again) on each. CAB_MEMBER,
    /// CHANGE_MANAGER, SERVICE_HEAD.
    async fn cab_agenda_changed(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ChangeEvent>> + use<>> {
        let subscriber = Subscriber::of(ctx)?;
        quorum_change::live::authorize_agenda_events(&subscriber.actor).gql(ctx)?;
        let after = resume_point(ctx, after).await?;
        let subscriber = Arc::new(subscriber);
        let scope = Scope::kind(quorum_change::CHANGE_EVENT_KIND);
        let events = ctx.app()?.feed.subscribe_to(after, scope);
        Ok(deliver(events, move |event| {
            let subscriber = subscriber.clone();
            async move {
                let Some((news, change)) = subscriber.change_event(&event).await? else {
                    return Ok(None);
                };
                Ok(news
                    .touches_agenda()
                    .then_some(ChangeEvent { news, change }))
            }
        }))
    }
}
