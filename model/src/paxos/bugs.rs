//! Deliberately broken variants of the protocol. Each one breaks a different rule of the spec,
//! and the tests show that the checker catches each with a counterexample to the invariant it
//! targets: an invariant that no bug can violate would prove nothing.

use super::Invariant;

/// A protocol bug the model can be run with (`check --bug <name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
pub enum Bug {
    /// `Phase2a` sends `None` instead of a value when no promise reported a vote.
    ProposeNoneWhenFree,
    /// `Phase2a` ignores the votes reported in phase 1 and proposes any value.
    IgnoreReportedVotes,
    /// `Phase2a` may send a second, different proposal in a ballot that already has one.
    SecondProposalInBallot,
    /// `Phase2b` votes for a proposal whose ballot is below the acceptor's promise.
    VoteBelowPromise,
    /// `Phase2b` votes without raising the acceptor's promise to the vote's ballot.
    VoteWithoutPromise,
    /// `Phase2b` sends the vote but does not record it in the acceptor's variables.
    VoteNotRecorded,
    /// `Phase1b` promises without reporting the acceptor's latest vote.
    ForgetVoteInPromise,
}

impl Bug {
    /// Every bug, in declaration order.
    pub const ALL: [Bug; 7] = [
        Bug::ProposeNoneWhenFree,
        Bug::IgnoreReportedVotes,
        Bug::SecondProposalInBallot,
        Bug::VoteBelowPromise,
        Bug::VoteWithoutPromise,
        Bug::VoteNotRecorded,
        Bug::ForgetVoteInPromise,
    ];

    /// The invariant this bug is meant to violate (it may violate others too).
    pub fn target(self) -> Invariant {
        match self {
            Bug::ProposeNoneWhenFree => Invariant::TypeOK,
            Bug::IgnoreReportedVotes => Invariant::Agreement,
            Bug::SecondProposalInBallot => Invariant::OneValuePerBallot,
            Bug::VoteBelowPromise => Invariant::VotesSafe,
            Bug::VoteWithoutPromise => Invariant::PromiseAtLeastVote,
            Bug::VoteNotRecorded => Invariant::VoteRecorded,
            Bug::ForgetVoteInPromise => Invariant::PromiseReportsLatestVote,
        }
    }
}
