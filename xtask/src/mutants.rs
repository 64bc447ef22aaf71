//! `cargo xtask mutants <part>`: mutation testing of one part of the Multi-Paxos core with
//! cargo-mutants, in two passes, so that the figures say which tests catch what.
//!
//! Pass 1 runs the tests generated from the model alone. Pass 2 re-tests only what pass 1
//! missed (`--iterate`) with every other test written for the core: the core inside the model
//! checker, the random runs and stories, and the hand-written tests of `impl/core/tests/`. Each pass
//! builds only the test binaries it runs, so a mutant costs seconds once the first is built.
//! The outcomes stay under `target/mutants/<part>/`: pass 1's lists in `generated/`, both
//! passes' in `mutants.out/`.

use std::process::Command;

/// The generated tables of the Multi-Paxos roles (pass 1).
const GENERATED: &[&str] = &[
    "multipaxos_follower",
    "multipaxos_leader_n3",
    "multipaxos_leader_n5",
    "multipaxos_leader_n7",
    "multipaxos_replica_n3",
    "multipaxos_replica_n7",
    "multipaxos_catch_up",
];

/// Every other test of the Multi-Paxos core (pass 2), and the core's unit tests (`--lib`).
const OTHERS: &[&str] = &[
    "multipaxos_compaction",
    "multipaxos_replica",
    "multipaxos_runs",
    "multipaxos_stories",
    "multipaxos_core_in_checker",
];

/// The parts: a name, the files mutated, and a filter on the mutants' names (compaction is
/// spread over the acceptor and the learner; the leader's and replica's compaction code is
/// counted with their files).
const PARTS: &[(&str, &[&str], Option<&str>)] = &[
    ("leader", &["impl/core/src/multipaxos/leader.rs"], None),
    ("replica", &["impl/core/src/multipaxos/replica.rs"], None),
    (
        "compaction",
        &[
            "impl/core/src/multipaxos/acceptor.rs",
            "impl/core/src/multipaxos/learner.rs",
        ],
        Some("compact|install|base"),
    ),
];

/// The usage line of this task.
pub const USAGE: &str = "cargo xtask mutants leader|replica|compaction";

/// Runs both passes over `part`.
pub fn mutants(part: &str) -> Result<(), String> {
    let Some((name, files, filter)) = PARTS.iter().find(|(name, ..)| *name == part) else {
        return Err(format!("no part named {part:?}: {USAGE}"));
    };
    let output = format!("target/mutants/{name}");
    let pass = |packages: &str, tests: &[&str], lib: bool, iterate: bool| {
        let mut command = Command::new(env!("CARGO"));
        // No baseline: cargo-mutants 27.1 runs it in the mutated package, not in the test
        // packages, where the named test binaries do not exist. The timeout is ten times the
        // slowest pass's test time.
        command.args([
            "mutants",
            "--baseline",
            "skip",
            "--timeout",
            "150",
            "-o",
            &output,
        ]);
        command.args(["--test-package", packages]);
        for file in *files {
            command.args(["-f", file]);
        }
        if let Some(filter) = filter {
            command.args(["-F", filter]);
        }
        if iterate {
            command.arg("--iterate");
        }
        for test in tests {
            command
                .arg("--cargo-arg=--test")
                .arg(format!("--cargo-arg={test}"));
        }
        if lib {
            command.arg("--cargo-arg=--lib");
        }
        let status = command
            .status()
            .map_err(|e| format!("cannot run cargo mutants (cargo install cargo-mutants): {e}"))?;
        // cargo-mutants exits 2 when a mutant survived and 3 when one timed out: figures, not
        // failures. Anything else but 0 means the pass did not run.
        match status.code() {
            Some(0 | 2 | 3) => {
                println!("xtask: pass done ({status}); outcomes in {output}/mutants.out");
                Ok(())
            }
            _ => Err(format!(
                "cargo mutants failed ({status}); is cargo-mutants 27.1 installed?"
            )),
        }
    };
    std::fs::create_dir_all(&output).map_err(|e| format!("{output}: {e}"))?;
    pass("colony-generated-tests", GENERATED, false, false)?;
    // Pass 2 rewrites mutants.out: keep pass 1's lists beside it.
    let kept = format!("{output}/generated");
    std::fs::create_dir_all(&kept).map_err(|e| format!("{kept}: {e}"))?;
    for list in ["caught.txt", "missed.txt", "timeout.txt", "unviable.txt"] {
        let from = format!("{output}/mutants.out/{list}");
        std::fs::copy(&from, format!("{kept}/{list}")).map_err(|e| format!("{from}: {e}"))?;
    }
    pass("colony-generated-tests,colony-core", OTHERS, true, true)
}
