//! What a node keeps across crashes, and the one contract every way of keeping it meets.
//!
//! The host asks for [`Write`]s: a cell's creation, a replica's hard state, its votes, its
//! decided entries, a snapshot of its state machine. A [`Storage`] takes them in batches:
//! [`Storage::append`] hands it a batch, [`Storage::sync`] makes every batch appended so far
//! durable at once. That is group commit: however many cells wrote, a batch costs one sync.
//! [`Storage::recover`] gives back, after a crash, everything synced, per cell
//! ([`CellImage`]), and names every cell whose records are damaged ([`Corruption`]).
//!
//! **The contract**, which [`conformance`] checks on every implementation:
//!
//! - A batch is durable once `sync` returns `Ok`, and not before: the caller sends nothing and
//!   acknowledges nothing that depends on a batch until then.
//! - A batch appended and not synced when the node crashes is recovered whole or not at all,
//!   never in part.
//! - A failed sync is fatal: the storage refuses every later call ([`StorageError::Poisoned`]),
//!   and the node stops. A sync is never retried: after a failed `fdatasync` the kernel may have
//!   dropped the dirty pages, and a second call that succeeds proves nothing (the "fsyncgate"
//!   lesson).
//! - A torn last write (a crash in the middle of a batch) is cut off at recovery. A damaged
//!   record before the end is corruption: recovery names the cell and the record, and that
//!   cell must refuse to serve. A vote is never silently forgotten.
//! - Recovery gives each cell's latest hard state, its latest vote per slot and its decided
//!   entries above its latest snapshot, and the snapshot itself.

pub mod conformance;
mod file;
pub(crate) mod frame;
mod image;
mod memory;
mod sim;

pub use file::FileStorage;
pub use frame::{FrameError, Record, FORMAT_VERSION};
pub use image::CellImage;
pub use memory::MemoryStorage;
pub use sim::{SimFaults, SimStorage};

use crate::CellId;
use colony_core::group::NodeId;
use colony_core::multipaxos::{Entry, HardState, Slot, Vote};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One thing the host asks storage to keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Write {
    /// A cell this node is a member of, created with these members. It comes before any other
    /// write of the cell.
    Cell {
        /// The cell.
        cell: CellId,
        /// Its members, this node among them.
        members: Vec<NodeId>,
    },
    /// The replica's hard state, replacing the one kept before.
    HardState {
        /// The cell.
        cell: CellId,
        /// The new hard state.
        hard_state: HardState,
    },
    /// A vote, replacing the one kept for the same slot.
    Vote {
        /// The cell.
        cell: CellId,
        /// The slot voted in.
        slot: Slot,
        /// The vote.
        vote: Vote,
    },
    /// An entry that joined the cell's decided log.
    Decided {
        /// The cell.
        cell: CellId,
        /// Its slot.
        slot: Slot,
        /// The entry.
        entry: Entry,
    },
    /// A snapshot of the cell's state machine through `last_slot`. It replaces the one kept
    /// before, and with it the votes and decided entries up to `last_slot` may go.
    Snapshot {
        /// The cell.
        cell: CellId,
        /// The last slot it covers.
        last_slot: Slot,
        /// The encoded state machine.
        state: Arc<[u8]>,
    },
}

impl Write {
    /// The cell the write is for.
    pub fn cell(&self) -> CellId {
        match self {
            Write::Cell { cell, .. }
            | Write::HardState { cell, .. }
            | Write::Vote { cell, .. }
            | Write::Decided { cell, .. }
            | Write::Snapshot { cell, .. } => *cell,
        }
    }
}

/// Where a damaged record is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordPosition {
    /// The log segment (0 for a log that has one).
    pub segment: u64,
    /// The record's first byte in it.
    pub offset: u64,
}

impl std::fmt::Display for RecordPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "segment {} offset {}", self.segment, self.offset)
    }
}

/// Why a cell's durable state cannot be trusted. The cell must refuse to serve, and the node
/// reports it; its peers hold what it lost.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// A record of the cell, before the log's end, fails its checksum or does not decode.
    #[error("{cell}: record at {position} is damaged: {reason}")]
    Record {
        /// The cell.
        cell: CellId,
        /// The record.
        position: RecordPosition,
        /// What was wrong with it.
        reason: FrameError,
    },
    /// The embedded store's record of the cell, or its snapshot, does not decode.
    #[error("{cell}: its stored {what} is damaged: {reason}")]
    Stored {
        /// The cell.
        cell: CellId,
        /// "cell record" or "snapshot".
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The log holds records of the cell but not its creation.
    #[error("{cell}: the log holds its records but not its creation")]
    Orphan {
        /// The cell.
        cell: CellId,
    },
}

impl Corruption {
    /// The cell that must refuse to serve.
    pub fn cell(&self) -> CellId {
        match self {
            Corruption::Record { cell, .. }
            | Corruption::Stored { cell, .. }
            | Corruption::Orphan { cell } => *cell,
        }
    }
}

/// Everything a node recovers after a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Every cell whose records are intact.
    pub cells: BTreeMap<CellId, CellImage>,
    /// Every cell whose records are damaged: they must refuse to serve.
    pub corrupt: BTreeMap<CellId, Corruption>,
    /// Bytes of a torn or unsynced last batch that recovery cut off.
    pub truncated_bytes: u64,
}

/// Why storage failed. Every one is fatal to the node, except [`StorageError::BadWrite`],
/// which refuses one batch and changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O call failed.
    #[error("{operation} failed: {source}")]
    Io {
        /// What was being done.
        operation: String,
        /// The error.
        source: std::io::Error,
    },
    /// The embedded store failed.
    #[error("the embedded store failed while {operation}: {reason}")]
    Store {
        /// What was being done.
        operation: &'static str,
        /// Its error.
        reason: String,
    },
    /// An earlier sync failed; nothing more may be written or trusted.
    #[error("storage is poisoned by an earlier failed sync: the node must stop")]
    Poisoned,
    /// A write that cannot be kept: too long, or for the reserved cell id. Nothing of its batch
    /// was appended.
    #[error("write {index} of the batch cannot be kept: {reason}")]
    BadWrite {
        /// Its index in the batch.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The log before its tail is unreadable in a way that names no cell (a damaged record
    /// header, so that where the next record starts is unknown): the node cannot tell which
    /// cells lost what, and refuses to start rather than guess.
    #[error("the write-ahead log is damaged at {position} before its end: {reason}")]
    LogDamaged {
        /// Where.
        position: RecordPosition,
        /// What was found.
        reason: FrameError,
    },
}

/// The durable state of a node's cells. See the module's documentation for the contract.
pub trait Storage {
    /// Takes a batch of writes. They are not durable until [`Storage::sync`] returns `Ok`. A
    /// batch with a write that cannot be kept is refused whole ([`StorageError::BadWrite`]).
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError>;

    /// Makes every batch appended so far durable. An error is fatal: the storage is poisoned.
    fn sync(&mut self) -> Result<(), StorageError>;

    /// Everything synced, per cell, and the cells whose records are damaged. Called once, when
    /// the node starts, before any `append`.
    fn recover(&mut self) -> Result<Recovered, StorageError>;
}

/// Checks a batch before anything of it is appended.
pub(crate) fn check_batch(batch: &[Write]) -> Result<(), StorageError> {
    for (index, write) in batch.iter().enumerate() {
        if write.cell() == CellId::RESERVED {
            return Err(StorageError::BadWrite {
                index,
                reason: format!("{} is reserved for the log's own records", CellId::RESERVED),
            });
        }
        if let Write::Cell { members, .. } = write {
            // Storage does not know which node it is on; checking against the first member
            // checks the count and duplicates, which is what a record must not get wrong.
            let first = members.first().copied().unwrap_or(NodeId(0));
            colony_core::group::check_members(first, members).map_err(|e| {
                StorageError::BadWrite {
                    index,
                    reason: format!("bad members: {e}"),
                }
            })?;
        }
    }
    Ok(())
}
