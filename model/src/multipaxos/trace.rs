//! How Multi-Paxos states and steps read in traces: spec notation for the numbered text trace,
//! and arrows for the Mermaid sequence diagram. The layout is Paxos's ([`crate::paxos`]), with
//! the log's slots and the replicas added.

use super::state::{MultiPaxosState, ShowValue, Value};
use super::{Action, MultiPaxosModel};
use crate::trace::{
    change, exchange, network_participant, participants, sent_changes, sent_label, show_function,
    show_set, SpecTrace, NETWORK,
};
use std::fmt;

/// A replica's log as a TLA+ sequence: `<<c1, NoOp>>`.
struct ShowLog<'a>(&'a [Value]);

impl fmt::Display for ShowLog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<String> = self.0.iter().map(|&v| ShowValue(v).to_string()).collect();
        write!(f, "<<{}>>", values.join(", "))
    }
}

impl SpecTrace for MultiPaxosModel {
    fn action_name(&self, action: &Action) -> &'static str {
        action.name()
    }

    fn describe_state(&self, state: &MultiPaxosState) -> Vec<String> {
        let slots = usize::from(self.constants.num_slots);
        // Only the spec's slots: the state stores a fixed number, the rest always `NoVote`.
        let votes = state
            .votes
            .iter()
            .map(|votes| show_function(&votes[..slots]));
        let mut lines = vec![
            format!("maxBal = {}", show_function(&state.max_bal)),
            format!("votes = {}", show_function(votes)),
            format!("msgs = {}", show_set(&state.msgs)),
            format!(
                "applied = {}",
                show_function(state.applied.iter().map(|log| ShowLog(log)))
            ),
        ];
        // Without compaction (`MaxCompaction = 0`) these two stay 0 in every state; leaving
        // them out keeps such traces to the variables that can change.
        if self.constants.max_compaction > 0 {
            lines.insert(
                2,
                format!("compacted = {}", show_function(&state.compacted)),
            );
            lines.push(format!("snapshot = {}", show_function(&state.snapshot)));
        }
        lines
    }

    fn describe_changes(&self, before: &MultiPaxosState, after: &MultiPaxosState) -> Vec<String> {
        let mut changes = Vec::new();
        for (i, a) in self.acceptors().enumerate() {
            changes.extend(change(
                format_args!("maxBal[a{a}]"),
                before.max_bal[i],
                after.max_bal[i],
                |b| b,
            ));
            for (j, s) in self.slots().enumerate() {
                changes.extend(change(
                    format_args!("votes[a{a}][s{s}]"),
                    before.votes[i][j],
                    after.votes[i][j],
                    |v| v,
                ));
            }
            changes.extend(change(
                format_args!("compacted[a{a}]"),
                before.compacted[i],
                after.compacted[i],
                |s| s,
            ));
        }
        changes.extend(sent_changes(after.msgs.difference(&before.msgs)));
        for (i, r) in self.replicas().enumerate() {
            changes.extend(change(
                format_args!("applied[r{r}]"),
                &before.applied[i],
                &after.applied[i],
                |log| ShowLog(log),
            ));
            changes.extend(change(
                format_args!("snapshot[r{r}]"),
                before.snapshot[i],
                after.snapshot[i],
                |s| s,
            ));
        }
        changes
    }

    fn participants(&self) -> Vec<(String, String)> {
        let mut all = participants("L", "leader of ballot ", self.ballots());
        all.push(network_participant());
        all.extend(participants("A", "acceptor a", self.acceptors()));
        all.extend(participants("R", "replica r", self.replicas()));
        all
    }

    fn arrows(
        &self,
        action: &Action,
        before: &MultiPaxosState,
        after: &MultiPaxosState,
    ) -> Vec<String> {
        let sent = sent_label(after.msgs.difference(&before.msgs));
        match *action {
            Action::Phase1a { b } => vec![format!("L{b}->>{NETWORK}: {sent}")],
            Action::Phase2a { b, q, .. } => exchange(
                &format!("L{b}"),
                format_args!("promises of ballot {b} from {q}"),
                &sent,
            ),
            Action::Phase1b { a, m } | Action::Phase2b { a, m } => {
                exchange(&format!("A{a}"), m, &sent)
            }
            Action::Apply { r, v } => {
                // The slot applied is the one the log grew into; the arrow does not claim the
                // votes make a quorum, since a buggy model may apply a value that is not chosen.
                let s = before.applied[usize::from(r) - 1].len() + 1;
                vec![
                    format!("{NETWORK}->>R{r}: 2b votes of s={s}"),
                    format!("R{r}->>R{r}: apply {} in s={s}", ShowValue(v)),
                ]
            }
            Action::CatchUp { r, p } => {
                // What the peer sent is what the log grew by, wherever the peer took it from.
                let log = &after.applied[usize::from(r) - 1];
                let copied = log.last().map(|&v| ShowValue(v).to_string());
                vec![format!(
                    "R{p}->>R{r}: {} for s={}",
                    copied.unwrap_or_default(),
                    log.len()
                )]
            }
            Action::Compact { a, r } => {
                let to = after.compacted[usize::from(a) - 1];
                let covered = before.snapshot[usize::from(r) - 1];
                vec![
                    format!("R{r}->>A{a}: snapshot covers s=1..{covered}"),
                    format!("A{a}->>A{a}: forget votes in s=1..{to}"),
                ]
            }
            Action::Snapshot { r } => {
                let to = after.snapshot[usize::from(r) - 1];
                vec![format!("R{r}->>R{r}: snapshot of s=1..{to}")]
            }
            Action::InstallSnapshot { r, p } => {
                // What the replica installed is what its log became, whatever the peer sent.
                let log = &after.applied[usize::from(r) - 1];
                vec![format!(
                    "R{p}->>R{r}: snapshot of s=1..{}, installed as {}",
                    before.snapshot[usize::from(p) - 1],
                    ShowLog(log)
                )]
            }
        }
    }
}
