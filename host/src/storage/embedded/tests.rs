use super::*;
use crate::event::Event;
use crate::storage::{Claim, EventId, IngestIds, KvValue, NextOffset, Partitioner, TopicSpec};

pub(super) fn event(topic: &str, key: &str, ty: &str) -> Event {
    Event {
        id: Event::new_id(),
        source: "/test".into(),
        ty: ty.into(),
        subject: Some(key.into()),
        time: None,
        topic: topic.into(),
        key: Some(key.into()),
        content_type: None,
        data: b"{}".to_vec(),
        headers: vec![],
    }
}

/// Group `g`'s commit: it read `topic` partition 0 up to `next`, publishes
/// `publish`, writes `kv_writes` to namespace `p`.
pub(super) fn consumer_commit(
    topic: &str,
    next: u64,
    publish: Vec<Event>,
    kv_writes: Vec<crate::storage::KvWrite>,
) -> ConsumerCommit {
    ConsumerCommit {
        group: "g".into(),
        offsets: vec![NextOffset {
            topic: topic.into(),
            partition: 0,
            next,
        }],
        publish,
        kv_namespace: "p".into(),
        kv_writes,
    }
}

#[tokio::test]
async fn appended_events_survive_a_reopen_and_offsets_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .create_topics(&[TopicSpec::new("t", 2)])
            .await
            .unwrap();
        let pos = store
            .append(vec![event("t", "a", "x"), event("t", "a", "y")])
            .await
            .unwrap();
        assert_eq!(pos[0].partition, pos[1].partition);
        assert_eq!((pos[0].offset, pos[1].offset), (0, 1));
    }
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.partitions("t"), Some(2));
    let pos = store.append(vec![event("t", "a", "z")]).await.unwrap();
    assert_eq!(pos[0].offset, 2);
    let read = store.read("t", pos[0].partition, 0, 10).await.unwrap();
    let types: Vec<_> = read.iter().map(|e| e.event.ty.as_str()).collect();
    assert_eq!(types, ["x", "y", "z"]);
    assert_eq!(store.end_offset("t", pos[0].partition).await.unwrap(), 3);
}

#[tokio::test]
async fn an_append_to_an_unknown_topic_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    store
        .create_topics(&[TopicSpec::new("t", 1)])
        .await
        .unwrap();
    let err = store
        .append(vec![event("t", "a", "x"), event("nope", "a", "y")])
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UnknownTopic(t) if t == "nope"));
    assert_eq!(store.end_offset("t", 0).await.unwrap(), 0);
}

#[tokio::test]
async fn a_consumer_commit_applies_publishes_kv_and_offset_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    store
        .create_topics(&[TopicSpec::new("in", 1), TopicSpec::new("out", 1)])
        .await
        .unwrap();
    store
        .commit(consumer_commit(
            "in",
            7,
            vec![event("out", "k", "done")],
            vec![
                ("a".into(), Some(KvValue::lasting(b"123".to_vec()))),
                ("b".into(), Some(KvValue::lasting(b"4".to_vec()))),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(store.committed("g", "in", 0).await.unwrap(), 7);
    assert_eq!(
        store.get("p", "a").await.unwrap().as_deref(),
        Some(&b"123"[..])
    );
    assert_eq!(store.list_keys("p", "", 10).await.unwrap(), ["a", "b"]);
    assert_eq!(store.usage("p").await.unwrap(), 6);
    assert_eq!(store.read("out", 0, 0, 10).await.unwrap().len(), 1);
    // A failing commit (unknown publish topic) changes nothing.
    let err = store
        .commit(consumer_commit(
            "in",
            9,
            vec![event("missing", "k", "x")],
            vec![("a".into(), None)],
        ))
        .await;
    assert!(err.is_err());
    assert_eq!(store.committed("g", "in", 0).await.unwrap(), 7);
    assert_eq!(store.usage("p").await.unwrap(), 6);
}

#[tokio::test]
async fn concurrent_appends_share_commits_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    store
        .create_topics(&[TopicSpec::new("t", 4)])
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.append(vec![event("t", &format!("k{i}"), "x")]).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut total = 0;
    for p in 0..4 {
        total += store.end_offset("t", p).await.unwrap();
    }
    assert_eq!(total, 64);
}

#[tokio::test]
async fn an_ingested_id_is_written_once_within_the_window_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let e = event("t", "a", "x");
    let first = {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .create_topics(&[TopicSpec::new("t", 2)])
            .await
            .unwrap();
        let first = store.append_once(vec![e.clone()], day).await.unwrap();
        assert!(!first[0].duplicate);
        first
    };
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let again = store.append_once(vec![e.clone()], day).await.unwrap();
    assert!(again[0].duplicate);
    assert_eq!(again[0].position, first[0].position);
    assert_eq!(
        store
            .end_offset("t", first[0].position.partition)
            .await
            .unwrap(),
        1
    );

    // Outside a (tiny) window the id is forgotten, and old buckets go.
    let short = std::time::Duration::from_millis(1);
    let other = event("t", "a", "y");
    store.append_once(vec![other.clone()], short).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let later = store.append_once(vec![other], short).await.unwrap();
    assert!(!later[0].duplicate);
}

#[tokio::test]
async fn claims_of_a_kafka_log_see_settled_and_in_flight_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let (ttl, day) = (
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(86_400),
    );
    let ids = [
        EventId {
            source: "/s".into(),
            id: "1".into(),
        },
        EventId {
            source: "/s".into(),
            id: "2".into(),
        },
    ];
    let claims = store.claim(&ids, ttl, day).await.unwrap();
    assert_eq!(claims, [Claim::Mine, Claim::Mine]);
    assert_eq!(
        store.claim(&ids[..1], ttl, day).await.unwrap(),
        [Claim::InFlight]
    );
    let at = Position {
        topic: "t".into(),
        partition: 1,
        offset: 9,
    };
    store
        .settle(&[(ids[0].clone(), at.clone())], day)
        .await
        .unwrap();
    store.release(&ids[1..]).await.unwrap();
    assert_eq!(
        store.claim(&ids, ttl, day).await.unwrap(),
        [Claim::Written(at), Claim::Mine]
    );
}

/// A store in `dir` with `topics` (name, partitions).
pub(super) async fn store_with(
    dir: &tempfile::TempDir,
    topics: &[(&str, u32)],
) -> std::sync::Arc<EmbeddedStore> {
    let store = std::sync::Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let topics: Vec<TopicSpec> = topics.iter().map(|(t, n)| TopicSpec::new(*t, *n)).collect();
    store.create_topics(&topics).await.unwrap();
    store
}

/// The streams a member of group `g` reading `topics` is assigned.
pub(super) async fn assigned(
    store: &std::sync::Arc<EmbeddedStore>,
    topics: &[&str],
) -> Vec<Box<dyn PartitionStream>> {
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    let mut membership = store.clone().join("g", &topics).await.unwrap();
    match membership.next().await {
        Some(Assignment::Assigned(streams)) => streams,
        _ => panic!("no assignment"),
    }
}

#[tokio::test]
async fn a_group_stream_merges_its_topics_in_append_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("a", 2), ("b", 2)]).await;
    // One customer's events, alternating between the topics, some in one
    // append; a second customer elsewhere.
    let mut sent = Vec::new();
    for i in 0..20 {
        let topic = if i % 3 == 0 { "b" } else { "a" };
        let e = event(topic, "c1", &format!("t{i}"));
        sent.push(e.ty.clone());
        if i % 5 == 0 {
            let e2 = event("a", "c1", &format!("t{i}x"));
            sent.push(e2.ty.clone());
            store.append(vec![e, e2]).await.unwrap();
        } else {
            store.append(vec![e]).await.unwrap();
        }
    }
    let home = Partitioner::Fnv1a.partition(Some("c1"), 2);
    let mut streams = assigned(&store, &["a", "b"]).await;
    assert_eq!(streams.len(), 2, "one stream per partition index");
    let stream = streams.iter_mut().find(|s| s.partition() == home).unwrap();
    assert_eq!(stream.topics(), ["a", "b"]);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        // Small batches, so the merge resumes across reads.
        got.extend(stream.next_batch(3).await.unwrap());
    }
    let types: Vec<String> = got.iter().map(|e| e.event.ty.clone()).collect();
    assert_eq!(types, sent);
    assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn topics_of_different_partition_counts_are_not_read_together() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("a", 2), ("b", 3)]).await;
    let Err(err) = store.join("g", &["a".into(), "b".into()]).await else {
        panic!("joined");
    };
    assert!(err.to_string().contains("`a` has 2, `b` has 3"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_stream_keeps_append_order_while_appends_race_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("a", 1), ("b", 1)]).await;
    let mut stream = assigned(&store, &["a", "b"]).await.pop().unwrap();
    const N: usize = 400;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            // Two writers' appends interleave; each append's order is its own.
            let one = |i: usize| {
                event(
                    if i.is_multiple_of(2) { "a" } else { "b" },
                    "c",
                    &i.to_string(),
                )
            };
            let mut pending = Vec::new();
            for i in 0..N {
                let store = store.clone();
                pending.push(tokio::spawn(
                    async move { store.append(vec![one(i)]).await },
                ));
                if i % 8 == 7 {
                    for p in pending.drain(..) {
                        p.await.unwrap().unwrap();
                    }
                }
            }
            for p in pending {
                p.await.unwrap().unwrap();
            }
        })
    };
    let mut got = Vec::new();
    while got.len() < N {
        got.extend(stream.next_batch(16).await.unwrap());
    }
    writer.await.unwrap();
    // Handed out in exactly the order written: every sequence number of
    // the log, none early, none skipped.
    let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..N as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn expired_kv_values_read_as_absent_and_a_lasting_set_clears_the_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let now = writer::now_ms();
    let write = |writes: Vec<crate::storage::KvWrite>| ConsumerCommit {
        kv_namespace: "p".into(),
        kv_writes: writes,
        ..ConsumerCommit::default()
    };
    let soon = |v: &[u8]| Some(KvValue::expiring(v.to_vec(), now - 1));
    store
        .apply(&write(vec![
            ("gone".into(), soon(b"1")),
            ("kept".into(), soon(b"2")),
        ]))
        .await
        .unwrap();
    store
        .apply(&write(vec![(
            "kept".into(),
            Some(KvValue::lasting(b"3".to_vec())),
        )]))
        .await
        .unwrap();
    assert_eq!(store.get("p", "gone").await.unwrap(), None);
    // Several keys in one read: each as `get` reads it, in the order asked,
    // from its own namespace only.
    let later = Some(KvValue::expiring(b"4".to_vec(), now + 3_600_000));
    let other = vec![
        ("later".into(), later),
        ("kept".into(), Some(KvValue::lasting(b"q".to_vec()))),
    ];
    store
        .apply(&ConsumerCommit {
            kv_namespace: "q".into(),
            kv_writes: other,
            ..ConsumerCommit::default()
        })
        .await
        .unwrap();
    let keys = ["gone", "kept", "absent", "kept", "later"];
    let three = Some(b"3".to_vec());
    assert_eq!(
        store.get_many("p", &keys).await.unwrap(),
        [None, three.clone(), None, three, None]
    );
    assert_eq!(
        store.get_many("q", &["later", "kept"]).await.unwrap(),
        [Some(b"4".to_vec()), Some(b"q".to_vec())]
    );
    assert_eq!(store.list_keys("p", "", 10).await.unwrap(), ["kept"]);
    assert_eq!(store.usage("p").await.unwrap(), 5 + 5);
    assert_eq!(store.expire(now, 10).await.unwrap(), 1);
    assert_eq!(store.usage("p").await.unwrap(), 5);
    assert_eq!(store.get("p", "kept").await.unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.expire(now + 60_000, 10).await.unwrap(), 0);
}

#[tokio::test]
async fn queued_appends_keep_their_order_whichever_is_awaited_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("t", 1)]).await;
    let window = std::time::Duration::from_secs(60);
    let first = store
        .queue_append_once(vec![event("t", "a", "first")], window)
        .await
        .unwrap();
    let second = store
        .queue_append_once(vec![event("t", "a", "second")], window)
        .await
        .unwrap();
    // The second is durable on its own; the first still has its place.
    let second = second.await.unwrap();
    let first = first.await.unwrap();
    assert!(first[0].position.offset < second[0].position.offset);
    let read: Vec<String> = store
        .read("t", 0, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.event.ty)
        .collect();
    assert_eq!(read, ["first", "second"]);
}
