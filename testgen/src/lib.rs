//! The test generator: it enumerates every combination of packet loss, reordering and
//! duplication a node can experience in one protocol round, asks the model (`colony-model`) what
//! the node may do after each step, and writes Rust unit tests into `generated-tests/`.
//!
//! Expected behaviour comes from the model only, never from running the implementation: this
//! crate does not depend on `impl/`.
//!
//! Today it covers the acceptor ([`acceptor`]), learner ([`learner`]) and proposer
//! ([`proposer`]) roles for a cell of 3; cells of 5 and 7 come next.

#![deny(missing_docs)]

use colony_model::paxos::{Constants, Msg, PaxosModel};

pub mod acceptor;
pub mod combinations;
pub mod learner;
pub mod proposer;
pub mod render;

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

/// Everything the generator writes, and its report.
pub fn generate() -> (Vec<GeneratedFile>, Vec<Row>) {
    let n = 3;
    let (scenarios, row) = acceptor::cases(n);
    let mut files: Vec<GeneratedFile> = scenarios
        .iter()
        .map(|(scenario, cases)| GeneratedFile {
            path: format!("generated-tests/tests/acceptor_n{n}_{}.rs", scenario.label),
            text: render::acceptor_file(n, scenario, cases),
        })
        .collect();
    let (learner_scenarios, learner_row) = learner::cases(n);
    files.extend(
        learner_scenarios
            .iter()
            .map(|(scenario, cases)| GeneratedFile {
                path: format!("generated-tests/tests/learner_n{n}_{}.rs", scenario.label),
                text: render::learner_file(n, scenario, cases),
            }),
    );
    let (proposer_scenarios, proposer_row) = proposer::cases(n);
    files.push(GeneratedFile {
        path: format!("generated-tests/tests/proposer_n{n}.rs"),
        text: render::proposer_file(n, &proposer_scenarios),
    });
    (files, vec![row, learner_row, proposer_row])
}

/// The bounded configuration prior states and expectations come from: `n` acceptors, 2 values,
/// ballots `0..1`, no invariant (the generator asks for transitions, not verdicts).
pub(crate) fn bounded_model(n: u8) -> PaxosModel {
    let constants = Constants {
        num_acceptors: n,
        num_values: 2,
        max_ballot: 1,
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
        count += combinations::for_each(&classes, &mut |sequence| {
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
