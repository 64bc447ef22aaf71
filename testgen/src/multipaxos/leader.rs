//! Leader scenarios: the leader of the highest ballot hearing the promises of every acceptor,
//! each reporting its votes, lost, duplicated and reordered.
//!
//! Each scenario is one set of `1b` messages of the highest ballot, one per acceptor, that the
//! model can have in flight at once (taken from every reachable state in which all three
//! acceptors promised that ballot). The leader proposes once, when the promises it heard first
//! form a quorum; the model says, for that set of promises, which values `Phase2a(b, s, v)`
//! allows in each slot (`SafeValues`: the highest-ballot vote reported, `NoOp` in a hole, any
//! command above every reported vote).
//!
//! Two bounded configurations between them cover what a leader must get right: two slots,
//! one command and ballots `0..1` ([`super::bounded_model`]: votes in several slots, holes);
//! and one slot, two commands and ballots `0..2` ([`super::one_slot_model`]: votes of two
//! ballots for different commands, of which the leader of ballot 2 must take the higher).

use crate::tables::{expectations_by_set, TableCase};
use crate::Row;
use colony_model::multipaxos::{Action, Msg, MultiPaxosModel, MultiPaxosState, Value};
use stateright::Model;
use std::collections::{BTreeMap, BTreeSet};

/// What the spec allows once a set of promises is heard: per slot, the values `Phase2a(1, s, v)`
/// may propose with those promises as its quorum (slot 1 first). Empty for a set that is not a
/// quorum.
pub type Allowed = Vec<(u8, Vec<Value>)>;

/// A leader scenario's table: per set of promises (a bit per message) that is a quorum, what
/// the spec allows.
pub type Table = TableCase<(u8, Allowed), Msg>;

/// Every set of promises of `ballot`, one per acceptor, that the model can have in flight at
/// once, in a fixed order.
pub fn promise_sets(reachable: &[MultiPaxosState], ballot: i8) -> BTreeSet<Vec<Msg>> {
    let mut sets = BTreeSet::new();
    for state in reachable {
        let promises: Vec<Msg> = state
            .msgs
            .iter()
            .filter(|m| matches!(m, Msg::M1b { bal, .. } if *bal == ballot))
            .copied()
            .collect();
        if promises.len() == state.max_bal.len() {
            sets.insert(promises);
        }
    }
    sets
}

/// The tables of the leader of `model`'s highest ballot, named after `label`, and the report
/// row. `reachable` is every state of `model`.
pub fn tables(
    model: &MultiPaxosModel,
    reachable: &[MultiPaxosState],
    label: &str,
) -> (Vec<Table>, Row) {
    let ballot = model.constants.max_ballot;
    let sets = promise_sets(reachable, ballot);
    let quorum = usize::from(model.constants.num_acceptors) / 2 + 1;
    let tables: Vec<Table> = sets
        .iter()
        .enumerate()
        .map(|(index, messages)| {
            let name = format!("mp_leader_n3_b{ballot}_{label}_promises_{index:02}");
            table(model, name, messages, quorum)
        })
        .collect();
    let row = Row {
        role: if ballot == 1 {
            "mp leader b1"
        } else {
            "mp leader b2"
        },
        n: model.constants.num_acceptors,
        combinations: tables.iter().map(|t| t.combinations).sum(),
        tests: tables.len() as u64,
        coverage: format!("{} promise sets", sets.len()),
        uncovered: Vec::new(),
    };
    (tables, row)
}

fn table(model: &MultiPaxosModel, name: String, messages: &[Msg], quorum: usize) -> Table {
    let classes: Vec<u8> = (0..messages.len() as u8).collect();
    let (combinations, by_set) = expectations_by_set(&classes, |set| {
        if set.count_ones() as usize == quorum {
            allowed(model, messages, set)
        } else {
            Vec::new()
        }
    });
    let rows = by_set
        .into_iter()
        .filter(|(set, _)| set.count_ones() as usize == quorum)
        .collect();
    Table {
        name,
        messages: messages.to_vec(),
        classes,
        rows,
        combinations,
    }
}

/// What `Phase2a(b, s, v)` allows with the promises of `set` as its quorum, `b` the model's
/// highest ballot.
fn allowed(model: &MultiPaxosModel, messages: &[Msg], set: u8) -> Allowed {
    let ballot = model.constants.max_ballot;
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 1);
    state.msgs.insert(Msg::M1a { bal: ballot });
    let mut quorum_bits = 0u8;
    for (i, &m) in messages.iter().enumerate() {
        if set & (1 << i) != 0 {
            state.msgs.insert(m);
            if let Msg::M1b { acc, .. } = m {
                quorum_bits |= 1 << acc;
            }
        }
    }
    let mut actions = Vec::new();
    model.actions(&state, &mut actions);
    let mut by_slot: BTreeMap<u8, Vec<Value>> = BTreeMap::new();
    for action in actions {
        if let Action::Phase2a { b, s, v, q } = action {
            if b == ballot && q.0 == quorum_bits {
                by_slot.entry(s).or_default().push(v);
            }
        }
    }
    by_slot.into_iter().collect()
}
