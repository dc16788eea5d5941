//! Retention and compaction of the embedded log.

use super::tests::{assigned, event, store_with};
use super::*;
use crate::event::{Event, StoredEvent};
use crate::storage::{CleanupPolicy, EventLog, Retention, TopicSpec};

fn keep(topic: &str, ms: i64, bytes: i64) -> Vec<TopicSpec> {
    vec![TopicSpec::new(topic, 1).retained(Retention {
        retention_ms: ms,
        retention_bytes: bytes,
        ..Retention::FOREVER
    })]
}

#[tokio::test]
async fn retention_by_time_deletes_what_is_older_and_keeps_offsets_and_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("t", 1)]).await;
    let old: Vec<Event> = (0..5)
        .map(|i| event("t", "a", &format!("old{i}")))
        .collect();
    store.append(old).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    store.append(vec![event("t", "a", "new")]).await.unwrap();
    assert_eq!(store.apply_retention(&keep("t", 20, -1)).await.unwrap(), 5);
    let left = store.read("t", 0, 0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].offset, left[0].event.ty.as_str()), (5, "new"));
    assert_eq!(store.start_offset("t", 0).await.unwrap(), 5);
    // The newest record stays however old it gets: the next offset holds,
    // across a reopen too.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(store.apply_retention(&keep("t", 20, -1)).await.unwrap(), 0);
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.end_offset("t", 0).await.unwrap(), 6);
    let pos = store.append(vec![event("t", "a", "next")]).await.unwrap();
    assert_eq!(pos[0].offset, 6);
}

#[tokio::test]
async fn retention_by_size_keeps_the_newest_bytes_of_each_partition() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, &[("t", 1)]).await;
    for i in 0..10 {
        store
            .append(vec![event("t", "a", &format!("e{i}"))])
            .await
            .unwrap();
    }
    let one = store.read("t", 0, 0, 1).await.unwrap();
    let size = encode_size(&one[0]);
    // Room for three records and a little: the oldest seven go.
    assert_eq!(
        store
            .apply_retention(&keep("t", -1, 3 * size + size / 2))
            .await
            .unwrap(),
        7
    );
    let left: Vec<u64> = store
        .read("t", 0, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.offset)
        .collect();
    assert_eq!(left, [7, 8, 9]);
    // A consumer whose group stood before the deleted records reads on
    // from the oldest one kept.
    let mut stream = assigned(&store, &["t"]).await.pop().unwrap();
    let got = stream.next_batch(10).await.unwrap();
    assert_eq!(got[0].offset, 7);
    // The byte count survives a reopen: nothing more to delete.
    drop(stream);
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(
        store
            .apply_retention(&keep("t", -1, 3 * size + size / 2))
            .await
            .unwrap(),
        0
    );
}

/// The stored size of `stored`'s record (head and encoded event).
fn encode_size(stored: &StoredEvent) -> i64 {
    let mut out = Vec::new();
    segments::record::encode(&mut out, stored.offset, stored.seq, 0, &stored.event).unwrap() as i64
}

fn compacted(topic: &str, tombstone_ms: i64) -> TopicSpec {
    TopicSpec::new(topic, 1).retained(Retention {
        cleanup_policy: CleanupPolicy::Compact,
        delete_retention_ms: tombstone_ms,
        ..Retention::FOREVER
    })
}

fn valued(key: &str, value: &str) -> Event {
    let mut e = event("profiles", key, "customer.profile");
    e.data = value.as_bytes().to_vec();
    e
}

/// Records one compaction pass with fresh state removes.
async fn compact_once(store: &Arc<EmbeddedStore>, spec: &TopicSpec, now: u64) -> u64 {
    store
        .compact(spec, now, &mut Compacted::default())
        .await
        .unwrap()
}

/// (offset, key, data) of what a partition holds.
async fn holds(store: &EmbeddedStore, topic: &str) -> Vec<(u64, String, String)> {
    store
        .read(topic, 0, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            let key = s.event.key.unwrap_or_default();
            (s.offset, key, String::from_utf8(s.event.data).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn compaction_keeps_the_latest_value_per_key_and_every_keyless_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with(&dir, &[("profiles", 1)]).await);
    let mut keyless = valued("x", "no key");
    keyless.key = None;
    let writes = vec![
        valued("ann", "a1"),
        valued("bob", "b1"),
        valued("ann", "a2"),
        keyless,
        valued("bob", "b2"),
        valued("ann", "a3"),
        valued("cid", "c1"),
    ];
    for e in writes {
        store.append(vec![e]).await.unwrap();
    }
    let spec = compacted("profiles", 60_000);
    let mut state = Compacted::default();
    let now = writer::now_ms();
    assert_eq!(store.compact(&spec, now, &mut state).await.unwrap(), 3);
    let expected = vec![
        (3, String::new(), "no key".to_owned()),
        (4, "bob".into(), "b2".into()),
        (5, "ann".into(), "a3".into()),
        (6, "cid".into(), "c1".into()),
    ];
    assert_eq!(holds(&store, "profiles").await, expected);
    // Nothing appended since: the next pass reads nothing and removes
    // nothing; a new value for a key supersedes the one kept.
    assert_eq!(store.compact(&spec, now, &mut state).await.unwrap(), 0);
    store.append(vec![valued("cid", "c2")]).await.unwrap();
    assert_eq!(store.compact(&spec, now, &mut state).await.unwrap(), 1);
    assert_eq!(holds(&store, "profiles").await.last().unwrap().2, "c2");
    // Offsets go on after a reopen, and a deleting policy does not touch a
    // compacted topic.
    assert_eq!(
        store
            .apply_retention(std::slice::from_ref(&spec))
            .await
            .unwrap(),
        0
    );
    drop(state);
    let store = Arc::into_inner(store).unwrap();
    drop(store);
    let store = EmbeddedStore::open(dir.path()).unwrap();
    assert_eq!(store.end_offset("profiles", 0).await.unwrap(), 8);
}

#[tokio::test]
async fn a_tombstone_removes_its_key_and_goes_itself_after_delete_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with(&dir, &[("profiles", 1)]).await);
    store
        .append(vec![valued("ann", "a1"), valued("bob", "b1")])
        .await
        .unwrap();
    store.append(vec![valued("ann", "")]).await.unwrap();
    store.append(vec![valued("bob", "b2")]).await.unwrap();
    let spec = compacted("profiles", 1_000);
    let now = writer::now_ms();
    // Within delete.retention.ms the tombstone stays, so a consumer reading
    // from the start learns that ann was deleted.
    assert_eq!(compact_once(&store, &spec, now).await, 2);
    let kept: Vec<u64> = holds(&store, "profiles")
        .await
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(kept, [2, 3]);
    // Later it goes too; bob's latest stays.
    let later = now + 5_000;
    assert_eq!(compact_once(&store, &spec, later).await, 1);
    assert_eq!(
        holds(&store, "profiles").await,
        vec![(3, "bob".into(), "b2".into())]
    );
}

#[tokio::test]
async fn the_newest_record_stays_even_when_it_is_an_old_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with(&dir, &[("profiles", 1)]).await);
    store
        .append(vec![valued("ann", "a1"), valued("ann", "")])
        .await
        .unwrap();
    let spec = compacted("profiles", 0);
    let later = writer::now_ms() + 5_000;
    assert_eq!(compact_once(&store, &spec, later).await, 1);
    assert_eq!(
        holds(&store, "profiles").await,
        vec![(1, "ann".into(), String::new())]
    );
    assert_eq!(store.end_offset("profiles", 0).await.unwrap(), 2);
}
