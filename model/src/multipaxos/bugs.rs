//! Deliberately broken variants of Multi-Paxos, one per invariant: the tests show that the
//! checker catches each with a violation of the invariant it targets, so that no invariant is
//! one that nothing could violate.

use super::Invariant;

/// A protocol bug the model can be run with (`check --bug <name>` on a `MultiPaxos_*.cfg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Bug {
    /// `Phase2a` proposes `None` in a free slot instead of a command.
    ProposeNoneWhenFree,
    /// `Phase2a` ignores the votes reported in phase 1 and proposes any value.
    IgnoreReportedVotes,
    /// `Phase2a` may send a second, different proposal for a slot in a ballot.
    SecondProposalInSlot,
    /// `Phase2b` votes for a proposal whose ballot is below the acceptor's promise.
    VoteBelowPromise,
    /// `Apply` applies any value to the next slot, chosen or not.
    ApplyUnchosen,
    /// `CatchUp` copies the peer's last entry instead of the next one it misses.
    CatchUpWrongEntry,
}

impl Bug {
    /// Every bug, in declaration order.
    pub const ALL: [Bug; 6] = [
        Bug::ProposeNoneWhenFree,
        Bug::IgnoreReportedVotes,
        Bug::SecondProposalInSlot,
        Bug::VoteBelowPromise,
        Bug::ApplyUnchosen,
        Bug::CatchUpWrongEntry,
    ];

    /// The invariant this bug is meant to violate (it may violate others too).
    pub fn target(self) -> Invariant {
        match self {
            Bug::ProposeNoneWhenFree => Invariant::TypeOk,
            Bug::IgnoreReportedVotes => Invariant::Agreement,
            Bug::SecondProposalInSlot => Invariant::OneValuePerBallot,
            Bug::VoteBelowPromise => Invariant::VotesSafe,
            Bug::ApplyUnchosen => Invariant::AppliedChosen,
            Bug::CatchUpWrongEntry => Invariant::SameSequence,
        }
    }
}
