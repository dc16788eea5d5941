//! A WebSocket client for tests (tokio-tungstenite): sessions, frames,
//! pushes and closes.

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::test_gateway::answer;
use crate::{PATIENCE, TestGateway};

/// A WebSocket client connection.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestGateway {
    /// A customer token from `POST /v1/dev/tokens`.
    pub async fn token(&self, customer: &str) -> Result<String> {
        let a = self
            .client
            .post(format!("{}/v1/dev/tokens", self.url))
            .json(&serde_json::json!({ "customer": customer }))
            .send()
            .await?;
        let a = answer(a).await?;
        a.json["token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no token: {} {}", a.status, a.json))
    }

    /// Open `/v1/ws` with `query` (e.g. `token=...&resume=...`).
    pub async fn ws(&self, query: &str) -> Result<Ws> {
        let url = format!("{}/v1/ws?{query}", self.url.replace("http://", "ws://"));
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(ws)
    }

    /// A session of `customer`, past its welcome frame (returned too).
    pub async fn session(&self, customer: &str, resume: Option<&str>) -> Result<(Ws, Value)> {
        let token = self.token(customer).await?;
        let query = match resume {
            Some(r) => format!("token={token}&resume={r}"),
            None => format!("token={token}"),
        };
        welcomed(self.ws(&query).await?).await
    }

    /// A session of `customer` over a socket whose receive buffer is fixed
    /// at 64 KiB (no autotuning), so that not reading holds the gateway
    /// back after a few frames whatever the machine's TCP settings.
    pub async fn session_with_small_buffer(&self, customer: &str) -> Result<(Ws, Value)> {
        let token = self.token(customer).await?;
        let addr: std::net::SocketAddr = self.url.trim_start_matches("http://").parse()?;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(64 * 1024)?;
        let stream = socket.connect(addr).await?;
        let url = format!("ws://{addr}/v1/ws?token={token}");
        let (ws, _) =
            tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(stream))
                .await?;
        welcomed(ws).await
    }
}

/// `ws` past its welcome frame, and the frame.
async fn welcomed(mut ws: Ws) -> Result<(Ws, Value)> {
    let welcome = next_frame(&mut ws).await?;
    if welcome["kind"] != "welcome" {
        bail!("expected a welcome frame, got {welcome}");
    }
    Ok((ws, welcome))
}

/// What a session received next: a JSON frame, or the close.
#[derive(Debug)]
pub enum Received {
    /// A JSON text frame.
    Frame(Value),
    /// The close frame's code and reason (0 and empty when the socket just ended).
    Closed(u16, String),
}

/// The next frame or close, skipping pings and pongs; an error after
/// [`PATIENCE`] (pings do not extend it).
pub async fn receive(ws: &mut Ws) -> Result<Received> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .context("no frame in time")?;
        match msg {
            None => return Ok(Received::Closed(0, String::new())),
            Some(Err(e)) => bail!("websocket error: {e}"),
            Some(Ok(Message::Text(t))) => {
                return Ok(Received::Frame(serde_json::from_str(t.as_str())?));
            }
            Some(Ok(Message::Close(frame))) => {
                return Ok(match frame {
                    Some(f) => Received::Closed(f.code.into(), f.reason.to_string()),
                    None => Received::Closed(0, String::new()),
                });
            }
            Some(Ok(_)) => {}
        }
    }
}

/// The next JSON frame (an error if the session closed instead).
pub async fn next_frame(ws: &mut Ws) -> Result<Value> {
    match receive(ws).await? {
        Received::Frame(v) => Ok(v),
        Received::Closed(code, reason) => bail!("session closed: {code} {reason}"),
    }
}

/// Read until the close frame, skipping everything else; its code and
/// reason. Gives up after [`PATIENCE`] even if frames (pings) keep coming.
pub async fn closed(ws: &mut Ws) -> Result<(u16, String)> {
    let close = async {
        loop {
            if let Received::Closed(code, reason) = receive(ws).await? {
                return Ok((code, reason));
            }
        }
    };
    tokio::time::timeout(PATIENCE, close)
        .await
        .context("the session was not closed in time")?
}

/// Read frames until `n` pushes arrived (skipping acks); returns the pushes.
pub async fn pushes(ws: &mut Ws, n: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    while out.len() < n {
        let f = next_frame(ws).await?;
        if f["kind"] == "push" {
            out.push(f);
        }
    }
    Ok(out)
}

/// Read frames until a push on `channel` arrives (skipping acks and pushes
/// on other channels); returns it.
pub async fn push_on(ws: &mut Ws, channel: &str) -> Result<Value> {
    loop {
        let f = next_frame(ws).await?;
        if f["kind"] == "push" && f["channel"] == channel {
            return Ok(f);
        }
    }
}

/// Read frames until the next `ack` (skipping pushes); returns it, or an
/// error for an `error` frame.
pub async fn ack(ws: &mut Ws) -> Result<Value> {
    loop {
        let f = next_frame(ws).await?;
        match f["kind"].as_str() {
            Some("ack") => return Ok(f),
            Some("error") => bail!("the event was refused: {f}"),
            _ => {}
        }
    }
}

/// Send a JSON text frame.
pub async fn send_json(ws: &mut Ws, value: &Value) -> Result<()> {
    use futures::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        value.to_string().into(),
    ))
    .await?;
    Ok(())
}
