//! The client protocol: what a client asks a node and what the node answers, one request and
//! one response at a time on a connection.
//!
//! Both travel in the core's strict encoding (`colony_core::codec`) under this module's
//! [`FORMAT_VERSION`]; decoding refuses anything else, naming what was wrong, and a request's
//! transaction is checked against the cell's bounds before the node takes it, so a malformed or
//! oversized request is answered with an error and changes nothing.

use colony_core::cell::{CellId, Reply, Request, TransactionError};
use colony_core::codec::{self, CodecError};
use colony_core::group::NodeId;
use colony_core::multipaxos::Slot;
use serde::{Deserialize, Serialize};

/// The version of the client protocol's encoding; it increases with any change to it.
pub const FORMAT_VERSION: u8 = 1;

/// The cell that holds the directory: which cells exist, by name, and where they live.
pub const DIRECTORY_CELL: CellId = CellId(0);

/// The longest cell name, in bytes.
pub const CELL_NAME_BYTES_MAX: usize = 128;

/// Why a request or response cannot be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiWireError {
    /// The bytes are not an item of this version.
    #[error("not a client protocol message: {0}")]
    Codec(#[from] CodecError),
    /// The request's transaction is past a bound of the cell.
    #[error("malformed transaction: {0}")]
    Transaction(#[from] TransactionError),
    /// A cell name is empty, too long or not printable.
    #[error("bad cell name: {0}")]
    Name(String),
    /// A directory record's members are not 1 to `MEMBERS_MAX` distinct nodes.
    #[error("bad members: {0}")]
    Members(String),
}

/// What a client asks a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiRequest {
    /// Apply a transaction in a cell, under the client's session.
    Transact {
        /// The cell.
        cell: CellId,
        /// The request: client, sequence number, transaction.
        request: Request,
    },
    /// Make this node a member of a cell (the placing client asks every member in turn).
    CreateCell {
        /// The cell.
        cell: CellId,
        /// Its members, this node among them.
        members: Vec<NodeId>,
    },
    /// Where the cell of this name lives, as this node's copy of the directory says.
    Locate {
        /// The cell's name.
        name: String,
    },
    /// This node's identity, its peers and its counts.
    NodeStatus,
    /// The directory's records by name, from after `after` on, at most `limit` of them, from
    /// this node's copy of the directory.
    ListDirectory {
        /// Start after this name.
        after: Option<String>,
        /// The most records in the answer.
        limit: u32,
    },
    /// How this node sees a cell.
    CellStatus {
        /// The cell.
        cell: CellId,
    },
}

/// A node's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiResponse {
    /// The answer to [`ApiRequest::Transact`].
    Transact(TransactOutcome),
    /// The answer to [`ApiRequest::CreateCell`]: the cell exists here and that is durable.
    Created,
    /// The answer to [`ApiRequest::Locate`].
    Located(Location),
    /// The answer to [`ApiRequest::NodeStatus`].
    NodeStatus(NodeStatus),
    /// The answer to [`ApiRequest::ListDirectory`].
    Directory(Vec<CellRecord>),
    /// The answer to [`ApiRequest::CellStatus`]: `None` if this node does not host the cell.
    CellStatus(Option<CellStatus>),
    /// The request was refused and changed nothing: the text says why.
    Error(String),
}

/// What became of a transaction sent to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactOutcome {
    /// The cell answered (it applied the request, or had, and this is the remembered reply).
    Reply(Reply),
    /// This node does not lead the cell: try `leader`, or another member if `None`.
    NotLeader {
        /// The leader, as far as this node knows.
        leader: Option<NodeId>,
    },
    /// This node is not a member of the cell; `members` are its members as far as this node
    /// knows (`None` if it does not know the cell at all).
    NotHosted {
        /// The cell's members.
        members: Option<Vec<NodeId>>,
    },
    /// Not taken; it may be sent again (busy, or the cell refuses to serve here).
    Refused(String),
    /// Taken, but this node will not learn its fate: retry under the same sequence number.
    Unknown(String),
}

/// A cell's entry in the directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CellRecord {
    /// Its name.
    pub name: String,
    /// Its id.
    pub cell: CellId,
    /// Its members.
    pub members: Vec<NodeId>,
}

/// Where a cell lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    /// This node's copy of the directory names the cell; it may be a little behind the
    /// directory's leader, which is harmless: a node that is not a member says so.
    Found(CellRecord),
    /// This node's copy of the directory has no cell of that name.
    NotFound,
    /// This node keeps no copy of the directory: ask one of these.
    AskDirectory(Vec<NodeId>),
}

/// A node's identity, peers and counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// The node.
    pub node: NodeId,
    /// Every node of the cluster, this one too, with the address it serves on.
    pub nodes: Vec<(NodeId, String)>,
    /// The peers this node hears from now.
    pub peers_up: Vec<NodeId>,
    /// The version of Colony the node runs.
    pub version: String,
    /// Cells the node hosts.
    pub cells: u64,
    /// Of which active.
    pub active: u64,
    /// Of which corrupt.
    pub corrupt: u64,
    /// Batches made durable since the node started.
    pub batches: u64,
    /// Milliseconds since the node started.
    pub uptime_ms: u64,
}

/// One cell as a node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellStatus {
    /// The cell.
    pub cell: CellId,
    /// Its members.
    pub members: Vec<NodeId>,
    /// The last slot applied on this node.
    pub applied: Slot,
    /// Whether its replica is in memory here.
    pub active: bool,
    /// Why it refuses to serve here, if it does.
    pub corrupt: Option<String>,
}

/// Checks a cell name: 1 to [`CELL_NAME_BYTES_MAX`] bytes of letters, digits, `-`, `_`, `.`.
pub fn check_cell_name(name: &str) -> Result<(), ApiWireError> {
    if name.is_empty() || name.len() > CELL_NAME_BYTES_MAX {
        return Err(ApiWireError::Name(format!(
            "{:?} has {} bytes; a name has 1 to {CELL_NAME_BYTES_MAX}",
            name,
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(ApiWireError::Name(format!(
            "{name:?} holds {c:?}; a name holds letters, digits, '-', '_' and '.'"
        )));
    }
    Ok(())
}

fn check_request(request: &ApiRequest) -> Result<(), ApiWireError> {
    match request {
        ApiRequest::Transact { request, .. } => Ok(request.transaction.validate()?),
        ApiRequest::Locate { name } => check_cell_name(name),
        ApiRequest::CreateCell { .. }
        | ApiRequest::NodeStatus
        | ApiRequest::ListDirectory { .. }
        | ApiRequest::CellStatus { .. } => Ok(()),
    }
}

/// The bytes of `request`, once it passes the checks a node applies.
pub fn encode_request(request: &ApiRequest) -> Result<Vec<u8>, ApiWireError> {
    codec::encode(FORMAT_VERSION, request, check_request)
}

/// The request `bytes` encode, once it passes its checks.
pub fn decode_request(bytes: &[u8]) -> Result<ApiRequest, ApiWireError> {
    codec::decode(FORMAT_VERSION, bytes, check_request)
}

/// The bytes of `response`.
pub fn encode_response(response: &ApiResponse) -> Result<Vec<u8>, ApiWireError> {
    codec::encode(FORMAT_VERSION, response, |_| Ok::<(), ApiWireError>(()))
}

/// The response `bytes` encode.
pub fn decode_response(bytes: &[u8]) -> Result<ApiResponse, ApiWireError> {
    codec::decode(FORMAT_VERSION, bytes, |_| Ok::<(), ApiWireError>(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use colony_core::cell::{ClientId, Key, Operation, Transaction, Value};

    fn put(value_bytes: usize) -> ApiRequest {
        ApiRequest::Transact {
            cell: CellId(9),
            request: Request {
                client: ClientId(5),
                sequence: 1,
                transaction: Transaction {
                    conditions: vec![],
                    operations: vec![Operation::Write {
                        key: Key(b"alice".to_vec()),
                        value: Value::Bytes(vec![7; value_bytes]),
                    }],
                },
            },
        }
    }

    #[test]
    fn requests_and_responses_round_trip() {
        for request in [
            put(100),
            ApiRequest::NodeStatus,
            ApiRequest::Locate {
                name: "accounts".into(),
            },
        ] {
            let bytes = encode_request(&request).expect("encodes");
            assert_eq!(decode_request(&bytes), Ok(request));
        }
        let response = ApiResponse::Transact(TransactOutcome::NotLeader {
            leader: Some(NodeId(2)),
        });
        let bytes = encode_response(&response).expect("encodes");
        assert_eq!(decode_response(&bytes), Ok(response));
    }

    #[test]
    fn an_oversized_value_is_refused_by_name_on_both_sides() {
        let request = put(colony_core::cell::VALUE_BYTES_MAX + 1);
        let error = encode_request(&request).expect_err("refused");
        assert!(error.to_string().contains("VALUE_BYTES_MAX"), "{error}");
        // A client that skips the check is refused by the node's decoder.
        let bytes = codec::encode(FORMAT_VERSION, &request, |_| Ok::<(), ApiWireError>(()))
            .expect("encodes unchecked");
        let error = decode_request(&bytes).expect_err("refused");
        assert!(error.to_string().contains("VALUE_BYTES_MAX"), "{error}");
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        for (name, words) in [
            ("", "1 to 128"),
            ("a b", "' '"),
            (&"x".repeat(129)[..], "129 bytes"),
        ] {
            let error = check_cell_name(name).expect_err("refused");
            assert!(error.to_string().contains(words), "{name:?}: {error}");
        }
        assert_eq!(check_cell_name("accounts-eu.1"), Ok(()));
    }

    #[test]
    fn every_prefix_is_refused_and_no_flipped_byte_panics() {
        let bytes = encode_request(&put(10)).expect("encodes");
        for cut in 0..bytes.len() {
            assert!(decode_request(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x21;
            let _ = decode_request(&damaged);
        }
    }
}
