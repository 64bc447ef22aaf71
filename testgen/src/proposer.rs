//! Proposer scenarios: the promises (`1b` messages) the proposer of ballot 1 may hear.
//!
//! The proposer under test has started ballot 1 (`Phase1a(1)`). The promises that may reach it
//! are one from each acceptor, reporting that acceptor's latest vote; every combination of votes
//! the model can have the acceptors report at once is a prior state. After each delivery the
//! model says which values `Phase2a(1, v)` may propose given the promises delivered so far (none
//! before a quorum promised, none once the proposal was made). Colony's proposer proposes as soon
//! as a quorum promised; that timing is Colony's choice, which the spec allows but does not
//! require, and the harness holds the node to it.

use crate::{bounded_model, combination_name, enumerate, lost_messages, Row};
use colony_model::paxos::{Action, Msg, PaxosModel, PaxosState, Value};
use stateright::Model;
use std::collections::BTreeSet;

/// The ballot the proposer under test drives.
pub const BALLOT: i8 = 1;

/// One delivery and the values the spec allows the proposer to propose right after it (empty:
/// it must not propose).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The promise delivered.
    pub deliver: Msg,
    /// The values `v` for which `Phase2a(BALLOT, v)` is enabled after this delivery.
    pub allowed: Vec<Value>,
}

/// One generated test.
pub type Case = crate::Case<Step>;

/// One set of promises in flight: one per acceptor, as the model can have them at once.
pub struct Scenario {
    /// The file-name label.
    pub label: String,
    /// The promises, acceptor 1 first.
    pub messages: Vec<Msg>,
}

/// Every case for a cell of `n`, per scenario, and the report row.
pub fn cases(n: u8) -> (Vec<(Scenario, Vec<Case>)>, Row) {
    let model = bounded_model(n);
    let (all, combinations) = enumerate(
        scenarios(&model, n),
        |s| &s.messages,
        |scenario, sequence| case(&model, n, &scenario.messages, sequence),
    );
    let tests = all.iter().map(|(_, cases)| cases.len() as u64).sum();
    let row = Row {
        role: "proposer",
        n,
        combinations,
        tests,
        coverage: format!("{0} of {0} promise sets", all.len()),
        uncovered: Vec::new(),
    };
    (all, row)
}

/// The sets of promises for ballot 1 that all acceptors can have sent at once, in order.
fn scenarios(model: &PaxosModel, n: u8) -> Vec<Scenario> {
    let mut sets = BTreeSet::new();
    for state in crate::acceptor::reachable_states(model) {
        let promises: Vec<Msg> = state
            .msgs
            .iter()
            .filter(|m| matches!(*m, Msg::M1b { bal: BALLOT, .. }))
            .collect();
        if promises.len() == usize::from(n) {
            sets.insert(promises);
        }
    }
    sets.into_iter()
        .map(|messages| Scenario {
            label: label(&messages),
            messages,
        })
        .collect()
}

/// `reports_none_b0v1_none`: what each acceptor's promise reports.
fn label(promises: &[Msg]) -> String {
    let reports: Vec<String> = promises
        .iter()
        .map(|m| match *m {
            Msg::M1b { mbal: -1, .. } => "none".to_string(),
            Msg::M1b { mbal, mval, .. } => format!("b{mbal}v{mval}"),
            _ => unreachable!("scenarios hold promises only"),
        })
        .collect();
    format!("reports_{}", reports.join("_"))
}

fn case(model: &PaxosModel, n: u8, messages: &[Msg], sequence: &[usize]) -> Case {
    let mut state = PaxosState::init(usize::from(n));
    state.msgs.insert(Msg::M1a { bal: BALLOT });
    let mut steps = Vec::with_capacity(sequence.len());
    for &index in sequence {
        let deliver = messages[index];
        state.msgs.insert(deliver);
        let allowed = allowed_values(model, &state);
        if let Some(&first) = allowed.first() {
            // Colony proposes at once; what it proposes must be allowed, so any allowed value
            // stands for the proposal in the model's state from now on.
            state.msgs.insert(Msg::M2a {
                bal: BALLOT,
                val: first,
            });
        }
        steps.push(Step { deliver, allowed });
    }
    let lost = lost_messages(messages, sequence);
    let delivered: Vec<Msg> = steps.iter().map(|step| step.deliver).collect();
    let label = label(messages);
    Case {
        name: combination_name(&format!("proposer_n{n}_{label}"), &delivered, &lost),
        steps,
        lost,
    }
}

/// The values `v` for which the model enables `Phase2a(BALLOT, v)` (with any quorum witness).
fn allowed_values(model: &PaxosModel, state: &PaxosState) -> Vec<Value> {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    let values: BTreeSet<Value> = actions
        .into_iter()
        .filter_map(|action| match action {
            Action::Phase2a { b: BALLOT, v, .. } => Some(v),
            _ => None,
        })
        .collect();
    values.into_iter().collect()
}
