//! Acceptor scenarios: what one acceptor may see in a round contested by two proposers.
//!
//! The acceptor under test is the spec's `a1`. Its prior states are every value of
//! `(maxBal[a1], maxVBal[a1], maxVal[a1])` that the model reaches with 3 acceptors, 2 values and
//! ballots `0..1`. The messages that may reach it are [`round_messages`]: the proposer of ballot 1
//! asking for a promise and both proposers' proposals. For every prior state and every
//! combination of losing, delivering once or twice, and ordering those messages, the model says
//! after each delivery what the acceptor may do: `Phase1b(a1)` or `Phase2b(a1)` with that message
//! as witness is either enabled, and then the spec's next state fixes exactly what the acceptor
//! persists and sends, or not enabled, and then the acceptor must do nothing.

use crate::tables::{transition_case, TableCase};
use crate::{bounded_model, combination_name, lost_messages, Row};
use colony_model::deliveries;
use colony_model::paxos::{Action, Msg, PaxosModel, PaxosState, ShowValue};
use stateright::Model;
use std::collections::BTreeSet;

/// The acceptor under test: the spec's `a1`.
pub const ACCEPTOR: u8 = 1;

/// An acceptor's variables: the spec's `maxBal[a]`, `maxVBal[a]` and `maxVal[a]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Local {
    /// `maxBal[a]`.
    pub max_bal: i8,
    /// `maxVBal[a]`.
    pub max_vbal: i8,
    /// `maxVal[a]`.
    pub max_val: u8,
}

/// One delivery and what the spec says the acceptor does with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The message delivered.
    pub deliver: Msg,
    /// The acceptor's new variables and the message it sends, or `None` when the spec's action
    /// is not enabled and the acceptor must do nothing.
    pub outcome: Option<(Local, Msg)>,
}

/// One generated test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The test's name, describing the combination.
    pub name: String,
    /// The acceptor's variables before the round.
    pub prior: Local,
    /// The deliveries, in order.
    pub steps: Vec<Step>,
    /// The messages of the round that never arrive.
    pub lost: Vec<Msg>,
}

/// One round as the acceptor may see it: a name for the generated file, and the messages that
/// may reach the acceptor.
pub struct Scenario {
    /// The file-name label.
    pub label: &'static str,
    /// The messages that may arrive, each lost, delivered once or twice, in any order.
    pub messages: Vec<Msg>,
}

/// The rounds the generator enumerates. In the first, the proposer of ballot 1 asks for a
/// promise while the proposers of ballots 0 and 1 propose different values; in the second, the
/// proposer of ballot 0 asks and the values are swapped. Between them they exercise every
/// transition of `a1` the model can take (the generator prints any it misses).
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            label: "prepare_b1",
            messages: vec![
                Msg::M1a { bal: 1 },
                Msg::M2a { bal: 0, val: 1 },
                Msg::M2a { bal: 1, val: 2 },
            ],
        },
        Scenario {
            label: "prepare_b0",
            messages: vec![
                Msg::M1a { bal: 0 },
                Msg::M2a { bal: 0, val: 2 },
                Msg::M2a { bal: 1, val: 1 },
            ],
        },
    ]
}

/// Every case for a cell of `n`, per scenario, and the report row.
pub fn cases(n: u8) -> (Vec<(Scenario, Vec<Case>)>, Row) {
    let model = bounded_model(n);
    let reachable = crate::reachable::all(&model);
    let priors: BTreeSet<Local> = reachable.iter().map(|s| local_of(s, ACCEPTOR)).collect();
    let mut all = Vec::new();
    let mut combinations = 0;
    let mut tests = 0;
    let mut covered = BTreeSet::new();
    for scenario in scenarios() {
        let classes: Vec<u8> = (0..scenario.messages.len() as u8).collect();
        let mut cases = Vec::new();
        for &prior in &priors {
            combinations += deliveries::for_each(&classes, &mut |sequence| {
                cases.push(case(&model, n, prior, &scenario.messages, sequence));
            });
        }
        tests += cases.len() as u64;
        covered.extend(covered_transitions(&cases));
        all.push((scenario, cases));
    }
    let reachable_transitions = transitions_of(&model, &reachable, &[ACCEPTOR]);
    let row = report(n, combinations, tests, &reachable_transitions, &covered);
    (all, row)
}

/// The report row: counts, and which reachable transitions the cases cover.
fn report(
    n: u8,
    combinations: u64,
    tests: u64,
    reachable: &BTreeSet<Transition>,
    covered: &BTreeSet<Transition>,
) -> Row {
    Row {
        role: "acceptor",
        n,
        combinations,
        tests,
        coverage: format!(
            "{} of {} transitions",
            reachable.intersection(covered).count(),
            reachable.len()
        ),
        uncovered: reachable.difference(covered).map(show_transition).collect(),
    }
}

/// The spec's outcome of a delivery: the acceptor's new variables and the message it sends,
/// or `None` when the action is not enabled.
pub type Outcome = Option<(Local, Msg)>;

/// A table-driven case for a cell of 5 or 7: one prior state, and the spec's outcome of every
/// message of the scenario from every state the acceptor passes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The acceptor's variables before the round.
    pub prior: Local,
    /// The scenario and its rows `(variables, message, outcome)`.
    pub case: TableCase<(Local, Msg, Outcome)>,
}

/// The table-driven cases for a cell of 5 or 7, per scenario, and the report row. Prior
/// states and transitions come from the states the model reaches up to a permutation of the
/// acceptors, taking every acceptor's variables: by symmetry, those are exactly the variables
/// and transitions acceptor 1 can have.
/// `reachable` is [`crate::reachable::up_to_acceptor_permutation`] of the bounded model.
pub fn tables(n: u8, reachable: &[PaxosState]) -> (Vec<(Scenario, Vec<Table>)>, Row) {
    let model = bounded_model(n);
    let everyone: Vec<u8> = (1..=n).collect();
    let priors: BTreeSet<Local> = reachable
        .iter()
        .flat_map(|s| everyone.iter().map(|&a| local_of(s, a)))
        .collect();
    let mut all = Vec::new();
    let mut covered = BTreeSet::new();
    for scenario in scenarios() {
        let tables: Vec<Table> = priors
            .iter()
            .map(|&prior| table(&model, n, prior, &scenario))
            .collect();
        for table in &tables {
            covered.extend(
                table
                    .case
                    .rows
                    .iter()
                    .filter_map(|&(from, m, outcome)| outcome.map(|(to, _)| (from, m, to))),
            );
        }
        all.push((scenario, tables));
    }
    let tables = all.iter().flat_map(|(_, tables)| tables);
    let combinations = tables.clone().map(|t| t.case.combinations).sum();
    let tests = tables.count() as u64;
    let reachable_transitions = transitions_of(&model, reachable, &everyone);
    let row = report(n, combinations, tests, &reachable_transitions, &covered);
    (all, row)
}

fn table(model: &PaxosModel, n: u8, prior: Local, scenario: &Scenario) -> Table {
    let name = format!("acceptor_n{n}_{}_{}", scenario.label, prior_label(prior));
    let case = transition_case(name, prior, scenario.messages.clone(), |local, m| {
        expect(model, n, local, m)
    });
    Table { prior, case }
}

fn case(model: &PaxosModel, n: u8, prior: Local, messages: &[Msg], sequence: &[usize]) -> Case {
    let mut current = prior;
    let mut steps = Vec::with_capacity(sequence.len());
    for &index in sequence {
        let deliver = messages[index];
        let outcome = expect(model, n, current, deliver);
        if let Some((next, _)) = outcome {
            current = next;
        }
        steps.push(Step { deliver, outcome });
    }
    let lost = lost_messages(messages, sequence);
    let delivered: Vec<Msg> = steps.iter().map(|step| step.deliver).collect();
    let prefix = format!("acceptor_n{n}_{}", prior_label(prior));
    let name = combination_name(&prefix, &delivered, &lost);
    Case {
        name,
        prior,
        steps,
        lost,
    }
}

/// Asks the model what acceptor `a1` in state `local` does when `m` arrives.
fn expect(model: &PaxosModel, n: u8, local: Local, m: Msg) -> Option<(Local, Msg)> {
    let mut state = PaxosState::init(usize::from(n));
    state.max_bal[0] = local.max_bal;
    state.max_vbal[0] = local.max_vbal;
    state.max_val[0] = local.max_val;
    state.msgs.insert(m);
    let action = match m {
        Msg::M1a { .. } => Action::Phase1b { a: ACCEPTOR, m },
        Msg::M2a { .. } => Action::Phase2b { a: ACCEPTOR, m },
        Msg::M1b { .. } | Msg::M2b { .. } => unreachable!("an acceptor receives 1a and 2a only"),
    };
    let next = model.next_state(&state, action)?;
    let mut sent = next.msgs.difference(&state.msgs);
    let message = sent
        .next()
        .expect("an enabled acceptor action sends one message");
    assert!(
        sent.next().is_none(),
        "an acceptor action sends exactly one message"
    );
    Some((local_of(&next, ACCEPTOR), message))
}

/// Acceptor `a`'s variables in `state`.
fn local_of(state: &PaxosState, a: u8) -> Local {
    let i = usize::from(a) - 1;
    Local {
        max_bal: state.max_bal[i],
        max_vbal: state.max_vbal[i],
        max_val: state.max_val[i],
    }
}

/// A per-node transition: the acceptor's variables before, the message it acted on, after.
type Transition = (Local, Msg, Local);

/// Every transition of an acceptor in `acceptors` the model takes from a reachable state.
fn transitions_of(
    model: &PaxosModel,
    reachable: &[PaxosState],
    acceptors: &[u8],
) -> BTreeSet<Transition> {
    let mut transitions = BTreeSet::new();
    let mut actions = Vec::new();
    for state in reachable {
        model.actions(state, &mut actions);
        for action in actions.drain(..) {
            let (a, m) = match action {
                Action::Phase1b { a, m } | Action::Phase2b { a, m } => (a, m),
                _ => continue,
            };
            if !acceptors.contains(&a) {
                continue;
            }
            if let Some(next) = model.next_state(state, action) {
                transitions.insert((local_of(state, a), m, local_of(&next, a)));
            }
        }
    }
    transitions
}

fn show_transition(&(before, m, after): &Transition) -> String {
    let show = |l: Local| format!("({}, {}, {})", l.max_bal, l.max_vbal, ShowValue(l.max_val));
    format!("a{ACCEPTOR} {} <- {m} -> {}", show(before), show(after))
}

fn covered_transitions(cases: &[Case]) -> BTreeSet<Transition> {
    let mut covered = BTreeSet::new();
    for case in cases {
        let mut current = case.prior;
        for step in &case.steps {
            if let Some((next, _)) = step.outcome {
                covered.insert((current, step.deliver, next));
                current = next;
            }
        }
    }
    covered
}

fn prior_label(prior: Local) -> String {
    let promised = match prior.max_bal {
        -1 => "promised_none".to_string(),
        b => format!("promised_b{b}"),
    };
    let voted = match prior.max_vbal {
        -1 => "unvoted".to_string(),
        b => format!("voted_b{b}_v{}", prior.max_val),
    };
    format!("{promised}_{voted}")
}

/// `1a_b1`, `2a_b0_v1`.
pub fn message_label(m: Msg) -> String {
    match m {
        Msg::M1a { bal } => format!("1a_b{bal}"),
        Msg::M2a { bal, val } => format!("2a_b{bal}_v{val}"),
        Msg::M1b { acc, bal, .. } => format!("1b_a{acc}_b{bal}"),
        Msg::M2b { acc, bal, val } => format!("2b_a{acc}_b{bal}_v{val}"),
    }
}
