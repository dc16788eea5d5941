//! WebSocket sessions with a real client (tokio-tungstenite): auth, acks,
//! pushes to exactly one customer's sessions, limits. Resuming a session
//! is in `websocket_resume.rs`.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{
    Backend, JWT_SECRET, RECOMMEND_MANIFEST, Received, TestGateway, closed, eventually, next_frame,
    receive, recorder_manifest, send_json, view,
};

/// Sessions the gateway cut for being slow (a Prometheus counter).
const SLOW_CONSUMERS: &str = "streamplug_ws_slow_consumers_total";

/// A token for `customer` signed with `secret`, expiring at `exp`.
fn token(secret: &[u8], customer: &str, exp: u64) -> String {
    use jsonwebtoken::{EncodingKey, Header, encode};
    encode(
        &Header::default(),
        &json!({"sub": customer, "exp": exp}),
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_without_a_valid_token_are_closed_with_4401_and_a_reason() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    let forged = token(b"wrong", "alice", 4_000_000_000);
    let cases = [
        (String::new(), "authentication required"),
        (
            format!(
                "token={}",
                token(JWT_SECRET.as_bytes(), "alice", 1_000_000_000)
            ),
            "token expired",
        ),
        (format!("token={forged}"), "invalid token"),
    ];
    for (query, reason) in cases {
        let mut ws = gw.ws(&query).await.unwrap();
        let (code, text) = closed(&mut ws).await.unwrap();
        assert_eq!(code, 4401, "{query}");
        assert!(text.contains(reason), "{query}: {text}");
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_frame_is_acked_with_its_offset_and_errors_keep_the_session_open() {
    let gw = TestGateway::with_plugins("[websocket]\nmax_message_bytes = 1024\n")
        .await
        .unwrap();
    let (mut ws, welcome) = gw.session("alice", None).await.unwrap();
    assert_eq!(welcome["customer"], "alice");

    // The customer comes from the token.
    send_json(
        &mut ws,
        &json!({"type": "product.viewed", "data": {"product": "tent"}}),
    )
    .await
    .unwrap();
    let ack = next_frame(&mut ws).await.unwrap();
    assert_eq!(ack["kind"], "ack", "{ack}");
    let pos = &ack["events"][0];
    let stored = gw.events("customer-interactions").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["offset"], pos["offset"]);
    assert_eq!(stored[0]["event"]["subject"], "alice");
    assert_eq!(stored[0]["event"]["id"], pos["id"]);

    // Malformed, foreign, oversized and binary frames get error frames...
    use futures::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::Text("{not json".into())).await.unwrap();
    let e = next_frame(&mut ws).await.unwrap();
    assert_eq!(
        (e["kind"].as_str(), e["status"].as_u64()),
        (Some("error"), Some(400)),
        "{e}"
    );
    send_json(&mut ws, &view("bob", "tent")).await.unwrap();
    let e = next_frame(&mut ws).await.unwrap();
    assert_eq!(e["status"], 403, "{e}");
    assert_eq!(e["errors"][0]["pointer"], "/subject");
    // A backend-only type is refused to a customer, about itself or not.
    send_json(
        &mut ws,
        &json!({"type": "order.cancelled", "customer": "bob", "data": {"order": "o-bob-1"}}),
    )
    .await
    .unwrap();
    let e = next_frame(&mut ws).await.unwrap();
    assert_eq!(e["status"], 403, "{e}");
    assert_eq!(e["errors"][0]["pointer"], "/type");
    send_json(
        &mut ws,
        &json!({"type": "support.message", "data": {"text": "x".repeat(2000)}}),
    )
    .await
    .unwrap();
    let e = next_frame(&mut ws).await.unwrap();
    assert_eq!(e["status"], 413, "{e}");
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut ws).await.unwrap()["status"], 415);
    // ...and the session still works.
    send_json(&mut ws, &view("alice", "stove")).await.unwrap();
    assert_eq!(next_frame(&mut ws).await.unwrap()["kind"], "ack");
    assert_eq!(gw.events("customer-interactions").await.unwrap().len(), 2);

    // Far above the limit, the socket itself is closed with 1009.
    ws.send(Message::Text("y".repeat(8 * 1024).into()))
        .await
        .unwrap();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!(code, 1009, "{reason}");
    gw.stop().await;
}

/// The log positions (`seq`) of push frames.
pub(crate) fn push_ids(frames: &[Value]) -> Vec<u64> {
    frames.iter().map(|f| f["seq"].as_u64().unwrap()).collect()
}

/// The next `n` push frames of `ws`.
pub(crate) async fn pushes(ws: &mut streamplug_tests::Ws, n: usize) -> Vec<Value> {
    streamplug_tests::pushes(ws, n).await.unwrap()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recommendation_reaches_both_sessions_of_the_customer_and_no_other(
    #[case] backend: Backend,
) {
    let gw = TestGateway::on(backend, RECOMMEND_MANIFEST).await.unwrap();
    let (mut tab, _) = gw.session("alice", None).await.unwrap();
    let (mut phone, _) = gw.session("alice", None).await.unwrap();
    let (mut bob, _) = gw.session("bob", None).await.unwrap();
    for p in ["tent", "stove"] {
        send_json(&mut tab, &view("alice", p)).await.unwrap();
    }
    let on_tab = pushes(&mut tab, 1).await;
    let on_phone = pushes(&mut phone, 1).await;
    assert_eq!(on_tab[0]["channel"], "recommendations");
    assert_eq!(on_tab[0]["type"], "recommendation");
    assert_eq!(on_tab[0]["data"]["customer"], "alice");
    assert_eq!(on_tab[0]["id"], on_phone[0]["id"]);
    // Bob's first push is his own: none of alice's reached him.
    send_json(&mut bob, &view("bob", "tent")).await.unwrap();
    let on_bob = pushes(&mut bob, 1).await;
    assert_eq!(on_bob[0]["data"]["customer"], "bob", "{on_bob:?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_pushes_arrives_whole_and_in_log_order() {
    // Pushes queued for a session together are written to its socket
    // together: none may be lost, repeated or reordered by that.
    let gw = TestGateway::on(Backend::Embedded, RECOMMEND_MANIFEST)
        .await
        .unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    const VIEWS: usize = 40;
    let batch: Vec<Value> = (0..VIEWS)
        .map(|i| view("alice", &format!("p{i}")))
        .collect();
    gw.post_batch(&batch).await.unwrap();
    // The first view pairs with nothing yet, so each later one recommends.
    let received = pushes(&mut ws, VIEWS - 1).await;
    let log = gw
        .wait_for_events("customer-pushes", VIEWS - 1)
        .await
        .unwrap();
    let logged: Vec<u64> = log
        .iter()
        .filter(|e| e["event"]["subject"] == "alice")
        .map(|e| e["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(push_ids(&received), logged, "{received:#?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_cut_with_a_reason_and_can_resume() {
    let plugins = format!(
        "[websocket]\nsend_queue = 4\n{}",
        recorder_manifest(
            // The host's side of 120 large pushes is slow in a debug build;
            // the CPU budget counts a tick for each slow host call.
            "push_channels = [\"test\"]\n[plugins.limits]\nmax_publishes_per_event = 200\ncpu_ms = 5000"
        )
    );
    let gw = TestGateway::with_plugins(&plugins).await.unwrap();
    let (mut ws, welcome) = gw.session_with_small_buffer("alice").await.unwrap();
    // 120 pushes of ~100 KB: far more than the socket buffers and the queue of 4
    // hold while this client does not read.
    let kicked = gw.metric(SLOW_CONSUMERS).await.unwrap();
    let burst = json!({"type": "product.viewed", "customer": "alice", "data": {"product": "p", "push": 120, "push_bytes": 100000}});
    assert_eq!(gw.post(&burst).await.unwrap().status, 202);
    // The client reads nothing until the gateway has found it slow; then it
    // drains what was queued and gets the close.
    eventually("the session to be found slow", || async {
        Ok((gw.metric(SLOW_CONSUMERS).await? > kicked).then_some(()))
    })
    .await
    .unwrap();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!(code, 4408, "{reason}");
    assert!(reason.contains("slow consumer"), "{reason}");
    // The server drops the session (and its bounded queue) once it closed it.
    eventually("the slow session to be dropped", || async {
        Ok((gw.gateway_sessions("alice") == 0).then_some(()))
    })
    .await
    .unwrap();
    // It can resume from its welcome token and get everything.
    let (mut ws, _) = gw
        .session("alice", welcome["resume"].as_str())
        .await
        .unwrap();
    let all = pushes(&mut ws, 120).await;
    assert_eq!(all.first().unwrap()["data"]["i"], 0);
    assert_eq!(all.last().unwrap()["data"]["i"], 119);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_on_sessions_and_rate_are_enforced() {
    let gw = TestGateway::with_plugins(
        "[websocket]\nmax_sessions_per_customer = 2\nrate_per_sec = 1\nrate_burst = 2\n",
    )
    .await
    .unwrap();
    let (mut a, _) = gw.session("alice", None).await.unwrap();
    let (_b, _) = gw.session("alice", None).await.unwrap();
    let token = gw.token("alice").await.unwrap();
    let mut third = gw.ws(&format!("token={token}")).await.unwrap();
    let (code, reason) = closed(&mut third).await.unwrap();
    assert_eq!(code, 4409, "{reason}");
    for _ in 0..2 {
        send_json(&mut a, &view("alice", "p")).await.unwrap();
        assert_eq!(next_frame(&mut a).await.unwrap()["kind"], "ack");
    }
    send_json(&mut a, &view("alice", "p")).await.unwrap();
    let e = next_frame(&mut a).await.unwrap();
    assert_eq!(e["status"], 429, "{e}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sessions_with_going_away() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    let stopping = tokio::spawn(gw.stop());
    match receive(&mut ws).await.unwrap() {
        Received::Closed(code, reason) => assert_eq!(code, 1001, "{reason}"),
        Received::Frame(f) => panic!("unexpected frame {f}"),
    }
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_answers_nothing_is_closed_after_the_idle_timeout() {
    let gw =
        TestGateway::with_plugins("[websocket]\nping_interval_ms = 50\nidle_timeout_ms = 200\n")
            .await
            .unwrap();
    let (mut ws, _) = gw.session("alice", None).await.unwrap();
    // Not reading means not answering the server's pings.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!(code, 4000, "{reason}");
    assert!(reason.contains("idle"), "{reason}");
    gw.stop().await;
}
