//! Deliberately broken variants of Multi-Paxos, at least one per invariant: the tests show that
//! the checker catches each with a violation of the invariant it targets, so that no invariant is
//! one that nothing could violate.
//!
//! The compaction bugs are also written in TLA+, in `tla/MultiPaxosBugs.tla`, each as an operator
//! that replaces one of `MultiPaxos.tla`; a `.cfg` that says `CompactTo <- CompactPastSnapshot`
//! makes TLC check the broken protocol, and makes the model check it too
//! ([`Bug::from_override`]), so that TLC and the model are shown to catch the same bug.

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
    /// `Compact` forgets one slot past the snapshot it compacts to: a vote in a slot that may
    /// not be chosen yet, and that no snapshot holds.
    ForgetUnchosen,
    /// `Phase2a` takes no notice of how far its quorum compacted and proposes in a compacted
    /// slot as if nobody had voted there.
    ProposeInCompacted,
    /// `InstallSnapshot` installs a snapshot under the slot after the snapshot's, so the
    /// replica resumes one slot too late and that slot's command never takes effect.
    WrongSnapshotSlot,
}

impl Bug {
    /// Every bug, in declaration order.
    pub const ALL: [Bug; 9] = [
        Bug::ProposeNoneWhenFree,
        Bug::IgnoreReportedVotes,
        Bug::SecondProposalInSlot,
        Bug::VoteBelowPromise,
        Bug::ApplyUnchosen,
        Bug::CatchUpWrongEntry,
        Bug::ForgetUnchosen,
        Bug::ProposeInCompacted,
        Bug::WrongSnapshotSlot,
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
            Bug::ForgetUnchosen => Invariant::NoChosenValueLost,
            Bug::ProposeInCompacted => Invariant::Agreement,
            Bug::WrongSnapshotSlot => Invariant::AppliedChosen,
        }
    }

    /// The operator of `MultiPaxos.tla` this bug replaces and its broken version in
    /// `MultiPaxosBugs.tla`, for the bugs written in TLA+ too.
    pub fn tla_override(self) -> Option<(&'static str, &'static str)> {
        match self {
            Bug::ForgetUnchosen => Some(("CompactTo", "CompactPastSnapshot")),
            Bug::ProposeInCompacted => Some(("CompactedIn", "IgnoreCompacted")),
            Bug::WrongSnapshotSlot => Some(("SnapshotLog", "SnapshotLogOneSlotLate")),
            _ => None,
        }
    }

    /// The bug a `.cfg`'s `name <- replacement` line puts into the protocol, if the model knows
    /// it.
    pub fn from_override(name: &str, replacement: &str) -> Option<Bug> {
        Bug::ALL
            .into_iter()
            .find(|bug| bug.tla_override() == Some((name, replacement)))
    }

    /// Why this bug cannot show in a configuration with these constants, if it cannot: a leader
    /// can only ignore a compaction that happens, and a replica catching up or installing a
    /// snapshot needs a peer. (`ForgetUnchosen` shows even with `MaxCompaction = 0`: it forgets
    /// slot 1 with no snapshot at all.)
    pub fn cannot_show(self, constants: &super::Constants) -> Option<&'static str> {
        let compaction = constants.max_compaction > 0;
        let peers = constants.num_replicas > 1;
        match self {
            Bug::ProposeInCompacted if !compaction => {
                Some("it needs compaction (MaxCompaction > 0)")
            }
            Bug::WrongSnapshotSlot if !(compaction && peers) => {
                Some("it needs compaction (MaxCompaction > 0) and two replicas (NumReplicas > 1)")
            }
            Bug::CatchUpWrongEntry if !peers => Some("it needs two replicas (NumReplicas > 1)"),
            _ => None,
        }
    }
}
