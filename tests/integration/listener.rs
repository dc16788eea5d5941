//! The public listener against slow and abusive clients, on loopback with
//! bounded counts: trickled headers, trickled bodies, too many connections
//! from one address, ingest over the rate limit.

use serde_json::{Value, json};
use streamplug_tests::{TestGateway, eventually, keyed_client, view};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Slow clients opened at once (each holds one connection).
const SLOW_CLIENTS: usize = 1000;

fn addr(gw: &TestGateway) -> String {
    gw.url.trim_start_matches("http://").to_owned()
}

/// Whether the server closed `stream` (reads EOF or a reset).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            // A 408 or similar answer before the close is fine.
            Ok(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_are_cut_off_while_a_normal_client_is_served() {
    let gw = TestGateway::with_plugins(
        "[server]\nheader_read_timeout_ms = 3000\nmax_connections_per_address = 5000\n",
    )
    .await
    .unwrap();
    // Slowloris: each sends the start of a request and then a byte now and
    // then, never the end of its headers.
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for i in 0..SLOW_CLIENTS {
        let mut s = TcpStream::connect(addr(&gw)).await.unwrap();
        s.write_all(format!("POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ").as_bytes())
            .await
            .unwrap();
        slow.push(s);
    }
    for s in &mut slow {
        let _ = s.write_all(b"a").await;
    }
    // A normal client is served while they hang on.
    let a = gw.post(&view("alice", "tent")).await.unwrap();
    assert_eq!(a.status, 202);
    // The server closes every slow connection by itself (header read timeout).
    let closed = futures::future::join_all(slow.iter_mut().map(closed_by_server)).await;
    assert!(closed.iter().all(|c| *c));
    assert_eq!(gw.post(&view("alice", "stove")).await.unwrap().status, 202);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_gets_408_and_writes_nothing() {
    let gw = TestGateway::with_plugins("[server]\nbody_read_timeout_ms = 300\n")
        .await
        .unwrap();
    let body = serde_json::to_vec(&view("alice", "tent")).unwrap();
    let mut s = TcpStream::connect(addr(&gw)).await.unwrap();
    s.write_all(
        format!(
            "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            streamplug_tests::TEST_KEY,
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    s.write_all(&body[..5]).await.unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("body_read_timeout_ms"), "{text}");
    assert_eq!(
        gw.ends("customer-interactions")
            .await
            .unwrap()
            .iter()
            .sum::<u64>(),
        0
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_of_connections() {
    let gw = TestGateway::with_plugins("[server]\nmax_connections_per_address = 4\n")
        .await
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr(&gw)).await.unwrap());
    }
    // Accepted, then closed at once without an answer.
    let mut fifth = TcpStream::connect(addr(&gw)).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let _ = fifth.read_to_end(&mut buf).await;
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    drop(held);
    eventually("a slot to be free again", || async {
        Ok(gw.get("/healthz").await.ok().filter(|a| a.status == 200))
    })
    .await
    .unwrap();
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_over_the_rate_limit_gets_429_with_retry_after() {
    const LIMITED_KEY: &str = "spk_limited_backend_0123456789abcdefghijklmnopq";
    let gw = TestGateway::with_plugins(&format!(
        "[server]\ningest_rate_per_address = 1\ningest_burst_per_address = 2\n{}\
         [[auth.api_keys]]\nname = \"limited\"\nsha256 = \"{}\"\nscopes = [\"ingest:*\"]\nrate_per_sec = 1\n",
        streamplug_tests::test_auth(),
        streamplug::auth::api_keys::hex_digest(LIMITED_KEY)
    ))
    .await
    .unwrap();
    let token = gw.token("alice").await.unwrap();
    for client in [
        keyed_client(&token).unwrap(),
        keyed_client(LIMITED_KEY).unwrap(),
    ] {
        let mut statuses = Vec::new();
        let mut last = None;
        for i in 0..5 {
            let a = client
                .post(format!("{}/v1/events", gw.url))
                .json(&json!({"type": "product.viewed", "customer": "alice", "data": {"product": format!("p{i}")}}))
                .send()
                .await
                .unwrap();
            statuses.push(a.status().as_u16());
            last = Some(a);
        }
        assert!(statuses[..2].iter().all(|s| *s == 202), "{statuses:?}");
        assert_eq!(statuses[4], 429, "{statuses:?}");
        let last = last.unwrap();
        let retry: u64 = last.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1);
        let problem: Value = last.json().await.unwrap();
        assert_eq!(problem["status"], 429);
    }
    // The operators' key has no rate of its own and no address limit.
    assert_eq!(gw.post(&view("alice", "tent")).await.unwrap().status, 202);
    gw.stop().await;
}
