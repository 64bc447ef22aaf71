//! How the write-ahead log lays records out, and how recovery reads them back: the framing
//! shared by every log that is bytes (the file store's segments, the simulated disk).
//!
//! A frame is a 20-byte header, then the payload:
//!
//! ```text
//! payload length: u32 LE | cell: u64 LE | payload CRC-32C: u32 LE | header CRC-32C: u32 LE
//! ```
//!
//! The header has its own checksum, over its first 16 bytes, so that a damaged payload still
//! names its cell and its length can be trusted to find the next frame: recovery reports that
//! one cell and goes on. The payload is one [`Record`] in the core's strict encoding
//! (`colony_core::codec`, a version byte then postcard).
//!
//! Each batch ends with a [`Record::BatchEnd`] frame. Recovery keeps a batch only when it finds
//! its end, so that a batch is recovered whole or not at all; what follows the last end is a
//! batch that was never synced (or only in part) and is cut off.
//!
//! **Torn tail or corruption.** A write torn by a crash leaves a prefix of what was written:
//! a header cut short, or a frame whose payload runs past the end of the log (or into the zeros
//! after it). That is cut off, with the rest of its batch. A frame that is whole but fails its
//! checksum was not torn: it had been written whole, and something damaged it since. That is
//! corruption, wherever it is, the last frame of the log included: a damaged payload names its
//! cell (its header is intact) and recovery goes on; a damaged header names no cell, and
//! recovery stops with [`super::StorageError::LogDamaged`] rather than guess which cells lost
//! what. A damaged batch end still ends its batch (its header says what it was). So a flipped
//! bit is never mistaken for a torn write and silently cut off with the votes it held; a disk
//! that reorders the sectors of one write could make a torn write look damaged, which errs the
//! safe way: the cell refuses to serve and is repaired from its peers.

use super::{Corruption, RecordPosition, StorageError, Write};
use crate::limits::RECORD_BYTES_MAX;
use crate::CellId;
use colony_core::codec::{self, CodecError};
use serde::{Deserialize, Serialize};

/// The version of the log's record encoding; it increases with any change to it.
pub const FORMAT_VERSION: u8 = 1;

/// The header's length in bytes.
pub(crate) const HEADER_BYTES: usize = 20;

/// One record of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    /// A write of a cell.
    Write(Write),
    /// The end of a batch of `records` writes: what makes the batch count at recovery.
    BatchEnd {
        /// The batch's number, one more than the batch before in this log.
        batch: u64,
        /// How many writes the batch holds.
        records: u32,
    },
}

/// What is wrong with one frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The header's checksum does not match it.
    #[error("header checksum mismatch")]
    HeaderChecksum,
    /// The header announces a payload longer than any record.
    #[error("payload length {0} exceeds the bound {RECORD_BYTES_MAX}")]
    TooLong(u64),
    /// The payload's checksum does not match it.
    #[error("payload checksum mismatch")]
    PayloadChecksum,
    /// The payload's checksum matches but it does not decode.
    #[error("payload does not decode: {0}")]
    Decode(CodecError),
    /// The payload decodes to a record of another cell than its header names.
    #[error("header names {header} but the record is of {record}")]
    CellMismatch {
        /// The header's cell.
        header: CellId,
        /// The record's.
        record: CellId,
    },
    /// A closed segment holds bytes after its last batch. Segments are closed only after a
    /// sync, so these cannot be a torn write.
    #[error("{bytes} byte(s) after the last batch of a closed segment")]
    AfterLastBatch {
        /// How many.
        bytes: u64,
    },
    /// A batch's end counts another number of writes than the log holds before it.
    #[error("batch end counts {counted} writes but {found} precede it")]
    BatchCount {
        /// What the end says.
        counted: u32,
        /// What was found.
        found: u32,
    },
}

/// The borrowed form of [`Record`]: it encodes to the same bytes (serde numbers an enum's
/// variants by position, and a reference serializes as what it refers to), so that a batch is
/// framed without copying its writes.
#[derive(Serialize)]
enum RecordRef<'a> {
    Write(&'a Write),
    BatchEnd { batch: u64, records: u32 },
}

/// Appends the frame of `record`, header and payload, to `out`; `payload` is scratch space,
/// reused from one record to the next.
fn encode_into(
    out: &mut Vec<u8>,
    payload: &mut Vec<u8>,
    record: &RecordRef<'_>,
) -> Result<(), StorageError> {
    let cell = match record {
        RecordRef::Write(write) => write.cell(),
        RecordRef::BatchEnd { .. } => CellId::RESERVED,
    };
    codec::encode_reusing(
        FORMAT_VERSION,
        record,
        |_| Ok::<(), CodecError>(()),
        payload,
    )
    .map_err(|e| StorageError::BadWrite {
        index: 0,
        reason: format!("cannot encode: {e}"),
    })?;
    if payload.len() as u64 > RECORD_BYTES_MAX {
        return Err(StorageError::BadWrite {
            index: 0,
            reason: format!(
                "{} bytes encoded, more than a record holds ({RECORD_BYTES_MAX})",
                payload.len()
            ),
        });
    }
    push_frame(out, cell, payload);
    Ok(())
}

/// Appends the header of a record of `cell` holding `payload` (length, cell, payload checksum,
/// header checksum), then the payload.
fn push_frame(out: &mut Vec<u8>, cell: CellId, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&cell.0.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let header_crc = crc32c::crc32c(&out[start..start + 16]);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The frames of one batch: each write, then the batch's end.
pub(crate) fn encode_batch(batch_number: u64, batch: &[Write]) -> Result<Vec<u8>, StorageError> {
    let mut bytes = Vec::with_capacity(batch.len() * 128 + 64);
    let mut payload = Vec::with_capacity(256);
    for (index, write) in batch.iter().enumerate() {
        encode_into(&mut bytes, &mut payload, &RecordRef::Write(write)).map_err(|e| match e {
            StorageError::BadWrite { reason, .. } => StorageError::BadWrite { index, reason },
            other => other,
        })?;
    }
    let records = u32::try_from(batch.len()).map_err(|_| StorageError::BadWrite {
        index: 0,
        reason: "more than 2^32 writes in one batch".to_string(),
    })?;
    encode_into(
        &mut bytes,
        &mut payload,
        &RecordRef::BatchEnd {
            batch: batch_number,
            records,
        },
    )?;
    Ok(bytes)
}

/// `payload` framed as one record of `cell` 0 with a right header and checksums, for the fuzz
/// targets: the bytes of a record whose payload is anything at all.
pub(crate) fn frame_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
    push_frame(&mut out, CellId(0), payload);
    out
}

/// What recovery read from one log's bytes.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The writes of every complete batch, in log order.
    pub writes: Vec<Write>,
    /// The damaged records of complete batches.
    pub damaged: Vec<Corruption>,
    /// Where the last complete batch ends: the log's length once its tail is cut off.
    pub valid_bytes: u64,
    /// The number of the last complete batch (0 for none).
    pub last_batch: u64,
}

/// Reads `bytes`, the log of `segment`, frame by frame. See the module's documentation for
/// what is cut off, what is reported per cell and what stops recovery.
pub(crate) fn scan(bytes: &[u8], segment: u64) -> Result<Scan, StorageError> {
    let mut scan = Scan::default();
    let mut batch_writes: Vec<Write> = Vec::new();
    let mut batch_damaged: Vec<Corruption> = Vec::new();
    let mut offset = 0usize;
    // Where the written bytes end: past it there is nothing, or only zeros.
    let data_end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let nothing_after = |from: usize| from >= data_end;
    while offset < bytes.len() {
        let position = RecordPosition {
            segment,
            offset: offset as u64,
        };
        let rest = &bytes[offset..];
        if rest.len() < HEADER_BYTES || nothing_after(offset) {
            break; // A torn header, or the zeros after the last write: the end.
        }
        let header = &rest[..HEADER_BYTES];
        let field = |at: usize| {
            u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        let length = u64::from(field(0));
        let mut cell_bytes = [0u8; 8];
        cell_bytes.copy_from_slice(&header[4..12]);
        let cell = CellId(u64::from_le_bytes(cell_bytes));
        let payload_crc = field(12);
        if crc32c::crc32c(&header[..16]) != field(16) {
            if nothing_after(offset + HEADER_BYTES) {
                break;
            }
            return Err(StorageError::LogDamaged {
                position,
                reason: FrameError::HeaderChecksum,
            });
        }
        if length > RECORD_BYTES_MAX {
            return Err(StorageError::LogDamaged {
                position,
                reason: FrameError::TooLong(length),
            });
        }
        let end = offset + HEADER_BYTES + length as usize;
        if end > bytes.len() {
            break; // The frame runs past the log's end: a torn last write.
        }
        let payload = &rest[HEADER_BYTES..HEADER_BYTES + length as usize];
        let record = if crc32c::crc32c(payload) != payload_crc {
            Err(FrameError::PayloadChecksum)
        } else {
            codec::decode::<Record, CodecError>(FORMAT_VERSION, payload, |_| Ok(()))
                .map_err(FrameError::Decode)
        };
        let record = record.and_then(|record| {
            let record_cell = match &record {
                Record::Write(write) => write.cell(),
                Record::BatchEnd { .. } => CellId::RESERVED,
            };
            if record_cell == cell {
                Ok(record)
            } else {
                Err(FrameError::CellMismatch {
                    header: cell,
                    record: record_cell,
                })
            }
        });
        match record {
            Err(_) if cell == CellId::RESERVED => {
                // A damaged batch end: the header says it was one, so the batch still ends
                // here; its writes count, since it had been synced (later writes follow).
                scan.last_batch += 1;
                finish_batch(&mut scan, &mut batch_writes, &mut batch_damaged, end);
            }
            Err(reason) => batch_damaged.push(Corruption::Record {
                cell,
                position,
                reason,
            }),
            Ok(Record::Write(write)) => batch_writes.push(write),
            Ok(Record::BatchEnd { batch, records }) => {
                let found = (batch_writes.len() + batch_damaged.len()) as u32;
                if records != found {
                    return Err(StorageError::LogDamaged {
                        position,
                        reason: FrameError::BatchCount {
                            counted: records,
                            found,
                        },
                    });
                }
                scan.last_batch = batch;
                finish_batch(&mut scan, &mut batch_writes, &mut batch_damaged, end);
            }
        }
        offset = end;
    }
    Ok(scan)
}

fn finish_batch(
    scan: &mut Scan,
    writes: &mut Vec<Write>,
    damaged: &mut Vec<Corruption>,
    end: usize,
) {
    scan.writes.append(writes);
    scan.damaged.append(damaged);
    scan.valid_bytes = end as u64;
}

#[cfg(test)]
mod tests;
