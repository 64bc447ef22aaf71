//! Counterexample traces, snapshotted: a change to the protocol or to the trace format shows up
//! as a readable diff in review. Accept intended changes with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p colony-model --test traces`) and read the diff first.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

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
