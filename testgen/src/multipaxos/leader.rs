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
//! Every scenario is walked twice: with the leader started by its election timeout and no
//! command waiting, when it may propose only in the slots the promises report; and with it
//! started by a client's command (the model's last command), which it must propose in the
//! first slot above every reported vote and every compacted slot once phase 1 ends. The
//! tables say what `Phase2a` allows in every slot of the model, that free slot included; a
//! free slot past the model's slots is the harness's to check.
//!
//! Two bounded configurations between them cover what a leader must get right: two slots,
//! one command and ballots `0..1` ([`super::bounded_model`]: votes in several slots, holes);
//! and one slot, two commands and ballots `0..2` ([`super::one_slot_model`]: votes of two
//! ballots for different commands, of which the leader of ballot 2 must take the higher).

use super::promises::promise_sets_up_to_renaming;
use super::symmetry::classes_up_to_renaming;
use crate::tables::{expectations_by_set, TableCase};
use crate::Row;
use colony_model::deliveries::COPIES_MAX;
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

/// One family of leader cases: the leader of one model's highest ballot, and its tables.
pub struct Family {
    /// The name's label (`two_slots`).
    pub label: &'static str,
    /// The ballot the leader prepares: the model's highest.
    pub ballot: i8,
    /// The model's `NumSlots`.
    pub slots: u8,
    /// The command a client proposes before phase 1 in the second walk of every scenario: the
    /// model's last command.
    pub waiting: Value,
    /// The scenarios' tables.
    pub tables: Vec<Table>,
}

/// The walks of every scenario: one with no command waiting, one with a client's command.
pub const STARTS: u64 = 2;

/// The ballot whose promises reach the leader of ballot 2 in a cell of 3 as promises of its own
/// earlier ballot: the harness gives rounds 0 and 2 to the same node there (`proposer_of`). In
/// cells of 5 and 7 round 0 is another node's, and its promises go to that node.
pub const EARLIER_BALLOT: i8 = 0;

/// Every set of promises of `ballot`, one per acceptor, that the model can have in flight at
/// once, in a fixed order.
pub fn promise_sets(reachable: &[MultiPaxosState], ballot: i8) -> BTreeSet<Vec<Msg>> {
    reachable
        .iter()
        .filter_map(|state| every_promise(state, ballot))
        .collect()
}

/// The promises of `ballot` in flight in `state`, when every acceptor has sent one.
pub fn every_promise(state: &MultiPaxosState, ballot: i8) -> Option<Vec<Msg>> {
    let promises: Vec<Msg> = state
        .msgs
        .iter()
        .filter(|m| matches!(m, Msg::M1b { bal, .. } if *bal == ballot))
        .collect();
    (promises.len() == state.max_bal.len()).then_some(promises)
}

/// The family of the leader of `model`'s highest ballot in a cell of 3, named after `label`,
/// and the report row: every promise set the model can have in flight, every combination.
/// `reachable` is every state of `model`.
pub fn tables(
    model: &MultiPaxosModel,
    reachable: &[MultiPaxosState],
    label: &'static str,
) -> (Family, Row) {
    let sets = promise_sets(reachable, model.constants.max_ballot);
    let scenarios = sets.into_iter().map(|messages| {
        let classes = (0..messages.len() as u8).collect();
        (messages, classes)
    });
    let tables = scenario_tables(model, label, scenarios, COPIES_MAX);
    let coverage = format!("{} promise sets", tables.len());
    family(model, label, tables, coverage)
}

/// The tables of the leader of `model`'s highest ballot in a cell of 3 hearing, besides a
/// promise set, one promise of [`EARLIER_BALLOT`] that the model has in flight in the same state
/// (a promise the leader's own earlier ballot gathered, arriving late): one scenario per such
/// pair, named after `label`, and the report row. Only the promises of the highest ballot count
/// toward the quorum: the model's `Phase2a` reads no other, so the tables are those of the set
/// alone, whether the earlier promise was heard or not. One earlier promise per scenario keeps
/// the combinations at 7,365 per scenario; every acceptor's is in flight with every set, so each
/// set has three scenarios.
pub fn earlier_ballot_tables(
    model: &MultiPaxosModel,
    reachable: &[MultiPaxosState],
    label: &'static str,
) -> (Vec<Table>, Row) {
    let top = model.constants.max_ballot;
    let pairs: BTreeSet<(Vec<Msg>, Msg)> = reachable
        .iter()
        .filter_map(|state| Some((state, every_promise(state, top)?)))
        .flat_map(|(state, set)| {
            let earlier = state
                .msgs
                .iter()
                .filter(|m| matches!(m, Msg::M1b { bal, .. } if *bal == EARLIER_BALLOT));
            earlier.map(move |m| (set.clone(), m))
        })
        .collect();
    let scenarios = pairs.into_iter().map(|(mut messages, earlier)| {
        messages.push(earlier);
        let classes = (0..messages.len() as u8).collect();
        (messages, classes)
    });
    let tables = scenario_tables(model, label, scenarios, COPIES_MAX);
    let waiting = model.constants.num_commands;
    let row = Row {
        role: "mp leader b2+0",
        coverage: format!(
            "{} promise sets with a promise of ballot {EARLIER_BALLOT}, with no command and with \
             c{waiting} waiting",
            tables.len()
        ),
        ..row(model, &tables, String::new())
    };
    (tables, row)
}

/// The family of the leader of `model`'s highest ballot in a cell of 5 or 7 (`model`'s
/// acceptors, its replicas as [`super::promises::for_the_search`] gives them), named after `label`, and the report row: every promise set
/// up to renaming acceptors ([`promise_sets_up_to_renaming`]), with promises that report the
/// same votes interchangeable, each delivered at most `copies_max` times.
pub fn folded_tables(
    model: &MultiPaxosModel,
    label: &'static str,
    copies_max: usize,
) -> (Family, Row) {
    let scenarios = promise_sets_up_to_renaming(model)
        .into_iter()
        .map(|messages| {
            let classes = classes_up_to_renaming(&messages);
            (messages, classes)
        });
    let tables = scenario_tables(model, label, scenarios, copies_max);
    let mut coverage = format!("{} promise sets up to renaming", tables.len());
    if copies_max < COPIES_MAX {
        coverage += ", none duplicated";
    }
    family(model, label, tables, coverage)
}

/// The family of `model`'s leader, and its report row: every scenario walked from each start.
fn family(
    model: &MultiPaxosModel,
    label: &'static str,
    tables: Vec<Table>,
    coverage: String,
) -> (Family, Row) {
    let waiting = model.constants.num_commands as Value;
    let coverage = format!("{coverage}, with no command and with c{waiting} waiting");
    let row = row(model, &tables, coverage);
    let family = Family {
        label,
        ballot: model.constants.max_ballot,
        slots: model.constants.num_slots,
        waiting,
        tables,
    };
    (family, row)
}

fn scenario_tables(
    model: &MultiPaxosModel,
    label: &str,
    scenarios: impl ExactSizeIterator<Item = (Vec<Msg>, Vec<u8>)>,
    copies_max: usize,
) -> Vec<Table> {
    let n = model.constants.num_acceptors;
    let ballot = model.constants.max_ballot;
    let width = scenarios.len().saturating_sub(1).to_string().len();
    scenarios
        .enumerate()
        .map(|(index, (messages, classes))| {
            let name = format!("mp_leader_n{n}_b{ballot}_{label}_promises_{index:0width$}");
            table(model, name, messages, classes, copies_max)
        })
        .collect()
}

fn row(model: &MultiPaxosModel, tables: &[Table], coverage: String) -> Row {
    Row {
        role: match (model.constants.max_ballot, model.constants.max_compaction) {
            (_, 1..) => "mp leader k1",
            (1, _) => "mp leader b1",
            _ => "mp leader b2",
        },
        n: model.constants.num_acceptors,
        combinations: STARTS * tables.iter().map(|t| t.combinations).sum::<u64>(),
        tests: tables.len() as u64,
        coverage,
        uncovered: Vec::new(),
    }
}

fn table(
    model: &MultiPaxosModel,
    name: String,
    messages: Vec<Msg>,
    classes: Vec<u8>,
    copies_max: usize,
) -> Table {
    let quorum = u32::from(model.constants.num_acceptors) / 2 + 1;
    let ballot = model.constants.max_ballot;
    let is_quorum = |set: u8| promised(&messages, set, ballot).count_ones() == quorum;
    let (combinations, by_set) = expectations_by_set(&classes, copies_max, |set| {
        if is_quorum(set) {
            allowed(model, &messages, set)
        } else {
            Vec::new()
        }
    });
    let rows = by_set
        .into_iter()
        .filter(|(set, _)| is_quorum(*set))
        .collect();
    Table {
        name,
        messages,
        classes,
        rows,
        combinations,
    }
}

/// The acceptors whose promise of `ballot` is in `set`, a bit per acceptor.
fn promised(messages: &[Msg], set: u8, ballot: i8) -> u8 {
    (0..messages.len())
        .filter(|&i| set & (1 << i) != 0)
        .filter_map(|i| match messages[i] {
            Msg::M1b { acc, bal, .. } if bal == ballot => Some(1 << acc),
            _ => None,
        })
        .fold(0, |bits, bit| bits | bit)
}

/// What `Phase2a(b, s, v)` allows with the promises of `b` in `set` as its quorum, `b` the
/// model's highest ballot. Every message of `set` is in flight, so that a promise of another
/// ballot is there for `Phase2a` to read, or not.
fn allowed(model: &MultiPaxosModel, messages: &[Msg], set: u8) -> Allowed {
    let ballot = model.constants.max_ballot;
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 1);
    state.msgs.insert(Msg::M1a { bal: ballot });
    for (i, &m) in messages.iter().enumerate() {
        if set & (1 << i) != 0 {
            state.msgs.insert(m);
        }
    }
    let quorum_bits = promised(messages, set, ballot);
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
