//! The simulated network of the random runs: the messages in flight, any of which may be
//! delivered next, delivered and kept for a second delivery, or lost.

use colony_core::group::{Envelope, NodeId};

/// Messages sent and not yet delivered or lost, each with its sender. Indices given to its
/// methods are taken modulo the number in flight, so that any index picks a message.
#[derive(Clone, Debug)]
pub struct Network<M> {
    in_flight: Vec<(NodeId, Envelope<M>)>,
}

impl<M: Clone> Default for Network<M> {
    fn default() -> Self {
        Network {
            in_flight: Vec::new(),
        }
    }
}

impl<M: Clone> Network<M> {
    /// Sends every envelope from `from`.
    pub fn send(&mut self, from: NodeId, envelopes: impl IntoIterator<Item = Envelope<M>>) {
        self.in_flight
            .extend(envelopes.into_iter().map(|envelope| (from, envelope)));
    }

    /// How many messages are in flight.
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// True when no message is in flight.
    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Takes the message at `index` for delivery, leaving a copy in flight when `keep_copy`
    /// (the network duplicates it); `None` when nothing is in flight.
    pub fn take(&mut self, index: usize, keep_copy: bool) -> Option<(NodeId, Envelope<M>)> {
        if self.in_flight.is_empty() {
            return None;
        }
        let index = index % self.in_flight.len();
        if keep_copy {
            return Some(self.in_flight[index].clone());
        }
        Some(self.in_flight.remove(index))
    }

    /// Loses every message in flight to `to`: for a moment, the network is partitioned around it.
    pub fn drop_to(&mut self, to: NodeId) {
        self.in_flight.retain(|(_, envelope)| envelope.to != to);
    }
}
