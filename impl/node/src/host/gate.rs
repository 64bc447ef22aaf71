//! The open batch, and what waits for batches to be durable.
//!
//! Each held item is tagged with the batch it depends on: the open batch when it holds a write
//! (the item's own step wrote it, or an earlier step did and the batch is still open), else
//! the last batch that held any write. Tags never decrease, so the held items are a queue, and
//! a durable batch releases a prefix of it.

use super::{ClientReply, Event, Frame};
use crate::limits::BATCH_WRITES_MAX;
use crate::storage::Write;
use crate::CellId;
use colony_core::group::NodeId;
use colony_core::multipaxos::Slot;
use std::collections::VecDeque;
use std::sync::Arc;

/// What waits for a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Gated {
    /// A frame to send.
    Send(NodeId, Frame),
    /// A reply to a client.
    Reply(ClientReply),
    /// An event to report.
    Event(Event),
    /// A snapshot of a cell's state machine is durable: tell its replica, if it is the same
    /// activation (`generation`) that took it.
    Snapshotted {
        cell: CellId,
        last_slot: Slot,
        state: Arc<[u8]>,
        generation: u64,
    },
}

#[derive(Debug)]
pub(crate) struct Gate {
    /// The open batch's number.
    open: u64,
    /// Its writes.
    writes: Vec<Write>,
    /// Batches closed before the open one and not yet durable, oldest first.
    closed: VecDeque<(u64, Vec<Write>)>,
    /// The last batch that held a write (0: none).
    last_written: u64,
    /// The last batch made durable.
    durable: u64,
    held: VecDeque<(u64, Gated)>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            open: 1,
            writes: Vec::new(),
            closed: VecDeque::new(),
            last_written: 0,
            durable: 0,
            held: VecDeque::new(),
        }
    }
}

impl Gate {
    /// Adds a write to the open batch; a full batch is closed first.
    pub(crate) fn write(&mut self, write: Write) {
        if self.writes.len() >= BATCH_WRITES_MAX {
            let full = std::mem::take(&mut self.writes);
            self.closed.push_back((self.open, full));
            self.open += 1;
        }
        self.writes.push(write);
        self.last_written = self.open;
    }

    /// Holds `item` until what it depends on is durable, or gives it back when that is so
    /// already.
    pub(crate) fn hold(&mut self, item: Gated) -> Option<Gated> {
        let tag = self.last_written;
        if tag <= self.durable {
            return Some(item);
        }
        debug_assert!(self.held.back().is_none_or(|(t, _)| *t <= tag));
        self.held.push_back((tag, item));
        None
    }

    /// Every batch through `batch` is durable: what waited for them.
    pub(crate) fn durable(&mut self, batch: u64) -> Vec<Gated> {
        assert!(
            batch >= self.durable && batch < self.open,
            "batch {batch} made durable out of order (durable through {}, open {})",
            self.durable,
            self.open
        );
        self.durable = batch;
        let mut released = Vec::new();
        while self.held.front().is_some_and(|(tag, _)| *tag <= batch) {
            if let Some((_, item)) = self.held.pop_front() {
                released.push(item);
            }
        }
        released
    }

    /// The batches to hand out: those closed when full, and the open one if it holds a write.
    pub(crate) fn close_batches(&mut self) -> Vec<(u64, Vec<Write>)> {
        if !self.writes.is_empty() {
            let writes = std::mem::take(&mut self.writes);
            self.closed.push_back((self.open, writes));
            self.open += 1;
        }
        self.closed.drain(..).collect()
    }

    /// How many items wait.
    pub(crate) fn held_len(&self) -> usize {
        self.held.len()
    }
}
