//! The ceiling for HTTP ingest: an axum server whose `POST /v1/events` reads
//! the body and answers `202` with a small JSON receipt, doing no other
//! work. Same runtime shape as the gateway (tokio multi-thread, one worker
//! per core).

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use bytes::Bytes;

/// Serve on `listen` until the process is killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/v1/events", post(accept))
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn accept(body: Bytes) -> (StatusCode, [(&'static str, &'static str); 1], &'static str) {
    let status = if body.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::ACCEPTED
    };
    (
        status,
        [("content-type", "application/json")],
        r#"{"accepted":1}"#,
    )
}
