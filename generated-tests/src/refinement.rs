//! The refinement mapping from a cell of real nodes to a state of `tla/Paxos.tla`, and the check
//! that every step the real cell takes is a step of the spec.
//!
//! **The mapping.** Spec acceptor `a` is node `NodeId(a)`, at index `a - 1` of the cell; its
//! `maxBal`, `maxVBal` and `maxVal` come from that node's `hard_state()`. `msgs` is the set of
//! every message any node has sent so far. A message counts as sent when a step returns it in
//! `Ready::messages`, whatever the network then does with it: the spec's `msgs` never loses a
//! message, and a message the network (or a crash before sending) loses is one the spec's
//! receivers simply never act on. The copies of a broadcast are one spec message, as the spec's
//! messages carry no receiver. Real ballots, `(round, proposer)` pairs, map to spec ballots
//! `0..k-1` by their rank in a set of `k` ballots; real values map to `1..NumValues` by a table.
//!
//! Ranking is sound because the spec does nothing with a ballot but compare it (`>`, `>=`) and
//! range over the ballots below one (`SafeAt`): ranking is an order isomorphism onto `0..k-1`,
//! so every comparison gives the answer the real ballots give, and every spec ballot is the
//! image of a real one.
//!
//! **The step check.** The mapped states before and after one step of one node must be equal (a
//! stutter: a learner counting a vote, a proposer remembering a client's value, a restart from
//! the hard state) or related by exactly one spec action, found by enumerating the model's
//! enabled actions and comparing each one's `next_state` with the state after. The action must
//! also be one the stepping node may take: `Phase1b(a)` and `Phase2b(a)` only by node `a`, and
//! `Phase1a(b)` and `Phase2a(b, v)` only by the owner of the real ballot `b` maps from (the spec
//! leaves proposers implicit; the real core names the owner in every ballot).
//!
//! One real step is never two spec actions: every handler of the core does at most one of
//! promise, vote, start a ballot or propose, and sends at most one distinct message (a
//! broadcast's copies are one). Each delivery, including a node's delivery to itself, is a step
//! of its own, so the reply to a message is never folded into the step that sent it. The check
//! therefore allows one action or a stutter, nothing more.

use colony_core::group::{Ballot, NodeId};
use colony_core::paxos::{HardState, Message, Value};
use colony_model::paxos::{
    self as tla, Action, Constants, Invariant, Msg, PaxosModel, PaxosState, NONE, NO_BALLOT,
};
use colony_model::trace::SpecTrace;
use stateright::Model;
use std::collections::BTreeSet;
use std::fmt;

/// The most ballots a mapping may rank: the model's `MaxBallot` is at most 100.
pub const BALLOTS_MAX: usize = 101;
/// The most values a mapping's table may hold: the model's `NumValues` is at most 8.
pub const VALUES_MAX: usize = 8;
/// The most nodes a mapped cell may have: the model's `NumAcceptors` is at most 7.
pub const NODES_MAX: u8 = 7;

/// Why a real state has no image under a [`Mapping`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingError {
    /// A ballot outside the mapping's ranked set.
    UnknownBallot(Ballot),
    /// A value outside the mapping's table.
    UnknownValue(Value),
    /// An acceptor that is not a node of the cell.
    UnknownAcceptor(NodeId),
    /// A cell with another number of nodes than the mapping's.
    NodeCount {
        /// The mapping's node count.
        expected: u8,
        /// The cell's.
        found: usize,
    },
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingError::UnknownBallot(b) => write!(f, "ballot {b} is not among the mapped ones"),
            MappingError::UnknownValue(v) => write!(f, "value {v} is not in the value table"),
            MappingError::UnknownAcceptor(a) => write!(f, "acceptor {a} is not a node of the cell"),
            MappingError::NodeCount { expected, found } => {
                write!(
                    f,
                    "the mapping is for {expected} nodes, the cell has {found}"
                )
            }
        }
    }
}

/// Real ballots ranked: spec ballot `b` is the real ballot of rank `b` in a fixed set. Both specs
/// do nothing with a ballot but compare it and range over the ballots below one, so ranking maps
/// every comparison to the one the real ballots give (see the module's doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotRanks {
    /// Sorted and free of duplicates: spec ballot `b` is `ballots[b]`.
    ballots: Vec<Ballot>,
}

impl BallotRanks {
    /// Ranks `ballots`, at most [`BALLOTS_MAX`] of them (duplicates count once).
    pub fn new(ballots: impl IntoIterator<Item = Ballot>) -> BallotRanks {
        let ballots: Vec<Ballot> = ballots
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(
            ballots.len() <= BALLOTS_MAX,
            "MaxBallot is at most 100: {} ballots",
            ballots.len()
        );
        BallotRanks { ballots }
    }

    /// The spec's `MaxBallot`: the highest rank. With no ballot at all it is 0, as the spec's
    /// `Ballot` set is never empty.
    pub fn max_ballot(&self) -> i8 {
        self.ballots.len().saturating_sub(1) as i8
    }

    /// Spec ballot of real ballot `b`: its rank, or `None` for a ballot outside the set.
    pub fn rank(&self, b: Ballot) -> Option<i8> {
        self.ballots.binary_search(&b).ok().map(|rank| rank as i8)
    }

    /// The real ballot spec ballot `b` stands for, if any.
    pub fn real(&self, b: i8) -> Option<Ballot> {
        usize::try_from(b)
            .ok()
            .and_then(|rank| self.ballots.get(rank).copied())
    }

    /// True when the spec action of ballot `b` (`Phase1a(b)`, `Phase2a(b, ...)`) may be taken by
    /// `node`: the real core names the owner of every ballot, while the specs leave proposers
    /// implicit.
    pub fn owned_by(&self, b: i8, node: NodeId) -> bool {
        self.real(b).is_some_and(|real| real.proposer == node)
    }
}

/// The refinement mapping for one cell: its size, the ranked ballots and the value table.
#[derive(Clone, Debug)]
pub struct Mapping {
    nodes: u8,
    ballots: BallotRanks,
    /// Spec value `v` is `values[v - 1]`.
    values: Vec<Value>,
}

impl Mapping {
    /// The mapping for a cell of `nodes` (`NodeId(1)` to `NodeId(nodes)`), ranking `ballots`
    /// and numbering `values` from 1 in the order given.
    pub fn new(nodes: u8, ballots: impl IntoIterator<Item = Ballot>, values: Vec<Value>) -> Self {
        let ballots = BallotRanks::new(ballots);
        assert!(
            (1..=NODES_MAX).contains(&nodes),
            "NumAcceptors is 1..=7, not {nodes}"
        );
        assert!(
            (1..=VALUES_MAX).contains(&values.len()),
            "NumValues is 1..=8"
        );
        let distinct: BTreeSet<&Value> = values.iter().collect();
        assert_eq!(
            distinct.len(),
            values.len(),
            "the value table maps each value once"
        );
        Mapping {
            nodes,
            ballots,
            values,
        }
    }

    /// The spec's constants the mapped states live in. With no ballot at all `MaxBallot` is 0:
    /// the spec's `Ballot` set is never empty.
    pub fn constants(&self) -> Constants {
        Constants {
            num_acceptors: self.nodes,
            num_values: self.values.len() as u8,
            max_ballot: self.ballots.max_ballot(),
        }
    }

    /// Spec ballot of real ballot `b`: its rank.
    pub fn ballot(&self, b: Ballot) -> Result<tla::Ballot, MappingError> {
        self.ballots.rank(b).ok_or(MappingError::UnknownBallot(b))
    }

    /// The real ballot spec ballot `b` stands for, if any.
    pub fn real_ballot(&self, b: tla::Ballot) -> Option<Ballot> {
        self.ballots.real(b)
    }

    /// Spec value of real value `v`.
    pub fn value(&self, v: &Value) -> Result<tla::Value, MappingError> {
        let index = self.values.iter().position(|known| known == v);
        index
            .map(|i| i as tla::Value + 1)
            .ok_or_else(|| MappingError::UnknownValue(v.clone()))
    }

    fn acceptor(&self, a: NodeId) -> Result<tla::Acceptor, MappingError> {
        if (1..=self.nodes).contains(&a.0) {
            Ok(a.0)
        } else {
            Err(MappingError::UnknownAcceptor(a))
        }
    }

    /// The spec message real message `m` stands for.
    pub fn message(&self, m: &Message) -> Result<Msg, MappingError> {
        Ok(match m {
            Message::Prepare { ballot } => Msg::M1a {
                bal: self.ballot(*ballot)?,
            },
            Message::Promise {
                ballot,
                acceptor,
                vote,
            } => {
                let (mbal, mval) = match vote {
                    Some(vote) => (self.ballot(vote.ballot)?, self.value(&vote.value)?),
                    None => (NO_BALLOT, NONE),
                };
                let (acc, bal) = (self.acceptor(*acceptor)?, self.ballot(*ballot)?);
                Msg::M1b {
                    acc,
                    bal,
                    mbal,
                    mval,
                }
            }
            Message::Accept { ballot, value } => Msg::M2a {
                bal: self.ballot(*ballot)?,
                val: self.value(value)?,
            },
            Message::Accepted {
                ballot,
                acceptor,
                value,
            } => Msg::M2b {
                acc: self.acceptor(*acceptor)?,
                bal: self.ballot(*ballot)?,
                val: self.value(value)?,
            },
        })
    }

    /// The spec state of a cell whose nodes have `hard_states` (node `NodeId(i + 1)` at index
    /// `i`) and which has sent the messages `sent` so far.
    pub fn state<'m>(
        &self,
        hard_states: &[HardState],
        sent: impl IntoIterator<Item = &'m Message>,
    ) -> Result<PaxosState, MappingError> {
        if hard_states.len() != usize::from(self.nodes) {
            let found = hard_states.len();
            return Err(MappingError::NodeCount {
                expected: self.nodes,
                found,
            });
        }
        let mut state = PaxosState::init(usize::from(self.nodes));
        for (i, hard_state) in hard_states.iter().enumerate() {
            self.set_acceptor(&mut state, i, hard_state)?;
        }
        for m in sent {
            state.msgs.insert(self.message(m)?);
        }
        Ok(state)
    }

    /// Sets acceptor `i + 1`'s variables from `hard_state`.
    fn set_acceptor(
        &self,
        state: &mut PaxosState,
        i: usize,
        hard_state: &HardState,
    ) -> Result<(), MappingError> {
        if let Some(promised) = hard_state.promised {
            state.max_bal[i] = self.ballot(promised)?;
        }
        if let Some(vote) = &hard_state.vote {
            state.max_vbal[i] = self.ballot(vote.ballot)?;
            state.max_val[i] = self.value(&vote.value)?;
        }
        Ok(())
    }
}

/// Every ballot in `hard_states` and `messages`, including the ballots of reported votes: the
/// set to rank when the ballots are collected after a run.
pub fn ballots_in<'a>(
    hard_states: impl IntoIterator<Item = &'a HardState>,
    messages: impl IntoIterator<Item = &'a Message>,
) -> BTreeSet<Ballot> {
    let mut ballots = BTreeSet::new();
    for hard_state in hard_states {
        ballots.extend(hard_state.promised);
        ballots.extend(hard_state.vote.as_ref().map(|vote| vote.ballot));
    }
    for m in messages {
        match m {
            Message::Prepare { ballot } | Message::Accept { ballot, .. } => {
                ballots.insert(*ballot);
            }
            Message::Promise { ballot, vote, .. } => {
                ballots.insert(*ballot);
                ballots.extend(vote.as_ref().map(|vote| vote.ballot));
            }
            Message::Accepted { ballot, .. } => {
                ballots.insert(*ballot);
            }
        }
    }
    ballots
}

/// What one real step was in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecStep {
    /// Nothing the spec sees changed.
    Stutter,
    /// This spec action.
    Action(Action),
}

/// Why a run, a state or a step does not refine the spec; `E` says why a state has no image
/// (this module's [`MappingError`] for Paxos, its own for Multi-Paxos).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefinementError<E = MappingError> {
    /// A real state has no image under the mapping.
    Unmapped(E),
    /// The cell's first state is not the spec's `Init`.
    NotInit {
        /// The mapped first state, in spec notation.
        state: String,
    },
    /// No spec action the stepping node may take leads from the state before to the state after.
    NoSpecAction {
        /// The node that stepped (`None`: the network, which may only stutter).
        node: Option<NodeId>,
        /// What the step changed, in spec notation.
        changes: String,
        /// The spec actions that lead to the same state but belong to another node.
        by_other_nodes: Vec<String>,
        /// The mapped state before the step, in spec notation.
        before: String,
    },
    /// A mapped state violates an invariant of the spec.
    Invariant {
        /// The invariant's name in the spec.
        name: &'static str,
        /// The state, in spec notation.
        state: String,
    },
}

impl<E> From<E> for RefinementError<E> {
    fn from(error: E) -> Self {
        RefinementError::Unmapped(error)
    }
}

impl<E: fmt::Display> fmt::Display for RefinementError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefinementError::Unmapped(error) => write!(f, "unmapped state: {error}"),
            RefinementError::NotInit { state } => write!(f, "the first state is not Init: {state}"),
            RefinementError::NoSpecAction {
                node,
                changes,
                by_other_nodes,
                before,
            } => {
                let node = node.map_or("the network".to_string(), |n| format!("node {n}"));
                write!(
                    f,
                    "no spec action of {node} refines the step that changed: {changes}"
                )?;
                if !by_other_nodes.is_empty() {
                    write!(
                        f,
                        " (only {}, not {node}'s to take)",
                        by_other_nodes.join(", ")
                    )?;
                }
                write!(f, "; state before: {before}")
            }
            RefinementError::Invariant { name, state } => {
                write!(f, "invariant {name} is violated in {state}")
            }
        }
    }
}

/// The refinement check for one mapping: the mapping and the model of the spec's constants.
#[derive(Clone, Debug)]
pub struct Refinement {
    mapping: Mapping,
    model: PaxosModel,
}

impl Refinement {
    /// The check for `mapping`, against the spec without any bug, with every invariant.
    pub fn new(mapping: Mapping) -> Refinement {
        let model = PaxosModel::new(mapping.constants(), Invariant::ALL.to_vec(), None);
        Refinement { mapping, model }
    }

    /// The mapping.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The model of the spec.
    pub fn model(&self) -> &PaxosModel {
        &self.model
    }

    /// Checks that `state` is the spec's `Init`.
    pub fn check_init(&self, state: &PaxosState) -> Result<(), RefinementError> {
        if *state == PaxosState::init(usize::from(self.model.constants.num_acceptors)) {
            Ok(())
        } else {
            Err(RefinementError::NotInit {
                state: self.show(state),
            })
        }
    }

    /// Checks that the step of `node` (`None`: of the network alone) from `before` to `after`
    /// is a stutter or one spec action that node may take; returns which.
    pub fn check_step(
        &self,
        node: Option<NodeId>,
        before: &PaxosState,
        after: &PaxosState,
    ) -> Result<SpecStep, RefinementError> {
        if before == after {
            return Ok(SpecStep::Stutter);
        }
        let leading_there = self.actions_between(before, after);
        if let Some(&action) = leading_there.iter().find(|&&a| self.is_taken_by(node, a)) {
            return Ok(SpecStep::Action(action));
        }
        Err(RefinementError::NoSpecAction {
            node,
            changes: self.model.describe_changes(before, after).join("; "),
            by_other_nodes: leading_there.iter().map(Action::to_string).collect(),
            before: self.show(before),
        })
    }

    /// Every enabled spec action whose next state is `after`.
    fn actions_between(&self, before: &PaxosState, after: &PaxosState) -> Vec<Action> {
        let mut actions = Vec::new();
        self.model.actions(before, &mut actions);
        actions.retain(|&a| self.model.next_state(before, a).as_ref() == Some(after));
        actions
    }

    /// True when `node` may take spec action `action`: its own acceptor's actions, and the
    /// proposer's actions of the ballots it owns.
    fn is_taken_by(&self, node: Option<NodeId>, action: Action) -> bool {
        let Some(node) = node else {
            return false;
        };
        match action {
            Action::Phase1b { a, .. } | Action::Phase2b { a, .. } => a == node.0,
            Action::Phase1a { b } | Action::Phase2a { b, .. } => {
                self.mapping.ballots.owned_by(b, node)
            }
        }
    }

    /// Checks every invariant of the spec on `state`; fails with the first violated one.
    pub fn check_invariants(&self, state: &PaxosState) -> Result<(), RefinementError> {
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
    pub fn show(&self, state: &PaxosState) -> String {
        self.model.describe_state(state).join("; ")
    }
}

/// One step of a recorded run: what happened, and the cell afterwards.
#[derive(Clone, Debug)]
pub struct RecordedStep {
    /// What happened, for the failure report (`n2 <- 1a(b=1.1)`).
    pub what: String,
    /// The node that stepped; `None` when only the network acted (a loss).
    pub node: Option<NodeId>,
    /// Every node's hard state after the step, node `NodeId(i + 1)` at index `i`.
    pub hard_states: Vec<HardState>,
    /// The messages the step sent (each copy of a broadcast, or once: both map alike).
    pub sent: Vec<Message>,
}

/// A run of a real cell, recorded step by step, to be mapped and checked once it is over (when
/// every ballot it used is known).
#[derive(Clone, Debug)]
pub struct Recording {
    nodes: u8,
    steps: Vec<RecordedStep>,
}

/// What a checked run did in the spec: how often each spec action refined a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Steps that changed nothing the spec sees.
    pub stutters: usize,
    /// Steps refined by `Phase1a`, `Phase1b`, `Phase2a`, `Phase2b`, in that order.
    pub actions: [usize; 4],
    /// The values chosen (in spec terms) in the last state.
    pub chosen: Vec<tla::Value>,
    /// How many ballots the run used.
    pub ballots: usize,
}

/// The step at which a recorded run stopped refining the spec, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFailure {
    /// The step's number (1 for the first step after the initial state, 0 for the latter).
    pub step: usize,
    /// What happened in it.
    pub what: String,
    /// Why it is not a spec step.
    pub error: RefinementError,
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} ({}): {}", self.step, self.what, self.error)
    }
}

impl Recording {
    /// An empty recording of a cell of `nodes`, which starts from default hard states and no
    /// message sent.
    pub fn new(nodes: u8) -> Recording {
        Recording {
            nodes,
            steps: Vec::new(),
        }
    }

    /// Records one step.
    pub fn record(&mut self, step: RecordedStep) {
        assert_eq!(
            step.hard_states.len(),
            usize::from(self.nodes),
            "one hard state per node"
        );
        self.steps.push(step);
    }

    /// The steps recorded so far.
    pub fn steps(&self) -> &[RecordedStep] {
        &self.steps
    }

    /// Every ballot the run used.
    pub fn ballots(&self) -> BTreeSet<Ballot> {
        let hard_states = self.steps.iter().flat_map(|s| &s.hard_states);
        ballots_in(hard_states, self.steps.iter().flat_map(|s| &s.sent))
    }

    /// Maps the run with its ballots ranked and `values` numbered from 1, and checks that the
    /// first state is `Init`, every step a stutter or one spec action of the node that took it,
    /// and every state satisfies every invariant.
    pub fn check(&self, values: Vec<Value>) -> Result<RunSummary, RunFailure> {
        let ballots = self.ballots();
        let refinement = Refinement::new(Mapping::new(self.nodes, ballots.iter().copied(), values));
        let initial = vec![HardState::default(); usize::from(self.nodes)];
        let at_start = |error| RunFailure {
            step: 0,
            what: "start".to_string(),
            error,
        };
        let mut before = refinement
            .mapping
            .state(&initial, std::iter::empty())
            .map_err(|e| at_start(e.into()))?;
        refinement.check_init(&before).map_err(at_start)?;
        let mut summary = RunSummary {
            ballots: ballots.len(),
            ..RunSummary::default()
        };
        for (index, step) in self.steps.iter().enumerate() {
            let fail = |error| RunFailure {
                step: index + 1,
                what: step.what.clone(),
                error,
            };
            let after = next_mapped(&refinement, &before, step).map_err(fail)?;
            count(
                &mut summary,
                refinement
                    .check_step(step.node, &before, &after)
                    .map_err(fail)?,
            );
            refinement.check_invariants(&after).map_err(fail)?;
            before = after;
        }
        summary.chosen = tla::chosen(refinement.model(), &before);
        Ok(summary)
    }
}

/// The mapped state after `step`, given the mapped state before it: the step's hard states,
/// and the messages sent before plus the step's.
fn next_mapped(
    refinement: &Refinement,
    before: &PaxosState,
    step: &RecordedStep,
) -> Result<PaxosState, RefinementError> {
    let mut after = refinement.mapping.state(&step.hard_states, &step.sent)?;
    for m in before.msgs.iter() {
        after.msgs.insert(m);
    }
    Ok(after)
}

fn count(summary: &mut RunSummary, step: SpecStep) {
    match step {
        SpecStep::Stutter => summary.stutters += 1,
        SpecStep::Action(action) => {
            let index = match action {
                Action::Phase1a { .. } => 0,
                Action::Phase1b { .. } => 1,
                Action::Phase2a { .. } => 2,
                Action::Phase2b { .. } => 3,
            };
            summary.actions[index] += 1;
        }
    }
}

/// Ballot `round.proposer`: the tests of both mappings write their ballots with it.
#[cfg(test)]
pub(crate) fn ballot(round: u32, proposer: u8) -> Ballot {
    Ballot {
        round,
        proposer: NodeId(proposer),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.
mod tests {
    use super::ballot as b;
    use super::*;
    use colony_core::paxos::Vote;

    fn v(name: &str) -> Value {
        Value(name.as_bytes().to_vec())
    }

    fn mapping() -> Mapping {
        Mapping::new(3, [b(2, 1), b(1, 2), b(1, 1)], vec![v("x"), v("y")])
    }

    fn promised(ballot: Ballot) -> HardState {
        HardState {
            promised: Some(ballot),
            ..HardState::default()
        }
    }

    #[test]
    fn ballots_map_to_their_rank_and_values_to_their_place_in_the_table() {
        let mapping = mapping();
        assert_eq!(mapping.ballot(b(1, 1)), Ok(0));
        assert_eq!(mapping.ballot(b(1, 2)), Ok(1));
        assert_eq!(mapping.ballot(b(2, 1)), Ok(2));
        assert_eq!(
            mapping.ballot(b(3, 1)),
            Err(MappingError::UnknownBallot(b(3, 1)))
        );
        assert_eq!(mapping.value(&v("y")), Ok(2));
        assert_eq!(mapping.real_ballot(1), Some(b(1, 2)));
        assert_eq!(
            mapping.constants(),
            Constants {
                num_acceptors: 3,
                num_values: 2,
                max_ballot: 2
            }
        );
    }

    #[test]
    fn a_promise_maps_with_its_reported_vote() {
        let vote = Some(Vote {
            ballot: b(1, 1),
            value: v("x"),
        });
        let promise = Message::Promise {
            ballot: b(2, 1),
            acceptor: NodeId(3),
            vote,
        };
        let expected = Msg::M1b {
            acc: 3,
            bal: 2,
            mbal: 0,
            mval: 1,
        };
        assert_eq!(mapping().message(&promise), Ok(expected));
        let stranger = Message::Accepted {
            ballot: b(1, 1),
            acceptor: NodeId(4),
            value: v("x"),
        };
        assert_eq!(
            mapping().message(&stranger),
            Err(MappingError::UnknownAcceptor(NodeId(4)))
        );
    }

    /// Node 2 promises ballot 1.1 after node 1 started it.
    fn promise_step() -> (PaxosState, PaxosState) {
        let mapping = mapping();
        let prepare = Message::Prepare { ballot: b(1, 1) };
        let promise = Message::Promise {
            ballot: b(1, 1),
            acceptor: NodeId(2),
            vote: None,
        };
        let idle = vec![HardState::default(); 3];
        let before = mapping.state(&idle, [&prepare]).unwrap();
        let hard_states = [
            HardState::default(),
            promised(b(1, 1)),
            HardState::default(),
        ];
        let after = mapping.state(&hard_states, [&prepare, &promise]).unwrap();
        (before, after)
    }

    #[test]
    fn a_promise_is_phase1b_of_the_promising_node_only() {
        let refinement = Refinement::new(mapping());
        let (before, after) = promise_step();
        let step = refinement.check_step(Some(NodeId(2)), &before, &after);
        assert!(
            matches!(step, Ok(SpecStep::Action(Action::Phase1b { a: 2, .. }))),
            "{step:?}"
        );
        let by_node_3 = refinement.check_step(Some(NodeId(3)), &before, &after);
        assert!(
            matches!(by_node_3, Err(RefinementError::NoSpecAction { .. })),
            "{by_node_3:?}"
        );
        assert_eq!(
            refinement.check_step(None, &after, &after),
            Ok(SpecStep::Stutter)
        );
    }

    #[test]
    fn forgetting_a_promise_is_no_spec_step() {
        let refinement = Refinement::new(mapping());
        let (before, after) = promise_step();
        let error = refinement
            .check_step(Some(NodeId(2)), &after, &before)
            .unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("maxBal[a2]: 0 -> -1"), "{shown}");
    }

    #[test]
    fn two_proposals_in_one_ballot_violate_one_value_per_ballot() {
        let refinement = Refinement::new(mapping());
        let accept = |value| Message::Accept {
            ballot: b(1, 1),
            value,
        };
        let idle = vec![HardState::default(); 3];
        let state = mapping()
            .state(&idle, [&accept(v("x")), &accept(v("y"))])
            .unwrap();
        let error = refinement.check_invariants(&state).unwrap_err();
        assert!(matches!(
            error,
            RefinementError::Invariant {
                name: "OneValuePerBallot",
                ..
            }
        ));
    }

    #[test]
    fn a_recorded_run_counts_its_spec_actions() {
        let prepare = Message::Prepare { ballot: b(1, 1) };
        let mut recording = Recording::new(3);
        let idle = vec![HardState::default(); 3];
        let started = RecordedStep {
            what: "n1 starts 1.1".to_string(),
            node: Some(NodeId(1)),
            hard_states: idle.clone(),
            sent: vec![prepare.clone(), prepare],
        };
        recording.record(started);
        let lost = RecordedStep {
            what: "lost".to_string(),
            node: None,
            hard_states: idle,
            sent: vec![],
        };
        recording.record(lost);
        let summary = recording.check(vec![v("x")]).unwrap();
        assert_eq!(summary.actions, [1, 0, 0, 0]);
        assert_eq!((summary.stutters, summary.ballots), (1, 1));
    }
}
