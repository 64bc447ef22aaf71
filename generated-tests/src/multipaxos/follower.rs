//! The replay harness for Multi-Paxos follower cases: acceptor `a1` of a cell hearing leaders.

use super::spec::{
    compacted_after_restart, envelopes, from_leader, hard_state, votes, MpMsg, SpecLocal,
    CELL_SIZES,
};
pub use super::spec::{m1a, m1b, m1bc, m2a, m2b};
use crate::spec::proposer_of;
use crate::walk::{self, ensure_eq, walk, Receiver, Scenario, TableWalker};
use colony_core::group::NodeId;
use colony_core::multipaxos::{
    Config, Durable, Entry, Input, Ready, Replica, Slot, SnapshotTransfer, Vote,
};

/// The spec's outcome of one delivery: the acceptor's new variables and the message it sends,
/// or `None` when the spec's action is not enabled and the replica must do nothing.
pub type Outcome = Option<(SpecLocal, MpMsg)>;

/// One row of the acceptor's transition table: from these variables, this message gives this
/// outcome.
pub type Transition = walk::Transition<Follower>;

/// Walks every combination of the messages in `scenario` through replica 1 of cells of 3, 5
/// and 7, restarted from spec variables `prior`, and checks each step against `transitions`,
/// the spec's outcome of every message from every state the acceptor passes through.
pub fn check_all(
    scenario: &Scenario<'_, MpMsg>,
    prior: SpecLocal,
    transitions: &[Transition],
    combinations: u64,
) {
    check_all_compacted(scenario, 0, prior, transitions, combinations);
}

/// As [`check_all`], for an acceptor that compacted through slot `compacted` (the spec's
/// `compacted[a1]`): the replica restarts having decided and voted in the slots up to there and
/// takes a snapshot of them ([`compacted_after_restart`]), and `prior`'s votes there are
/// `NoVote`.
pub fn check_all_compacted(
    scenario: &Scenario<'_, MpMsg>,
    compacted: u8,
    prior: SpecLocal,
    transitions: &[Transition],
    combinations: u64,
) {
    for n in CELL_SIZES {
        let start = TableWalker {
            node: Follower::restart(n, prior, compacted),
            messages: scenario.messages,
            transitions,
        };
        walk(scenario, start, combinations);
    }
}

/// Replica 1 of a cell of `n`, and the spec variables its durable state stands for.
#[derive(Clone)]
pub struct Follower {
    n: u8,
    replica: Replica,
    local: SpecLocal,
    compacted: u8,
}

impl Follower {
    fn restart(n: u8, prior: SpecLocal, compacted: u8) -> Follower {
        let members = (1..=n).map(NodeId).collect();
        let durable = Durable {
            hard_state: hard_state(prior, n),
            votes: votes(prior.1, n),
            ..Durable::default()
        };
        let decided = vec![Entry::NoOp; usize::from(compacted)];
        let replica = compacted_after_restart(Config::new(NodeId(1), members), durable, decided);
        Follower {
            n,
            replica,
            local: prior,
            compacted,
        }
    }

    /// What the replica may do where the spec does nothing with `deliver`: nothing, or, for a
    /// proposal in a slot it compacted, send its snapshot to the leader that lags behind it
    /// (no spec variable changes: a stutter).
    fn check_stutter(&self, deliver: MpMsg, ready: Ready) -> Result<(), String> {
        if let MpMsg::M2a { bal, slot, .. } = deliver {
            if slot <= self.compacted && !ready.snapshots.is_empty() {
                let transfer = SnapshotTransfer {
                    to: proposer_of(bal, self.n),
                    last_slot: Slot(u64::from(self.compacted)),
                };
                let only_snapshot = Ready {
                    snapshots: vec![transfer],
                    ..Ready::default()
                };
                return ensure_eq(
                    ready,
                    only_snapshot,
                    format_args!("a stale {deliver:?}: at most the snapshot, to its leader"),
                );
            }
        }
        ensure_eq(
            ready,
            Ready::default(),
            format_args!("the spec does nothing with {deliver:?}"),
        )
    }
}

impl Receiver for Follower {
    type Local = SpecLocal;
    type Msg = MpMsg;
    type Sent = MpMsg;

    fn local(&self) -> SpecLocal {
        self.local
    }

    /// Delivers `deliver` and checks that the replica persists and sends exactly what `outcome`
    /// says, and decides and abandons nothing.
    fn receive(&mut self, deliver: MpMsg, outcome: Outcome) -> Result<(), String> {
        let (from, message) = from_leader(deliver, self.n);
        let ready = self.replica.step(Input::Message { from, message });
        let Some((local, sent)) = outcome else {
            return self.check_stutter(deliver, ready);
        };
        let before = hard_state(self.local, self.n);
        let after = hard_state(local, self.n);
        let persist = (after != before).then_some(after);
        ensure_eq(
            ready.hard_state,
            persist,
            format_args!("the hard state {deliver:?} makes the replica persist"),
        )?;
        ensure_eq(
            ready.votes,
            cast_vote(sent, self.n),
            format_args!("the votes {deliver:?} makes the replica persist"),
        )?;
        ensure_eq(
            ready.messages,
            envelopes(sent, self.n),
            format_args!("what {deliver:?} makes the replica send"),
        )?;
        ensure_eq(ready.decided, vec![], "an acceptor step decides nothing")?;
        ensure_eq(ready.abandoned, vec![], "a follower abandons nothing")?;
        self.local = local;
        Ok(())
    }
}

/// The votes a step must persist: the vote its `2b` casts (a repeated vote too: it is sent
/// again, so it must be durable again), none for a `1b`.
fn cast_vote(sent: MpMsg, n: u8) -> Vec<(Slot, Vote)> {
    match sent {
        MpMsg::M2b { bal, slot, val, .. } => {
            let mut spec = [(-1, -1); super::spec::SLOTS];
            spec[usize::from(slot) - 1] = (bal, val);
            votes(spec, n).into_iter().collect()
        }
        _ => Vec::new(),
    }
}
