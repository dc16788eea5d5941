//! The Kafka backend against a real Kafka-compatible broker (tansu on a free
//! loopback port): durable appends with CloudEvents headers, per-key order,
//! reads by offset, consumer-group offsets.

use std::sync::Arc;

use streamplug::event::Event;
use streamplug::storage::embedded::EmbeddedStore;
use streamplug::storage::kafka::{KafkaLog, KafkaSettings};
use streamplug::storage::{
    ConsumerCommit, EventLog, KvStore, KvValue, NextOffset, StorageError, TopicSpec,
};
use streamplug_tests::broker::Tansu;

/// Test settings. tansu 0.6 reports a partition's high watermark as the
/// base offset of its last record batch + 1 (it acknowledges every record's
/// own offset correctly), so the tests make librdkafka send one record per
/// batch to get exact watermarks from it. Kafka itself needs no such option.
fn settings(broker: &Tansu) -> KafkaSettings {
    KafkaSettings {
        bootstrap_servers: broker.bootstrap.clone(),
        replication_factor: 1,
        delivery_timeout_ms: 10_000,
        max_task_idle_ms: 1_000,
        options: [("batch.num.messages".to_owned(), "1".to_owned())].into(),
    }
}

/// A Kafka log keeping consumer state in an embedded store in `dir`.
fn connect(broker: &Tansu, dir: &tempfile::TempDir) -> (KafkaLog, Arc<EmbeddedStore>) {
    let kv = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    (
        KafkaLog::connect(settings(broker), kv.clone(), kv.clone()).unwrap(),
        kv,
    )
}

fn event(topic: &str, customer: &str, i: u32) -> Event {
    Event {
        id: Event::new_id(),
        source: "/test".into(),
        ty: "product.viewed".into(),
        subject: Some(customer.into()),
        time: Some(Event::now()),
        topic: topic.into(),
        key: Some(customer.into()),
        content_type: Some("application/json".into()),
        data: format!(r#"{{"product":"p{i}"}}"#).into_bytes(),
        headers: vec![(
            "traceparent".into(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        )],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_events_come_back_in_per_key_order_with_their_attributes() {
    let broker = Tansu::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, _kv) = connect(&broker, &dir);
    log.create_topics(&[TopicSpec::new("interactions", 3)])
        .await
        .unwrap();
    assert_eq!(log.partitions("interactions"), Some(3));
    let events: Vec<Event> = (0..30)
        .map(|i| event("interactions", &format!("c{}", i % 4), i))
        .collect();
    let positions = log.append(events.clone()).await.unwrap();
    assert_eq!(positions.len(), 30);
    let mut read_back = Vec::new();
    for p in 0..3 {
        let end = log.end_offset("interactions", p).await.unwrap();
        let got = log.read("interactions", p, 0, 100).await.unwrap();
        assert_eq!(got.len() as u64, end, "partition {p}");
        read_back.extend(got);
    }
    assert_eq!(read_back.len(), 30);
    for sent in &events {
        let got = read_back.iter().find(|s| s.event.id == sent.id).unwrap();
        assert_eq!(
            &got.event, sent,
            "every attribute survives the CloudEvents headers"
        );
    }
    // One customer's events are in one partition, in the order sent.
    for c in 0..4 {
        let customer = format!("c{c}");
        let mine: Vec<&str> = read_back
            .iter()
            .filter(|s| s.event.subject.as_deref() == Some(&customer))
            .map(|s| s.event.id.as_str())
            .collect();
        let sent: Vec<&str> = events
            .iter()
            .filter(|e| e.subject.as_deref() == Some(&customer))
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(mine, sent, "{customer}");
    }
    // Reads start where asked.
    let p = positions[5].partition;
    let from = positions[5].offset;
    let tail = log.read("interactions", p, from, 2).await.unwrap();
    assert_eq!(tail[0].event.id, events[5].id);
    assert!(tail.len() <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_commits_publish_then_apply_state_with_position_then_move_the_group_offset() {
    let broker = Tansu::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, kv) = connect(&broker, &dir);
    log.create_topics(&[TopicSpec::new("in", 1), TopicSpec::new("out", 1)])
        .await
        .unwrap();
    assert_eq!(log.committed("streamplug.p", "in", 0).await.unwrap(), 0);
    log.commit(ConsumerCommit {
        group: "streamplug.p".into(),
        offsets: vec![NextOffset {
            topic: "in".into(),
            partition: 0,
            next: 7,
        }],
        publish: vec![event("out", "c1", 1)],
        kv_namespace: "p".into(),
        kv_writes: vec![("k".into(), Some(KvValue::lasting(b"v".to_vec())))],
    })
    .await
    .unwrap();
    assert_eq!(log.committed("streamplug.p", "in", 0).await.unwrap(), 7);
    assert_eq!(log.end_offset("out", 0).await.unwrap(), 1);
    // The state and the position it reflects were applied together.
    assert_eq!(kv.get("p", "k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(kv.position("streamplug.p", "in", 0).await.unwrap(), Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_committed_again_produces_what_plugins_emitted_once() {
    let broker = Tansu::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, _kv) = connect(&broker, &dir);
    log.create_topics(&[
        TopicSpec::new("in", 1),
        TopicSpec::new("out", 1),
        TopicSpec::new("dlq.p", 1),
    ])
    .await
    .unwrap();
    // What a plugin emitted (stable ids), and a dead letter (the original
    // event's id), committed twice: a crash between producing and applying
    // the state hands the batch out again, and it is committed again.
    let mut emitted = event("out", "c1", 1);
    emitted.source = "plugin:p".into();
    let dead = event("dlq.p", "c1", 2);
    let commit = ConsumerCommit {
        group: "streamplug.p".into(),
        offsets: vec![NextOffset {
            topic: "in".into(),
            partition: 0,
            next: 3,
        }],
        publish: vec![emitted, dead],
        kv_namespace: "p".into(),
        kv_writes: vec![],
    };
    let first = log.commit(commit.clone()).await.unwrap();
    let again = log.commit(commit).await.unwrap();
    assert_eq!(first[0], again[0], "the emitted event's first position");
    assert_eq!(log.end_offset("out", 0).await.unwrap(), 1, "produced once");
    assert_eq!(
        log.end_offset("dlq.p", 0).await.unwrap(),
        2,
        "dead letters are at-least-once (same id)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_to_unknown_topics_are_refused_before_anything_is_sent() {
    let broker = Tansu::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, _kv) = connect(&broker, &dir);
    log.create_topics(&[TopicSpec::new("known", 1)])
        .await
        .unwrap();
    let err = log
        .append(vec![event("known", "c", 0), event("unknown", "c", 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UnknownTopic(t) if t == "unknown"));
    assert_eq!(log.end_offset("known", 0).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_topic_carries_the_retention_configs_set_for_it() {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    use streamplug::storage::{CleanupPolicy, Retention};

    let broker = Tansu::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, _kv) = connect(&broker, &dir);
    let mut spec = TopicSpec::new("profiles", 1).retained(Retention {
        cleanup_policy: CleanupPolicy::Compact,
        ..Retention::FOREVER
    });
    spec.kafka_configs = vec![
        ("cleanup.policy", "compact".into()),
        ("retention.ms", "3600000".into()),
    ];
    log.create_topics(&[spec]).await.unwrap();
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.bootstrap)
        .create()
        .unwrap();
    let described = admin
        .describe_configs(
            &[ResourceSpecifier::Topic("profiles")],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    let resource = described.into_iter().next().unwrap().unwrap();
    let value = |name: &str| {
        resource
            .get(name)
            .and_then(|entry| entry.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("cleanup.policy"), "compact");
    assert_eq!(value("retention.ms"), "3600000");
}
