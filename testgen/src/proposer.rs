//! Proposer scenarios: the promises (`1b` messages) the proposer of ballot 1 or 2 may hear.
//!
//! The proposer under test has started ballot `b` (`Phase1a(b)`). The promises that may reach
//! it are one from each acceptor, reporting that acceptor's latest vote; every combination of
//! votes the model can have the acceptors report at once is a prior state. After each delivery
//! the model says which values `Phase2a(b, v)` may propose given the promises delivered so far
//! (none before a quorum promised, none once the proposal was made). Colony's proposer proposes
//! as soon as a quorum promised; that timing is Colony's choice, which the spec allows but does
//! not require, and the harness holds the node to it.
//!
//! **Two ballots.** Below ballot 1 there is only ballot 0, and every vote of one ballot is for
//! the one value its proposer sent, so any two reported votes agree: a proposer that takes the
//! lowest-ballot vote, or the first reported, instead of the highest proposes the right value
//! all the same. The proposer of ballot 2 hears votes of ballots 0 and 1, which can be for
//! different values, and only the highest is right; its promises and expectations come from
//! the model with ballots `0..2` (the constants of `Paxos_a3_v2_b2.cfg`).
//!
//! **Tests.** Ballot 1 in a cell of 3 is one `#[test]` per combination; ballot 2 in a cell of
//! 3 (19,241 combinations) and both ballots in cells of 5 and 7 are table-driven. The cell of 3
//! folds nothing, so every naming of the acceptors is walked; cells of 5 and 7 number the
//! acceptors in order of what they report and fold promises that report the same vote. Ballot 2
//! in a cell of 7 delivers no promise twice ([`copies_max`]).
//!
//! **Where the promise sets come from.** For a cell of 3 (either ballot) and for ballot 1 in
//! every cell, they are read from every reachable state of the model whose highest ballot is
//! the proposer's. For cells of 5 and 7 and ballot 2 that space is too large, and
//! `promises_from_votes` takes them from the reachable states of the model with ballots `0..1`
//! instead, which gives exactly the same sets (a test checks it for a cell of 3):
//!
//! - Once an acceptor promised the highest ballot `B` it can no longer promise or vote in a
//!   lower one, so what its promise reported is its vote from then on, apart from votes in `B`;
//!   and no action of a lower ballot reads a message of `B`. Leaving out every action of `B`
//!   from a run therefore leaves a run of the model without `B`, at whose end every acceptor
//!   holds the vote its promise reported.
//! - Conversely, from any state of the model without `B`, the `1a` of `B` can be sent and every
//!   acceptor can promise it, reporting its vote of that state.

use crate::tables::{classes_up_to_sender, expectations_by_set, TableCase};
use crate::{combination_name, enumerate, lost_messages, model_with_ballots, Row};
use colony_model::deliveries::COPIES_MAX;
use colony_model::paxos::{Action, Ballot, Msg, PaxosModel, PaxosState, Value};
use stateright::Model;
use std::collections::BTreeSet;

/// The ballot of the proposer whose tests are one `#[test]` per combination in a cell of 3.
pub const BALLOT: Ballot = 1;

/// The ballots whose proposer the table-driven tests drive (see the module's documentation):
/// in cells of 5 and 7 both, and in a cell of 3 ballot 2, whose 19,241 combinations are too
/// many for a `#[test]` each.
pub const BALLOTS: [Ballot; 2] = [1, 2];

/// How many copies of a promise the table-driven cases of the proposer of ballot `b` in a cell
/// of `n` deliver. With duplicates, ballot 2 in a cell of 7 has over 2.9 billion folded
/// combinations, too many to walk in a test run; duplicates are walked in cells of 3 and 5, and
/// for ballot 1 in every cell.
pub fn copies_max(n: u8, b: Ballot) -> usize {
    if n >= 7 && b >= 2 {
        1
    } else {
        COPIES_MAX
    }
}

/// One delivery and the values the spec allows the proposer to propose right after it (empty:
/// it must not propose).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The promise delivered.
    pub deliver: Msg,
    /// The values `v` for which `Phase2a(b, v)` is enabled after this delivery.
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

/// Every case of the proposer of ballot 1 for a cell of `n`, per scenario, and the report row.
pub fn cases(n: u8) -> (Vec<(Scenario, Vec<Case>)>, Row) {
    let b = BALLOT;
    let model = model_with_ballots(n, b);
    let (all, combinations) = enumerate(
        scenarios(&model, n, b),
        |s| &s.messages,
        |scenario, sequence| case(&model, n, b, &scenario.messages, sequence),
    );
    let tests = all.iter().map(|(_, cases)| cases.len() as u64).sum();
    let row = Row {
        role: role(b),
        n,
        combinations,
        tests,
        coverage: format!("{0} of {0} promise sets", all.len()),
        uncovered: Vec::new(),
    };
    (all, row)
}

/// The report row's role: `proposer` for ballot 1, as before ballot 2 was added.
fn role(b: Ballot) -> &'static str {
    match b {
        1 => "proposer",
        2 => "proposer b2",
        _ => unreachable!("the generator drives ballots 1 and 2 only"),
    }
}

/// The sets of promises for ballot `b` that all acceptors can have sent at once, in order,
/// read from every reachable state of `model`.
fn scenarios(model: &PaxosModel, n: u8, b: Ballot) -> Vec<Scenario> {
    crate::reachable::all(model)
        .iter()
        .filter_map(|state| every_promise(state, n, b))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|messages| Scenario {
            label: label(&messages),
            messages,
        })
        .collect()
}

/// The promises of ballot `b` in `state`'s messages, acceptor 1 first, when every one of the
/// `n` acceptors sent one.
fn every_promise(state: &PaxosState, n: u8, b: Ballot) -> Option<Vec<Msg>> {
    let promises: Vec<Msg> = state
        .msgs
        .iter()
        .filter(|m| matches!(*m, Msg::M1b { bal, .. } if bal == b))
        .collect();
    (promises.len() == usize::from(n)).then_some(promises)
}

/// The promises every acceptor of `state` would send for ballot `b`, above every ballot of the
/// model `state` is a state of: each reports the acceptor's vote (see the module's
/// documentation for why these are exactly the promise sets of the model with ballot `b`).
fn promises_from_votes(state: &PaxosState, b: Ballot) -> Vec<Msg> {
    (0..state.max_vbal.len())
        .map(|i| Msg::M1b {
            acc: i as u8 + 1,
            bal: b,
            mbal: state.max_vbal[i],
            mval: state.max_val[i],
        })
        .collect()
}

/// A table-driven case: for every set of promises (a bit per message) after which the spec
/// allows a proposal, the values it allows.
pub type Table = TableCase<(u8, Vec<Value>)>;

/// The table-driven cases of the proposer of ballot `b` for a cell of `n`, and the report row.
/// `reachable` is [`crate::reachable::up_to_acceptor_permutation`] of the bounded model
/// (ballots `0..1`): for ballot 1 the promise sets are read from its messages, for ballot 2 from
/// its acceptors' votes (`promises_from_votes`). Promises that report the same vote are
/// interchangeable.
pub fn tables(n: u8, b: Ballot, reachable: &[PaxosState]) -> (Vec<Table>, Row) {
    let sets = reachable
        .iter()
        .filter_map(|state| match b {
            1 => every_promise(state, n, b),
            _ => Some(promises_from_votes(state, b)),
        })
        .map(|promises| numbered_by_report(&promises))
        .collect();
    tables_of(n, b, sets, true)
}

/// The table-driven cases of the proposer of ballot `b` for a cell of `n` (3: larger cells
/// have too many states), and the report row: every set of promises read from every reachable
/// state of the model with ballots `0..b`, as the acceptors sent them, nothing folded, so that
/// every naming of the acceptors is walked.
pub fn unfolded_tables(n: u8, b: Ballot) -> (Vec<Table>, Row) {
    let sets = crate::reachable::all(&model_with_ballots(n, b))
        .iter()
        .filter_map(|state| every_promise(state, n, b))
        .collect();
    tables_of(n, b, sets, false)
}

fn tables_of(n: u8, b: Ballot, sets: BTreeSet<Vec<Msg>>, fold: bool) -> (Vec<Table>, Row) {
    // Ballots `0..b`: `b` is the highest, so no higher ballot interrupts its proposer.
    let model = model_with_ballots(n, b);
    let copies_max = copies_max(n, b);
    let tables: Vec<Table> = sets
        .into_iter()
        .map(|messages| table(&model, n, b, copies_max, fold, messages))
        .collect();
    let mut coverage = if fold {
        format!("{0} of {0} promise multisets", tables.len())
    } else {
        format!("{0} of {0} promise sets", tables.len())
    };
    if copies_max < COPIES_MAX {
        coverage += ", none duplicated";
    }
    let row = Row {
        role: role(b),
        n,
        combinations: tables.iter().map(|t| t.combinations).sum(),
        tests: tables.len() as u64,
        coverage,
        uncovered: Vec::new(),
    };
    (tables, row)
}

/// One orbit of a set of promises under permutations of the acceptors: the reports sorted,
/// acceptor 1 reporting the least.
fn numbered_by_report(promises: &[Msg]) -> Vec<Msg> {
    let mut reports: Vec<(Ballot, Ballot, Value)> = promises
        .iter()
        .map(|m| match *m {
            Msg::M1b {
                bal, mbal, mval, ..
            } => (mbal, bal, mval),
            _ => unreachable!("scenarios hold promises only"),
        })
        .collect();
    reports.sort_by_key(|&(mbal, _, mval)| (mbal, mval));
    (1..)
        .zip(reports)
        .map(|(acc, (mbal, bal, mval))| Msg::M1b {
            acc,
            bal,
            mbal,
            mval,
        })
        .collect()
}

/// The table of one set of promises; with `fold`, promises that report the same vote are
/// interchangeable, and the name counts the promises reporting each vote.
fn table(
    model: &PaxosModel,
    n: u8,
    b: Ballot,
    copies_max: usize,
    fold: bool,
    messages: Vec<Msg>,
) -> Table {
    let classes = if fold {
        classes_up_to_sender(&messages)
    } else {
        (0..messages.len() as u8).collect()
    };
    let (combinations, by_set) = expectations_by_set(&classes, copies_max, |set| {
        let mut state = PaxosState::init(usize::from(n));
        state.msgs.insert(Msg::M1a { bal: b });
        for (i, &m) in messages.iter().enumerate() {
            if set & (1 << i) != 0 {
                state.msgs.insert(m);
            }
        }
        let allowed = allowed_values(model, b, &state);
        // The harness holds the node to one proposal: once `Phase2a(b, v)` has sent a 2a, the
        // spec allows no other in ballot `b`, whatever arrives next.
        for &v in &allowed {
            let mut proposed = state.clone();
            proposed.msgs.insert(Msg::M2a { bal: b, val: v });
            assert!(allowed_values(model, b, &proposed).is_empty());
        }
        allowed
    });
    let rows = by_set
        .into_iter()
        .filter(|(_, allowed)| !allowed.is_empty())
        .collect();
    Table {
        name: format!(
            "{}_{}",
            prefix(n, b),
            if fold {
                multiset_label(&messages)
            } else {
                label(&messages)
            }
        ),
        messages,
        classes,
        rows,
        combinations,
    }
}

/// The prefix of the proposer of ballot `b`'s test names: `proposer_n5` for ballot 1, as
/// before ballot 2 was added, and `proposer_n5_b2`.
fn prefix(n: u8, b: Ballot) -> String {
    match b {
        1 => format!("proposer_n{n}"),
        _ => format!("proposer_n{n}_b{b}"),
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

fn case(model: &PaxosModel, n: u8, b: Ballot, messages: &[Msg], sequence: &[usize]) -> Case {
    let mut state = PaxosState::init(usize::from(n));
    state.msgs.insert(Msg::M1a { bal: b });
    let mut steps = Vec::with_capacity(sequence.len());
    for &index in sequence {
        let deliver = messages[index];
        state.msgs.insert(deliver);
        let allowed = allowed_values(model, b, &state);
        if let Some(&first) = allowed.first() {
            // Colony proposes at once; what it proposes must be allowed, so any allowed value
            // stands for the proposal in the model's state from now on.
            state.msgs.insert(Msg::M2a { bal: b, val: first });
        }
        steps.push(Step { deliver, allowed });
    }
    let lost = lost_messages(messages, sequence);
    let delivered: Vec<Msg> = steps.iter().map(|step| step.deliver).collect();
    let label = label(messages);
    Case {
        name: combination_name(&format!("{}_{label}", prefix(n, b)), &delivered, &lost),
        steps,
        lost,
    }
}

/// The values `v` for which the model enables `Phase2a(b, v)` (with any quorum witness).
fn allowed_values(model: &PaxosModel, b: Ballot, state: &PaxosState) -> Vec<Value> {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    let values: BTreeSet<Value> = actions
        .into_iter()
        .filter_map(|action| match action {
            Action::Phase2a { b: bal, v, .. } if bal == b => Some(v),
            _ => None,
        })
        .collect();
    values.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bounded_model, reachable};

    /// For a cell of 3, the promise sets of ballot 2 taken from the votes of the model with
    /// ballots `0..1` are exactly those of the model with ballots `0..2`, acceptor by acceptor.
    #[test]
    fn promises_from_votes_are_the_promise_sets_of_the_model_with_ballot_2() {
        let from_votes: BTreeSet<Vec<Msg>> = reachable::all(&bounded_model(3))
            .iter()
            .map(|state| promises_from_votes(state, 2))
            .collect();
        let full: BTreeSet<Vec<Msg>> = reachable::all(&model_with_ballots(3, 2))
            .iter()
            .filter_map(|state| every_promise(state, 3, 2))
            .collect();
        assert_eq!(from_votes, full);
        let two_ballots = |set: &&Vec<Msg>| {
            let ballots: BTreeSet<Ballot> = set
                .iter()
                .filter_map(|m| match *m {
                    Msg::M1b { mbal, .. } if mbal >= 0 => Some(mbal),
                    _ => None,
                })
                .collect();
            ballots.len() == 2
        };
        assert!(
            full.iter().filter(two_ballots).count() > 0,
            "some sets report votes of ballots 0 and 1 at once"
        );
    }
}
