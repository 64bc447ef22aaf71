//! What each storage does when the disk misbehaves: torn tails cut off, damaged records named
//! with their cell, a failed sync fatal, checkpoints bounded and never folded twice.

use colony_node::storage::conformance::{create, promise, vote};
use colony_node::storage::{
    Corruption, FileStorage, Recovered, SimFaults, SimStorage, Storage, StorageError, Write,
};
use colony_node::CellId;
use std::fs;
use std::path::{Path, PathBuf};

fn commit(storage: &mut impl Storage, batch: &[Write]) {
    storage.append(batch).expect("append");
    storage.sync().expect("sync");
}

fn promised_round(recovered: &Recovered, cell: u64) -> Option<u32> {
    recovered.cells[&CellId(cell)]
        .hard_state
        .promised
        .map(|b| b.round)
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("wal"))
        .expect("wal/ lists")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    files
}

fn reopen(dir: &Path, segment_bytes: u64) -> (FileStorage, Recovered) {
    let mut storage = FileStorage::open_with(dir, segment_bytes).expect("opens");
    let recovered = storage.recover().expect("recovers");
    (storage, recovered)
}

#[test]
fn checkpoints_keep_the_log_to_a_few_segments_and_lose_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut storage, _) = reopen(dir.path(), 2048);
    commit(&mut storage, &(0..10).map(create).collect::<Vec<_>>());
    let mut most_segments = 0;
    for round in 1..=400u32 {
        let cell = u64::from(round % 10);
        commit(
            &mut storage,
            &[promise(cell, round), vote(cell, 1, round, "x")],
        );
        most_segments = most_segments.max(segments(dir.path()).len());
    }
    assert!(
        most_segments <= colony_node::limits::CLOSED_SEGMENTS_MAX + 1,
        "{most_segments} segments at once"
    );
    drop(storage);
    let (_, recovered) = reopen(dir.path(), 2048);
    for cell in 0..10u64 {
        let latest = (1..=400u32).filter(|r| u64::from(r % 10) == cell).max();
        assert_eq!(promised_round(&recovered, cell), latest, "cell {cell}");
    }
}

#[test]
fn a_segment_whose_deletion_a_crash_undid_is_not_folded_again() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut storage, _) = reopen(dir.path(), 1024);
    commit(&mut storage, &[create(1), promise(1, 1)]);
    // Keep a copy of the first segment, which holds the promise of round 1.
    let first = segments(dir.path())[0].clone();
    let copy = fs::read(&first).expect("reads");
    for round in 2..=200 {
        commit(&mut storage, &[promise(1, round)]);
    }
    assert!(!first.exists(), "a checkpoint deleted the first segment");
    drop(storage);
    // The crash undid the deletion: the old segment is back.
    fs::write(&first, copy).expect("writes");
    let (_, recovered) = reopen(dir.path(), 1024);
    assert_eq!(promised_round(&recovered, 1), Some(200));
    assert!(!first.exists(), "recovery deletes a segment already folded");
}

#[test]
fn a_torn_tail_is_cut_off_and_writing_goes_on_after_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut storage, _) = reopen(dir.path(), u64::MAX);
    commit(&mut storage, &[create(1), promise(1, 1)]);
    // A second batch whose last bytes never reached the disk.
    storage.append(&[promise(1, 2)]).expect("append");
    drop(storage);
    let segment = segments(dir.path())[0].clone();
    let length = fs::metadata(&segment).expect("metadata").len();
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .expect("opens");
    file.set_len(length - 7).expect("cuts");
    drop(file);
    let (mut storage, recovered) = reopen(dir.path(), u64::MAX);
    assert!(recovered.truncated_bytes > 0);
    assert!(recovered.corrupt.is_empty());
    assert_eq!(promised_round(&recovered, 1), Some(1));
    commit(&mut storage, &[promise(1, 3)]);
    drop(storage);
    let (_, recovered) = reopen(dir.path(), u64::MAX);
    assert_eq!(recovered.truncated_bytes, 0);
    assert_eq!(promised_round(&recovered, 1), Some(3));
}

/// Flips one bit in the middle of the payload of the record of `cell` that holds `marker`.
fn flip_in_record(path: &Path, marker: &[u8]) {
    let mut bytes = fs::read(path).expect("reads");
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("the marker is in the segment");
    bytes[at] ^= 0x04;
    fs::write(path, bytes).expect("writes");
}

#[test]
fn a_damaged_record_makes_its_cell_corrupt_and_it_stays_so_after_checkpoints() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut storage, _) = reopen(dir.path(), 4096);
    commit(&mut storage, &[create(1), create(2)]);
    commit(
        &mut storage,
        &[vote(1, 1, 1, "MARKER-ONE"), vote(2, 1, 1, "two")],
    );
    commit(&mut storage, &[promise(2, 5)]);
    drop(storage);
    flip_in_record(&segments(dir.path())[0], b"MARKER-ONE");
    let (mut storage, recovered) = reopen(dir.path(), 4096);
    match &recovered.corrupt.get(&CellId(1)) {
        Some(Corruption::Record { position, .. }) => {
            assert_eq!(position.segment, 1);
            assert!(position.offset > 0);
        }
        other => panic!("cell 1 is not reported corrupt: {other:?}"),
    }
    let message = recovered.corrupt[&CellId(1)].to_string();
    assert!(
        message.contains("cell 1") && message.contains("segment 1"),
        "{message}"
    );
    assert!(!recovered.cells.contains_key(&CellId(1)));
    assert_eq!(promised_round(&recovered, 2), Some(5));
    // Enough writes for the damaged segment to be folded into the store and deleted.
    for round in 6..=200 {
        commit(&mut storage, &[promise(2, round)]);
    }
    drop(storage);
    let (_, recovered) = reopen(dir.path(), 4096);
    assert!(
        recovered.corrupt.contains_key(&CellId(1)),
        "a checkpoint forgot that cell 1 is corrupt: {recovered:?}"
    );
    assert_eq!(promised_round(&recovered, 2), Some(200));
}

#[test]
fn a_failed_sync_poisons_the_storage() {
    let mut storage = SimStorage::new(3, SimFaults::default());
    storage.recover().expect("recovers");
    commit(&mut storage, &[create(1)]);
    storage.append(&[promise(1, 1)]).expect("append");
    storage.fail_next_sync();
    assert!(matches!(storage.sync(), Err(StorageError::Io { .. })));
    assert!(matches!(
        storage.append(&[promise(1, 2)]),
        Err(StorageError::Poisoned)
    ));
    assert!(matches!(storage.sync(), Err(StorageError::Poisoned)));
    assert_eq!(storage.counts().sync_failures, 1);
}

#[test]
fn a_flipped_bit_in_the_simulated_log_is_never_silently_skipped() {
    // Flip each bit of a small synced log in turn: every flip is a corrupt cell, a damaged log,
    // or harmless (a batch end's payload); never a torn tail cut off, never a changed vote.
    let batches = [
        vec![create(1), create(2)],
        vec![vote(1, 1, 1, "a"), vote(2, 1, 1, "b")],
        vec![promise(1, 2)],
    ];
    let mut clean = SimStorage::new(4, SimFaults::default());
    clean.recover().expect("recovers");
    for batch in &batches {
        commit(&mut clean, batch);
    }
    let bits = clean.len_bytes() * 8;
    let expected = clean.recover().expect("recovers");
    let (mut corrupt, mut damaged) = (0, 0);
    for bit in 0..bits {
        let mut storage = SimStorage::new(4, SimFaults::default());
        storage.recover().expect("recovers");
        for batch in &batches {
            commit(&mut storage, batch);
        }
        storage.flip_bit(bit);
        match storage.recover() {
            Err(StorageError::LogDamaged { .. }) => damaged += 1,
            Err(e) => panic!("bit {bit}: {e}"),
            Ok(recovered) if !recovered.corrupt.is_empty() => {
                corrupt += 1;
                for (cell, image) in &recovered.cells {
                    assert_eq!(Some(image), expected.cells.get(cell), "bit {bit}");
                }
            }
            Ok(recovered) if recovered.truncated_bytes > 0 => {
                panic!("bit {bit} of {bits} was read as a torn tail and cut off");
            }
            Ok(recovered) => {
                // The flip hit a batch end's payload before the tail: the batch still ends
                // there and every write is intact.
                assert_eq!(recovered, expected, "bit {bit}");
            }
        }
    }
    assert!(corrupt > 0 && damaged > 0, "{corrupt} {damaged}");
}
