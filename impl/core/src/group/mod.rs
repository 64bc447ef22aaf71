//! The vocabulary of a Paxos group, shared by both protocol cores: its members ([`NodeId`],
//! [`check_members`], [`MEMBERS_MAX`]), its quorums ([`quorum_size`]), its ballots ([`Ballot`])
//! and the envelope that addresses a message to one member ([`Envelope`]).
//!
//! Every cell is one Paxos group: single-decree Paxos ([`crate::paxos`]) and Multi-Paxos
//! ([`crate::multipaxos`]) run on the same members, count the same quorums and order the same
//! ballots, whatever they decide. So these types belong to neither protocol, and the runtime
//! (which addresses, frames and routes messages of any cell) depends on this module, not on a
//! protocol's, for them. The module is named for the group rather than for the cell because
//! [`crate::cell`] is the cell's state machine, which knows nothing of members or ballots.

mod ballot;
mod members;

pub use ballot::{Ballot, NodeId};
pub use members::{check_members, quorum_size, MembersError, MEMBERS_MAX};

/// A message and the member it is for: `M` is a protocol's message type
/// ([`crate::paxos::Message`] or [`crate::multipaxos::Message`]), and each protocol names its
/// own envelope (`paxos::Envelope`, `multipaxos::Envelope`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Envelope<M> {
    /// The receiver (possibly the sender itself: every member is also an acceptor and learner).
    pub to: NodeId,
    /// The message.
    pub message: M,
}
