//! Counterexample traces, snapshotted: a change to the protocol or to the trace format shows up
//! as a readable diff in review. Accept intended changes with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p colony-model --test traces`) and read the diff first.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::multipaxos;
use colony_model::paxos::Bug;
use colony_model::trace::Trace;

fn trace(bug: Bug) -> (colony_model::paxos::PaxosModel, Trace) {
    let (model, path) = common::counterexample(bug);
    let trace = Trace::of(&model, bug.target().name(), &path);
    (model, trace)
}

#[test]
fn agreement_counterexample_text() {
    let (_, trace) = trace(Bug::IgnoreReportedVotes);
    insta::assert_snapshot!(trace.to_text());
}

#[test]
fn agreement_counterexample_markdown() {
    let (model, trace) = trace(Bug::IgnoreReportedVotes);
    insta::assert_snapshot!(trace.to_markdown(&model, "A proposer that ignores reported votes"));
}

#[test]
fn every_bug_has_a_shortest_counterexample() {
    let lengths: Vec<String> = Bug::ALL
        .into_iter()
        .map(|bug| format!("{bug:?}: {} steps", trace(bug).1.steps.len()))
        .collect();
    insta::assert_snapshot!(lengths.join("\n"));
}

fn multipaxos_trace(bug: multipaxos::Bug) -> (multipaxos::MultiPaxosModel, Trace) {
    let (model, path) = common::multipaxos_counterexample(bug);
    let trace = Trace::of(&model, bug.target().name(), &path);
    (model, trace)
}

/// One snapshot per Multi-Paxos bug, named after its `--bug` name: its shortest counterexample
/// to the invariant it targets.
#[test]
fn multipaxos_counterexample_of_every_bug_text() {
    for bug in multipaxos::Bug::ALL {
        let (_, trace) = multipaxos_trace(bug);
        let name = clap::ValueEnum::to_possible_value(&bug).unwrap();
        insta::assert_snapshot!(format!("multipaxos_{}", name.get_name()), trace.to_text());
    }
}

/// The Markdown of the bug whose trace has every kind of participant and step: leaders,
/// acceptors, and replicas applying and catching up.
#[test]
fn multipaxos_catch_up_counterexample_markdown() {
    let (model, trace) = multipaxos_trace(multipaxos::Bug::CatchUpWrongEntry);
    insta::assert_snapshot!(trace.to_markdown(
        &model,
        "A Multi-Paxos replica that catches up with the wrong entry"
    ));
}

/// The Markdown of the compaction bugs: a replica snapshotting, acceptors forgetting votes and a
/// leader proposing where its quorum compacted; a replica installing a peer's snapshot.
#[test]
fn multipaxos_compaction_counterexamples_markdown() {
    let stories = [
        (
            multipaxos::Bug::ProposeInCompacted,
            "A Multi-Paxos leader that proposes in a slot its quorum compacted",
        ),
        (
            multipaxos::Bug::WrongSnapshotSlot,
            "A Multi-Paxos replica that installs a snapshot under the wrong slot",
        ),
    ];
    for (bug, title) in stories {
        let (model, trace) = multipaxos_trace(bug);
        let name = clap::ValueEnum::to_possible_value(&bug).unwrap();
        insta::assert_snapshot!(
            format!("multipaxos_{}_markdown", name.get_name()),
            trace.to_markdown(&model, title)
        );
    }
}
