//! The handshake: the first frame each way on every connection.
//!
//! The connecting side sends a [`Hello`]: the bytes `COLONY`, the protocol version as two bytes,
//! then its [`Role`] in the core's encoding. The magic and the version come first and keep their
//! place in every version, so that a node can always tell a stranger from another version of
//! itself and say which. The accepting side answers with a [`Welcome`]: accepted, naming itself,
//! or refused, with the reason.

use colony_core::codec::{self, CodecError};
use colony_core::group::NodeId;
use serde::{Deserialize, Serialize};

/// The protocol version: the handshake, the framing, and the encodings of peer frames and of
/// the client protocol. It increases with any change to any of them.
pub const PROTOCOL_VERSION: u16 = 1;

/// The first bytes of every connection.
pub const MAGIC: &[u8; 6] = b"COLONY";

/// The encoding version of the role and the welcome (inside a protocol version).
const FORMAT_VERSION: u8 = 1;

/// Who connects, and for what.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Another node, sending its frames on one of its two channels.
    Peer {
        /// The sending node.
        node: NodeId,
        /// Which channel.
        channel: Channel,
    },
    /// A client.
    Client,
}

/// The two connections from one node to another, so that bulk transfers never delay votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// Protocol messages: promises, proposals, votes, heartbeats, pings.
    Votes,
    /// Snapshots for a member that fell behind.
    Bulk,
}

/// The accepting side's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Welcome {
    /// Accepted by this node.
    Accepted {
        /// The node that accepted.
        node: NodeId,
    },
    /// Refused: the connection closes after this.
    Refused(String),
}

/// Why a handshake frame is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// The connection does not speak Colony's protocol at all.
    #[error("not a Colony connection (it did not begin with {MAGIC:?})")]
    NotColony,
    /// Another version of the protocol.
    #[error("protocol version {theirs} is not this build's version {PROTOCOL_VERSION}: run the same version of Colony on every node and client")]
    Version {
        /// The version the other side speaks.
        theirs: u16,
    },
    /// The rest of the frame is malformed.
    #[error("malformed handshake: {0}")]
    Malformed(#[from] CodecError),
}

/// The bytes of a hello for `role`.
pub fn encode_hello(role: Role) -> Vec<u8> {
    encode_with_header(&role)
}

/// The role a hello names, once its magic and version are this build's.
pub fn decode_hello(bytes: &[u8]) -> Result<Role, HelloError> {
    decode_with_header(bytes)
}

/// The bytes of a welcome.
pub fn encode_welcome(welcome: &Welcome) -> Vec<u8> {
    encode_with_header(welcome)
}

/// The welcome `bytes` encode, once their magic and version are this build's.
pub fn decode_welcome(bytes: &[u8]) -> Result<Welcome, HelloError> {
    decode_with_header(bytes)
}

fn encode_with_header<T: Serialize>(item: &T) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    // A role and a welcome have no bounds to check and always encode.
    let body =
        codec::encode(FORMAT_VERSION, item, |_| Ok::<(), CodecError>(())).unwrap_or_default();
    bytes.extend_from_slice(&body);
    bytes
}

fn decode_with_header<T: Serialize + serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> Result<T, HelloError> {
    let Some(rest) = bytes.strip_prefix(&MAGIC[..]) else {
        return Err(HelloError::NotColony);
    };
    let Some((version, body)) = rest.split_first_chunk::<2>() else {
        return Err(HelloError::NotColony);
    };
    let theirs = u16::from_be_bytes(*version);
    if theirs != PROTOCOL_VERSION {
        return Err(HelloError::Version { theirs });
    }
    Ok(codec::decode(FORMAT_VERSION, body, |_| {
        Ok::<(), CodecError>(())
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hellos_and_welcomes_round_trip() {
        for role in [
            Role::Client,
            Role::Peer {
                node: NodeId(3),
                channel: Channel::Bulk,
            },
        ] {
            assert_eq!(decode_hello(&encode_hello(role)), Ok(role));
        }
        let welcome = Welcome::Refused("no".into());
        assert_eq!(decode_welcome(&encode_welcome(&welcome)), Ok(welcome));
    }

    #[test]
    fn another_version_is_named_and_a_stranger_is_told_apart() {
        let mut bytes = encode_hello(Role::Client);
        bytes[MAGIC.len() + 1] += 1;
        let error = decode_hello(&bytes).expect_err("refused");
        assert_eq!(
            error,
            HelloError::Version {
                theirs: PROTOCOL_VERSION + 1
            }
        );
        assert!(error.to_string().contains("same version"), "{error}");
        assert_eq!(
            decode_hello(b"GET / HTTP/1.1\r\n"),
            Err(HelloError::NotColony)
        );
        assert_eq!(decode_hello(b"COLONY"), Err(HelloError::NotColony));
    }

    #[test]
    fn every_prefix_is_refused() {
        let bytes = encode_hello(Role::Peer {
            node: NodeId(1),
            channel: Channel::Votes,
        });
        for cut in 0..bytes.len() {
            assert!(decode_hello(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
