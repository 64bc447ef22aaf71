//! Learner scenarios: the votes (`2b` messages) a learner may hear from the acceptors of its cell.
//!
//! The spec has no learner action: a learner may report `v` exactly when the votes it has heard
//! make `Chosen(v)` true, that is when a quorum voted for `v` in one ballot. So after each
//! delivery the model's `Chosen`, evaluated on the set of votes delivered so far, says whether
//! the learner must have learned, and what.

use crate::tables::{classes_up_to_sender, expectations_by_set, TableCase};
use crate::{bounded_model, combination_name, enumerate, lost_messages, Row};
use colony_model::paxos::{chosen, Msg, PaxosModel, PaxosState, Value};

/// One round as the learner may see it.
pub struct Scenario {
    /// The file-name label.
    pub label: &'static str,
    /// The votes that may arrive, each lost, delivered once or twice, in any order.
    pub messages: Vec<Msg>,
}

/// One delivery and whether the learner must report a value at that step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The vote delivered.
    pub deliver: Msg,
    /// The value the learner must report at this step: the first step at which it is chosen.
    pub learned: Option<Value>,
}

/// One generated test.
pub type Case = crate::Case<Step>;

/// The rounds: every acceptor votes for `v1` in ballot 0; or a minority votes for `v1` in
/// ballot 0 and a majority in ballot 1, so that a learner counting votes across ballots would
/// learn before the spec allows it.
pub fn scenarios(n: u8) -> Vec<Scenario> {
    let vote = |acc: u8, bal: i8| Msg::M2b { acc, bal, val: 1 };
    let minority = n / 2;
    vec![
        Scenario {
            label: "one_ballot",
            messages: (1..=n).map(|a| vote(a, 0)).collect(),
        },
        Scenario {
            label: "two_ballots",
            messages: (1..=n)
                .map(|a| vote(a, if a <= minority { 0 } else { 1 }))
                .collect(),
        },
    ]
}

/// Every case for a cell of `n`, per scenario, and the report row.
pub fn cases(n: u8) -> (Vec<(Scenario, Vec<Case>)>, Row) {
    assert_eq!(
        n, 3,
        "cells of 5 and 7 need folding, which the learner does not do yet"
    );
    let model = bounded_model(n);
    let (all, combinations) = enumerate(
        scenarios(n),
        |s| &s.messages,
        |scenario, sequence| case(&model, n, &scenario.messages, sequence),
    );
    let tests = all.iter().map(|(_, cases)| cases.len() as u64).sum();
    let row = Row {
        role: "learner",
        n,
        combinations,
        tests,
        coverage: "n/a: no spec action".to_string(),
        uncovered: Vec::new(),
    };
    (all, row)
}

/// A table-driven case: for every set of votes (a bit per message) after which a value is
/// chosen, that value.
pub type Table = TableCase<(u8, Value)>;

/// The table-driven cases for a cell of 5 or 7, and the report row.
pub fn tables(n: u8) -> (Vec<Table>, Row) {
    let model = bounded_model(n);
    let tables: Vec<Table> = scenarios(n)
        .into_iter()
        .map(|scenario| table(&model, n, scenario))
        .collect();
    let row = Row {
        role: "learner",
        n,
        combinations: tables.iter().map(|t| t.combinations).sum(),
        tests: tables.len() as u64,
        coverage: "n/a: no spec action".to_string(),
        uncovered: Vec::new(),
    };
    (tables, row)
}

fn table(model: &PaxosModel, n: u8, scenario: Scenario) -> Table {
    let classes = classes_up_to_sender(&scenario.messages);
    let (combinations, by_set) =
        expectations_by_set(&classes, colony_model::deliveries::COPIES_MAX, |set| {
            let mut heard = PaxosState::init(usize::from(n));
            for (i, &m) in scenario.messages.iter().enumerate() {
                if set & (1 << i) != 0 {
                    heard.msgs.insert(m);
                }
            }
            let values = chosen(model, &heard);
            assert!(
                values.len() <= 1,
                "Agreement holds among the scenario's votes"
            );
            values.first().copied()
        });
    let rows = by_set
        .into_iter()
        .filter_map(|(set, value)| Some((set, value?)))
        .collect();
    Table {
        name: format!("learner_n{n}_{}", scenario.label),
        messages: scenario.messages,
        classes,
        rows,
        combinations,
    }
}

fn case(model: &PaxosModel, n: u8, messages: &[Msg], sequence: &[usize]) -> Case {
    let mut heard = PaxosState::init(usize::from(n));
    let mut learned_before = false;
    let mut steps = Vec::with_capacity(sequence.len());
    for &index in sequence {
        let deliver = messages[index];
        heard.msgs.insert(deliver);
        let values = chosen(model, &heard);
        assert!(
            values.len() <= 1,
            "Agreement holds among the scenario's votes"
        );
        let learned = values.first().copied().filter(|_| !learned_before);
        learned_before |= learned.is_some();
        steps.push(Step { deliver, learned });
    }
    let lost = lost_messages(messages, sequence);
    let delivered: Vec<Msg> = steps.iter().map(|step| step.deliver).collect();
    let name = combination_name(&format!("learner_n{n}"), &delivered, &lost);
    Case { name, steps, lost }
}
