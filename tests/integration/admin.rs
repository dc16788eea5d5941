//! The admin API over HTTP: a bearer token guards it; an uploaded version
//! is validated and kept with its digest; deploy, rollback, pause and
//! resume change what handles the next event; refused candidates (failing
//! init, not a component, ungranted import, another WIT world version)
//! leave the live version serving
//! and are not kept; remove stops the plugin.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use streamplug_tests::{TestGateway, plugin_dir, recorder_manifest};

use crate::lifecycle::{GRANTS, post_views, tags};

pub const TOKEN: &str = "admin-secret-1";

pub struct Admin {
    url: String,
    client: reqwest::Client,
}

impl Admin {
    pub fn of(gw: &TestGateway) -> Self {
        Self {
            url: format!("http://{}/admin/v1", gw.gateway.admin_addr.unwrap()),
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let r = request.bearer_auth(TOKEN).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(format!("{}{path}", self.url)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(format!("{}{path}", self.url)).json(&body))
            .await
    }

    pub async fn upload(&self, component: Vec<u8>, manifest: &str) -> (u16, Value) {
        let form = Form::new()
            .part(
                "component",
                Part::bytes(component).file_name("recorder.wasm"),
            )
            .text("manifest", manifest.to_owned());
        self.send(
            self.client
                .post(format!("{}/plugins/recorder/versions", self.url))
                .multipart(form),
        )
        .await
    }
}

/// `component` as if built against `streamplug:plugin@0.9.0`: every
/// occurrence of the package version rewritten (same length, so the binary
/// stays well-formed and only its interface names change).
fn other_world(component: &[u8]) -> Vec<u8> {
    let (from, to) = (b"streamplug:plugin/", b"@0.1.0");
    let mut out = component.to_vec();
    let mut rewritten = 0;
    let mut i = 0;
    while let Some(at) = out[i..].windows(from.len()).position(|w| w == from) {
        let start = i + at;
        // The interface name runs to the version: `producer@0.1.0`.
        let end = (start..out.len().min(start + 64)).find(|&j| out[j..].starts_with(to));
        if let Some(end) = end {
            out[end..end + to.len()].copy_from_slice(b"@0.9.0");
            rewritten += 1;
        }
        i = start + from.len();
    }
    assert!(rewritten > 0, "no interface names found");
    out
}

/// The recorder's manifest as an upload: its topics and grants, `extra`
/// appended.
pub fn manifest(extra: &str) -> String {
    format!(
        "subscribe = [\"customer-interactions\"]\npublish = [\"audit\"]\npush_channels = [\"test\"]\nallowed_hosts = [\"http://127.0.0.1:9\"]\n{extra}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_upload_deploy_roll_back_and_pause_versions_over_the_admin_api() {
    let gw = TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{}",
        recorder_manifest(GRANTS)
    ))
    .await
    .unwrap();
    let admin = Admin::of(&gw);
    let refused = admin
        .client
        .get(format!("{}/plugins", admin.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");

    let (status, versions) = admin.get("/plugins/recorder/versions").await;
    assert_eq!(status, 200, "{versions}");
    assert_eq!(versions.as_array().unwrap().len(), 1);
    assert_eq!(versions[0]["source"], "config");
    assert_eq!(versions[0]["live"], true);
    let v1 = versions[0]["id"].as_str().unwrap().to_owned();
    post_views(&gw, 1).await;

    let wasm = std::fs::read(plugin_dir().unwrap().join("fixture_recorder.wasm")).unwrap();
    let digest = versions[0]["digest"].clone();
    let (status, uploaded) = admin
        .upload(wasm.clone(), &manifest("[config]\ntag = \"v2\""))
        .await;
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["digest"], digest, "same component, other config");
    assert_eq!(uploaded["source"], "upload");
    let v2 = uploaded["id"].as_str().unwrap().to_owned();
    assert_ne!(v1, v2);

    let (status, deployed) = admin
        .post("/plugins/recorder/deploy", json!({"version": &v2[..6]}))
        .await;
    assert_eq!(status, 200, "{deployed}");
    assert_eq!(
        (&deployed["version"], &deployed["previous"]),
        (&json!(v2), &json!(v1))
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 2).await, ["v1", "v2"]);

    let (status, rolled) = admin.post("/plugins/recorder/rollback", json!({})).await;
    assert_eq!((status, &rolled["version"]), (200, &json!(v1)), "{rolled}");
    let (_, paused) = admin.post("/plugins/recorder/pause", json!({})).await;
    assert_eq!(paused["state"], "paused");
    post_views(&gw, 2).await;
    let (_, resumed) = admin.post("/plugins/recorder/resume", json!({})).await;
    assert_eq!(resumed["state"], "running");
    assert_eq!(tags(&gw, 4).await, ["v1", "v2", "v1", "v1"]);

    // Refused candidates: a clear reason, nothing kept, v1 still serving.
    for (component, manifest, reason) in [
        (
            wasm.clone(),
            manifest("[config]\nfail_init = \"yes\""),
            "init failed",
        ),
        (
            b"\0asm not really".to_vec(),
            manifest(""),
            "cannot load the component",
        ),
        (
            other_world(&wasm),
            manifest(""),
            "is from streamplug:plugin@0.9.0; this gateway supports streamplug:plugin@0.1.0",
        ),
    ] {
        let (status, problem) = admin.upload(component, &manifest).await;
        assert_eq!(status, 422, "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{reason} in {detail}");
    }
    // Outbound HTTP imported, no host granted: kept with a warning in the
    // plugin's log book (every request it would make is denied).
    let (status, uploaded) = admin
        .upload(
            wasm.clone(),
            "subscribe = [\"customer-interactions\"]\npublish = [\"audit\"]\npush_channels = [\"test\"]",
        )
        .await;
    assert_eq!(status, 201, "{uploaded}");
    let (_, logs) = admin.get("/plugins/recorder/logs").await;
    assert!(
        logs["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|l| l["message"]
                .as_str()
                .is_some_and(|m| m.contains("imports `wasi:http/outgoing-handler@0.2.")
                    && m.ends_with("every request it makes will be denied"))),
        "{logs}"
    );
    let (status, problem) = admin
        .post("/plugins/recorder/deploy", json!({"version": "ffffff"}))
        .await;
    assert_eq!(status, 404, "{problem}");
    let (_, versions) = admin.get("/plugins/recorder/versions").await;
    assert_eq!(
        versions.as_array().unwrap().len(),
        3,
        "the refused ones were not kept: {versions}"
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 5).await.last().unwrap(), "v1");

    let (_, listed) = admin.get("/plugins").await;
    assert_eq!(listed[0]["version"], json!(v1));
    assert_eq!(listed[0]["previous"], json!(v2));
    let removed = admin
        .client
        .delete(format!("{}/plugins/recorder", admin.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let (_, listed) = admin.get("/plugins").await;
    assert_eq!(listed, json!([]));
    gw.stop().await;
}
