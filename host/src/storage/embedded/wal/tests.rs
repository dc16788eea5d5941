use super::*;

fn append(wal: &mut Wal, payload: &[u8]) -> u64 {
    let mut buf = Vec::new();
    frame::begin(&mut buf);
    buf.extend_from_slice(payload);
    wal.append(&mut buf, 42).unwrap()
}

fn payloads(replay: &Replay) -> Vec<(u64, &[u8])> {
    replay
        .frames
        .iter()
        .map(|f| (f.lsn, f.payload.as_slice()))
        .collect()
}

#[test]
fn frames_after_the_databases_lsn_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, replay) = Wal::open(dir.path(), 0).unwrap();
    assert!(replay.frames.is_empty());
    assert_eq!(append(&mut wal, b"one"), 1);
    assert_eq!(append(&mut wal, b"two"), 2);
    assert_eq!(append(&mut wal, b"three"), 3);
    drop(wal);

    let (_, replay) = Wal::open(dir.path(), 0).unwrap();
    assert_eq!(
        payloads(&replay),
        [(1, &b"one"[..]), (2, b"two"), (3, b"three")]
    );
    assert_eq!(replay.frames[0].clock_ms, 42);
    let (mut wal, replay) = Wal::open(dir.path(), 2).unwrap();
    assert_eq!(payloads(&replay), [(3, &b"three"[..])]);
    assert_eq!(wal.next_lsn, 4);
    wal.checkpointed().unwrap();
    assert_eq!(append(&mut wal, b"four"), 4, "a new segment goes on");
    drop(wal);
    let (_, replay) = Wal::open(dir.path(), 3).unwrap();
    assert_eq!(payloads(&replay), [(4, &b"four"[..])]);
    assert_eq!(
        segments(dir.path()).unwrap().len(),
        1,
        "the checkpoint deleted the old segment"
    );
}

#[test]
fn a_torn_tail_is_dropped_and_the_log_goes_on_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    append(&mut wal, b"kept");
    append(&mut wal, b"torn by the crash");
    drop(wal);
    let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
    tear_last_frame(&path, 5);

    let (mut wal, replay) = Wal::open(dir.path(), 0).unwrap();
    assert_eq!(payloads(&replay), [(1, &b"kept"[..])]);
    assert_eq!(replay.torn_bytes, (frame::HEAD + 17) as u64);
    wal.checkpointed().unwrap();
    assert_eq!(
        append(&mut wal, b"after"),
        2,
        "the torn frame's LSN is taken again"
    );
}

#[test]
fn a_discarded_frame_is_not_applied_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    append(&mut wal, b"committed");
    let mut buf = Vec::new();
    frame::begin(&mut buf);
    buf.extend_from_slice(b"its transaction failed");
    wal.append(&mut buf, 1).unwrap();
    wal.discard_last(buf.len());
    assert_eq!(append(&mut wal, b"next"), 2);
    drop(wal);
    let (_, replay) = Wal::open(dir.path(), 0).unwrap();
    assert_eq!(payloads(&replay), [(1, &b"committed"[..]), (2, b"next")]);
}

#[test]
fn missing_frames_or_damage_before_the_end_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    append(&mut wal, b"one");
    drop(wal);
    // The database holds frame 0 only; frames 1.. are gone but 5 is there.
    let (mut later, _) = Wal::open(dir.path(), 0).unwrap();
    later.next_lsn = 5;
    later.segment = None;
    append(&mut later, b"five");
    drop(later);
    let err = Wal::open(dir.path(), 0).err().unwrap().to_string();
    assert!(err.contains("frame 5 follows frame 1"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    append(&mut wal, b"one");
    append(&mut wal, b"two");
    wal.segment = None;
    append(&mut wal, b"three");
    drop(wal);
    let (_, first) = segments(dir.path()).unwrap().remove(0);
    tear_last_frame(&first, 1);
    let err = Wal::open(dir.path(), 0).err().unwrap().to_string();
    let torn = frame::HEAD + 3;
    assert!(
        err.contains(&format!("{torn} damaged bytes before the next segment")),
        "{err}"
    );
}

#[test]
fn a_segment_is_written_over_after_a_checkpoint_and_its_old_frames_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    for payload in [&b"a longer first frame"[..], b"second", b"third"] {
        append(&mut wal, payload);
    }
    let (_, used) = segments(dir.path()).unwrap().pop().unwrap();
    assert_eq!(
        fs::metadata(&used).unwrap().len(),
        PREALLOCATED,
        "a new segment is filled with zeroes first"
    );
    wal.checkpointed().unwrap();
    assert_eq!(append(&mut wal, b"4"), 4);
    let found = segments(dir.path()).unwrap();
    assert_eq!(found.len(), 1, "the old segment was renamed, not copied");
    assert_eq!(found[0].0, 4);
    assert_eq!(fs::metadata(&found[0].1).unwrap().len(), PREALLOCATED);
    drop(wal);

    // The new frame is shorter than the one it overwrote: what follows it
    // is the rest of the old frames, which are neither read nor torn.
    let (mut wal, replay) = Wal::open(dir.path(), 3).unwrap();
    assert_eq!(payloads(&replay), [(4, &b"4"[..])]);
    assert_eq!(replay.torn_bytes, 0);
    assert_eq!(append(&mut wal, b"five"), 5);
    drop(wal);
    let (_, replay) = Wal::open(dir.path(), 3).unwrap();
    assert_eq!(payloads(&replay), [(4, &b"4"[..]), (5, b"five")]);

    // A clean stop and start after a checkpoint reads no frame and reports
    // nothing torn, though the spare still holds old frames.
    let (mut wal, _) = Wal::open(dir.path(), 5).unwrap();
    wal.checkpointed().unwrap();
    drop(wal);
    let (wal, replay) = Wal::open(dir.path(), 5).unwrap();
    assert!(replay.frames.is_empty());
    assert_eq!((replay.torn_bytes, wal.next_lsn), (0, 6));
}

#[test]
fn a_segment_grown_too_large_is_deleted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
    append(&mut wal, &vec![7; (REUSED_AT_MOST + 1) as usize]);
    wal.checkpointed().unwrap();
    assert!(segments(dir.path()).unwrap().is_empty());
    assert_eq!(append(&mut wal, b"next"), 2);
    let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), PREALLOCATED);
}
