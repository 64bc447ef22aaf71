//! A cell's durable state as recovery rebuilds it: the writes of the log folded, in order, onto
//! what the last checkpoint kept. Every storage folds with this one function, so that they all
//! agree on what a sequence of writes leaves.

use super::{Corruption, Recovered, Write};
use crate::CellId;
use colony_core::group::NodeId;
use colony_core::multipaxos::{Durable, Entry, HardState, Slot, Vote};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One cell's durable state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellImage {
    /// The members the cell was created with (empty until its creation is folded in).
    pub members: Vec<NodeId>,
    /// The latest hard state.
    pub hard_state: HardState,
    /// The latest vote per slot, above the snapshot.
    pub votes: BTreeMap<Slot, Vote>,
    /// The decided entries above the snapshot, by slot.
    pub decided: BTreeMap<Slot, Entry>,
    /// The last slot the latest snapshot covers (`Slot(0)`: none).
    pub snapshot_slot: Slot,
    /// The latest snapshot's encoded state machine. The file store keeps it apart from the rest
    /// of the record, so it is not part of the record's encoding.
    #[serde(skip)]
    pub snapshot_state: Option<Arc<[u8]>>,
}

impl CellImage {
    /// Folds one write of this cell in.
    pub(crate) fn apply(&mut self, write: Write) {
        match write {
            Write::Cell { members, .. } => self.members = members,
            Write::HardState { hard_state, .. } => self.hard_state = hard_state,
            Write::Vote { slot, vote, .. } => {
                if slot > self.snapshot_slot {
                    self.votes.insert(slot, vote);
                }
            }
            Write::Decided { slot, entry, .. } => {
                if slot > self.snapshot_slot {
                    self.decided.insert(slot, entry);
                }
            }
            Write::Snapshot {
                last_slot, state, ..
            } => self.install_snapshot(last_slot, Some(state)),
        }
    }

    /// Takes a snapshot through `last_slot` (its state when known), and drops what it covers.
    /// An older snapshot than the one held changes nothing.
    pub(crate) fn install_snapshot(&mut self, last_slot: Slot, state: Option<Arc<[u8]>>) {
        if last_slot < self.snapshot_slot {
            return;
        }
        self.snapshot_slot = last_slot;
        if state.is_some() {
            self.snapshot_state = state;
        }
        self.votes = self.votes.split_off(&last_slot.next());
        self.decided = self.decided.split_off(&last_slot.next());
    }

    /// What the cell's replica restarts from: the decided log is the entries from the slot
    /// after the snapshot on, as far as they run without a gap.
    pub fn durable(&self) -> Durable {
        let mut decided = Vec::new();
        let mut next = self.snapshot_slot.next();
        while let Some(entry) = self.decided.get(&next) {
            decided.push(entry.clone());
            next = next.next();
        }
        Durable {
            hard_state: self.hard_state.clone(),
            votes: self.votes.clone(),
            snapshot_slot: self.snapshot_slot,
            decided,
        }
    }
}

/// Folds `writes`, in order, onto `recovered`'s cells. A cell that is corrupt stays so and its
/// writes are ignored; `damaged` cells become corrupt.
pub(crate) fn fold(
    recovered: &mut Recovered,
    writes: impl IntoIterator<Item = Write>,
    damaged: impl IntoIterator<Item = Corruption>,
) {
    for corruption in damaged {
        recovered.cells.remove(&corruption.cell());
        recovered
            .corrupt
            .entry(corruption.cell())
            .or_insert(corruption);
    }
    for write in writes {
        let cell = write.cell();
        if recovered.corrupt.contains_key(&cell) {
            continue;
        }
        recovered.cells.entry(cell).or_default().apply(write);
    }
}

/// Reports every cell whose creation recovery never saw as an orphan: its records cannot be
/// used without its members.
pub(crate) fn report_orphans(recovered: &mut Recovered) {
    let orphans: Vec<CellId> = recovered
        .cells
        .iter()
        .filter(|(_, image)| image.members.is_empty())
        .map(|(cell, _)| *cell)
        .collect();
    for cell in orphans {
        recovered.cells.remove(&cell);
        recovered.corrupt.insert(cell, Corruption::Orphan { cell });
    }
}
