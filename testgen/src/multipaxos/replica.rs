//! Replica scenarios: replica 1 hearing votes (`2b`) for both slots, from several acceptors and
//! ballots, lost, duplicated and reordered.
//!
//! After every set of votes heard, the model says what the replica has applied: starting from
//! an empty log, `Apply(r1)` taken as long as it is enabled (it applies the next slot once a
//! quorum voted for one value there in one ballot, `ChosenValues`). The replica must report each
//! slot exactly when it joins that prefix, in slot order: a slot decided before the slots below
//! it waits for them.

use crate::tables::{expectations_by_set, TableCase};
use crate::Row;
use colony_model::deliveries::COPIES_MAX;
use colony_model::multipaxos::{Action, Msg, MultiPaxosModel, MultiPaxosState, Value, NO_OP};
use stateright::Model;

/// A replica scenario's table: per set of votes heard (a bit per message), the log applied
/// after it, by the model (sets after which nothing is applied are left out).
pub type Table = TableCase<(u8, Vec<Value>), Msg>;

fn m2b(acc: u8, bal: i8, slot: u8, val: Value) -> Msg {
    Msg::M2b {
        acc,
        bal,
        slot,
        val,
    }
}

const C1: Value = 1;

/// The scenarios: a name and the votes that may arrive. Each set of votes is one the model can
/// have in flight at once (checked against its reachable states).
pub fn scenarios() -> Vec<(&'static str, Vec<Msg>)> {
    vec![
        // Slot 2 may be decided before slot 1, and then waits for it.
        (
            "slots_decided_out_of_order",
            vec![
                m2b(1, 0, 2, C1),
                m2b(2, 0, 2, C1),
                m2b(1, 0, 1, C1),
                m2b(2, 0, 1, C1),
            ],
        ),
        // The leader of ballot 0 decided slot 2; the leader of ballot 1 fills the hole in slot 1
        // with NoOp.
        (
            "hole_filled_with_noop",
            vec![
                m2b(1, 0, 2, C1),
                m2b(2, 0, 2, C1),
                m2b(2, 1, 1, NO_OP),
                m2b(3, 1, 1, NO_OP),
            ],
        ),
        // Votes of two ballots in slot 1 never add up; a quorum in either decides it.
        (
            "votes_of_two_ballots",
            vec![
                m2b(1, 0, 1, C1),
                m2b(2, 1, 1, C1),
                m2b(3, 1, 1, C1),
                m2b(3, 0, 1, C1),
            ],
        ),
    ]
}

/// The replica's tables and the report row. `reachable` is every state of `model`.
pub fn tables(model: &MultiPaxosModel, reachable: &[MultiPaxosState]) -> (Vec<Table>, Row) {
    let tables: Vec<Table> = scenarios()
        .into_iter()
        .map(|(label, messages)| {
            let coexist = reachable
                .iter()
                .any(|state| messages.iter().all(|m| state.msgs.contains(m)));
            assert!(coexist, "the votes of {label} are never in flight at once");
            table(model, label, messages)
        })
        .collect();
    let row = Row {
        role: "mp replica",
        n: model.constants.num_acceptors,
        combinations: tables.iter().map(|t| t.combinations).sum(),
        tests: tables.len() as u64,
        coverage: "n/a: every set of votes asked".to_string(),
        uncovered: Vec::new(),
    };
    (tables, row)
}

fn table(model: &MultiPaxosModel, label: &str, messages: Vec<Msg>) -> Table {
    let classes: Vec<u8> = (0..messages.len() as u8).collect();
    let (combinations, by_set) = expectations_by_set(&classes, COPIES_MAX, |set| {
        applied_after(model, &messages, set)
    });
    let rows = by_set
        .into_iter()
        .filter(|(_, applied)| !applied.is_empty())
        .collect();
    Table {
        name: format!("mp_replica_n3_{label}"),
        messages,
        classes,
        rows,
        combinations,
    }
}

/// The log replica 1 has applied, by the model, after hearing the votes of `set`: `Apply(r1)`
/// taken while it is enabled (never with two witnesses: `Agreement`).
fn applied_after(model: &MultiPaxosModel, messages: &[Msg], set: u8) -> Vec<Value> {
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 1);
    for (i, &m) in messages.iter().enumerate() {
        if set & (1 << i) != 0 {
            state.msgs.insert(m);
        }
    }
    let mut actions = Vec::new();
    loop {
        model.actions(&state, &mut actions);
        let applies: Vec<Action> = actions
            .drain(..)
            .filter(|a| matches!(a, Action::Apply { r: 1, .. }))
            .collect();
        assert!(applies.len() <= 1, "one value is chosen per slot");
        let Some(&apply) = applies.first() else {
            return state.applied[0].clone();
        };
        state = model
            .next_state(&state, apply)
            .expect("an enabled action has a next state");
    }
}
