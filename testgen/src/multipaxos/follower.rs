//! Follower scenarios: what acceptor `a1` may see from the leaders of ballots 0 and 1.
//!
//! Its prior states are every value of `(maxBal[a1], votes[a1])` the model reaches (see
//! [`super::bounded_model`]). The messages that may reach it are a scenario's: leaders'
//! requests for promises and proposals in both slots. For every prior state and every
//! combination of losing, delivering once or twice, and ordering those messages, the model says
//! after each delivery what the acceptor does: `Phase1b(a1)` or `Phase2b(a1)` with that message
//! as witness is either enabled, and then the spec's next state fixes exactly what the acceptor
//! persists and sends, or not, and then it must do nothing.
//!
//! The acceptor's transitions do not depend on the cell's size, so one table serves cells of
//! 3, 5 and 7 (the harness walks each); nothing is folded: the messages come from leaders and
//! no two are interchangeable.

use crate::tables::{transition_case, TableCase};
use crate::Row;
use colony_model::multipaxos::{
    Action, Msg, MultiPaxosModel, MultiPaxosState, Vote, NO_OP, NO_VOTE, SLOTS_MAX,
};
use stateright::Model;
use std::collections::BTreeSet;

/// The acceptor under test: the spec's `a1`.
pub const ACCEPTOR: u8 = 1;

/// The slots of the bounded configuration.
pub const SLOTS: usize = 2;

/// An acceptor's variables: the spec's `maxBal[a]`, `votes[a]` (slot 1 first) and
/// `compacted[a]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Local {
    /// `maxBal[a]`.
    pub max_bal: i8,
    /// `votes[a][s]`.
    pub votes: [Vote; SLOTS],
    /// `compacted[a]`: no message changes it, so it is the same all through a round.
    pub compacted: u8,
}

/// The spec's outcome of a delivery: the acceptor's new variables and the message it sends,
/// or `None` when the action is not enabled.
pub type Outcome = Option<(Local, Msg)>;

/// One scenario: a name for its tests and the messages that may reach the acceptor.
pub struct Scenario {
    /// The name's label.
    pub label: &'static str,
    /// The messages, each lost, delivered once or twice, in any order.
    pub messages: Vec<Msg>,
}

/// A table-driven case: one prior state, and the spec's outcome of every message of the
/// scenario from every state the acceptor passes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The acceptor's variables before the round.
    pub prior: Local,
    /// The scenario and its rows `(variables, message, outcome)`.
    pub case: TableCase<(Local, Msg, Outcome), Msg>,
}

const C1: i8 = 1;

fn m1a(bal: i8) -> Msg {
    Msg::M1a { bal }
}

fn m2a(bal: i8, slot: u8, val: i8) -> Msg {
    Msg::M2a { bal, slot, val }
}

/// The rounds the generator enumerates, each of messages a leader can send in the bounded
/// configuration. Between them they exercise every transition of `a1` the model can take (the
/// report names any they miss).
pub fn scenarios() -> Vec<Scenario> {
    vec![
        // Leader 0 proposes in both slots, in any order, while leader 1 asks for promises.
        Scenario {
            label: "two_slots_and_a_new_leader",
            messages: vec![m1a(1), m2a(0, 1, C1), m2a(0, 2, C1)],
        },
        // Leader 0's proposal for slot 2 arrived where slot 1's was lost: leader 1 fills the
        // hole in slot 1 with NoOp.
        Scenario {
            label: "hole_filled_by_a_new_leader",
            messages: vec![m2a(0, 2, C1), m1a(1), m2a(1, 1, NO_OP)],
        },
        // Leader 1 proposes again, in slot 1, the command leader 0 proposed there.
        Scenario {
            label: "new_leader_reproposes",
            messages: vec![m2a(0, 1, C1), m1a(1), m2a(1, 1, C1)],
        },
        // Leader 0 asks for promises and proposes slot 1; leader 1 proposes slot 2.
        Scenario {
            label: "old_and_new_leader_proposing",
            messages: vec![m1a(0), m2a(0, 1, C1), m2a(1, 2, C1)],
        },
    ]
}

/// The follower's tables, per scenario, and a report row for each cell size.
/// `reachable` is every state of `model`, [`super::bounded_model`].
pub fn tables(
    model: &MultiPaxosModel,
    reachable: &[MultiPaxosState],
) -> (Vec<(Scenario, Vec<Table>)>, Vec<Row>) {
    let priors: BTreeSet<Local> = reachable.iter().map(local_of).collect();
    let transitions = transitions_of(model, reachable);
    tables_from(model, priors, transitions, "mp follower")
}

/// The tables of an acceptor that compacted, and their report rows: prior states are every
/// `(maxBal, votes, compacted)` with `compacted > 0` that some acceptor of `model` reaches,
/// from `folded`, its reachable states up to acceptor permutation (by symmetry, the variables
/// some acceptor holds in some state are those `a1` holds in some state).
pub fn compacted_tables(
    model: &MultiPaxosModel,
    folded: &[MultiPaxosState],
) -> (Vec<(Scenario, Vec<Table>)>, Vec<Row>) {
    let acceptors = 1..=model.constants.num_acceptors;
    let priors: BTreeSet<Local> = folded
        .iter()
        .flat_map(|state| acceptors.clone().map(|a| local(state, a)))
        .filter(|local| local.compacted > 0)
        .collect();
    let transitions = every_acceptors_transitions(model, folded)
        .into_iter()
        .filter(|(from, _, _)| from.compacted > 0)
        .collect();
    tables_from(model, priors, transitions, "mp follower k1")
}

fn tables_from(
    model: &MultiPaxosModel,
    priors: BTreeSet<Local>,
    reachable_transitions: BTreeSet<Transition>,
    role: &'static str,
) -> (Vec<(Scenario, Vec<Table>)>, Vec<Row>) {
    let mut all = Vec::new();
    let mut covered = BTreeSet::new();
    for scenario in scenarios() {
        let tables: Vec<Table> = priors
            .iter()
            .filter(|&&prior| consistent(prior, &scenario.messages))
            .map(|&prior| table(model, prior, &scenario))
            .collect();
        for table in &tables {
            let rows = table.case.rows.iter();
            covered.extend(rows.filter_map(|&(from, m, outcome)| Some((from, m, outcome?.0))));
        }
        all.push((scenario, tables));
    }
    let tables = all.iter().flat_map(|(_, tables)| tables);
    let combinations: u64 = tables.clone().map(|t| t.case.combinations).sum();
    let tests = tables.count() as u64;
    let coverage = format!(
        "{} of {} transitions",
        reachable_transitions.intersection(&covered).count(),
        reachable_transitions.len()
    );
    let uncovered: Vec<String> = reachable_transitions
        .difference(&covered)
        .map(|&(from, m, to)| format!("a1 {} <- {m} -> {}", show_local(from), show_local(to)))
        .collect();
    let rows = [3, 5, 7]
        .into_iter()
        .map(|n| Row {
            role,
            n,
            combinations,
            tests,
            coverage: coverage.clone(),
            uncovered: uncovered.clone(),
        })
        .collect();
    (all, rows)
}

/// False when the prior state voted in a slot and ballot for another value than a proposal of
/// the scenario: the spec's leader proposes one value per slot and ballot (`OneValuePerBallot`),
/// so no reachable state holds both, and the acceptor can never see that combination.
fn consistent(prior: Local, messages: &[Msg]) -> bool {
    messages.iter().all(|&m| match m {
        Msg::M2a { bal, slot, val } => {
            let vote = prior.votes[usize::from(slot) - 1];
            vote.bal != bal || vote.val == val
        }
        _ => true,
    })
}

fn table(model: &MultiPaxosModel, prior: Local, scenario: &Scenario) -> Table {
    let name = format!("mp_follower_{}_{}", scenario.label, prior_label(prior));
    let case = transition_case(name, prior, scenario.messages.clone(), |local, m| {
        expect(model, local, m)
    });
    Table { prior, case }
}

/// Asks the model what acceptor `a1` with variables `local` does when `m` arrives.
fn expect(model: &MultiPaxosModel, local: Local, m: Msg) -> Outcome {
    let mut state = MultiPaxosState::init(3, 1);
    state.max_bal[0] = local.max_bal;
    state.votes[0][..SLOTS].copy_from_slice(&local.votes);
    state.compacted[0] = local.compacted;
    state.msgs.insert(m);
    let action = match m {
        Msg::M1a { .. } => Action::Phase1b { a: ACCEPTOR, m },
        Msg::M2a { .. } => Action::Phase2b { a: ACCEPTOR, m },
        Msg::M1b { .. } | Msg::M2b { .. } => unreachable!("an acceptor receives 1a and 2a only"),
    };
    // The model checks guards when it lists the enabled actions, not in `next_state`.
    let mut enabled = Vec::new();
    model.actions(&state, &mut enabled);
    if !enabled.contains(&action) {
        return None;
    }
    let next = model.next_state(&state, action)?;
    let mut sent = next.msgs.difference(&state.msgs);
    let message = sent
        .next()
        .expect("an enabled acceptor action sends a message");
    assert!(
        sent.next().is_none(),
        "an acceptor action sends one message"
    );
    Some((local_of(&next), message))
}

/// Acceptor `a1`'s variables in `state`.
fn local_of(state: &MultiPaxosState) -> Local {
    local(state, ACCEPTOR)
}

/// Acceptor `a`'s variables in `state`.
fn local(state: &MultiPaxosState, a: u8) -> Local {
    let i = usize::from(a) - 1;
    let votes = &state.votes[i];
    assert!(votes[SLOTS..SLOTS_MAX].iter().all(|&v| v == NO_VOTE));
    Local {
        max_bal: state.max_bal[i],
        votes: [votes[0], votes[1]],
        compacted: state.compacted[i],
    }
}

/// Every transition of any acceptor the model takes from a state of `states`, as a
/// transition of its variables.
fn every_acceptors_transitions(
    model: &MultiPaxosModel,
    states: &[MultiPaxosState],
) -> BTreeSet<Transition> {
    let mut transitions = BTreeSet::new();
    let mut actions = Vec::new();
    for state in states {
        model.actions(state, &mut actions);
        for action in actions.drain(..) {
            let (a, m) = match action {
                Action::Phase1b { a, m } | Action::Phase2b { a, m } => (a, m),
                _ => continue,
            };
            if let Some(next) = model.next_state(state, action) {
                transitions.insert((local(state, a), m, local(&next, a)));
            }
        }
    }
    transitions
}

/// A per-acceptor transition: its variables before, the message it acted on, after.
type Transition = (Local, Msg, Local);

/// Every transition of `a1` the model takes from a reachable state.
fn transitions_of(model: &MultiPaxosModel, reachable: &[MultiPaxosState]) -> BTreeSet<Transition> {
    let mut transitions = BTreeSet::new();
    let mut actions = Vec::new();
    for state in reachable {
        model.actions(state, &mut actions);
        for action in actions.drain(..) {
            let m = match action {
                Action::Phase1b { a: ACCEPTOR, m } | Action::Phase2b { a: ACCEPTOR, m } => m,
                _ => continue,
            };
            if let Some(next) = model.next_state(state, action) {
                transitions.insert((local_of(state), m, local_of(&next)));
            }
        }
    }
    transitions
}

/// `(maxBal, [vote of s1, vote of s2])` as the spec prints it, with `compacted=k` when the
/// acceptor compacted.
pub fn show_local(local: Local) -> String {
    let compacted = match local.compacted {
        0 => String::new(),
        k => format!(", compacted={k}"),
    };
    format!(
        "({}, [{}, {}]{compacted})",
        local.max_bal, local.votes[0], local.votes[1]
    )
}

fn prior_label(prior: Local) -> String {
    let mut label = match prior.max_bal {
        -1 => "promised_none".to_string(),
        b => format!("promised_b{b}"),
    };
    for (slot, vote) in (1..).zip(prior.votes) {
        label += &match vote {
            NO_VOTE => format!("_s{slot}_unvoted"),
            Vote { bal, val: NO_OP } => format!("_s{slot}_b{bal}_noop"),
            Vote { bal, val } => format!("_s{slot}_b{bal}_c{val}"),
        };
    }
    if prior.compacted > 0 {
        label += &format!("_compacted_s{}", prior.compacted);
    }
    label
}
