//! The real Multi-Paxos core inside the model checker: a cell of three real `Replica`s, each
//! with the runtime that persists, applies and snapshots for it, runs as Stateright actors over a
//! network that duplicates and reorders messages, and breadth-first search visits every state the
//! cell can reach. In each, the cell is mapped to a state of `tla/MultiPaxos.tla` (see
//! `colony_generated_tests::multipaxos::refinement`), every invariant of the spec must hold there,
//! and the step that led to it must be a stutter or a sequence of spec actions of the node that
//! took it.
//!
//! **The cell.** Nodes 1 and 2 are each asked, when they start, to propose one client command
//! (`c1` and `c2`): each starts a ballot (`1.1` and `1.2`), so two leaders compete, a vote of one
//! may be carried into the other's ballot, and the log has two slots, the most two commands can
//! fill (a leader proposes a new command only in the slot after every vote its quorum reported,
//! and fills only holes below a reported vote). Nobody ticks: no third ballot, no heartbeat; the
//! search stays in ballots fixed up front, as the single-decree search does.
//!
//! **The runtime** is the harness's, and it does what `Ready` says in its order: it persists the
//! hard state, votes and decided entries to its disk, sends the messages, applies the decided
//! entries to the state machine (here: the list of entries applied), sends the snapshots the
//! replica asks it to send, deletes what a snapshot covers. With `snapshot_interval_slots = 1` a
//! replica asks for a snapshot whenever a slot is decided, and the runtime takes it at once, in
//! the same step (spec: `Snapshot(r)`), then gives `Input::Snapshotted` (spec: `Compact(a)`); a
//! peer's snapshot it receives is installed when the replica wants it (spec:
//! `InstallSnapshot(r)`). So one step may be several spec actions of its node, which the
//! refinement check allows as a sequence, each action enabled in turn.
//!
//! **A crash.** Node 3 may crash once, at any moment, and restarts at once from its disk: its
//! hard state and votes, its durable snapshot, the decided log after it (from which the runtime
//! rebuilds the state machine). Being down for a while is no other behaviour here, as the network
//! may hold any message back for as long as it likes. The crash must be a stutter of the spec:
//! nothing the spec sees is lost.
//!
//! **The network.** As in `core_in_checker`, Stateright's unordered duplicating network keeps
//! every message, so any message may be delivered any number of times, in any order, or never,
//! which is every loss a network can inflict on properties that look only at the nodes and at
//! what they sent; explicit losses would add states that differ only in what could still arrive.
//! Two more bounds keep the search to tens of thousands of states. A message a replica sends
//! itself is delivered at once by its runtime, as a real one does locally, in the same step
//! (without it the search passed 345,000 states unfinished); it is still in the spec's `msgs`.
//! And the network loses the votes (`2b`) addressed to nodes 1 and 2: node 3 alone learns from
//! votes, snapshots and compacts on its own, and nodes 1 and 2 learn the log from node 3's
//! snapshots (a leader whose proposal reaches an acceptor that compacted the slot is sent the
//! snapshot), which is the path compaction adds; three learners' tallies multiply the states
//! past what a test run can visit.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, HardState, Input, Message, Ready, Replica, Runtime, Slot,
    SnapshotTransfer, Vote,
};
use colony_generated_tests::checker::{
    self, actor_id, node_id, record_sent, CellAction, CellModel, Checked, CheckedState, Harness,
    Sent, INVARIANTS,
};
use colony_generated_tests::multipaxos::refinement::{Mapping, MappingError, NodeView, Refinement};
use colony_generated_tests::refinement::RefinementError;
use colony_model::multipaxos::{Invariant, MultiPaxosState};
use stateright::actor::{model_timeout, Actor, ActorModel, ActorModelAction, Id, Network, Out};
use stateright::{Checker, Model, Property};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

/// The cell's size.
const NODES: u8 = 3;
/// The log's slots: two commands fill at most two.
const SLOTS: u8 = 2;
/// The node that may crash once.
const CRASHING: NodeId = NodeId(3);
/// The one node whose learner hears the votes.
const LEARNER: NodeId = NodeId(3);
/// The name of the property that every step so far refined the spec.
const REFINES: &str = "every step refines MultiPaxos.tla";
/// The name of the property that shows the search is not vacuous.
const APPLIED: &str = "a replica applies a command";
/// The name of the property that shows compaction's transfer path is reached: nodes 1 and 2
/// hear no votes, so a log of theirs comes from a snapshot of node 3's.
const INSTALLED: &str = "a replica installs a peer's snapshot";

/// The command node `proposer` is asked to propose: node 1 proposes `c1`, node 2 `c2`.
fn command(proposer: u8) -> Command {
    Command(format!("c{proposer}").into_bytes())
}

/// How a node's runtime behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// It does what `Ready` says.
    Correct,
    /// A broken runtime: it never writes votes to its disk, so a replica restarted from it has
    /// forgotten every vote it cast.
    ForgetsVotes,
}

/// What the runtime keeps on its disk: what the replica restarts from, and the durable snapshot
/// of the state machine (its last slot, and the entries applied through it, which are the state).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Disk {
    hard_state: HardState,
    votes: BTreeMap<Slot, Vote>,
    snapshot_slot: Slot,
    snapshot: Vec<Entry>,
    /// The decided log after the snapshot.
    decided: Vec<Entry>,
}

/// A node as an actor's state: the real replica (compared and hashed whole), the state machine
/// its runtime applies the log to, and the runtime's disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeState {
    replica: Replica,
    /// Every entry applied, slot 1 first: the state machine's state, as the spec's `applied`.
    applied: Vec<Entry>,
    disk: Disk,
    /// The messages the replica sent itself, which the runtime delivered at once: part of the
    /// spec's `msgs` as much as what went over the network, and kept across a crash, as a
    /// history of what was sent (the node does not read it).
    sent_locally: BTreeSet<Message>,
}

impl NodeState {
    fn view(&self) -> NodeView<'_> {
        NodeView {
            promised: self.replica.hard_state().promised,
            votes: self.replica.votes(),
            compacted: self.replica.compacted(),
            applied: &self.applied,
            snapshot: self.disk.snapshot_slot,
        }
    }
}

/// What the network carries: the replicas' messages, and the snapshots runtimes send each
/// other (its last slot and the state: the entries through it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Packet {
    Message(Message),
    Snapshot { last_slot: Slot, state: Vec<Entry> },
}

/// The node's one timer: the crash.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Crash;

/// One node of the cell as an actor.
#[derive(Clone)]
struct CellNode {
    config: Config,
    proposal: Option<Command>,
    crashes: bool,
    behaviour: Behaviour,
}

/// The most `Ready`s one runtime step carries out: the input's, those of the messages the node
/// sends itself, and those of the `Snapshotted` inputs after the snapshots it asks for.
const READIES_PER_STEP_MAX: usize = 16;

impl CellNode {
    /// Carries out a step's duties in the order `Ready` states, and then the inputs they lead
    /// to in this runtime: a message the replica sends itself is delivered at once, as a runtime
    /// does locally, and a snapshot it asks for is taken at once and reported with
    /// `Input::Snapshotted`. The actor's state is already the node after the step when the
    /// messages leave (Stateright sends them after the handler returns), so what they rest on is
    /// in place first.
    fn carry_out(&self, node: &mut NodeState, ready: Ready, o: &mut Out<Self>) {
        let mut inputs: VecDeque<Input> = VecDeque::new();
        let mut ready = Some(ready);
        for _ in 0..READIES_PER_STEP_MAX {
            let Some(this) = ready.take() else {
                return;
            };
            this.carry_out(&mut NodeRuntime {
                me: self.config.id,
                behaviour: self.behaviour,
                node,
                o,
                inputs: &mut inputs,
            });
            ready = inputs.pop_front().map(|input| node.replica.step(input));
        }
        panic!("more than {READIES_PER_STEP_MAX} readies in one step");
    }

    /// Installs a peer's snapshot if the replica wants it: the state machine and the disk take
    /// the snapshot's state, then the replica hears `Input::Snapshotted`.
    fn install(&self, node: &mut NodeState, last_slot: Slot, state: Vec<Entry>, o: &mut Out<Self>) {
        node.applied = state.clone();
        node.disk.snapshot_slot = last_slot;
        node.disk.snapshot = state;
        node.disk.decided.clear();
        let ready = node.replica.step(Input::Snapshotted { last_slot });
        self.carry_out(node, ready, o);
    }

    /// Restarts the replica from the disk, rebuilding the state machine from the snapshot and
    /// the decided log after it.
    fn restart(&self, disk: &Disk, sent_locally: BTreeSet<Message>) -> NodeState {
        let durable = Durable {
            hard_state: disk.hard_state.clone(),
            votes: disk.votes.clone(),
            snapshot_slot: disk.snapshot_slot,
            decided: disk.decided.clone(),
        };
        let replica = Replica::new(self.config.clone(), durable).unwrap();
        let applied = disk.snapshot.iter().chain(&disk.decided).cloned().collect();
        NodeState {
            replica,
            applied,
            disk: disk.clone(),
            sent_locally,
        }
    }
}

/// Sets `state` to `next` unless they are equal, which is how the actor model recognizes a step
/// that does nothing.
fn update(state: &mut Cow<'_, NodeState>, next: NodeState) {
    if next != **state {
        *state = Cow::Owned(next);
    }
}

impl Actor for CellNode {
    type Msg = Packet;
    type State = NodeState;
    type Timer = Crash;
    type Random = ();
    type Storage = ();

    fn on_start(&self, _: Id, _: &Option<()>, o: &mut Out<Self>) -> NodeState {
        let mut node = self.restart(&Disk::default(), BTreeSet::new());
        if let Some(command) = &self.proposal {
            let ready = node.replica.propose(command.clone()).unwrap();
            self.carry_out(&mut node, ready, o);
        }
        if self.crashes {
            o.set_timer(Crash, model_timeout());
        }
        node
    }

    fn on_msg(
        &self,
        _: Id,
        state: &mut Cow<'_, NodeState>,
        src: Id,
        packet: Packet,
        o: &mut Out<Self>,
    ) {
        let mut node = (**state).clone();
        match packet {
            Packet::Message(message) => {
                let from = node_id(src);
                let ready = node.replica.step(Input::Message { from, message });
                self.carry_out(&mut node, ready, o);
            }
            Packet::Snapshot { last_slot, state } => {
                if !node.replica.wants_snapshot(last_slot) {
                    return; // Stale or repeated: the replica decided as much already.
                }
                self.install(&mut node, last_slot, state, o);
            }
        }
        update(state, node);
    }

    /// The crash: the node restarts from its disk. The timer is not set again, so it crashes
    /// at most once.
    fn on_timeout(&self, _: Id, state: &mut Cow<'_, NodeState>, _: &Crash, _: &mut Out<Self>) {
        let restarted = self.restart(&state.disk, state.sent_locally.clone());
        update(state, restarted);
    }
}

/// The ballots the cell can use, fixed before the search: each proposer starts round 1.
fn ballots() -> Vec<Ballot> {
    (1..=2)
        .map(|p| Ballot {
            round: 1,
            proposer: NodeId(p),
        })
        .collect()
}

/// The cell of real replicas, as Stateright's actor model.
fn cell(behaviour: Behaviour) -> CellModel<MultiPaxosCell> {
    let members: Vec<NodeId> = (1..=NODES).map(NodeId).collect();
    let node = |id: NodeId| CellNode {
        config: Config {
            election_ticks: 2,
            heartbeat_ticks: 1,
            slots_in_flight_max: u64::from(SLOTS),
            snapshot_interval_slots: 1,
            ..Config::new(id, members.clone())
        },
        proposal: (id.0 <= 2).then(|| command(id.0)),
        crashes: id == CRASHING,
        behaviour,
    };
    ActorModel::new((), Sent::<MultiPaxosCell>::new())
        .actors(members.iter().map(|&id| node(id)))
        .init_network(Network::new_unordered_duplicating([]))
        .record_msg_out(record_sent::<MultiPaxosCell>)
}

/// The cell, its refinement check, and what the check found so far: what [`checker::Checked`]
/// needs to know of Multi-Paxos.
struct MultiPaxosCell {
    cell: CellModel<MultiPaxosCell>,
    refinement: Refinement,
    /// The outcome of every step check made so far, by stepping node and mapped states before
    /// and after: a few thousand spec steps stand for the hundreds of thousands the cell takes.
    steps: Mutex<HashMap<SpecStep, Result<(), String>>>,
    /// The invariants each mapped state violates, by state, for the same reason.
    violations: Mutex<HashMap<MultiPaxosState, Vec<&'static str>>>,
}

/// A step in the spec: the node that took it and the mapped states before and after.
type SpecStep = (Option<NodeId>, MultiPaxosState, MultiPaxosState);

/// The actor model, with every state mapped to the spec and every step checked against it.
type CheckedCell = Checked<MultiPaxosCell>;
type Error = RefinementError<MappingError>;

fn checked_cell(behaviour: Behaviour) -> CheckedCell {
    let commands = (1..=2).map(command).collect();
    let mapping = Mapping::new(NODES, SLOTS, ballots(), commands);
    Checked::new(MultiPaxosCell {
        cell: cell(behaviour),
        refinement: Refinement::new(mapping),
        steps: Mutex::default(),
        violations: Mutex::default(),
    })
}

impl MultiPaxosCell {
    /// Whether `spec` violates invariant `name`.
    fn violates(&self, spec: &MultiPaxosState, name: &'static str) -> bool {
        let mut cache = self.violations.lock().unwrap();
        let violated = cache.entry(spec.clone()).or_insert_with(|| {
            let model = self.refinement.model();
            (Invariant::ALL.into_iter())
                .filter(|i| !(i.condition())(model, spec))
                .map(Invariant::name)
                .collect()
        });
        violated.contains(&name)
    }
}

fn applied_a_command(_: &CheckedCell, state: &CheckedState<MultiPaxosCell>) -> bool {
    (state.cell.actor_states.iter()).any(|s| s.applied.iter().any(|entry| *entry != Entry::NoOp))
}

fn installed_a_snapshot(_: &CheckedCell, state: &CheckedState<MultiPaxosCell>) -> bool {
    (state.cell.actor_states.iter().take(2)).any(|s| !s.applied.is_empty())
}

impl Harness for MultiPaxosCell {
    type Node = CellNode;
    type Message = Message;
    type Spec = MultiPaxosState;

    const REFINES: &'static str = REFINES;

    fn cell(&self) -> &CellModel<Self> {
        &self.cell
    }

    fn message(packet: &Packet) -> Option<&Message> {
        match packet {
            Packet::Message(message) => Some(message),
            Packet::Snapshot { .. } => None,
        }
    }

    fn unstarted(&self, actor: &CellNode) -> NodeState {
        actor.restart(&Disk::default(), BTreeSet::new())
    }

    /// The spec state of `nodes` when `sent` went over the network, and what they sent
    /// themselves.
    fn map(&self, nodes: &[&NodeState], sent: &Sent<Self>) -> Result<MultiPaxosState, String> {
        let views: Vec<NodeView<'_>> = nodes.iter().map(|s| s.view()).collect();
        let locally = nodes.iter().flat_map(|s| &s.sent_locally);
        let mapped = (self.refinement.mapping()).state(&views, sent.iter().chain(locally));
        mapped.map_err(|error| Error::from(error).to_string())
    }

    fn init(&self) -> MultiPaxosState {
        MultiPaxosState::init(NODES, NODES)
    }

    fn check_init(&self, spec: &MultiPaxosState) -> Result<(), String> {
        self.refinement.check_init(spec).map_err(|e| e.to_string())
    }

    /// Checks the step of `node` from `before` to `after`, once per distinct spec step.
    fn check_step(
        &self,
        node: Option<NodeId>,
        before: &MultiPaxosState,
        after: &MultiPaxosState,
    ) -> Result<(), String> {
        let key = (node, before.clone(), after.clone());
        if let Some(known) = self.steps.lock().unwrap().get(&key) {
            return known.clone();
        }
        let checked = (self.refinement.check_step(node, before, after))
            .map(|_| ())
            .map_err(|error| error.to_string());
        self.steps.lock().unwrap().insert(key, checked.clone());
        checked
    }

    fn check_invariants(&self, spec: &MultiPaxosState) -> Result<(), String> {
        self.refinement
            .check_invariants(spec)
            .map_err(|e| e.to_string())
    }

    fn invariant_names(&self) -> [&'static str; INVARIANTS] {
        Invariant::ALL.map(Invariant::name)
    }

    fn invariant_holds(&self, index: usize, spec: &MultiPaxosState) -> bool {
        !self.violates(spec, Invariant::ALL[index].name())
    }

    fn show(&self, spec: &MultiPaxosState) -> String {
        self.refinement.show(spec)
    }

    fn sometimes(&self) -> Vec<Property<CheckedCell>> {
        vec![
            Property::sometimes(APPLIED, applied_a_command),
            Property::sometimes(INSTALLED, installed_a_snapshot),
        ]
    }

    fn format_action(&self, action: &CellAction<Self>) -> String {
        match action {
            ActorModelAction::Deliver { src, dst, msg } => {
                let what = match msg {
                    Packet::Message(message) => message.to_string(),
                    Packet::Snapshot { last_slot, .. } => format!("snapshot through {last_slot}"),
                };
                format!("{} <- {}: {what}", node_id(*dst), node_id(*src))
            }
            ActorModelAction::Timeout(id, Crash) => {
                format!("{} crashes and restarts from its disk", node_id(*id))
            }
            other => format!("{other:?}"),
        }
    }
}

#[test]
fn every_state_of_two_competing_leaders_with_compaction_and_a_crash_refines_the_spec() {
    let model = checked_cell(Behaviour::Correct);
    let checker = checker::check_every_state("multipaxos_core_in_checker", model);
    assert!(
        checker.discovery(APPLIED).is_some(),
        "no command is ever applied: the check would pass vacuously"
    );
    assert!(
        checker.discovery(INSTALLED).is_some(),
        "no snapshot is ever installed: compaction's transfers go unchecked"
    );
}

#[test]
fn a_runtime_that_forgets_its_votes_is_caught() {
    let model = checked_cell(Behaviour::ForgetsVotes);
    checker::assert_caught(model, "a replica that forgets its votes went unnoticed");
}

/// The bound that keeps a search from exhausting the machine is real: the same cell searched
/// under a bound far below its size fails, and says which bound it met.
#[test]
#[should_panic(expected = "stopped at the bound of 10000 states generated")]
fn a_search_past_its_state_bound_fails_naming_the_bound() {
    let model = checked_cell(Behaviour::Correct);
    let _ = checker::search_bounded("bounded", model.checker(), 10_000);
}

/// A node's runtime for one `Ready`, through [`Ready::carry_out`]: the order every runtime
/// follows, the node's host too.
struct NodeRuntime<'a> {
    me: NodeId,
    behaviour: Behaviour,
    node: &'a mut NodeState,
    o: &'a mut Out<CellNode>,
    /// What the step leads to in this runtime: messages to the node itself, and `Snapshotted`.
    inputs: &'a mut VecDeque<Input>,
}

impl Runtime for NodeRuntime<'_> {
    fn compacted(&mut self, through: Slot) {
        let disk = &mut self.node.disk;
        assert_eq!(disk.snapshot_slot, through, "a durable snapshot covers it");
        disk.votes.retain(|voted, _| *voted > through);
    }

    fn persist(&mut self, hard_state: Option<HardState>, votes: Vec<(Slot, Vote)>) {
        if let Some(hard_state) = hard_state {
            self.node.disk.hard_state = hard_state;
        }
        if self.behaviour != Behaviour::ForgetsVotes {
            self.node.disk.votes.extend(votes);
        }
    }

    fn send(&mut self, envelope: colony_core::multipaxos::Envelope) {
        let vote = matches!(envelope.message, Message::Accepted { .. });
        if envelope.to == self.me {
            if !vote || self.me == LEARNER {
                let message = envelope.message;
                self.node.sent_locally.insert(message.clone());
                self.inputs.push_back(Input::Message {
                    from: self.me,
                    message,
                });
            }
        } else if !vote || envelope.to == LEARNER {
            self.o
                .send(actor_id(envelope.to), Packet::Message(envelope.message));
        }
    }

    fn apply(&mut self, slot: Slot, entry: Entry) {
        assert_eq!(
            slot.0,
            self.node.applied.len() as u64 + 1,
            "applied in order"
        );
        self.node.disk.decided.push(entry.clone());
        self.node.applied.push(entry);
    }

    fn abandoned(&mut self, _command: Command) {}

    fn send_snapshot(&mut self, transfer: SnapshotTransfer) {
        let disk = &self.node.disk;
        assert_eq!(transfer.last_slot, disk.snapshot_slot, "the durable one");
        let state = disk.snapshot.clone();
        let last_slot = disk.snapshot_slot;
        self.o
            .send(actor_id(transfer.to), Packet::Snapshot { last_slot, state });
    }

    fn snapshot_wanted(&mut self, last_slot: Slot) {
        let node = &mut *self.node;
        assert_eq!(
            last_slot.0,
            node.applied.len() as u64,
            "through the slot applied last"
        );
        let disk = &mut node.disk;
        let covered = (last_slot.0 - disk.snapshot_slot.0) as usize;
        disk.decided.drain(..covered);
        disk.snapshot_slot = last_slot;
        disk.snapshot = node.applied.clone();
        self.inputs.push_back(Input::Snapshotted { last_slot });
    }
}
