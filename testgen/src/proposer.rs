//! Proposer scenarios: the promises (`1b` messages) the proposer of ballot 1 may hear.
//!
//! The proposer under test has started ballot 1 (`Phase1a(1)`). The promises that may reach it
//! are one from each acceptor, reporting that acceptor's latest vote; every combination of votes
//! the model can have the acceptors report at once is a prior state. After each delivery the
//! model says which values `Phase2a(1, v)` may propose given the promises delivered so far (none
//! before a quorum promised, none once the proposal was made). Colony's proposer proposes as soon
//! as a quorum promised; that timing is Colony's choice, which the spec allows but does not
//! require, and the harness holds the node to it.

use crate::tables::{classes_up_to_sender, expectations_by_set, TableCase};
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
    for state in crate::reachable::all(model) {
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

/// A table-driven case: for every set of promises (a bit per message) after which the spec
/// allows a proposal, the values it allows.
pub type Table = TableCase<(u8, Vec<Value>)>;

/// The table-driven cases for a cell of 5 or 7, and the report row. `reachable` is
/// [`crate::reachable::up_to_acceptor_permutation`] of the bounded model.
pub fn tables(n: u8, reachable: &[PaxosState]) -> (Vec<Table>, Row) {
    let model = bounded_model(n);
    let tables: Vec<Table> = promise_multisets(reachable, n)
        .into_iter()
        .map(|messages| table(&model, n, messages))
        .collect();
    let row = Row {
        role: "proposer",
        n,
        combinations: tables.iter().map(|t| t.combinations).sum(),
        tests: tables.len() as u64,
        coverage: format!("{0} of {0} promise multisets", tables.len()),
        uncovered: Vec::new(),
    };
    (tables, row)
}

/// The sets of promises for ballot 1 that all acceptors can have sent at once, one per orbit
/// under permutations of the acceptors: the reports sorted, acceptor 1 reporting the least.
fn promise_multisets(reachable: &[PaxosState], n: u8) -> BTreeSet<Vec<Msg>> {
    let mut multisets = BTreeSet::new();
    for state in reachable {
        let mut reports: Vec<(i8, Value)> = state
            .msgs
            .iter()
            .filter_map(|m| match m {
                Msg::M1b {
                    bal: BALLOT,
                    mbal,
                    mval,
                    ..
                } => Some((mbal, mval)),
                _ => None,
            })
            .collect();
        if reports.len() == usize::from(n) {
            reports.sort();
            let promises = (1..=n).zip(reports).map(|(acc, (mbal, mval))| Msg::M1b {
                acc,
                bal: BALLOT,
                mbal,
                mval,
            });
            multisets.insert(promises.collect());
        }
    }
    multisets
}

fn table(model: &PaxosModel, n: u8, messages: Vec<Msg>) -> Table {
    let classes = classes_up_to_sender(&messages);
    let (combinations, by_set) =
        expectations_by_set(&classes, colony_model::deliveries::COPIES_MAX, |set| {
            let mut state = PaxosState::init(usize::from(n));
            state.msgs.insert(Msg::M1a { bal: BALLOT });
            for (i, &m) in messages.iter().enumerate() {
                if set & (1 << i) != 0 {
                    state.msgs.insert(m);
                }
            }
            let allowed = allowed_values(model, &state);
            // The harness holds the node to one proposal: once `Phase2a(1, v)` has sent a 2a, the
            // spec allows no other in ballot 1, whatever arrives next.
            for &v in &allowed {
                let mut proposed = state.clone();
                proposed.msgs.insert(Msg::M2a {
                    bal: BALLOT,
                    val: v,
                });
                assert!(allowed_values(model, &proposed).is_empty());
            }
            allowed
        });
    let rows = by_set
        .into_iter()
        .filter(|(_, allowed)| !allowed.is_empty())
        .collect();
    Table {
        name: format!("proposer_n{n}_{}", multiset_label(&messages)),
        messages,
        classes,
        rows,
        combinations,
    }
}

/// `reports_4xnone_3xb0v1`: how many promises report each vote.
fn multiset_label(promises: &[Msg]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for report in label(promises).trim_start_matches("reports_").split('_') {
        match counts.last_mut() {
            Some((last, count)) if last == report => *count += 1,
            _ => counts.push((report.to_string(), 1)),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(report, count)| format!("{count}x{report}"))
        .collect();
    format!("reports_{}", parts.join("_"))
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
