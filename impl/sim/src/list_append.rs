//! The list-append workload's transactions, shared by the simulator's clients and the
//! real-process fault tests: a key holds a list of numbers, encoded as bytes, and an append
//! writes the whole list under the condition that the key still holds what the client saw.

use crate::history::MicroOp;
use colony_core::cell::{Condition, Key, Operation, OperationResult, Transaction, Value};

/// The bytes key number `key` is stored under.
pub fn key(key: u64) -> Key {
    Key(key.to_le_bytes().to_vec())
}

/// A list as the bytes a key holds.
pub fn list_bytes(list: &[u32]) -> Vec<u8> {
    list.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The list bytes hold; `None` for bytes no client writes.
pub fn bytes_list(bytes: &[u8]) -> Option<Vec<u32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The list a read found (an absent key holds the empty list); `None` for anything else.
pub fn read_list(result: &OperationResult) -> Option<Vec<u32>> {
    match result {
        OperationResult::Read(None) => Some(Vec::new()),
        OperationResult::Read(Some(Value::Bytes(bytes))) => bytes_list(bytes),
        _ => None,
    }
}

/// Appends `value` to key `first`, which the client last saw holding `known`, and reads key
/// `second`.
pub fn append(first: u64, second: u64, value: u32, known: Vec<u32>) -> (Transaction, Vec<MicroOp>) {
    let condition = if known.is_empty() {
        Condition::Absent { key: key(first) }
    } else {
        Condition::Equals {
            key: key(first),
            value: Value::Bytes(list_bytes(&known)),
        }
    };
    let mut appended = known;
    appended.push(value);
    (
        Transaction {
            conditions: vec![condition],
            operations: vec![
                Operation::Write {
                    key: key(first),
                    value: Value::Bytes(list_bytes(&appended)),
                },
                Operation::Read { key: key(second) },
            ],
        },
        vec![
            MicroOp::Append { key: first, value },
            MicroOp::Read {
                key: second,
                list: None,
            },
        ],
    )
}

/// Reads keys `first` and `second`.
pub fn reads(first: u64, second: u64) -> (Transaction, Vec<MicroOp>) {
    (
        Transaction {
            conditions: vec![],
            operations: vec![
                Operation::Read { key: key(first) },
                Operation::Read { key: key(second) },
            ],
        },
        vec![
            MicroOp::Read {
                key: first,
                list: None,
            },
            MicroOp::Read {
                key: second,
                list: None,
            },
        ],
    )
}
