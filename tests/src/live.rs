//! A graphql-transport-ws client over a real WebSocket, for the subscription suites.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message it expects.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test waits to be sure nothing more arrives.
pub const QUIET: Duration = Duration::from_millis(700);

/// One client connection to `/graphql/ws`.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How the server ended the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Opens a socket asking for graphql-transport-ws; no `connection_init` yet.
    pub async fn open(address: SocketAddr) -> Self {
        let mut request = format!("ws://{address}/graphql/ws")
            .into_client_request()
            .expect("a WebSocket request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket handshake succeeds");
        assert_eq!(
            response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|value| value.to_str().ok()),
            Some("graphql-transport-ws")
        );
        Self { socket }
    }

    /// Opens a socket and initializes it with `token`, expecting `connection_ack`.
    pub async fn connect(address: SocketAddr, token: &str) -> Self {
        let mut client = Self::open(address).await;
        client
            .send(json!({
                "type": "connection_init",
                "payload": { "Authorization": format!("Bearer {token}") }
            }))
            .await;
        let ack = client.next_json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("the message is sent");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "type": "subscribe",
            "id": id,
            "payload": { "query": query, "variables": variables }
        }))
        .await;
    }

    /// The next text message, answering pings on the way; panics on a close or after [`WAIT`].
    pub async fn next_json(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Some(Ok(value)) => value,
            Some(Err(closed)) => panic!("the server closed the socket: {closed:?}"),
            None => panic!("nothing arrived within {WAIT:?}"),
        }
    }

    /// The next text message or the close, within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Result<Value, Closed>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Ok(value));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Err(Closed {
                        code: frame.as_ref().map_or(1005, |frame| u16::from(frame.code)),
                        reason: frame
                            .map(|frame| frame.reason.to_string())
                            .unwrap_or_default(),
                    }));
                }
                Some(Ok(_)) => continue,
                Some(Err(error)) => {
                    return Some(Err(Closed {
                        code: 1006,
                        reason: error.to_string(),
                    }));
                }
                None => {
                    return Some(Err(Closed {
                        code: 1006,
                        reason: "the stream ended".to_owned(),
                    }));
                }
            }
        }
    }

    /// The payload of the next `next` message of operation `id`.
    pub async fn next_payload(&mut self, id: &str) -> Value {
        let message = self.next_json().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        message["payload"].clone()
    }

    /// The `data.<field>` of the next `next` message of `id`, which must carry no errors.
    pub async fn next_data(&mut self, id: &str, field: &str) -> Value {
        let payload = self.next_payload(id).await;
        assert!(payload.get("errors").is_none(), "{payload}");
        payload["data"][field].clone()
    }

    /// Asserts that nothing arrives for [`QUIET`].
    pub async fn assert_quiet(&mut self) {
        if let Some(message) = self.next_within(QUIET).await {
            panic!("expected nothing, got {message:?}");
        }
    }

    /// Waits for the server to close the socket, and says how.
    pub async fn closed(&mut self) -> Closed {
        loop {
            match self.next_within(WAIT).await {
                Some(Err(closed)) => return closed,
                Some(Ok(_)) => continue,
                None => panic!("the socket stayed open for {WAIT:?}"),
            }
        }
    }
}

/// Waits for subscriptions just sent to be running: graphql-transport-ws does not acknowledge
/// a `subscribe`, so a write made at once could come before the server has taken it.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}
