//! The encoding of what one node sends another ([`Frame`]), for the network: a version byte,
//! then the frame in the core's strict encoding (`colony_core::codec`).
//!
//! A cell's message is carried as the core encodes it (`multipaxos::encode_message`), so that
//! the core's own checks of every bound apply to what arrives; a snapshot travels with its
//! header (last slot, length and CRC-32C of the state), checked against the state before the
//! frame is accepted. Decoding refuses anything else, naming what was wrong, and never panics.

use crate::host::Frame;
use crate::CellId;
use colony_core::codec::{self, CodecError};
use colony_core::multipaxos::{
    decode_message, decode_snapshot_header, encode_message, encode_snapshot_header, SnapshotError,
    SnapshotHeader,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The version of the frame encoding; it increases with any change to it.
pub const FORMAT_VERSION: u8 = 1;

/// Why a frame cannot be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameWireError {
    /// The bytes are not a frame of this version.
    #[error("not a frame: {0}")]
    Codec(#[from] CodecError),
    /// The cell's message is refused by the core.
    #[error("the message of {cell} is refused: {reason}")]
    Message {
        /// The cell.
        cell: CellId,
        /// The core's reason.
        reason: String,
    },
    /// The snapshot's header is refused, or does not match its state.
    #[error("the snapshot of {cell} is refused: {reason}")]
    Snapshot {
        /// The cell.
        cell: CellId,
        /// Why.
        reason: String,
    },
}

/// The frame as it is encoded: messages and snapshot headers as the core encodes them.
#[derive(Serialize, Deserialize)]
enum Encoded {
    Cell {
        cell: CellId,
        #[serde(with = "serde_bytes")]
        message: Vec<u8>,
    },
    Snapshot {
        cell: CellId,
        #[serde(with = "serde_bytes")]
        header: Vec<u8>,
        #[serde(with = "serde_bytes")]
        state: Vec<u8>,
    },
    Ping,
}

/// The bytes of `frame`.
pub fn encode_frame(frame: &Frame) -> Result<Vec<u8>, FrameWireError> {
    let encoded = match frame {
        Frame::Cell { cell, message } => Encoded::Cell {
            cell: *cell,
            message: encode_message(message).map_err(|e| FrameWireError::Message {
                cell: *cell,
                reason: e.to_string(),
            })?,
        },
        Frame::Snapshot {
            cell,
            last_slot,
            state,
        } => Encoded::Snapshot {
            cell: *cell,
            header: encode_snapshot_header(&SnapshotHeader::new(*last_slot, state)).map_err(
                |e| FrameWireError::Snapshot {
                    cell: *cell,
                    reason: e.to_string(),
                },
            )?,
            state: state.to_vec(),
        },
        Frame::Ping => Encoded::Ping,
    };
    codec::encode(FORMAT_VERSION, &encoded, |_| Ok::<(), FrameWireError>(()))
}

/// The frame `bytes` encode, once every part of it passes its checks.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame, FrameWireError> {
    let encoded: Encoded = codec::decode(FORMAT_VERSION, bytes, |_| Ok::<(), FrameWireError>(()))?;
    match encoded {
        Encoded::Cell { cell, message } => {
            let message = decode_message(&message).map_err(|e| FrameWireError::Message {
                cell,
                reason: e.to_string(),
            })?;
            Ok(Frame::Cell { cell, message })
        }
        Encoded::Snapshot {
            cell,
            header,
            state,
        } => {
            let refused = |reason: String| FrameWireError::Snapshot { cell, reason };
            let header = decode_snapshot_header(&header).map_err(|e| refused(e.to_string()))?;
            header
                .check(&state)
                .map_err(|e: SnapshotError| refused(e.to_string()))?;
            Ok(Frame::Snapshot {
                cell,
                last_slot: header.last_slot,
                state: Arc::from(state),
            })
        }
        Encoded::Ping => Ok(Frame::Ping),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colony_core::group::{Ballot, NodeId};
    use colony_core::multipaxos::{Command, Entry, Message, Slot};

    fn frames() -> Vec<Frame> {
        let ballot = Ballot {
            round: 3,
            proposer: NodeId(2),
        };
        vec![
            Frame::Ping,
            Frame::Cell {
                cell: CellId(7),
                message: Message::Accept {
                    ballot,
                    slot: Slot(4),
                    entry: Entry::batch(vec![Command(b"set a".to_vec())]),
                },
            },
            Frame::Cell {
                cell: CellId(u64::MAX - 1),
                message: Message::Heartbeat {
                    ballot,
                    decided_through: Slot(9),
                },
            },
            Frame::Snapshot {
                cell: CellId(1),
                last_slot: Slot(12),
                state: Arc::from(&b"the state"[..]),
            },
        ]
    }

    #[test]
    fn every_frame_round_trips() {
        for frame in frames() {
            let bytes = encode_frame(&frame).expect("encodes");
            assert_eq!(decode_frame(&bytes), Ok(frame));
        }
    }

    #[test]
    fn every_prefix_and_every_flipped_byte_is_refused_or_another_whole_frame() {
        for frame in frames() {
            let bytes = encode_frame(&frame).expect("encodes");
            for cut in 0..bytes.len() {
                assert!(
                    decode_frame(&bytes[..cut]).is_err(),
                    "{frame:?} cut at {cut}"
                );
            }
            for at in 0..bytes.len() {
                let mut damaged = bytes.clone();
                damaged[at] ^= 0x40;
                // A flip may turn a frame into another valid one (a different slot number);
                // it must never panic, and a snapshot's state is covered by its checksum.
                if let Ok(Frame::Snapshot { state, .. }) = decode_frame(&damaged) {
                    assert_eq!(
                        &state[..],
                        b"the state",
                        "a damaged snapshot state passed its checksum"
                    );
                }
            }
        }
    }

    #[test]
    fn a_snapshot_whose_state_does_not_match_its_header_is_refused() {
        let frame = Frame::Snapshot {
            cell: CellId(1),
            last_slot: Slot(12),
            state: Arc::from(&b"the state"[..]),
        };
        let bytes = encode_frame(&frame).expect("encodes");
        let at = bytes
            .windows(9)
            .position(|w| w == b"the state")
            .expect("the state is in the frame");
        let mut damaged = bytes.clone();
        damaged[at] = b'T';
        match decode_frame(&damaged) {
            Err(FrameWireError::Snapshot { cell, .. }) => assert_eq!(cell, CellId(1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_version_is_refused_by_name() {
        let mut bytes = encode_frame(&Frame::Ping).expect("encodes");
        bytes[0] = FORMAT_VERSION + 1;
        let error = decode_frame(&bytes).expect_err("refused");
        assert!(error.to_string().contains("version"), "{error}");
    }
}
