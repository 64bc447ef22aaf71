//! The refinement mapping from a cell of real Multi-Paxos replicas, with their runtimes, to a
//! state of `tla/MultiPaxos.tla`, and the check that every step the cell takes is a sequence of
//! spec steps of the node that took it.
//!
//! **The mapping.** In Colony every node is an acceptor and a replica; the spec counts them
//! apart, so node `NodeId(i)` is both acceptor `i` and replica `i` (`NumAcceptors` and
//! `NumReplicas` are the cell's size). Acceptor `i`'s `maxBal`, `votes` and `compacted` are the
//! node's `hard_state().promised`, `votes()` and `compacted()`. Replica `i`'s `applied` is what
//! its runtime applied to the state machine, slot 1 first (a snapshot installed from a peer sets
//! it to the peer's snapshot prefix), and its `snapshot` the last slot of the runtime's durable
//! snapshot. `msgs` holds every `Prepare`, `Promise`, `Accept` and `Accepted` any step returned,
//! whatever the network did with it, as in [`crate::refinement`]; heartbeats, catch-up requests
//! and replies and snapshot transfers carry no spec message. Real ballots map to spec ballots by
//! rank ([`BallotRanks`]), `Entry::NoOp` to `NoOp` and a batch of one client command to the
//! command's number in a table, slots to themselves within `1..NumSlots`.
//!
//! A `Promise` maps to a `1b` whose votes are those it reports, and `NoVote` in every other slot.
//! The spec's `1b` reports the acceptor's vote in every slot, the real one only from the
//! `Prepare`'s first slot on, so the two agree exactly when the acceptor holds no vote below that
//! slot; where it does, the mapped `1b` is not the one `Phase1b` sends and the step fails the
//! check, which is the safe way for the mapping to be wrong.
//!
//! **The step check.** One real step may be several spec actions: a vote that completes a
//! quorum in two slots applies both (`Apply` twice); the runtime, asked for a snapshot, takes it
//! (`Snapshot`) and tells the replica, which forgets its votes (`Compact`); a new leader proposes
//! in every slot its promises name (`Phase2a` per slot); a snapshot installed from a peer is
//! `InstallSnapshot`, or `Apply` per slot and `Snapshot` when the peer has taken a newer one
//! since (the spec reads the peer's current snapshot, the real transfer carries the one it had,
//! and every slot it covers is chosen). So the check searches, breadth first, for a sequence of
//! at most [`STEP_ACTIONS_MAX`] spec actions of the stepping node, each enabled in the state the
//! one before it leads to, from the mapped state before the step to the mapped state after it;
//! an empty sequence is a stutter. The node's actions are its acceptor's (`Phase1b`, `Phase2b`,
//! `Compact`), its replica's (`Apply`, `CatchUp`, `Snapshot`, `InstallSnapshot`) and those of
//! the ballots it owns (`Phase1a`, `Phase2a`). The search follows only actions that move the
//! state towards the one after (it sends only messages that are sent by then, raises no
//! variable past its value then, ...): a pruned action could only lead to a failure reported
//! wrongly, never to a step accepted wrongly, as any sequence found is a sequence of spec steps.

use crate::refinement::{BallotRanks, RefinementError, NODES_MAX};
use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{Command, Entry, Message, Slot, Vote};
use colony_model::multipaxos::{
    self as tla, Action, Constants, Invariant, Msg, MultiPaxosModel, MultiPaxosState, NO_BALLOT,
    NO_OP, NO_VOTE, SLOTS_MAX,
};
use colony_model::trace::SpecTrace;
use stateright::Model;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// The most spec actions one real step may be: two `Apply`, a `Snapshot`, a `Compact` and an
/// `InstallSnapshot` with room to spare, in the two-slot logs this check is made for.
pub const STEP_ACTIONS_MAX: usize = 8;

/// Why a real state has no image under a [`Mapping`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingError {
    /// A ballot outside the mapping's ranked set.
    UnknownBallot(Ballot),
    /// An entry that is neither `NoOp` nor a batch of one command of the table.
    UnknownEntry(Entry),
    /// A slot past the spec's `NumSlots`.
    SlotPastLog(Slot),
    /// An acceptor that is not a node of the cell.
    UnknownAcceptor(NodeId),
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingError::UnknownBallot(b) => write!(f, "ballot {b} is not among the mapped ones"),
            MappingError::UnknownEntry(e) => write!(f, "entry {e} is not in the command table"),
            MappingError::SlotPastLog(s) => write!(f, "{s} is past the spec's slots"),
            MappingError::UnknownAcceptor(a) => write!(f, "acceptor {a} is not a node of the cell"),
        }
    }
}

/// What the mapping reads of one node: its acceptor's variables and its replica's.
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    /// The promise (`maxBal`).
    pub promised: Option<Ballot>,
    /// The acceptor's votes (`votes`).
    pub votes: &'a BTreeMap<Slot, Vote>,
    /// The last slot whose vote the acceptor forgot (`compacted`).
    pub compacted: Slot,
    /// What the runtime applied, slot 1 first (`applied`).
    pub applied: &'a [Entry],
    /// The last slot of the runtime's durable snapshot (`snapshot`).
    pub snapshot: Slot,
}

/// The refinement mapping for one cell: its size, its slots, the ranked ballots and the command
/// table.
#[derive(Clone, Debug)]
pub struct Mapping {
    nodes: u8,
    slots: u8,
    ballots: BallotRanks,
    /// Spec command `c` is `commands[c - 1]`.
    commands: Vec<Command>,
}

impl Mapping {
    /// The mapping for a cell of `nodes` whose log uses slots `1..=slots`, ranking `ballots` and
    /// numbering `commands` from 1 in the order given.
    pub fn new(
        nodes: u8,
        slots: u8,
        ballots: impl IntoIterator<Item = Ballot>,
        commands: Vec<Command>,
    ) -> Mapping {
        assert!((1..=NODES_MAX).contains(&nodes), "1 to 7 nodes");
        assert!(
            (1..=SLOTS_MAX as u8).contains(&slots),
            "1 to {SLOTS_MAX} slots"
        );
        assert!(!commands.is_empty() && commands.len() <= 100, "NumCommands");
        Mapping {
            nodes,
            slots,
            ballots: BallotRanks::new(ballots),
            commands,
        }
    }

    /// The spec's constants: every slot may be snapshotted (`MaxCompaction = NumSlots`), as a
    /// runtime snapshots whenever its replica asks.
    pub fn constants(&self) -> Constants {
        Constants {
            num_acceptors: self.nodes,
            num_replicas: self.nodes,
            num_commands: self.commands.len() as u8,
            max_ballot: self.ballots.max_ballot(),
            num_slots: self.slots,
            max_compaction: self.slots,
        }
    }

    fn ballot(&self, b: Ballot) -> Result<tla::Ballot, MappingError> {
        self.ballots.rank(b).ok_or(MappingError::UnknownBallot(b))
    }

    /// Spec value of real entry `e`.
    pub fn value(&self, e: &Entry) -> Result<tla::Value, MappingError> {
        let command = match e {
            Entry::NoOp => return Ok(NO_OP),
            Entry::Batch(commands) if commands.len() == 1 => &commands[0],
            Entry::Batch(_) => return Err(MappingError::UnknownEntry(e.clone())),
        };
        let index = self.commands.iter().position(|known| known == command);
        index
            .map(|i| i as tla::Value + 1)
            .ok_or_else(|| MappingError::UnknownEntry(e.clone()))
    }

    fn slot(&self, s: Slot) -> Result<tla::Slot, MappingError> {
        if (1..=u64::from(self.slots)).contains(&s.0) {
            Ok(s.0 as tla::Slot)
        } else {
            Err(MappingError::SlotPastLog(s))
        }
    }

    /// A slot that may be 0 (`compacted`, `snapshot`).
    fn slot_or_0(&self, s: Slot) -> Result<tla::Slot, MappingError> {
        if s == Slot(0) {
            Ok(0)
        } else {
            self.slot(s)
        }
    }

    fn acceptor(&self, a: NodeId) -> Result<tla::Acceptor, MappingError> {
        if (1..=self.nodes).contains(&a.0) {
            Ok(a.0)
        } else {
            Err(MappingError::UnknownAcceptor(a))
        }
    }

    fn votes(&self, votes: &BTreeMap<Slot, Vote>) -> Result<tla::Votes, MappingError> {
        let mut mapped = [NO_VOTE; SLOTS_MAX];
        for (slot, vote) in votes {
            mapped[usize::from(self.slot(*slot)?) - 1] = tla::Vote {
                bal: self.ballot(vote.ballot)?,
                val: self.value(&vote.entry)?,
            };
        }
        Ok(mapped)
    }

    /// The spec message real message `m` stands for; `None` for the messages the spec leaves
    /// out (heartbeats and catch-up).
    pub fn message(&self, m: &Message) -> Result<Option<Msg>, MappingError> {
        Ok(Some(match m {
            Message::Prepare { ballot, .. } => Msg::M1a {
                bal: self.ballot(*ballot)?,
            },
            Message::Promise {
                ballot,
                acceptor,
                votes,
                compacted,
            } => Msg::M1b {
                acc: self.acceptor(*acceptor)?,
                bal: self.ballot(*ballot)?,
                votes: self.votes(votes)?,
                compacted: self.slot_or_0(*compacted)?,
            },
            Message::Accept {
                ballot,
                slot,
                entry,
            } => Msg::M2a {
                bal: self.ballot(*ballot)?,
                slot: self.slot(*slot)?,
                val: self.value(entry)?,
            },
            Message::Accepted {
                ballot,
                acceptor,
                slot,
                entry,
            } => Msg::M2b {
                acc: self.acceptor(*acceptor)?,
                bal: self.ballot(*ballot)?,
                slot: self.slot(*slot)?,
                val: self.value(entry)?,
            },
            Message::Heartbeat { .. }
            | Message::CatchUpRequest { .. }
            | Message::CatchUp { .. } => return Ok(None),
        }))
    }

    /// The spec state of a cell whose nodes are `nodes` (node `NodeId(i + 1)` at index `i`) and
    /// which has sent the messages `sent` so far.
    pub fn state<'m>(
        &self,
        nodes: &[NodeView<'_>],
        sent: impl IntoIterator<Item = &'m Message>,
    ) -> Result<MultiPaxosState, MappingError> {
        assert_eq!(nodes.len(), usize::from(self.nodes), "one view per node");
        let mut state = MultiPaxosState::init(self.nodes, self.nodes);
        for (i, node) in nodes.iter().enumerate() {
            state.max_bal[i] = match node.promised {
                Some(promised) => self.ballot(promised)?,
                None => NO_BALLOT,
            };
            state.votes[i] = self.votes(node.votes)?;
            state.compacted[i] = self.slot_or_0(node.compacted)?;
            let applied: Result<tla::Log, MappingError> =
                node.applied.iter().map(|e| self.value(e)).collect();
            state.applied[i] = applied?;
            state.snapshot[i] = self.slot_or_0(node.snapshot)?;
        }
        for m in sent {
            state.msgs.extend(self.message(m)?);
        }
        Ok(state)
    }
}

/// The refinement check for one mapping: the mapping and the model of the spec's constants.
#[derive(Clone, Debug)]
pub struct Refinement {
    mapping: Mapping,
    model: MultiPaxosModel,
}

impl Refinement {
    /// The check for `mapping`, against the spec without any bug, with every invariant.
    pub fn new(mapping: Mapping) -> Refinement {
        let model = MultiPaxosModel::new(mapping.constants(), Invariant::ALL.to_vec());
        Refinement { mapping, model }
    }

    /// The mapping.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The model of the spec.
    pub fn model(&self) -> &MultiPaxosModel {
        &self.model
    }

    /// Checks that `state` is the spec's `Init`.
    pub fn check_init(&self, state: &MultiPaxosState) -> Result<(), RefinementError<MappingError>> {
        let init = self.model.init_states();
        if init.contains(state) {
            Ok(())
        } else {
            Err(RefinementError::NotInit {
                state: self.show(state),
            })
        }
    }

    /// Checks that the step of `node` (`None`: of the network alone) from `before` to `after`
    /// is a sequence of at most [`STEP_ACTIONS_MAX`] spec actions that node may take, each
    /// enabled in turn; returns the shortest such sequence (empty: a stutter).
    pub fn check_step(
        &self,
        node: Option<NodeId>,
        before: &MultiPaxosState,
        after: &MultiPaxosState,
    ) -> Result<Vec<Action>, RefinementError<MappingError>> {
        if before == after {
            return Ok(Vec::new());
        }
        let found = node.and_then(|node| self.actions_between(node, before, after));
        found.ok_or_else(|| RefinementError::NoSpecAction {
            node,
            changes: self.model.describe_changes(before, after).join("; "),
            by_other_nodes: self.one_action_of_anyone(before, after),
            before: self.show(before),
        })
    }

    /// The shortest sequence of `node`'s actions from `before` to `after`, found breadth first
    /// among the states on the way to `after` (see the module's doc).
    fn actions_between(
        &self,
        node: NodeId,
        before: &MultiPaxosState,
        after: &MultiPaxosState,
    ) -> Option<Vec<Action>> {
        let mut frontier: Vec<(MultiPaxosState, Vec<Action>)> = vec![(before.clone(), Vec::new())];
        let mut seen: HashSet<MultiPaxosState> = HashSet::from([before.clone()]);
        let mut enabled = Vec::new();
        for _ in 0..STEP_ACTIONS_MAX {
            let mut next_frontier = Vec::new();
            for (state, path) in &frontier {
                self.model.actions(state, &mut enabled);
                for action in enabled.drain(..) {
                    if !self.is_taken_by(node, action) {
                        continue;
                    }
                    let Some(next) = self.model.next_state(state, action) else {
                        continue;
                    };
                    if !on_the_way(before, &next, after) || !seen.insert(next.clone()) {
                        continue;
                    }
                    let mut path = path.clone();
                    path.push(action);
                    if next == *after {
                        return Some(path);
                    }
                    next_frontier.push((next, path));
                }
            }
            if next_frontier.is_empty() {
                return None;
            }
            frontier = next_frontier;
        }
        None
    }

    /// The single spec actions, of any node, that lead from `before` to `after`: said in a
    /// failure, when the step was another node's to take.
    fn one_action_of_anyone(
        &self,
        before: &MultiPaxosState,
        after: &MultiPaxosState,
    ) -> Vec<String> {
        let mut actions = Vec::new();
        self.model.actions(before, &mut actions);
        actions.retain(|&a| self.model.next_state(before, a).as_ref() == Some(after));
        actions.iter().map(Action::to_string).collect()
    }

    /// True when `node` may take spec action `action`: its acceptor's, its replica's, and the
    /// leader's actions of the ballots it owns.
    fn is_taken_by(&self, node: NodeId, action: Action) -> bool {
        match action {
            Action::Phase1a { b } | Action::Phase2a { b, .. } => {
                self.mapping.ballots.owned_by(b, node)
            }
            Action::Phase1b { a, .. } | Action::Phase2b { a, .. } | Action::Compact { a, .. } => {
                a == node.0
            }
            Action::Apply { r, .. }
            | Action::CatchUp { r, .. }
            | Action::Snapshot { r }
            | Action::InstallSnapshot { r, .. } => r == node.0,
        }
    }

    /// Checks every invariant of the spec on `state`; fails with the first violated one.
    pub fn check_invariants(
        &self,
        state: &MultiPaxosState,
    ) -> Result<(), RefinementError<MappingError>> {
        let violated = Invariant::ALL
            .into_iter()
            .find(|i| !(i.condition())(&self.model, state));
        match violated {
            None => Ok(()),
            Some(invariant) => Err(RefinementError::Invariant {
                name: invariant.name(),
                state: self.show(state),
            }),
        }
    }

    /// `state` in spec notation, on one line.
    pub fn show(&self, state: &MultiPaxosState) -> String {
        self.model.describe_state(state).join("; ")
    }
}

/// Whether `state`, reached from `before` by some of a step's actions, may still lead to
/// `after` by more of them: every variable is where it was before or on its way to where it is
/// after, as far as one step's actions move it (messages are only added, ballots, compaction
/// points and snapshots only rise, a log only grows, and a vote changes at most once in a step,
/// unless the step also compacts it away).
fn on_the_way(before: &MultiPaxosState, state: &MultiPaxosState, after: &MultiPaxosState) -> bool {
    let is_prefix = |a: &[tla::Value], b: &[tla::Value]| a.len() <= b.len() && b[..a.len()] == *a;
    state.msgs.is_subset(&after.msgs)
        && (state.max_bal.iter().zip(&after.max_bal)).all(|(s, a)| s <= a)
        && (state.compacted.iter().zip(&after.compacted)).all(|(s, a)| s <= a)
        && (state.snapshot.iter().zip(&after.snapshot)).all(|(s, a)| s <= a)
        && (state.applied.iter().zip(&after.applied)).all(|(s, a)| is_prefix(s, a))
        && (0..state.votes.len()).all(|a| {
            (0..SLOTS_MAX).all(|k| {
                let vote = state.votes[a][k];
                // A vote cast in the step may be forgotten in the same step, when the node
                // learns its slot is chosen, snapshots it and compacts.
                let forgotten = after.votes[a][k] == NO_VOTE && after.compacted[a] as usize > k;
                vote == before.votes[a][k] || vote == after.votes[a][k] || forgotten
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.
mod tests {
    use super::*;
    use crate::refinement::ballot as b;

    fn c(name: &str) -> Command {
        Command(name.as_bytes().to_vec())
    }

    fn mapping() -> Mapping {
        Mapping::new(3, 2, [b(1, 2), b(1, 1)], vec![c("x"), c("y")])
    }

    #[test]
    fn entries_map_to_values_and_slots_past_the_log_to_nothing() {
        let mapping = mapping();
        assert_eq!(mapping.value(&Entry::NoOp), Ok(NO_OP));
        assert_eq!(mapping.value(&Entry::batch(vec![c("y")])), Ok(2));
        let two = Entry::batch(vec![c("x"), c("y")]);
        assert_eq!(
            mapping.value(&two),
            Err(MappingError::UnknownEntry(two.clone()))
        );
        let accept = Message::Accept {
            ballot: b(1, 2),
            slot: Slot(3),
            entry: Entry::NoOp,
        };
        assert_eq!(
            mapping.message(&accept),
            Err(MappingError::SlotPastLog(Slot(3)))
        );
        let heartbeat = Message::Heartbeat {
            ballot: b(1, 2),
            decided_through: Slot(1),
        };
        assert_eq!(mapping.message(&heartbeat), Ok(None));
    }

    fn view<'a>(
        votes: &'a BTreeMap<Slot, Vote>,
        applied: &'a [Entry],
        snapshot: u64,
    ) -> NodeView<'a> {
        NodeView {
            promised: Some(b(1, 1)),
            votes,
            compacted: Slot(snapshot),
            applied,
            snapshot: Slot(snapshot),
        }
    }

    /// Node 1 learns that `x` was chosen in slot 1, applies it, snapshots and compacts, in one
    /// step: three spec actions, found in order.
    #[test]
    fn a_decision_snapshotted_at_once_is_apply_snapshot_compact() {
        let refinement = Refinement::new(mapping());
        let x = Entry::batch(vec![c("x")]);
        let vote = Vote {
            ballot: b(1, 1),
            entry: x.clone(),
        };
        let voted: BTreeMap<Slot, Vote> = [(Slot(1), vote)].into();
        let none = BTreeMap::new();
        let accepted = |a| Message::Accepted {
            ballot: b(1, 1),
            acceptor: NodeId(a),
            slot: Slot(1),
            entry: x.clone(),
        };
        let sent = [accepted(1), accepted(2)];
        let idle = view(&voted, &[], 0);
        let before = (refinement.mapping())
            .state(&[idle, idle, view(&none, &[], 0)], &sent)
            .unwrap();
        let applied = [x.clone()];
        let done = view(&none, &applied, 1);
        let after = (refinement.mapping())
            .state(&[done, idle, view(&none, &[], 0)], &sent)
            .unwrap();
        let actions = refinement
            .check_step(Some(NodeId(1)), &before, &after)
            .unwrap();
        let names: Vec<&str> = actions.iter().map(Action::name).collect();
        assert_eq!(names, ["Apply", "Snapshot", "Compact"]);
        let by_node_2 = refinement.check_step(Some(NodeId(2)), &before, &after);
        assert!(matches!(
            by_node_2,
            Err(RefinementError::NoSpecAction { .. })
        ));
    }

    #[test]
    fn forgetting_a_vote_is_no_spec_step() {
        let refinement = Refinement::new(mapping());
        let vote = Vote {
            ballot: b(1, 1),
            entry: Entry::NoOp,
        };
        let voted: BTreeMap<Slot, Vote> = [(Slot(2), vote)].into();
        let none = BTreeMap::new();
        let accepted = Message::Accepted {
            ballot: b(1, 1),
            acceptor: NodeId(1),
            slot: Slot(2),
            entry: Entry::NoOp,
        };
        let with_vote = view(&voted, &[], 0);
        let without = view(&none, &[], 0);
        let before = (refinement.mapping())
            .state(&[with_vote, without, without], [&accepted])
            .unwrap();
        let after = (refinement.mapping())
            .state(&[without, without, without], [&accepted])
            .unwrap();
        let error = refinement
            .check_step(Some(NodeId(1)), &before, &after)
            .unwrap_err();
        assert!(error.to_string().contains("votes[a1][s2]"), "{error}");
    }
}
