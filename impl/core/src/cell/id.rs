//! The name of a cell.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A cell's id, unique across the whole system. Every record a node keeps and every message it
/// routes names the cell it belongs to by this id.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct CellId(pub u64);

impl CellId {
    /// The id no cell may have: a node's write-ahead log marks its own records (the end of a
    /// batch) with it, so that they can never be mistaken for a cell's.
    pub const RESERVED: CellId = CellId(u64::MAX);
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cell {}", self.0)
    }
}
