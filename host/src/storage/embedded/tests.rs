use super::*;
use crate::event::Event;
use crate::storage::{Claim, EventId, IngestIds};

fn event(topic: &str, key: &str, ty: &str) -> Event {
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

#[tokio::test]
async fn appended_events_survive_a_reopen_and_offsets_continue() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store.create_topics(&[("t".into(), 2)]).await.unwrap();
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
    store.create_topics(&[("t".into(), 1)]).await.unwrap();
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
        .create_topics(&[("in".into(), 1), ("out".into(), 1)])
        .await
        .unwrap();
    store
        .commit(ConsumerCommit {
            group: "g".into(),
            topic: "in".into(),
            partition: 0,
            next_offset: 7,
            publish: vec![event("out", "k", "done")],
            kv_namespace: "p".into(),
            kv_writes: vec![
                ("a".into(), Some(b"123".to_vec())),
                ("b".into(), Some(b"4".to_vec())),
            ],
        })
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
        .commit(ConsumerCommit {
            group: "g".into(),
            topic: "in".into(),
            partition: 0,
            next_offset: 9,
            publish: vec![event("missing", "k", "x")],
            kv_namespace: "p".into(),
            kv_writes: vec![("a".into(), None)],
        })
        .await;
    assert!(err.is_err());
    assert_eq!(store.committed("g", "in", 0).await.unwrap(), 7);
    assert_eq!(store.usage("p").await.unwrap(), 6);
}

#[tokio::test]
async fn concurrent_appends_share_commits_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    store.create_topics(&[("t".into(), 4)]).await.unwrap();
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
        store.create_topics(&[("t".into(), 2)]).await.unwrap();
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
