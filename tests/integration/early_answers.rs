//! Answers given before the request's body is read (too large, not
//! authenticated, unknown plugin, wrong media type) reach a client that
//! sends its whole body before it reads, as Python's `http.client` and many
//! backends' clients do: the gateway reads and discards the rest (bounded)
//! before it answers. A gateway that answered and closed at once would
//! reset the connection under the client's writes, and the client would
//! see a broken pipe instead of the problem. The bodies are far larger than
//! loopback's socket buffers, so that failure is certain, not a race.

use std::net::SocketAddr;

use serde_json::Value;
use streamplug_tests::{TEST_KEY, TestGateway, recorder_manifest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::lifecycle::GRANTS;

const TOKEN: &str = "admin-secret-early";
/// More than the kernel buffers between client and gateway hold.
const HUGE: usize = 16 << 20;

/// Writes the whole request, then reads the whole answer: status and body.
async fn send_then_read(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(body)
        .await
        .unwrap_or_else(|e| panic!("{path}: the gateway stopped reading: {e}"));
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .unwrap_or_else(|e| panic!("{path}: the answer was lost: {e}"));
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{path}: not an HTTP answer: {text:?}"));
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn multipart(component: &[u8]) -> Vec<u8> {
    let mut body = b"--x\r\ncontent-disposition: form-data; name=\"component\"; filename=\"big.wasm\"\r\ncontent-type: application/wasm\r\n\r\n".to_vec();
    body.extend_from_slice(component);
    body.extend_from_slice(b"\r\n--x--\r\n");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_reach_a_client_that_sends_its_whole_body_first() {
    let gw = TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\nmax_upload_bytes = 1048576\n{}",
        recorder_manifest(GRANTS)
    ))
    .await
    .unwrap();
    let api = gw.gateway.addr;
    let huge = vec![b' '; HUGE];
    let json = ("content-type", "application/json");
    let key = format!("Bearer {TEST_KEY}");
    let keyed = ("authorization", key.as_str());

    let (status, problem) = send_then_read(api, "/v1/events", &[json, keyed], &huge).await;
    assert_eq!(status, 413, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("server.max_body_bytes"),
        "{problem}"
    );
    let (status, problem) = send_then_read(api, "/v1/events", &[json], &huge).await;
    assert_eq!(status, 401, "{problem}");
    let wrong = ("authorization", "Bearer not-a-key");
    let (status, _) = send_then_read(api, "/v1/events", &[json, wrong], &huge).await;
    assert_eq!(status, 401);
    let text = ("content-type", "text/plain");
    let (status, problem) = send_then_read(api, "/v1/events", &[text, keyed], &huge).await;
    assert_eq!(status, 415, "{problem}");

    // The admin API: an upload too large, one for a plugin it does not run,
    // and one without the token.
    let admin = gw.gateway.admin_addr.unwrap();
    let form = ("content-type", "multipart/form-data; boundary=x");
    let bearer = format!("Bearer {TOKEN}");
    let operator = ("authorization", bearer.as_str());
    let upload = multipart(&huge);
    let path = "/admin/v1/plugins/recorder/versions";
    let (status, problem) = send_then_read(admin, path, &[form, operator], &upload).await;
    assert_eq!(status, 413, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("admin.max_upload_bytes"),
        "{problem}"
    );
    let unknown = "/admin/v1/plugins/nonesuch/versions";
    let (status, _) = send_then_read(admin, unknown, &[form, operator], &upload).await;
    assert_eq!(status, 404);
    let (status, _) = send_then_read(admin, path, &[form], &upload).await;
    assert_eq!(status, 401);

    // Nothing of it was written, and the gateway still answers.
    let topics = gw.get("/v1/topics").await.unwrap();
    for t in topics.json.as_array().unwrap() {
        for end in t["end_offsets"].as_array().unwrap() {
            assert_eq!(end, 0, "{t}");
        }
    }
    gw.stop().await;
}
