//! The test generator: it enumerates every combination of packet loss, reordering and
//! duplication a node can experience in one protocol round, asks the model (`colony-model`) what
//! the node may do after each step, and writes Rust unit tests into `generated-tests/`.
//!
//! Expected behaviour comes from the model only, never from running the implementation: this
//! crate does not depend on `impl/`.
//!
//! Today it covers the acceptor ([`acceptor`]) and learner ([`learner`]) roles for a cell of 3;
//! the proposer role, and cells of 5 and 7, come next.

#![deny(missing_docs)]

use colony_model::paxos::{Constants, Msg, PaxosModel};

pub mod acceptor;
pub mod combinations;
pub mod learner;
pub mod render;

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
    /// Distinct per-node transitions of the spec the tests exercise, and how many the model
    /// can take in the bounded configuration.
    pub transitions_covered: usize,
    /// Distinct per-node transitions reachable in the model.
    pub transitions_reachable: usize,
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
    (files, vec![row, learner_row])
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
