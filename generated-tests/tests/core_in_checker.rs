//! The real core inside the model checker: a cell of three real `Node`s runs as Stateright
//! actors over a network that duplicates, reorders and loses messages, and breadth-first search
//! visits every state the cell can reach. In each, the cell is mapped to a state of
//! `tla/Paxos.tla` (see `colony_generated_tests::refinement`), the spec's invariants must hold
//! there, and the step that led to it must be a stutter or one spec action of the node that took
//! it.
//!
//! Two cells are searched. In one, nodes 1 and 2 are asked to propose different values when they
//! start, so two ballots compete (`1.1` and `1.2`), and a vote of one may be carried into the
//! other. In the other, node 1 alone proposes and may retry once in a higher ballot (one timer,
//! fired at any moment), so it competes with itself (`1.1` and `2.1`). Both at once, two
//! proposers and a retry, is nearly four million states: it passes, but takes minutes. The
//! ballots of each cell are fixed up front. An actor's state is its `Node`, and the actor sends
//! what a step returns only after the step: persist-before-send, as the state the messages rest
//! on is in place before any of them leaves.
//!
//! **The network.** Stateright's unordered duplicating network keeps every message it was given,
//! so any message may be delivered any number of times, in any order, or never. "Never" is every
//! loss a network can inflict on a cell whose properties look only at the nodes and at what they
//! sent; Stateright's explicit loss actions (`LossyNetwork::Yes`) add states that differ only in
//! which messages could still arrive, and there are exponentially many of them (182 states of a
//! cell with one proposer become 288,648; with two proposers the search passed 7 GB before it
//! finished). The two searches above therefore leave the explicit losses out, and
//! `explicit_losses_reach_no_other_node_state` runs the same check with them on the cell with
//! one proposer, and shows that they reach exactly the nodes and messages sent that the
//! lossless network reaches. The network also always loses the votes (`2b`) addressed to nodes
//! 1 and 2: their learners feed nothing back into the protocol here (a learned value only stops
//! later proposals and retries, and node 1, the only one to retry, may as well not have heard
//! the votes), and tracking three learners' vote counts multiplies the states by more than 17.
//! Node 3 learns, and a property checks that it does.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::group::{Ballot, NodeId};
use colony_core::paxos::{Config, HardState, Input, Message, Node, Ready, Value};
use colony_generated_tests::checker::{
    self, actor_id, node_id, record_sent, CellAction, CellModel, Checked, CheckedState, Harness,
    Sent, INVARIANTS,
};
use colony_generated_tests::refinement::{Mapping, Refinement, RefinementError};
use colony_model::paxos::{Invariant, PaxosState};
use stateright::actor::{
    model_timeout, Actor, ActorModel, ActorModelAction, Id, LossyNetwork, Network, Out,
};
use stateright::{Checker, Expectation, Model, Property};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::Instant;

/// The cell's size.
const NODES: u8 = 3;
/// The one node whose learner hears the votes.
const LEARNER: NodeId = NodeId(3);
/// The name of the property that every step so far refined the spec.
const REFINES: &str = "every step refines Paxos.tla";
/// The name of the property that shows the search is not vacuous.
const LEARNED: &str = "a value is learned";

/// The value node `proposer` is asked to propose: node 1 proposes `v1`, node 2 `v2`.
fn proposal(proposer: u8) -> Value {
    Value(format!("v{proposer}").into_bytes())
}

/// How a node behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// The real core, as it is.
    Correct,
    /// A broken node: before every step it restarts from an empty hard state, forgetting its
    /// promises and votes (what a node that never persisted anything would do after crashes).
    ForgetsHardState,
}

/// What one search explores.
#[derive(Clone, Copy)]
struct Scenario {
    behaviour: Behaviour,
    /// Nodes 1 to `proposers` propose at start, node `i` value `vi`.
    proposers: u8,
    /// Whether node 1 may retry once in a higher ballot.
    retry: bool,
    /// Whether the network also loses messages by Stateright's explicit loss actions.
    lossy: LossyNetwork,
}

impl Scenario {
    /// Two proposers, no retry.
    fn two_proposers(behaviour: Behaviour) -> Scenario {
        Scenario {
            behaviour,
            proposers: 2,
            retry: false,
            lossy: LossyNetwork::No,
        }
    }

    /// One proposer, which may retry once.
    fn one_proposer_retrying() -> Scenario {
        Scenario {
            behaviour: Behaviour::Correct,
            proposers: 1,
            retry: true,
            lossy: LossyNetwork::No,
        }
    }

    /// The ballots the cell can use, fixed before the search: each proposer starts its first
    /// ballot in round 1 (the first above the 0 every node starts from), and node 1's retry
    /// goes to round 2 (above its own round 1 and every round it can have seen).
    fn ballots(&self) -> Vec<Ballot> {
        let first = (1..=self.proposers).map(|p| Ballot {
            round: 1,
            proposer: NodeId(p),
        });
        let retry = self.retry.then_some(Ballot {
            round: 2,
            proposer: NodeId(1),
        });
        first.chain(retry).collect()
    }
}

/// A node as an actor's state: the real node, compared and hashed whole (its configuration,
/// the acceptor's, proposer's and learner's variables, its tick count).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeState {
    node: Node,
}

impl NodeState {
    fn new(node: Node) -> NodeState {
        NodeState { node }
    }
}

/// One node of the cell as an actor.
#[derive(Clone)]
struct CellNode {
    config: Config,
    proposal: Option<Value>,
    retries: bool,
    behaviour: Behaviour,
}

/// Sends what a step returned, except the votes to nodes other than the [`LEARNER`], which the
/// network loses (see the module's doc). The actor's state is already the node after the step,
/// so what the messages rest on is in place before they leave.
fn send(ready: Ready, o: &mut Out<CellNode>) {
    for envelope in ready.messages {
        let vote = matches!(envelope.message, Message::Accepted { .. });
        if !vote || envelope.to == LEARNER {
            o.send(actor_id(envelope.to), envelope.message);
        }
    }
}

impl CellNode {
    /// Takes one step: the node's own, or for the broken behaviour that of a node restarted
    /// from an empty hard state. Leaves `state` borrowed when the node did not change, which is
    /// how the actor model recognizes a step that does nothing.
    fn step(&self, state: &mut Cow<'_, NodeState>, input: Input, o: &mut Out<Self>) {
        let mut node = match self.behaviour {
            Behaviour::Correct => state.node.clone(),
            Behaviour::ForgetsHardState => {
                Node::new(self.config.clone(), HardState::default()).unwrap()
            }
        };
        let ready = node.step(input);
        let next = NodeState::new(node);
        if next != **state {
            *state = Cow::Owned(next);
        }
        send(ready, o);
    }
}

impl Actor for CellNode {
    type Msg = Message;
    type State = NodeState;
    type Timer = ();
    type Random = ();
    type Storage = ();

    fn on_start(&self, _: Id, _: &Option<()>, o: &mut Out<Self>) -> NodeState {
        let mut node = Node::new(self.config.clone(), HardState::default()).unwrap();
        if let Some(value) = &self.proposal {
            send(node.step(Input::Propose(value.clone())), o);
        }
        if self.retries {
            o.set_timer((), model_timeout());
        }
        NodeState::new(node)
    }

    fn on_msg(
        &self,
        _: Id,
        state: &mut Cow<'_, NodeState>,
        src: Id,
        message: Message,
        o: &mut Out<Self>,
    ) {
        self.step(
            state,
            Input::Message {
                from: node_id(src),
                message,
            },
            o,
        );
    }

    /// The retry: with `retry_ticks` of 1, one tick starts a higher ballot unless the node has
    /// learned a value. The timer is not set again, so the node retries at most once.
    fn on_timeout(&self, _: Id, state: &mut Cow<'_, NodeState>, _: &(), o: &mut Out<Self>) {
        self.step(state, Input::Tick, o);
    }
}

/// The cell of real nodes, as Stateright's actor model.
fn cell(scenario: Scenario) -> CellModel<PaxosCell> {
    let members: Vec<NodeId> = (1..=NODES).map(NodeId).collect();
    let node = |id: NodeId| CellNode {
        config: Config {
            id,
            members: members.clone(),
            retry_ticks: 1,
        },
        proposal: (id.0 <= scenario.proposers).then(|| proposal(id.0)),
        retries: scenario.retry && id == NodeId(1),
        behaviour: scenario.behaviour,
    };
    ActorModel::new((), Sent::<PaxosCell>::new())
        .actors(members.iter().map(|&id| node(id)))
        .init_network(Network::new_unordered_duplicating([]))
        .lossy_network(scenario.lossy)
        .record_msg_out(record_sent::<PaxosCell>)
}

/// The cell and its refinement check: what [`checker::Checked`] needs to know of Paxos.
struct PaxosCell {
    cell: CellModel<PaxosCell>,
    refinement: Refinement,
}

/// The actor model, with every state mapped to the spec and every step checked against it.
type CheckedCell = Checked<PaxosCell>;

fn checked_cell(scenario: Scenario) -> CheckedCell {
    let values = (1..=scenario.proposers).map(proposal).collect();
    let mapping = Mapping::new(NODES, scenario.ballots(), values);
    Checked::new(PaxosCell {
        cell: cell(scenario),
        refinement: Refinement::new(mapping),
    })
}

fn learned(_: &CheckedCell, state: &CheckedState<PaxosCell>) -> bool {
    state
        .cell
        .actor_states
        .iter()
        .any(|s| s.node.learned().is_some())
}

impl Harness for PaxosCell {
    type Node = CellNode;
    type Message = Message;
    type Spec = PaxosState;

    const REFINES: &'static str = REFINES;

    fn cell(&self) -> &CellModel<Self> {
        &self.cell
    }

    fn message(msg: &Message) -> Option<&Message> {
        Some(msg)
    }

    fn unstarted(&self, actor: &CellNode) -> NodeState {
        NodeState::new(Node::new(actor.config.clone(), HardState::default()).unwrap())
    }

    fn map(&self, nodes: &[&NodeState], sent: &Sent<Self>) -> Result<PaxosState, String> {
        let hard_states: Vec<HardState> = nodes.iter().map(|s| s.node.hard_state()).collect();
        let mapped = self.refinement.mapping().state(&hard_states, sent);
        mapped.map_err(|error| RefinementError::from(error).to_string())
    }

    fn init(&self) -> PaxosState {
        PaxosState::init(usize::from(NODES))
    }

    fn check_init(&self, spec: &PaxosState) -> Result<(), String> {
        self.refinement.check_init(spec).map_err(|e| e.to_string())
    }

    fn check_step(
        &self,
        node: Option<NodeId>,
        before: &PaxosState,
        after: &PaxosState,
    ) -> Result<(), String> {
        let checked = self.refinement.check_step(node, before, after);
        checked.map(|_| ()).map_err(|e| e.to_string())
    }

    fn check_invariants(&self, spec: &PaxosState) -> Result<(), String> {
        self.refinement
            .check_invariants(spec)
            .map_err(|e| e.to_string())
    }

    fn invariant_names(&self) -> [&'static str; INVARIANTS] {
        Invariant::ALL.map(Invariant::name)
    }

    fn invariant_holds(&self, index: usize, spec: &PaxosState) -> bool {
        (Invariant::ALL[index].condition())(self.refinement.model(), spec)
    }

    fn show(&self, spec: &PaxosState) -> String {
        self.refinement.show(spec)
    }

    fn sometimes(&self) -> Vec<Property<CheckedCell>> {
        vec![Property::sometimes(LEARNED, learned)]
    }

    fn format_action(&self, action: &CellAction<Self>) -> String {
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                format!("{} <- {}: {msg}", node_id(*dst), node_id(*src))
            }
            ActorModelAction::Drop(e) => {
                format!("lost {} -> {}: {}", node_id(e.src), node_id(e.dst), e.msg)
            }
            ActorModelAction::Timeout(id, ()) => format!("{} <- retry timer", node_id(*id)),
            other => format!("{other:?}"),
        }
    }
}

/// Searches every state of `scenario`'s cell and asserts that the search finished, that every
/// state refines the spec and satisfies its invariants, and that some state learned a value.
fn check_every_state(name: &str, scenario: Scenario) {
    let label = format!("core_in_checker, {name}");
    let checker = checker::check_every_state(&label, checked_cell(scenario));
    let example = checker.discovery(LEARNED);
    assert!(
        example.is_some(),
        "no value is ever learned: the check would pass vacuously"
    );
}

#[test]
fn every_state_of_two_competing_proposers_refines_the_spec() {
    check_every_state("two proposers", Scenario::two_proposers(Behaviour::Correct));
}

#[test]
fn every_state_of_a_proposer_retrying_in_a_higher_ballot_refines_the_spec() {
    check_every_state("one proposer retrying", Scenario::one_proposer_retrying());
}

#[test]
fn a_node_that_forgets_its_hard_state_is_caught() {
    let model = checked_cell(Scenario::two_proposers(Behaviour::ForgetsHardState));
    checker::assert_caught(model, "a node that forgets its promises went unnoticed");
}

/// What the properties read: every node and every message sent.
type Projection = (Vec<NodeState>, Sent<PaxosCell>);

fn projection(state: &CheckedState<PaxosCell>) -> Projection {
    let nodes = state
        .cell
        .actor_states
        .iter()
        .map(|s| (**s).clone())
        .collect();
    (nodes, state.cell.history.clone())
}

/// The hash of `value`.
fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Asserts that `state` has every `always` property of `model`.
fn assert_always_properties(model: &CheckedCell, state: &CheckedState<PaxosCell>) {
    for property in model.properties() {
        let holds = (property.condition)(model, state);
        let expected = property.expectation == Expectation::Always;
        assert!(
            holds || !expected,
            "{} fails: {}",
            property.name,
            model.why(state)
        );
    }
}

/// Visits every state of `scenario`'s cell, by breadth-first search, which must visit at most
/// `states_max` states; asserts that each has every `always` property; and returns what the
/// properties read of them. States are told apart by their 64-bit hashes: with a few hundred
/// thousand states the odds that two collide are about one in a hundred million.
fn reachable_projections(scenario: Scenario, states_max: usize) -> HashSet<Projection> {
    let model = checked_cell(scenario);
    let mut queue: VecDeque<CheckedState<PaxosCell>> = model.init_states().into();
    let mut seen: HashSet<u64> = queue.iter().map(fingerprint).collect();
    let mut projections: HashMap<u64, Projection> = HashMap::new();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        assert_always_properties(&model, &state);
        let nodes_and_sent = (&state.cell.actor_states, &state.cell.history);
        (projections.entry(fingerprint(&nodes_and_sent))).or_insert_with(|| projection(&state));
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            let next = model.next_state(&state, action);
            queue.extend(next.filter(|next| seen.insert(fingerprint(next))));
        }
        assert!(seen.len() <= states_max, "more than {states_max} states");
    }
    projections.into_values().collect()
}

/// Runs the check on a smaller cell, one proposer and no retry, over the network with
/// Stateright's explicit losses as well, and shows that they reach nothing the lossless network
/// does not: the same nodes and the same messages sent, which is all the properties read.
#[test]
fn explicit_losses_reach_no_other_node_state() {
    let one_proposer = |lossy| Scenario {
        behaviour: Behaviour::Correct,
        proposers: 1,
        retry: false,
        lossy,
    };
    let started = Instant::now();
    let lossy = reachable_projections(one_proposer(LossyNetwork::Yes), 400_000);
    let lossless = reachable_projections(one_proposer(LossyNetwork::No), 400_000);
    println!(
        "core_in_checker, explicit losses: {} node states and messages sent either way, {:.1} s",
        lossy.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(lossless.len() > 1, "the smaller cell does something");
    assert!(
        lossy == lossless,
        "explicit losses reach other nodes or messages sent"
    );
}
