//! A client of the admin API, for the `streamplug plugin` commands (and
//! tests): deployments as the typed [`DeploymentView`] the server writes,
//! other answers as JSON, every refusal the problem's title and detail.

use std::sync::Arc;

use futures::StreamExt as _;
use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::views::{LogPage, VersionView};
use crate::shadow::ShadowReportView;
use crate::web::deployment_view::DeploymentView;

/// Bytes of an upload sent per chunk (one progress step).
const UPLOAD_CHUNK: usize = 64 * 1024;

/// Why an admin request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection, or the connection broke.
    #[error("cannot reach the admin API at {url}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What went wrong.
        source: reqwest::Error,
    },
    /// The API refused (a problem body).
    #[error("{title} ({status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem's title.
        title: String,
        /// The problem's detail.
        detail: String,
    },
    /// The API answered, but not with what this client reads (another
    /// version of the gateway?).
    #[error("the admin API at {url} answered what this client does not read: {detail}")]
    Unexpected {
        /// The URL asked.
        url: String,
        /// What did not fit.
        detail: String,
    },
}

/// Called as an upload goes: bytes sent, bytes in all.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The admin API at one address.
#[derive(Debug, Clone)]
pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:8081`) with
    /// bearer token `token`.
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: format!("{}/admin/v1", base.trim_end_matches('/')),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// Every deployment.
    pub async fn plugins(&self) -> Result<Vec<DeploymentView>, ClientError> {
        self.send(self.http.get(self.url("/plugins"))).await
    }

    /// The stored versions of `plugin`.
    pub async fn versions(&self, plugin: &str) -> Result<Vec<VersionView>, ClientError> {
        let url = self.url(&format!("/plugins/{plugin}/versions"));
        self.send(self.http.get(url)).await
    }

    /// Upload and validate a version of `plugin`: the stored version.
    pub async fn upload(
        &self,
        plugin: &str,
        component: Vec<u8>,
        manifest: Option<String>,
        progress: Progress,
    ) -> Result<VersionView, ClientError> {
        let total = component.len() as u64;
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = component
            .chunks(UPLOAD_CHUNK)
            .map(|c| Ok(c.to_vec()))
            .collect();
        let mut sent = 0;
        let body = futures::stream::iter(chunks).inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                sent += chunk.len() as u64;
                progress(sent, total);
            }
        });
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(body), total)
            .file_name(format!("{plugin}.wasm"))
            .mime_str("application/wasm")
            .map_err(|source| ClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let mut form = Form::new().part("component", part);
        if let Some(manifest) = manifest {
            form = form.text("manifest", manifest);
        }
        let url = self.url(&format!("/plugins/{plugin}/versions"));
        self.send(self.http.post(url).multipart(form)).await
    }

    /// `POST /plugins/{plugin}/{action}` with `body`: the deployment after.
    pub async fn act(
        &self,
        plugin: &str,
        action: &str,
        body: Option<Value>,
    ) -> Result<DeploymentView, ClientError> {
        let request = self
            .http
            .post(self.url(&format!("/plugins/{plugin}/{action}")));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        self.send(request).await
    }

    /// The shadow report of `plugin`; with `stop`, stop the shadow too.
    pub async fn shadow(&self, plugin: &str, stop: bool) -> Result<ShadowReportView, ClientError> {
        let url = self.url(&format!("/plugins/{plugin}/shadow"));
        let request = if stop {
            self.http.delete(url)
        } else {
            self.http.get(url)
        };
        self.send(request).await
    }

    /// Stop running `plugin`.
    pub async fn remove(&self, plugin: &str) -> Result<Value, ClientError> {
        let url = self.url(&format!("/plugins/{plugin}"));
        self.send(self.http.delete(url)).await
    }

    /// Up to `limit` of the latest log lines of `plugin` after `after`.
    pub async fn logs(
        &self,
        plugin: &str,
        after: u64,
        limit: usize,
    ) -> Result<LogPage, ClientError> {
        let url = self.url(&format!(
            "/plugins/{plugin}/logs?after={after}&limit={limit}"
        ));
        self.send(self.http.get(url)).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            url: self.base.clone(),
            source,
        };
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return serde_json::from_value(body).map_err(|e| ClientError::Unexpected {
                url: self.base.clone(),
                detail: e.to_string(),
            });
        }
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
        Err(ClientError::Refused {
            status: status.as_u16(),
            title: Some(field("title"))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| status.to_string()),
            detail: field("detail"),
        })
    }
}
