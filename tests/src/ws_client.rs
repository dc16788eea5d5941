//! A WebSocket client for tests (tokio-tungstenite): sessions, frames,
//! pushes and closes.

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::{PATIENCE, TestGateway, answer};

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
        let mut ws = self.ws(&query).await?;
        let welcome = next_frame(&mut ws).await?;
        if welcome["kind"] != "welcome" {
            bail!("expected a welcome frame, got {welcome}");
        }
        Ok((ws, welcome))
    }
}

/// What a session received next: a JSON frame, or the close.
#[derive(Debug)]
pub enum Received {
    /// A JSON text frame.
    Frame(Value),
    /// The close frame's code and reason (0 and empty when the socket just ended).
    Closed(u16, String),
}

/// The next frame or close, skipping pings and pongs.
pub async fn receive(ws: &mut Ws) -> Result<Received> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
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

/// Read until the close frame, skipping everything else; its code and reason.
pub async fn closed(ws: &mut Ws) -> Result<(u16, String)> {
    loop {
        if let Received::Closed(code, reason) = receive(ws).await? {
            return Ok((code, reason));
        }
    }
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

/// Send a JSON text frame.
pub async fn send_json(ws: &mut Ws, value: &Value) -> Result<()> {
    use futures::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        value.to_string().into(),
    ))
    .await?;
    Ok(())
}
