//! The header of a snapshot: what a replica checks before it installs a state machine's state in
//! place of the log below it.
//!
//! The core never holds a snapshot's bytes: it says when one is wanted
//! ([`super::Ready::snapshot_wanted`]) and to whom one goes ([`super::Ready::snapshots`]), and
//! the runtime writes, sends and installs it. This header and its encoding
//! ([`super::encode_snapshot_header`]) are what the runtime checks a snapshot against before
//! installing it. A snapshot is this header and the state's bytes, which are opaque here (for a
//! cell, the encoding of its state machine, with its own version byte).

use super::log::Slot;
use serde::{Deserialize, Serialize};

/// What a receiver needs to know about a snapshot before installing it, and nothing more.
///
/// Unlike Raft's snapshot metadata, the header carries no ballot (Raft's last included term):
/// Raft needs the term to match the log after the snapshot against a leader's, but a decided slot
/// of Multi-Paxos never changes, so the slot number alone says where the log resumes. It carries
/// no member list either, as a cell's members do not change yet; a leader hint belongs in the
/// message that carries the snapshot, not in what is kept on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The last slot the snapshot covers: the state is the state machine's after applying slots
    /// 1 through this one, in order. A replica installs it only when this is past its decided
    /// prefix (an older snapshot would take it back in time), and resumes its log at the slot
    /// after it.
    pub last_slot: Slot,
    /// The length of the state, so that a receiver can refuse one past
    /// [`super::SNAPSHOT_BYTES_MAX`] before it reads or allocates anything, and can tell a
    /// transfer or a file cut short from a complete one.
    pub state_bytes: u64,
    /// The CRC-32C (Castagnoli) of the state, so that a state damaged on disk or on the way is
    /// refused rather than installed: a replica that installed a wrong state would diverge from
    /// its cell silently, whatever the protocol decides afterwards.
    pub state_crc32c: u32,
}

/// Why a snapshot's state does not match its header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The state is not as long as the header says.
    #[error("the snapshot's state is {found} bytes long, its header says {expected}")]
    Length {
        /// The length in the header.
        expected: u64,
        /// The state's length.
        found: u64,
    },
    /// The state's checksum is not the header's.
    #[error("the snapshot's state has CRC-32C {found:#010x}, its header says {expected:#010x}")]
    Checksum {
        /// The checksum in the header.
        expected: u32,
        /// The state's checksum.
        found: u32,
    },
}

impl SnapshotHeader {
    /// The header of a snapshot of `state`, the state machine's state after `last_slot`.
    pub fn new(last_slot: Slot, state: &[u8]) -> SnapshotHeader {
        SnapshotHeader {
            last_slot,
            state_bytes: state.len() as u64,
            state_crc32c: crc32c::crc32c(state),
        }
    }

    /// Checks that `state` is the state this header describes: its length, then its checksum.
    pub fn check(&self, state: &[u8]) -> Result<(), SnapshotError> {
        let found = state.len() as u64;
        if found != self.state_bytes {
            return Err(SnapshotError::Length {
                expected: self.state_bytes,
                found,
            });
        }
        let found = crc32c::crc32c(state);
        if found != self.state_crc32c {
            return Err(SnapshotError::Checksum {
                expected: self.state_crc32c,
                found,
            });
        }
        Ok(())
    }
}
