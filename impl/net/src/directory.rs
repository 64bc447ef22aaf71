//! The directory: which cells exist, by name, and where they live. It is a cell of its own
//! ([`DIRECTORY_CELL`]) on the first nodes of the cluster, read and written with ordinary
//! transactions, so it is as durable and consistent as any cell.
//!
//! Each cell takes two keys: `name/<name>` holds its [`CellRecord`] and `id/<id>` its name, so
//! that creating a cell is one transaction that requires both keys to be absent and a name and
//! an id are each given once. Nodes answer where a cell lives from their own copy of the
//! directory, which may lag a little behind its leader; that is harmless, as in Physalia's
//! discovery cache, because the cell's members themselves are authoritative: a node that is not
//! a member of a cell says so.

use crate::api::{ApiWireError, CellRecord, DIRECTORY_CELL};
use colony_core::cell::{CellId, Condition, Key, Operation, StateMachine, Transaction, Value};
use colony_core::codec;
use colony_core::group::NodeId;

/// The most members the directory cell has: the first nodes of the cluster by id.
pub const DIRECTORY_MEMBERS_MAX: usize = 3;

/// The encoding version of a directory record.
const FORMAT_VERSION: u8 = 1;

/// The directory cell's members in a cluster of `nodes`: the first three by id, or all of them
/// in a smaller cluster.
pub fn directory_members(nodes: impl IntoIterator<Item = NodeId>) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = nodes.into_iter().collect();
    nodes.sort();
    nodes.dedup();
    nodes.truncate(DIRECTORY_MEMBERS_MAX);
    nodes
}

/// The id a cell of this name is given: a 64-bit FNV-1a hash of the name, moved off the two
/// ids no user cell may have (the directory's and the log's reserved one). Two names with the
/// same id cannot both be created: the second creation's condition on `id/<id>` fails, naming
/// the first.
pub fn cell_id_of(name: &str) -> CellId {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if hash == DIRECTORY_CELL.0 || hash == CellId::RESERVED.0 {
        hash = 1;
    }
    CellId(hash)
}

/// The key holding the record of the cell called `name`.
pub fn name_key(name: &str) -> Key {
    Key(format!("name/{name}").into_bytes())
}

/// The key holding the name of the cell `cell`.
pub fn id_key(cell: CellId) -> Key {
    Key(format!("id/{}", cell.0).into_bytes())
}

/// The bytes a record is kept as.
pub fn encode_record(record: &CellRecord) -> Result<Vec<u8>, ApiWireError> {
    codec::encode(FORMAT_VERSION, record, |_| Ok::<(), ApiWireError>(()))
}

/// The record `bytes` hold.
pub fn decode_record(bytes: &[u8]) -> Result<CellRecord, ApiWireError> {
    codec::decode(FORMAT_VERSION, bytes, |r: &CellRecord| {
        crate::api::check_cell_name(&r.name)?;
        check_members(&r.members)
    })
}

/// A record's members: 1 to `MEMBERS_MAX` distinct nodes.
fn check_members(members: &[NodeId]) -> Result<(), ApiWireError> {
    let max = colony_core::group::MEMBERS_MAX;
    let distinct = members
        .iter()
        .enumerate()
        .all(|(i, m)| !members[..i].contains(m));
    if members.is_empty() || members.len() > max || !distinct {
        return Err(ApiWireError::Members(format!(
            "a record's members must be 1 to {max} distinct nodes, not {members:?}"
        )));
    }
    Ok(())
}

/// The transaction that enters `record` in the directory, if neither its name nor its id is
/// there yet.
pub fn create_transaction(record: &CellRecord) -> Result<Transaction, ApiWireError> {
    check_members(&record.members)?;
    let name = name_key(&record.name);
    let id = id_key(record.cell);
    Ok(Transaction {
        conditions: vec![
            Condition::Absent { key: name.clone() },
            Condition::Absent { key: id.clone() },
        ],
        operations: vec![
            Operation::Write {
                key: name,
                value: Value::Bytes(encode_record(record)?),
            },
            Operation::Write {
                key: id,
                value: Value::Bytes(record.name.clone().into_bytes()),
            },
        ],
    })
}

/// The record of the cell called `name` in a copy of the directory's state.
pub fn lookup_name(directory: &StateMachine, name: &str) -> Option<CellRecord> {
    match directory.get(&name_key(name))? {
        Value::Bytes(bytes) => decode_record(bytes).ok(),
        _ => None,
    }
}

/// The record of the cell `cell` in a copy of the directory's state.
pub fn lookup_id(directory: &StateMachine, cell: CellId) -> Option<CellRecord> {
    match directory.get(&id_key(cell))? {
        Value::Bytes(name) => lookup_name(directory, std::str::from_utf8(name).ok()?),
        _ => None,
    }
}

/// Every record in a copy of the directory's state, by name, from after `after` on, at most
/// `limit`.
pub fn records(directory: &StateMachine, after: Option<&str>, limit: usize) -> Vec<CellRecord> {
    directory
        .iter()
        .filter_map(|(key, value)| {
            let name = key.0.strip_prefix(b"name/")?;
            let name = std::str::from_utf8(name).ok()?;
            if after.is_some_and(|after| name <= after) {
                return None;
            }
            match value {
                Value::Bytes(bytes) => decode_record(bytes).ok(),
                _ => None,
            }
        })
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> CellRecord {
        CellRecord {
            name: name.into(),
            cell: cell_id_of(name),
            members: vec![NodeId(1), NodeId(2), NodeId(3)],
        }
    }

    #[test]
    fn a_created_record_is_found_by_name_and_by_id_and_listed_in_name_order() {
        let mut directory = StateMachine::new();
        for name in ["b", "a", "c"] {
            let txn = create_transaction(&record(name)).expect("builds");
            directory.apply(&txn).expect("applies");
        }
        assert_eq!(lookup_name(&directory, "a"), Some(record("a")));
        assert_eq!(lookup_id(&directory, cell_id_of("c")), Some(record("c")));
        assert_eq!(lookup_name(&directory, "d"), None);
        let names: Vec<String> = records(&directory, Some("a"), 10)
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["b", "c"]);
    }

    #[test]
    fn a_name_or_an_id_is_given_once() {
        let mut directory = StateMachine::new();
        directory
            .apply(&create_transaction(&record("a")).expect("builds"))
            .expect("applies");
        assert!(directory
            .apply(&create_transaction(&record("a")).expect("builds"))
            .is_err());
        let mut same_id = record("b");
        same_id.cell = cell_id_of("a");
        assert!(directory
            .apply(&create_transaction(&same_id).expect("builds"))
            .is_err());
    }

    #[test]
    fn a_record_needs_one_to_seven_distinct_members() {
        for members in [
            vec![],
            vec![NodeId(1), NodeId(1)],
            (1..=8).map(NodeId).collect(),
        ] {
            let mut bad = record("a");
            bad.members = members;
            let error = create_transaction(&bad).expect_err("refused");
            assert!(error.to_string().starts_with("bad members"), "{error}");
        }
    }

    #[test]
    fn the_directory_lives_on_the_first_three_nodes() {
        let nodes = [NodeId(5), NodeId(2), NodeId(9), NodeId(1)];
        assert_eq!(directory_members(nodes), [NodeId(1), NodeId(2), NodeId(5)]);
        assert_eq!(directory_members([NodeId(4)]), [NodeId(4)]);
        assert_ne!(cell_id_of("accounts"), DIRECTORY_CELL);
    }
}
