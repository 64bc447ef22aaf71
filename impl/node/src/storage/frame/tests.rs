//! The framing, read back after every kind of damage: a cut at each byte of the last batch, a
//! bit flipped at each byte of an earlier one, zeros after the end.

use super::super::conformance::{create, promise, vote};
use super::*;

/// Three batches of two cells; the offsets where each batch ends.
fn log() -> (Vec<u8>, Vec<usize>) {
    let batches = [
        vec![create(1), create(2)],
        vec![promise(1, 1), vote(1, 1, 1, "one"), promise(2, 1)],
        vec![vote(2, 1, 1, "two"), vote(1, 2, 1, "three")],
    ];
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for (number, batch) in batches.iter().enumerate() {
        bytes.extend(encode_batch(number as u64 + 1, batch).expect("encodes"));
        ends.push(bytes.len());
    }
    (bytes, ends)
}

fn scan_ok(bytes: &[u8]) -> Scan {
    match scan(bytes, 0) {
        Ok(scan) => scan,
        Err(e) => panic!("scan failed: {e}"),
    }
}

#[test]
fn a_whole_log_reads_back_every_write_in_order() {
    let (bytes, ends) = log();
    let scan = scan_ok(&bytes);
    assert_eq!(scan.writes.len(), 7);
    assert!(scan.damaged.is_empty());
    assert_eq!(scan.valid_bytes as usize, ends[2]);
    assert_eq!(scan.last_batch, 3);
    assert_eq!(scan.writes[3], vote(1, 1, 1, "one"));
}

#[test]
fn a_cut_anywhere_in_the_last_batch_drops_that_batch_whole() {
    let (bytes, ends) = log();
    for cut in ends[1]..ends[2] {
        let scan = scan_ok(&bytes[..cut]);
        assert_eq!(scan.writes.len(), 5, "cut at {cut}");
        assert_eq!(scan.valid_bytes as usize, ends[1], "cut at {cut}");
        assert!(scan.damaged.is_empty(), "cut at {cut}");
    }
}

#[test]
fn zeros_after_the_end_or_after_a_cut_are_the_end() {
    let (mut bytes, ends) = log();
    bytes.truncate(ends[2] - 5);
    bytes.extend([0u8; 4096]);
    let scan = scan_ok(&bytes);
    assert_eq!(scan.writes.len(), 5);
    assert_eq!(scan.valid_bytes as usize, ends[1]);
}

#[test]
fn a_flipped_bit_in_an_earlier_payload_names_its_cell_and_record() {
    let (bytes, ends) = log();
    // Every byte of the second batch's payloads: damage there is corruption, not a torn tail,
    // since the third batch follows.
    let mut payload_hits = 0;
    for at in ends[0]..ends[1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        match scan(&damaged, 0) {
            Ok(scan) => {
                // The flip hit a payload: that record is reported (unless it is the batch's
                // end, which names no cell), and every other is intact.
                assert!(scan.damaged.len() <= 1, "flip at {at}");
                assert_eq!(scan.writes.len() + scan.damaged.len(), 7, "flip at {at}");
                assert_eq!(scan.valid_bytes as usize, ends[2], "flip at {at}");
                if let Some(Corruption::Record { cell, position, .. }) = scan.damaged.first() {
                    assert!([CellId(1), CellId(2)].contains(cell), "flip at {at}");
                    let offset = position.offset as usize;
                    assert!((ends[0]..ends[1]).contains(&offset), "flip at {at}");
                    payload_hits += 1;
                }
            }
            Err(StorageError::LogDamaged { position, .. }) => {
                // The flip hit a header: no cell can be named, recovery stops there.
                assert!(
                    (ends[0]..ends[1]).contains(&(position.offset as usize)),
                    "flip at {at}"
                );
            }
            Err(e) => panic!("flip at {at}: {e}"),
        }
    }
    assert!(payload_hits > 0);
}

#[test]
fn a_damaged_batch_end_before_the_tail_still_ends_its_batch() {
    let (mut bytes, ends) = log();
    // The last byte of the second batch is its end's payload.
    bytes[ends[1] - 1] ^= 0x01;
    let scan = scan_ok(&bytes);
    assert_eq!(scan.writes.len(), 7);
    assert_eq!(
        scan.damaged.len(),
        0,
        "the end of a batch names no cell's record"
    );
    assert_eq!(scan.valid_bytes as usize, ends[2]);
}

#[test]
fn a_length_past_the_bound_is_refused_before_anything_is_read() {
    let (bytes, _) = log();
    let mut forged = bytes.clone();
    let too_long = (RECORD_BYTES_MAX + 1) as u32;
    forged[..4].copy_from_slice(&too_long.to_le_bytes());
    let header_crc = crc32c::crc32c(&forged[..16]);
    forged[16..20].copy_from_slice(&header_crc.to_le_bytes());
    match scan(&forged, 0) {
        Err(StorageError::LogDamaged {
            reason: FrameError::TooLong(_),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}
