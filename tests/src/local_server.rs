//! An axum app served on a free loopback port for the length of a test
//! (test doubles, webhook receivers); stopped when dropped.

use anyhow::Result;

/// A running local server.
pub struct LocalServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl LocalServer {
    /// Serve `app` on a free loopback port.
    pub async fn start(app: axum::Router) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, task })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
