//! Failure detection between nodes: one ping per node pair, whatever the number of cells they
//! share, and when each peer was last heard from.

use super::Event;
use colony_core::group::NodeId;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(crate) struct Peers {
    /// Each peer: the tick it was last heard from, and whether it is reported down.
    peers: BTreeMap<NodeId, (u64, bool)>,
}

impl Peers {
    /// A node this one shares a cell with (itself excepted).
    pub(crate) fn add(&mut self, peer: NodeId, me: NodeId, tick: u64) {
        if peer != me {
            self.peers.entry(peer).or_insert((tick, false));
        }
    }

    /// Every peer, to ping.
    pub(crate) fn all(&self) -> Vec<NodeId> {
        self.peers.keys().copied().collect()
    }

    /// A frame came from `peer`: it is alive.
    pub(crate) fn heard(&mut self, peer: NodeId, tick: u64) -> Option<Event> {
        let (last, down) = self.peers.get_mut(&peer)?;
        *last = tick;
        std::mem::take(down).then_some(Event::PeerUp(peer))
    }

    /// The peers silent for more than `timeout_ticks`, reported once each.
    pub(crate) fn check(&mut self, tick: u64, timeout_ticks: u32) -> Vec<Event> {
        let mut events = Vec::new();
        for (peer, (last, down)) in &mut self.peers {
            if !*down && tick.saturating_sub(*last) > u64::from(timeout_ticks) {
                *down = true;
                events.push(Event::PeerDown(*peer));
            }
        }
        events
    }
}
