//! The test generator: it enumerates every combination of packet loss, reordering and
//! duplication a node can experience in one protocol round, asks the model (`colony-model`) what
//! the node may do after each step, and writes Rust unit tests into `generated-tests/`.
//!
//! Expected behaviour comes from the model only, never from running the implementation: this
//! crate does not depend on `impl/`.
//!
//! It covers the acceptor ([`acceptor`]), learner ([`learner`]) and proposer ([`proposer`])
//! roles in cells of 3, 5 and 7. For a cell of 3 every combination is a `#[test]` of its own,
//! with its trace; for 5 and 7 combinations are folded by interchangeable senders and each
//! scenario is one table-driven test that walks all of them ([`tables`]).
//!
//! [`dimensions`] lists every dimension a scenario varies (ballots, owners, slots, commands
//! waiting, stale messages, duplicates, cell sizes, value shapes, ...), the values the generated
//! cases reach in each, and what they do not reach.

#![deny(missing_docs)]

use colony_model::deliveries;
use colony_model::paxos::{Constants, Msg, PaxosModel};

pub mod acceptor;
pub mod cell;
pub mod dimensions;
pub mod learner;
pub mod multipaxos;
pub mod proposer;
pub mod reachable;
pub mod render;
pub mod render_tables;
pub mod session;
pub mod tables;

/// One generated test: a combination of deliveries and what the spec says after each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case<S> {
    /// The test's name, describing the combination.
    pub name: String,
    /// The deliveries, in order, each with its expectation.
    pub steps: Vec<S>,
    /// The messages of the round that never arrive.
    pub lost: Vec<Msg>,
}

/// One generated file: its path from the repository root, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The path, from the repository root, with `/` separators.
    pub path: String,
    /// The whole text of the file.
    pub text: String,
}

/// One row of the generator's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The role (`acceptor`, `proposer`, `learner`).
    pub role: &'static str,
    /// The cell size.
    pub n: u8,
    /// Combinations of loss, duplication and order enumerated, over every prior state.
    pub combinations: u64,
    /// Tests emitted.
    pub tests: u64,
    /// What of the model's reachable behaviour the tests exercise, in words
    /// (`27 of 27 transitions`).
    pub coverage: String,
    /// The reachable transitions no test exercises, in spec notation.
    pub uncovered: Vec<String>,
}

/// Everything the generator writes, and its report: one `#[test]` per combination for a cell
/// of 3, table-driven tests ([`tables`]) for cells of 5 and 7.
pub fn generate() -> (Vec<GeneratedFile>, Vec<Row>) {
    let (mut files, mut rows) = every_combination_a_test(3);
    for n in [5, 7] {
        let reachable = reachable::up_to_acceptor_permutation(&bounded_model(n));
        let (acceptor_tables, acceptor_row) = acceptor::tables(n, &reachable);
        let (learner_tables, learner_row) = learner::tables(n);
        files.extend([
            file(
                format!("acceptor_n{n}.rs"),
                render_tables::acceptor_file(n, &acceptor_tables),
            ),
            file(
                format!("learner_n{n}.rs"),
                render_tables::learner_file(n, &learner_tables),
            ),
        ]);
        rows.extend([acceptor_row, learner_row]);
        for b in proposer::BALLOTS {
            let (proposer_tables, proposer_row) = proposer::tables(n, b, &reachable);
            files.push(file(
                proposer_file_name(n, b),
                render_tables::proposer_file(n, b, &proposer_tables),
            ));
            rows.push(proposer_row);
        }
    }
    let (multipaxos_files, multipaxos_rows) = multipaxos::generate();
    files.extend(multipaxos_files);
    rows.extend(multipaxos_rows);
    let (cell_cases, transactions) = cell::cases();
    files.push(file(
        "cell_transactions.rs".to_string(),
        cell::file(&cell_cases),
    ));
    rows.push(Row {
        role: "cell",
        n: 0,
        combinations: transactions,
        tests: cell_cases.len() as u64,
        coverage: "n/a: every transaction of the universe".to_string(),
        uncovered: Vec::new(),
    });
    let (session_groups, sequences) = session::cases();
    files.push(file(
        "cell_sessions.rs".to_string(),
        session::file(&session_groups),
    ));
    rows.push(Row {
        role: "cell sessions",
        n: 0,
        combinations: sequences,
        tests: session_groups.len() as u64,
        coverage: "n/a: every command sequence of the universe, pruned".to_string(),
        uncovered: Vec::new(),
    });
    // Stable: rows of one role and cell size keep the order they were made in.
    rows.sort_by_key(|row| (role_order(row.role), row.n));
    (files, rows)
}

fn role_order(role: &str) -> usize {
    [
        "acceptor",
        "learner",
        "proposer",
        "proposer b2",
        "mp follower",
        "mp follower k1",
        "mp leader b1",
        "mp leader b2",
        "mp leader b2+0",
        "mp leader k1",
        "mp replica",
        "mp replica k1",
        "mp catch-up",
        "mp catch-up k1",
        "cell",
        "cell sessions",
    ]
    .iter()
    .position(|&r| r == role)
    .unwrap_or(usize::MAX)
}

pub(crate) fn file(name: String, text: String) -> GeneratedFile {
    GeneratedFile {
        path: format!("generated-tests/tests/{name}"),
        text,
    }
}

/// The files of a cell of `n` with a `#[test]` per combination, and their report rows.
fn every_combination_a_test(n: u8) -> (Vec<GeneratedFile>, Vec<Row>) {
    let (scenarios, row) = acceptor::cases(n);
    let mut files: Vec<GeneratedFile> = scenarios
        .iter()
        .map(|(scenario, cases)| {
            let name = format!("acceptor_n{n}_{}.rs", scenario.label);
            file(name, render::acceptor_file(n, scenario, cases))
        })
        .collect();
    let (learner_scenarios, learner_row) = learner::cases(n);
    files.extend(learner_scenarios.iter().map(|(scenario, cases)| {
        let name = format!("learner_n{n}_{}.rs", scenario.label);
        file(name, render::learner_file(n, scenario, cases))
    }));
    let (proposer_scenarios, proposer_row) = proposer::cases(n);
    let proposer_file = render::proposer_file(n, &proposer_scenarios);
    files.push(file(proposer_file_name(n, proposer::BALLOT), proposer_file));
    // The proposer of ballot 2 is table-driven in a cell of 3 too (see `proposer::BALLOTS`).
    let (tables, proposer_b2_row) = proposer::unfolded_tables(n, 2);
    files.push(file(
        proposer_file_name(n, 2),
        render_tables::proposer_file(n, 2, &tables),
    ));
    (files, vec![row, learner_row, proposer_row, proposer_b2_row])
}

/// `proposer_n3.rs` for the proposer of ballot 1, as before ballot 2 was added, and
/// `proposer_n3_b2.rs`.
fn proposer_file_name(n: u8, b: colony_model::paxos::Ballot) -> String {
    if b == 1 {
        format!("proposer_n{n}.rs")
    } else {
        format!("proposer_n{n}_b{b}.rs")
    }
}

/// The bounded configuration prior states and expectations come from: `n` acceptors, 2 values,
/// ballots `0..1`, no invariant (the generator asks for transitions, not verdicts).
pub(crate) fn bounded_model(n: u8) -> PaxosModel {
    model_with_ballots(n, 1)
}

/// [`bounded_model`] with ballots `0..max_ballot`: with 2, the constants of
/// `Paxos_a3_v2_b2.cfg` for a cell of 3.
pub(crate) fn model_with_ballots(n: u8, max_ballot: colony_model::paxos::Ballot) -> PaxosModel {
    let constants = Constants {
        num_acceptors: n,
        num_values: 2,
        max_ballot,
    };
    PaxosModel::new(constants, Vec::new(), None)
}

/// Builds a case for every combination of every scenario's messages (all distinct: nothing is
/// folded), and counts the combinations.
pub(crate) fn enumerate<S, C>(
    scenarios: Vec<S>,
    messages: impl Fn(&S) -> &[Msg],
    mut case: impl FnMut(&S, &[usize]) -> C,
) -> (Vec<(S, Vec<C>)>, u64) {
    let mut all = Vec::new();
    let mut count = 0;
    for scenario in scenarios {
        let classes: Vec<u8> = (0..messages(&scenario).len() as u8).collect();
        let mut cases = Vec::new();
        count += deliveries::for_each(&classes, &mut |sequence| {
            cases.push(case(&scenario, sequence))
        });
        all.push((scenario, cases));
    }
    (all, count)
}

/// The messages of a scenario that a combination never delivers.
pub(crate) fn lost_messages(messages: &[Msg], sequence: &[usize]) -> Vec<Msg> {
    (0..messages.len())
        .filter(|i| !sequence.contains(i))
        .map(|i| messages[i])
        .collect()
}

/// `{prefix}_deliver_{delivered...}_drop_{lost...}`: a test name that describes the combination.
pub(crate) fn combination_name(prefix: &str, delivered: &[Msg], lost: &[Msg]) -> String {
    let mut name = format!("{prefix}_deliver");
    if delivered.is_empty() {
        name += "_nothing";
    }
    for &m in delivered {
        name += &format!("_{}", acceptor::message_label(m));
    }
    if !lost.is_empty() {
        name += "_drop";
        for &m in lost {
            name += &format!("_{}", acceptor::message_label(m));
        }
    }
    name
}

/// The command that regenerates the files, named in their header and in stale-file errors.
pub const COMMAND: &str = "cargo xtask codegen";
