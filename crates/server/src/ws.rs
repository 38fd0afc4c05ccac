//! GraphQL over WebSocket at `/graphql/ws`: the `graphql-transport-ws` protocol (Apollo Client,
//! urql, graphql-ws). The legacy `graphql-ws` protocol of subscriptions-transport-ws (archived
//! since 2022) is refused at the upgrade.
//!
//! The bearer token comes in the `connection_init` payload (`{"Authorization": "Bearer …"}`) and
//! is verified as for HTTP; a missing or bad one closes the socket with 4401. The token's expiry
//! is checked again at every `subscribe`, so an expired token starts nothing. `subscribe` before
//! `connection_ack` closes with 4401 too, and a socket with no `connection_init` after 10 s with
//! 4408. A client that
//! stops reading is dropped once a send has waited [`SEND_TIMEOUT`]; one whose subscription
//! falls behind the feed gets `SUBSCRIBER_TOO_SLOW` on that subscription (the API's rule). On
//! shutdown every socket is closed with 1001.
//!
//! Bounds ([`SocketLimits`]): a subject holds at most so many sockets at once (one more is
//! refused at `connection_init` with 4429), and a socket runs at most so many operations at
//! once (one more gets `TOO_MANY_OPERATIONS` and the others go on).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_graphql::http::{WebSocket as GqlWebSocket, WebSocketProtocols as Protocols, WsMessage};
use async_graphql::{
    Data, ErrorExtensions, Executor, Request as GqlRequest, Response as GqlResponse,
};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, SinkExt, StreamExt, future};
use quorum_api::error::UNAUTHENTICATED;
use quorum_api::{AppData, Engine, RequestContext};
use quorum_core::Actor;

use crate::state::{AppState, SocketSlot};

/// The one protocol spoken: graphql-transport-ws.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a socket may stay open without a valid `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// graphql-transport-ws: no `connection_init` in time.
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// What async-graphql closes with when `subscribe` comes before `connection_init`.
const CLOSE_NOT_INITIALIZED: u16 = 1011;
/// Bytes read from a client at a time.
const READ_BUFFER: usize = 8 * 1024;
/// Longest one message may wait for a client to take it before the socket is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// graphql-transport-ws: `connection_init` without a valid token.
const CLOSE_UNAUTHORIZED: u16 = 4401;
/// What async-graphql closes with when `connection_init` is refused.
const CLOSE_INIT_REFUSED: u16 = 1002;
const CLOSE_GOING_AWAY: u16 = 1001;
/// graphql-transport-ws's "too many requests": this subject holds too many sockets already.
const CLOSE_TOO_MANY: u16 = 4429;

/// One running operation's place in its socket's count, given back when it ends.
struct OperationSlot(Arc<AtomicUsize>);

impl OperationSlot {
    fn take(running: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        running
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
                (count < max).then_some(count + 1)
            })
            .ok()
            .map(|_| Self(running.clone()))
    }
}

impl Drop for OperationSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Who the socket's `connection_init` said is calling.
#[derive(Default)]
struct Session {
    verified: Mutex<Option<(Actor, u64)>>,
    refused: AtomicBool,
    /// Refused because its subject holds too many sockets.
    crowded: AtomicBool,
    /// Its place in its subject's count of sockets, once verified.
    slot: Mutex<Option<SocketSlot>>,
    /// Operations running now.
    running: Arc<AtomicUsize>,
}

impl Session {
    fn is_verified(&self) -> bool {
        self.verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// The caller, if their token has not expired yet.
    fn actor(&self) -> Result<Actor, async_graphql::Error> {
        let verified = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        match verified {
            Some((actor, expires_at)) if now < expires_at => Ok(actor),
            Some(_) => Err(async_graphql::Error::new(
                "the token has expired; connect again with a fresh token",
            )
            .extend_with(|_, e| e.set("code", UNAUTHENTICATED))),
            None => Err(quorum_api::error::unauthenticated()),
        }
    }
}

/// Runs the socket's operations as its session's actor, with that actor's DataLoaders.
#[derive(Clone)]
struct SessionExecutor {
    engine: Engine,
    app: AppData,
    session: Arc<Session>,
    max_operations: usize,
}

impl SessionExecutor {
    /// The session's actor with a fresh trace id, and a place among the socket's running
    /// operations.
    fn prepare(&self) -> Result<(RequestContext, OperationSlot), async_graphql::Error> {
        let actor = self.session.actor()?;
        let slot = OperationSlot::take(&self.session.running, self.max_operations)
            .ok_or_else(|| quorum_api::error::too_many_operations(self.max_operations))?;
        let context =
            RequestContext::ongoing(Some(actor), uuid::Uuid::new_v4().simple().to_string());
        Ok((context, slot))
    }
}

fn refused(error: async_graphql::Error) -> GqlResponse {
    GqlResponse::from_errors(vec![error.into_server_error(async_graphql::Pos::default())])
}

impl Executor for SessionExecutor {
    async fn execute(&self, request: GqlRequest) -> GqlResponse {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_default()
    }

    /// Every operation on the socket comes here, queries and mutations too.
    fn execute_stream(
        &self,
        request: GqlRequest,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        match self.prepare() {
            Ok((context, slot)) => {
                let feed = self.app.feed.clone();
                // When an operation ends its place among the running operations is free. A
                // mutation may have written: the pump reads now (see `serve_graphql`).
                let ended = futures_util::stream::once(async move { drop(slot) })
                    .filter_map(|()| future::ready(None));
                self.engine
                    .check_and_stream(request, context, session_data, move || feed.wake())
                    .chain(ended)
                    .boxed()
            }
            Err(error) => futures_util::stream::once(future::ready(refused(error))).boxed(),
        }
    }
}

/// The frame to send for `message`, and whether it is the last.
fn outgoing(message: WsMessage, session: &Session) -> (Message, bool) {
    match message {
        WsMessage::Text(text) => (Message::Text(text.into()), false),
        WsMessage::Close(code, reason) => {
            let code = match code {
                CLOSE_INIT_REFUSED if session.crowded.load(Ordering::SeqCst) => CLOSE_TOO_MANY,
                CLOSE_INIT_REFUSED if session.refused.load(Ordering::SeqCst) => CLOSE_UNAUTHORIZED,
                // `subscribe` before `connection_ack`: the protocol's 4401.
                CLOSE_NOT_INITIALIZED if !session.is_verified() => CLOSE_UNAUTHORIZED,
                code => code,
            };
            (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                true,
            )
        }
    }
}

/// `GET /graphql/ws` with an upgrade to one of the GraphQL WebSocket protocols.
pub(crate) async fn graphql_ws(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Browsers do not apply CORS to WebSockets: a page of any site could open one with the
    // user's credentials, so the upgrade checks `Origin` as CORS would.
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|value| value.to_str().ok());
    if !state.cors.allows_socket(origin, host) {
        tracing::info!(origin = origin.unwrap_or_default(), "ws.origin_refused");
        return (
            StatusCode::FORBIDDEN,
            "this origin may not open a socket here (QUORUM_CORS_ORIGINS)",
        )
            .into_response();
    }
    let asks_for_it = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|name| name.trim() == PROTOCOL);
    if !asks_for_it {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol); the legacy \
             graphql-ws protocol of subscriptions-transport-ws is not spoken here",
        )
            .into_response();
    }
    upgrade
        .protocols([PROTOCOL])
        // Clients send a few small messages; tungstenite's default 128 KiB read buffer per
        // socket, zero-filled on every read, cost 130 MiB and a tenth of the CPU at 1 000
        // sockets (bench/README.md).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve_socket(state, socket))
}

async fn serve_socket(state: Arc<AppState>, socket: WebSocket) {
    let session = Arc::new(Session::default());
    let executor = SessionExecutor {
        engine: state.engine.clone(),
        app: state.app.clone(),
        session: session.clone(),
        max_operations: state.socket_limits.max_operations_per_socket,
    };
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let verifying = state.clone();
    let init_session = session.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let header = ["Authorization", "authorization"]
            .iter()
            .find_map(|key| payload.get(key))
            .and_then(serde_json::Value::as_str);
        let verified = match header {
            Some(header) => verifying
                .verifier
                .verify_header_with_expiry(header)
                .map_err(|rejected| rejected.to_string()),
            None => {
                Err("connection_init must carry {\"Authorization\": \"Bearer <token>\"}".to_owned())
            }
        };
        let max_sockets = verifying.socket_limits.max_sockets_per_subject;
        match verified {
            Ok(verified) => {
                let Some(slot) = verifying.sockets.take(verified.0.subject(), max_sockets) else {
                    tracing::info!("ws.too_many_sockets");
                    init_session.crowded.store(true, Ordering::SeqCst);
                    return Err(async_graphql::Error::new(format!(
                        "this subject holds {max_sockets} sockets already; close one first"
                    )));
                };
                *init_session
                    .slot
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(slot);
                *init_session
                    .verified
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(verified);
                Ok(Data::default())
            }
            Err(reason) => {
                tracing::info!(reason = %reason, "ws.token_rejected");
                init_session.refused.store(true, Ordering::SeqCst);
                Err(async_graphql::Error::new(format!(
                    "unauthenticated: {reason}"
                )))
            }
        }
    };
    let messages =
        GqlWebSocket::new(executor, input, Protocols::GraphQLWS).on_connection_init(on_init);
    futures_util::pin_mut!(messages);
    let mut shutdown = state.shutdown.clone();
    state.metrics.socket_opened();
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let mut initialized = false;
    loop {
        let message = tokio::select! {
            message = messages.next() => message,
            _ = shutdown.changed() => Some(WsMessage::Close(CLOSE_GOING_AWAY, "server shutting down".to_owned())),
            () = &mut init_deadline, if !initialized => {
                if session.is_verified() {
                    initialized = true;
                    continue;
                }
                Some(WsMessage::Close(CLOSE_INIT_TIMEOUT, "connection_init did not come in time".to_owned()))
            }
        };
        let Some(message) = message else {
            break;
        };
        let (first, mut last) = outgoing(message, &session);
        // One write (one system call) for this message and whatever else is ready by now.
        let sent = tokio::time::timeout(SEND_TIMEOUT, async {
            sink.feed(first).await?;
            while !last {
                match messages.next().now_or_never() {
                    Some(Some(message)) => {
                        let (next, is_last) = outgoing(message, &session);
                        last = is_last;
                        sink.feed(next).await?;
                    }
                    Some(None) => {
                        last = true;
                        break;
                    }
                    None => break,
                }
            }
            sink.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break,
            Err(_) => {
                tracing::warn!("ws.client_not_reading");
                break;
            }
        }
        if last {
            break;
        }
    }
    state.metrics.socket_closed();
}
