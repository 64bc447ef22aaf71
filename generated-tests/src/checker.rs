//! What the two harnesses that run a real core inside the model checker share: `core_in_checker`
//! (single-decree Paxos) and `multipaxos_core_in_checker` (Multi-Paxos).
//!
//! Both run a cell of real nodes as Stateright actors, map every state the search reaches to a
//! state of the spec, check that the step that led there refines the spec and that the spec's
//! invariants hold there, and report a counterexample as the path of actor steps and why its last
//! state fails. Only the nodes, the mapping and the step check differ; a harness says them by
//! implementing [`Harness`], and [`Checked`] is the model that does the rest.
//!
//! Stateright's actor `Id(i)` is node `NodeId(i + 1)` in both.

use colony_core::group::NodeId;
use stateright::actor::{
    Actor, ActorModel, ActorModelAction, ActorModelState, Command, Envelope, Id, Network, Out,
};
use stateright::{Checker, CheckerBuilder, Expectation, HasDiscoveries, Model, Path, Property};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::time::Instant;

/// How many invariants each spec has: the properties name one condition per invariant, and a
/// condition is a plain function, so there is one function per index (see [`Checked`]).
pub const INVARIANTS: usize = 7;

/// The node `NodeId(i + 1)` Stateright's actor `Id(i)` stands for.
pub fn node_id(id: Id) -> NodeId {
    let index = u8::try_from(usize::from(id) + 1);
    NodeId(index.expect("a cell has at most 255 nodes"))
}

/// The actor of node `node`.
pub fn actor_id(node: NodeId) -> Id {
    Id::from(usize::from(node.0) - 1)
}

/// The node that takes the step `action` stands for; `None` for a loss in the network.
pub fn stepping_node<M, T, R>(action: &ActorModelAction<M, T, R>) -> Option<NodeId> {
    match action {
        ActorModelAction::Deliver { dst, .. } => Some(node_id(*dst)),
        ActorModelAction::Drop(_) => None,
        ActorModelAction::Timeout(id, _)
        | ActorModelAction::Crash(id)
        | ActorModelAction::Recover(id)
        | ActorModelAction::SelectRandom { actor: id, .. } => Some(node_id(*id)),
    }
}

/// Forgets which envelope was delivered last. Stateright keeps it so that a delivery that
/// changes nothing but re-sends a message already in flight still makes a new state; here that
/// would only multiply the states by the envelopes, as the refinement check runs on every step
/// the search generates whether or not its target is new.
pub fn forget_last_delivery<A: Actor, H>(cell: &mut ActorModelState<A, H>) {
    if let Network::UnorderedDuplicating(_, last_delivered) = &mut cell.network {
        *last_delivered = None;
    }
}

/// A protocol's cell inside the checker: its actors, the messages the spec sees, the mapping of
/// its nodes to the spec and the checks of the spec's steps and invariants. Failures are
/// described in words, as that is all a counterexample reports of them.
pub trait Harness: Sized + Send + Sync + 'static {
    /// One node of the cell as an actor.
    type Node: Actor<
            Msg: Ord + Send + Sync,
            Timer: Ord + Send + Sync,
            State: Send + Sync,
            Random: Send + Sync,
            Storage: Send + Sync,
        > + Send
        + Sync
        + 'static;
    /// A protocol message: the spec's `msgs` is made of those sent.
    type Message: Clone + Debug + Hash + Ord + Send + Sync + 'static;
    /// A state of the spec.
    type Spec: Clone + Debug + Hash + Eq + Send + Sync + 'static;

    /// The name of the property that every step so far refined the spec.
    const REFINES: &'static str;

    /// The cell, as Stateright's actor model, recording every message sent with [`record_sent`].
    fn cell(&self) -> &CellModel<Self>;

    /// The protocol message an actor's message carries, if it carries one.
    fn message(msg: &<Self::Node as Actor>::Msg) -> Option<&Self::Message>;

    /// The state `actor` starts from before its start runs: what a restart from an empty disk
    /// makes of it.
    fn unstarted(&self, actor: &Self::Node) -> NodeState<Self>;

    /// The spec state of `nodes` (node `NodeId(i + 1)` at index `i`) when `sent` went over the
    /// network.
    fn map(&self, nodes: &[&NodeState<Self>], sent: &Sent<Self>) -> Result<Self::Spec, String>;

    /// The spec's `Init`: the image given to the initial state when its starts fail.
    fn init(&self) -> Self::Spec;

    /// Checks that `spec` is the spec's `Init`.
    fn check_init(&self, spec: &Self::Spec) -> Result<(), String>;

    /// Checks that the step of `node` (`None`: the network's) from `before` to `after` is a
    /// step of the spec that node may take, or a stutter.
    fn check_step(
        &self,
        node: Option<NodeId>,
        before: &Self::Spec,
        after: &Self::Spec,
    ) -> Result<(), String>;

    /// Checks every invariant on `spec`; fails with the first violated one.
    fn check_invariants(&self, spec: &Self::Spec) -> Result<(), String>;

    /// The spec's invariants' names, in the spec's order.
    fn invariant_names(&self) -> [&'static str; INVARIANTS];

    /// Whether invariant `index` (of [`Harness::invariant_names`]) holds in `spec`.
    fn invariant_holds(&self, index: usize, spec: &Self::Spec) -> bool;

    /// `spec` in spec notation, on one line.
    fn show(&self, spec: &Self::Spec) -> String;

    /// The `sometimes` properties that show the search is not vacuous.
    fn sometimes(&self) -> Vec<Property<Checked<Self>>>;

    /// One step of the cell, readable.
    fn format_action(&self, action: &CellAction<Self>) -> String;
}

/// The state of one node's actor.
pub type NodeState<H> = <<H as Harness>::Node as Actor>::State;
/// Every protocol message any node has sent: the spec's `msgs`, kept as history because the
/// network does not keep a message it lost.
pub type Sent<H> = BTreeSet<<H as Harness>::Message>;
/// The cell as Stateright's actor model.
pub type CellModel<H> = ActorModel<<H as Harness>::Node, (), Sent<H>>;
/// A state of the cell.
pub type CellState<H> = ActorModelState<<H as Harness>::Node, Sent<H>>;
/// A step of the cell.
pub type CellAction<H> = ActorModelAction<
    <<H as Harness>::Node as Actor>::Msg,
    <<H as Harness>::Node as Actor>::Timer,
    <<H as Harness>::Node as Actor>::Random,
>;

/// Records the protocol message of `envelope` in `sent`, as the cell's history.
pub fn record_sent<H: Harness>(
    _: &(),
    sent: &Sent<H>,
    envelope: Envelope<&<H::Node as Actor>::Msg>,
) -> Option<Sent<H>> {
    let message = H::message(envelope.msg)?;
    (!sent.contains(message)).then(|| {
        let mut sent = sent.clone();
        sent.insert(message.clone());
        sent
    })
}

/// The cell's actor model, with every state mapped to the spec and every step checked against it.
pub struct Checked<H> {
    /// The protocol's part.
    pub harness: H,
}

/// A state of the cell, its image in the spec, and the first step that did not refine the spec.
///
/// Its traits are written out rather than derived, as a derive would ask them of the harness,
/// which is no part of the state.
pub struct CheckedState<H: Harness> {
    /// The cell.
    pub cell: CellState<H>,
    /// The image of `cell` (of the last state that had one, after a failure).
    pub spec: H::Spec,
    /// The first step on the path here that was not a spec step, described.
    pub refinement_failure: Option<String>,
}

impl<H: Harness> Clone for CheckedState<H> {
    fn clone(&self) -> Self {
        CheckedState {
            cell: self.cell.clone(),
            spec: self.spec.clone(),
            refinement_failure: self.refinement_failure.clone(),
        }
    }
}

impl<H: Harness> Debug for CheckedState<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedState")
            .field("cell", &self.cell)
            .field("spec", &self.spec)
            .field("refinement_failure", &self.refinement_failure)
            .finish()
    }
}

impl<H: Harness> Hash for CheckedState<H> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.cell.hash(state);
        self.spec.hash(state);
        self.refinement_failure.hash(state);
    }
}

impl<H: Harness> PartialEq for CheckedState<H> {
    fn eq(&self, other: &Self) -> bool {
        self.cell == other.cell
            && self.spec == other.spec
            && self.refinement_failure == other.refinement_failure
    }
}

impl<H: Harness> Eq for CheckedState<H> {}

impl<H: Harness> Checked<H> {
    /// The model of `harness`'s cell.
    pub fn new(harness: H) -> Checked<H> {
        Checked { harness }
    }

    /// Replays the nodes' starts one at a time from the spec's `Init` (the actor model runs
    /// them all to make its one initial state): each must be a spec step of the node starting,
    /// and every state on the way must satisfy the invariants. Returns the state after them.
    fn check_starts(&self) -> Result<H::Spec, String> {
        let harness = &self.harness;
        let actors = &harness.cell().actors;
        let mut nodes: Vec<NodeState<H>> = actors.iter().map(|a| harness.unstarted(a)).collect();
        let mut sent = Sent::<H>::new();
        let map = |nodes: &[NodeState<H>], sent: &Sent<H>| {
            let nodes: Vec<&NodeState<H>> = nodes.iter().collect();
            harness.map(&nodes, sent)
        };
        let mut before = map(&nodes, &sent)?;
        harness.check_init(&before)?;
        for (index, actor) in actors.iter().enumerate() {
            let mut out = Out::new();
            nodes[index] = actor.on_start(Id::from(index), &None, &mut out);
            sent.extend(out.iter().filter_map(|command| match command {
                Command::Send(_, msg) => H::message(msg).cloned(),
                _ => None,
            }));
            let after = map(&nodes, &sent)?;
            harness.check_step(Some(node_id(Id::from(index))), &before, &after)?;
            harness.check_invariants(&after)?;
            before = after;
        }
        Ok(before)
    }

    fn map(&self, cell: &CellState<H>) -> Result<H::Spec, String> {
        let nodes: Vec<&NodeState<H>> = cell.actor_states.iter().map(|s| &**s).collect();
        self.harness.map(&nodes, &cell.history)
    }

    fn initial(&self, cell: CellState<H>) -> CheckedState<H> {
        let (spec, refinement_failure) = match (self.check_starts(), self.map(&cell)) {
            (Ok(started), Ok(spec)) if started == spec => (spec, None),
            (Ok(started), Ok(_)) => (started, Some("the starts replay differently".to_string())),
            (Err(error), _) | (_, Err(error)) => {
                (self.harness.init(), Some(format!("start: {error}")))
            }
        };
        CheckedState {
            cell,
            spec,
            refinement_failure,
        }
    }

    /// The checked state after the step `action` from `before` to `cell`. A failure found
    /// earlier on the path is kept: the first one is the one to report, and it names its step,
    /// as the search may find the failing state further along a path.
    fn after_step(
        &self,
        before: &CheckedState<H>,
        action: &CellAction<H>,
        cell: CellState<H>,
    ) -> CheckedState<H> {
        let checked = self.map(&cell).and_then(|spec| {
            (self.harness).check_step(stepping_node(action), &before.spec, &spec)?;
            Ok(spec)
        });
        let (spec, failure) = match checked {
            Ok(spec) => (spec, None),
            Err(error) => {
                let step = self.harness.format_action(action);
                (before.spec.clone(), Some(format!("at `{step}`: {error}")))
            }
        };
        let refinement_failure = before.refinement_failure.clone().or(failure);
        CheckedState {
            cell,
            spec,
            refinement_failure,
        }
    }

    /// Why `state` fails: the first step on its path that did not refine the spec, or else its
    /// image, in which an invariant fails.
    pub fn why(&self, state: &CheckedState<H>) -> String {
        match &state.refinement_failure {
            Some(failure) => failure.clone(),
            None => self.harness.show(&state.spec),
        }
    }
}

fn refines<H: Harness>(_: &Checked<H>, state: &CheckedState<H>) -> bool {
    state.refinement_failure.is_none()
}

fn invariant_holds<H: Harness, const I: usize>(
    model: &Checked<H>,
    state: &CheckedState<H>,
) -> bool {
    model.harness.invariant_holds(I, &state.spec)
}

/// A property's condition.
type Condition<H> = fn(&Checked<H>, &CheckedState<H>) -> bool;

/// One condition per invariant, in the spec's order.
fn invariant_conditions<H: Harness>() -> [Condition<H>; INVARIANTS] {
    [
        invariant_holds::<H, 0>,
        invariant_holds::<H, 1>,
        invariant_holds::<H, 2>,
        invariant_holds::<H, 3>,
        invariant_holds::<H, 4>,
        invariant_holds::<H, 5>,
        invariant_holds::<H, 6>,
    ]
}

impl<H: Harness> Model for Checked<H> {
    type State = CheckedState<H>;
    type Action = CellAction<H>;

    fn init_states(&self) -> Vec<CheckedState<H>> {
        let cells = self.harness.cell().init_states();
        cells.into_iter().map(|cell| self.initial(cell)).collect()
    }

    fn actions(&self, state: &CheckedState<H>, actions: &mut Vec<CellAction<H>>) {
        self.harness.cell().actions(&state.cell, actions);
    }

    fn next_state(&self, state: &CheckedState<H>, action: CellAction<H>) -> Option<Self::State> {
        let mut cell = self
            .harness
            .cell()
            .next_state(&state.cell, action.clone())?;
        forget_last_delivery(&mut cell);
        Some(self.after_step(state, &action, cell))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut properties = vec![Property::always(H::REFINES, refines)];
        let names = self.harness.invariant_names();
        for (name, holds) in names.into_iter().zip(invariant_conditions()) {
            properties.push(Property::always(name, holds));
        }
        properties.extend(self.harness.sometimes());
        properties
    }

    fn format_action(&self, action: &CellAction<H>) -> String {
        self.harness.format_action(action)
    }
}

/// A counterexample, readable: every step of the path, then why its last state fails.
fn describe<H: Harness>(
    model: &Checked<H>,
    name: &str,
    path: &Path<CheckedState<H>, CellAction<H>>,
) -> String {
    let actions = path.clone().into_actions();
    let steps: Vec<String> = (actions.iter().enumerate())
        .map(|(i, action)| format!("  {:>3}  {}", i + 1, model.format_action(action)))
        .collect();
    let last = path.last_state();
    let why = (last.refinement_failure.clone())
        .unwrap_or_else(|| format!("spec state: {}", model.harness.show(&last.spec)));
    format!(
        "{name} fails after {} steps:\n{}\n{why}",
        steps.len(),
        steps.join("\n")
    )
}

/// The `always` properties the checker found a counterexample to, each described.
pub fn counterexamples<H: Harness>(checker: &impl Checker<Checked<H>>) -> Vec<String> {
    let model = checker.model();
    let always = (model.properties().into_iter()).filter(|p| p.expectation == Expectation::Always);
    always
        .filter_map(|p| {
            checker
                .discovery(p.name)
                .map(|path| describe(model, p.name, &path))
        })
        .collect()
}

/// The most states one search of a cell of real cores may generate. The bounded cells of the
/// tests generate under 300,000 (the Multi-Paxos cell 281,878); a bug that makes the space
/// explode (a ballot that keeps rising, a log that keeps growing) meets this bound at a few GiB
/// of memory, and the test fails saying so instead of exhausting the machine.
pub const STATES_GENERATED_MAX: usize = 3_000_000;

/// Runs `builder`'s breadth-first search up to `states_generated_max` states generated (the
/// tests' searches: [`STATES_GENERATED_MAX`]), and fails, naming the bound, when the search
/// stopped there.
pub fn search_bounded<H: Harness>(
    label: &str,
    builder: CheckerBuilder<Checked<H>>,
    states_generated_max: usize,
) -> impl Checker<Checked<H>> {
    let started = Instant::now();
    let checker = builder
        .target_state_count(states_generated_max)
        .spawn_bfs()
        .join();
    println!(
        "{label}: {} unique states, {} states generated, depth {}, {:.1} s",
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        checker.state_count() < states_generated_max,
        "{label}: the search stopped at the bound of {states_generated_max} states generated \
         (STATES_GENERATED_MAX in generated-tests/src/checker.rs) after {} unique states, at \
         depth {}: the cell's state space no longer fits the bound, as when a bug makes a \
         ballot or a log grow without end",
        checker.unique_state_count(),
        checker.max_depth()
    );
    checker
}

/// Searches every state of `model` breadth first, prints the counts under `label`, and asserts
/// that the search finished within [`STATES_GENERATED_MAX`] and that every state refines the
/// spec and satisfies its invariants. Returns the checker, whose `sometimes` discoveries the
/// caller asserts.
pub fn check_every_state<H: Harness>(label: &str, model: Checked<H>) -> impl Checker<Checked<H>> {
    let checker = search_bounded(label, model.checker(), STATES_GENERATED_MAX);
    assert!(
        checker.is_done(),
        "the search stopped before visiting every state"
    );
    let failures = counterexamples(&checker);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    checker
}

/// Searches `model`, a cell with a broken node, until a property fails (within
/// [`STATES_GENERATED_MAX`]), and asserts that one does (`unnoticed` says what went unnoticed
/// otherwise) and that the failure is a step that does not refine the spec. Prints the
/// counterexamples.
pub fn assert_caught<H: Harness>(model: Checked<H>, unnoticed: &str) {
    let builder = model.checker().finish_when(HasDiscoveries::AnyFailures);
    let checker = search_bounded("a broken cell", builder, STATES_GENERATED_MAX);
    let failures = counterexamples(&checker);
    assert!(!failures.is_empty(), "{unnoticed}");
    println!("{}", failures.join("\n\n"));
    assert!(
        checker.discovery(H::REFINES).is_some(),
        "{}",
        failures.join("\n\n")
    );
}
