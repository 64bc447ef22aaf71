//! Long random runs of a real cell, checked against the spec after the fact. Proptest draws a
//! cell of 3 or 5 nodes and a few hundred operations: clients proposing different values at
//! random nodes and times, ticks (so that proposers retry in higher ballots), deliveries in any
//! order, duplicates, losses, and crashes that restart a node from what it persisted. Every
//! step is recorded; when the run is over its ballots are ranked, and every state is mapped to
//! the spec and every step checked to be a stutter or one spec action of the node that took it
//! (`colony_generated_tests::refinement`), every state to satisfy the spec's invariants.
//!
//! A failing run prints the failing step with the spec state before it and what the step
//! changed, the steps leading to it, and proptest's minimal list of operations, which replays
//! the failure exactly (the core is deterministic); proptest also saves the case's seed next to
//! this file, so the next run tries it first.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::group::NodeId;
use colony_core::paxos::{Config, Envelope, HardState, Input, Message, Node, Ready, Value};
use colony_generated_tests::network::Network;
use colony_generated_tests::refinement::{RecordedStep, Recording, RunFailure, RunSummary};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError, TestRng, TestRunner};
use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

/// How many different values the clients propose: `v1`, `v2`, `v3`.
const VALUES: u8 = 3;
/// Ticks without a decision after which a proposer retries in a higher ballot.
const RETRY_TICKS: u32 = 2;
/// Operations that may start a ballot (proposals and ticks) a run carries out; later ones are
/// skipped. Each starts at most one ballot, so a run uses at most this many, which keeps the
/// mapped `MaxBallot` within the model's bound of 100.
const BALLOT_STARTS_MAX: usize = 100;
/// How many recorded steps before a failing one its report shows.
const STEPS_SHOWN_BEFORE_FAILURE: usize = 12;

/// One thing that happens to the cell. Indices are taken modulo what they index.
#[derive(Clone, Debug)]
enum Op {
    /// Deliver the in-flight message at this index, removing it.
    Deliver(usize),
    /// Deliver the in-flight message at this index and keep a copy in flight.
    Duplicate(usize),
    /// Lose the in-flight message at this index.
    Drop(usize),
    /// A client asks this node to propose value `v1` + the second field.
    Propose(usize, u8),
    /// Logical time passes at this node.
    Tick(usize),
    /// This node crashes and restarts from what it persisted.
    Crash(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => any::<usize>().prop_map(Op::Deliver),
        2 => any::<usize>().prop_map(Op::Duplicate),
        2 => any::<usize>().prop_map(Op::Drop),
        1 => (any::<usize>(), 0..VALUES).prop_map(|(n, v)| Op::Propose(n, v)),
        2 => any::<usize>().prop_map(Op::Tick),
        1 => any::<usize>().prop_map(Op::Crash),
    ]
}

/// Client value `v{index + 1}`, the spec's value `index + 1` in the mapping's table.
fn value(index: u8) -> Value {
    Value(format!("v{}", index + 1).into_bytes())
}

/// What a node's disk keeps across a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disk {
    /// Everything the node persisted: the real contract.
    Durable,
    /// Nothing: a broken node that forgets its promises and votes when it crashes.
    LosesEverything,
}

/// A cell of real nodes over a simulated network, recording every step.
struct Cell {
    disk: Disk,
    configs: Vec<Config>,
    nodes: Vec<Node>,
    disks: Vec<HardState>,
    network: Network<Message>,
    ballot_starts_left: usize,
    recording: Recording,
    /// What each node has learned since it last started.
    learned: Vec<Option<Value>>,
}

impl Cell {
    fn new(size: u8, disk: Disk) -> Cell {
        let members: Vec<NodeId> = (1..=size).map(NodeId).collect();
        let configs: Vec<Config> = members
            .iter()
            .map(|&id| Config {
                id,
                members: members.clone(),
                retry_ticks: RETRY_TICKS,
            })
            .collect();
        let nodes = configs
            .iter()
            .map(|c| Node::new(c.clone(), HardState::default()).unwrap());
        Cell {
            disk,
            nodes: nodes.collect(),
            configs,
            disks: vec![HardState::default(); usize::from(size)],
            network: Network::default(),
            ballot_starts_left: BALLOT_STARTS_MAX,
            recording: Recording::new(size),
            learned: vec![None; usize::from(size)],
        }
    }

    fn record(&mut self, what: String, node: Option<usize>, sent: Vec<Envelope>) {
        let hard_states = self.nodes.iter().map(Node::hard_state).collect();
        let node = node.map(|index| self.configs[index].id);
        let sent = sent.into_iter().map(|envelope| envelope.message).collect();
        self.recording.record(RecordedStep {
            what,
            node,
            hard_states,
            sent,
        });
    }

    /// Carries out a step's duties in order: persist, then send; and records the step.
    fn apply(&mut self, node: usize, ready: Ready, what: String) {
        if let Some(hard_state) = ready.hard_state {
            self.disks[node] = hard_state;
        }
        assert_eq!(
            self.disks[node],
            self.nodes[node].hard_state(),
            "persisted before sending"
        );
        let from = self.configs[node].id;
        self.network.send(from, ready.messages.iter().cloned());
        let what = format!("{what}; sends {}", show_sent(&ready.messages));
        self.record(what, Some(node), ready.messages);
        if let Some(value) = ready.learned {
            assert!(self.learned[node].is_none(), "a node learns once");
            self.learned[node] = Some(value);
            self.check_learned();
        }
    }

    /// The learners' side of `Agreement`, which the spec states on votes (`Chosen`): every node
    /// learned the same value, and one a client proposed.
    fn check_learned(&self) {
        let learned: Vec<&Value> = self.learned.iter().flatten().collect();
        assert!(
            learned.windows(2).all(|w| w[0] == w[1]),
            "Agreement: learned {learned:?}"
        );
        let proposed: Vec<Value> = (0..VALUES).map(value).collect();
        assert!(
            learned.iter().all(|v| proposed.contains(v)),
            "learned an unproposed value: {learned:?}"
        );
    }

    /// With faults over: deliver everything in order, and let the first node that has not
    /// learned drive a ballot (a node that forgot in a crash learns again from the votes of a
    /// new ballot), until every node learned. Returns the deliveries it took, `None` past the
    /// bound. It may start more ballots than a run's budget, so its steps are not mapped.
    fn settle(&mut self) -> Option<usize> {
        const DELIVERIES_MAX: usize = 10_000;
        for delivery in 0..DELIVERIES_MAX {
            let Some(driver) = self.learned.iter().position(Option::is_none) else {
                return Some(delivery);
            };
            // The driver proposes, then retries with a higher ballot after its retry timeout.
            let mut inputs = std::iter::once(Input::Propose(value(0)))
                .chain((0..RETRY_TICKS).map(|_| Input::Tick));
            while self.network.is_empty() {
                let input = inputs.next()?;
                let ready = self.nodes[driver].step(input);
                self.apply(driver, ready, "settle".to_string());
            }
            self.deliver(0, false);
        }
        None
    }

    fn deliver(&mut self, index: usize, keep_copy: bool) {
        let Some((from, envelope)) = self.network.take(index, keep_copy) else {
            return;
        };
        let node = usize::from(envelope.to.0) - 1;
        let what = format!("{} <- {}: {}", envelope.to, from, envelope.message);
        let ready = self.nodes[node].step(Input::Message {
            from,
            message: envelope.message,
        });
        self.apply(node, ready, what);
    }

    fn drop_message(&mut self, index: usize) {
        let Some((from, envelope)) = self.network.take(index, false) else {
            return;
        };
        let what = format!("lost {from} -> {}: {}", envelope.to, envelope.message);
        self.record(what, None, Vec::new());
    }

    /// Gives `input` to node `n`, if the run may still start a ballot.
    fn start_input(&mut self, n: usize, input: Input) {
        if self.ballot_starts_left == 0 {
            return;
        }
        self.ballot_starts_left -= 1;
        let what = match &input {
            Input::Propose(value) => format!("{} <- client: propose {value}", self.configs[n].id),
            _ => format!("{} <- {input:?}", self.configs[n].id),
        };
        let ready = self.nodes[n].step(input);
        self.apply(n, ready, what);
    }

    fn crash(&mut self, n: usize) {
        if self.disk == Disk::LosesEverything {
            self.disks[n] = HardState::default();
        }
        self.nodes[n] = Node::new(self.configs[n].clone(), self.disks[n].clone()).unwrap();
        self.learned[n] = None;
        self.record(
            format!("{} crashes and restarts", self.configs[n].id),
            Some(n),
            Vec::new(),
        );
    }

    fn run(&mut self, op: &Op) {
        let size = self.nodes.len();
        match *op {
            Op::Deliver(i) => self.deliver(i, false),
            Op::Duplicate(i) => self.deliver(i, true),
            Op::Drop(i) => self.drop_message(i),
            Op::Propose(n, v) => self.start_input(n % size, Input::Propose(value(v))),
            Op::Tick(n) => self.start_input(n % size, Input::Tick),
            Op::Crash(n) => self.crash(n % size),
        }
    }

    /// The failure with the steps that led to it, for the report.
    fn report(&self, failure: &RunFailure) -> String {
        let first = failure
            .step
            .saturating_sub(STEPS_SHOWN_BEFORE_FAILURE)
            .max(1);
        let steps = &self.recording.steps()[first - 1..failure.step.max(1) - 1];
        let shown: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("  {:>4}  {}", first + i, s.what))
            .collect();
        let ballots: Vec<String> = (self.recording.ballots().iter().enumerate())
            .map(|(b, real)| format!("{b} = {real}"))
            .collect();
        format!(
            "{failure}\nspec ballots: {}\nsteps before it:\n{}",
            ballots.join(", "),
            shown.join("\n")
        )
    }
}

/// The messages a step sent, each distinct one once with its number of copies.
fn show_sent(envelopes: &[Envelope]) -> String {
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for envelope in envelopes {
        let shown = envelope.message.to_string();
        match distinct.iter_mut().find(|(message, _)| *message == shown) {
            Some((_, copies)) => *copies += 1,
            None => distinct.push((shown, 1)),
        }
    }
    let shown: Vec<String> = distinct
        .into_iter()
        .map(|(message, copies)| match copies {
            1 => message,
            _ => format!("{message} x{copies}"),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// Runs `ops` on a cell of `size` and checks the recorded run against the spec. When the core
/// panics (its debug assertions check the spec's invariants too), the steps recorded until then
/// are checked first: the first step that did not refine the spec says more than the panic.
fn run_and_check(size: u8, disk: Disk, ops: &[Op]) -> Result<RunSummary, String> {
    let mut cell = Cell::new(size, disk);
    let ran = panic::catch_unwind(AssertUnwindSafe(|| {
        for op in ops {
            cell.run(op);
        }
    }));
    let values = (0..VALUES).map(value).collect();
    let summary = (cell.recording.check(values)).map_err(|failure| cell.report(&failure))?;
    match ran {
        Ok(()) => Ok(summary),
        Err(payload) => Err(format!(
            "the core panicked after step {}: {}",
            cell.recording.steps().len(),
            panic_message(payload.as_ref())
        )),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = (payload.downcast_ref::<String>().cloned())
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()));
    text.unwrap_or_else(|| "(no message)".to_string())
}

/// What all the runs did in the spec, to show the check is not vacuous.
#[derive(Debug, Default)]
struct Totals {
    runs: usize,
    steps: usize,
    actions: [usize; 4],
    runs_with_a_chosen_value: usize,
    ballots_max: usize,
}

impl Totals {
    fn add(&mut self, summary: &RunSummary) {
        self.runs += 1;
        self.steps += summary.stutters + summary.actions.iter().sum::<usize>();
        for (total, count) in self.actions.iter_mut().zip(summary.actions) {
            *total += count;
        }
        self.runs_with_a_chosen_value += usize::from(!summary.chosen.is_empty());
        self.ballots_max = self.ballots_max.max(summary.ballots);
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [phase1a, phase1b, phase2a, phase2b] = self.actions;
        write!(
            f,
            "{} runs, {} steps: Phase1a {phase1a}, Phase1b {phase1b}, Phase2a {phase2a}, \
             Phase2b {phase2b}; a value chosen in {} runs; up to {} ballots in a run",
            self.runs, self.steps, self.runs_with_a_chosen_value, self.ballots_max
        )
    }
}

/// The runner of the random runs: 1,024 of them take a few seconds in the dev profile. It is
/// driven by hand, not by the `proptest!` macro, so that the test can sum up what all the runs
/// did once they are over; it saves the seed of a failing case next to this file, as the macro
/// does.
fn runner() -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: 1024,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })
}

/// A cell of 3 or 5 and a run of a few hundred operations.
fn cases() -> impl Strategy<Value = (u8, Vec<Op>)> {
    (
        prop_oneof![Just(3u8), Just(5u8)],
        proptest::collection::vec(op(), 200..400),
    )
}

#[test]
fn long_random_runs_of_a_real_cell_refine_the_spec() {
    let totals = RefCell::new(Totals::default());
    let result = runner().run(&cases(), |(size, ops)| {
        let summary = run_and_check(size, Disk::Durable, &ops).map_err(TestCaseError::fail)?;
        totals.borrow_mut().add(&summary);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let totals = totals.into_inner();
    println!("random_runs: {totals}");
    assert!(
        totals.actions.iter().all(|&count| count > 0),
        "some spec action never ran: {totals}"
    );
    assert!(
        totals.runs_with_a_chosen_value > 0,
        "no run chose a value: {totals}"
    );
    assert!(
        totals.ballots_max >= 3,
        "no run retried in a higher ballot: {totals}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Liveness, which the spec does not state: after any run of faults, a cell whose
    /// messages are delivered in order and whose nodes retry decides, and every node learns.
    #[test]
    fn a_cell_decides_once_the_faults_stop(
        size in prop_oneof![Just(3u8), Just(5u8)],
        ops in proptest::collection::vec(op(), 0..100),
    ) {
        let mut cell = Cell::new(size, Disk::Durable);
        for op in &ops {
            cell.run(op);
        }
        prop_assert!(cell.settle().is_some(), "not every node learned after the faults stopped");
    }
}

#[test]
fn a_node_that_forgets_its_promise_in_a_crash_fails_the_check() {
    // Node 1 starts a ballot, promises it to itself, and crashes with a disk that kept nothing.
    let ops = [Op::Propose(0, 0), Op::Deliver(0), Op::Crash(0)];
    let failure = run_and_check(3, Disk::LosesEverything, &ops).unwrap_err();
    assert!(
        failure.starts_with("step 3 (n1 crashes and restarts)"),
        "{failure}"
    );
    assert!(failure.contains("maxBal[a1]: 0 -> -1"), "{failure}");
}

#[test]
fn random_runs_find_a_node_that_forgets_its_promises_in_crashes() {
    // A fixed seed and no failure persistence: the failure is expected, and always the same.
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let result = TestRunner::new_with_rng(config, rng).run(&cases(), |(size, ops)| {
        run_and_check(size, Disk::LosesEverything, &ops).map_err(TestCaseError::fail)?;
        Ok(())
    });
    let error = result.unwrap_err().to_string();
    println!(
        "random_runs, the broken node: {}",
        error.lines().next().unwrap_or("")
    );
    assert!(error.contains("no spec action"), "{error}");
}
