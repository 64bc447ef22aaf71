//! How Paxos states and steps read in traces: spec notation for the numbered text trace, and
//! arrows for the Mermaid sequence diagram.

use super::state::{PaxosState, ShowBallot, ShowValue};
use super::{Action, PaxosModel};
use crate::trace::SpecTrace;

impl SpecTrace for PaxosModel {
    fn action_name(&self, action: &Action) -> &'static str {
        action.name()
    }

    fn describe_state(&self, state: &PaxosState) -> Vec<String> {
        let show = |values: Vec<String>| format!("[{}]", values.join(", "));
        vec![
            format!(
                "maxBal = {}",
                show(
                    state
                        .max_bal
                        .iter()
                        .map(|&b| ShowBallot(b).to_string())
                        .collect()
                )
            ),
            format!(
                "maxVBal = {}",
                show(
                    state
                        .max_vbal
                        .iter()
                        .map(|&b| ShowBallot(b).to_string())
                        .collect()
                )
            ),
            format!(
                "maxVal = {}",
                show(
                    state
                        .max_val
                        .iter()
                        .map(|&v| ShowValue(v).to_string())
                        .collect()
                )
            ),
            format!(
                "msgs = {{{}}}",
                state
                    .msgs
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ]
    }

    fn describe_changes(&self, before: &PaxosState, after: &PaxosState) -> Vec<String> {
        let mut changes = Vec::new();
        for a in before.acceptors() {
            let i = usize::from(a) - 1;
            if before.max_bal[i] != after.max_bal[i] {
                changes.push(format!(
                    "maxBal[a{a}]: {} -> {}",
                    before.max_bal[i], after.max_bal[i]
                ));
            }
            if before.max_vbal[i] != after.max_vbal[i] {
                changes.push(format!(
                    "maxVBal[a{a}]: {} -> {}",
                    before.max_vbal[i], after.max_vbal[i]
                ));
            }
            if before.max_val[i] != after.max_val[i] {
                let (old, new) = (ShowValue(before.max_val[i]), ShowValue(after.max_val[i]));
                changes.push(format!("maxVal[a{a}]: {old} -> {new}"));
            }
        }
        for m in after.msgs.difference(&before.msgs) {
            changes.push(format!("msgs += {m}"));
        }
        changes
    }

    fn participants(&self) -> Vec<(String, String)> {
        let proposers = self
            .ballots()
            .map(|b| (format!("P{b}"), format!("proposer of ballot {b}")));
        let network = std::iter::once(("Net".to_string(), "msgs".to_string()));
        let acceptors =
            (1..=self.constants.num_acceptors).map(|a| (format!("A{a}"), format!("acceptor a{a}")));
        proposers.chain(network).chain(acceptors).collect()
    }

    fn arrows(&self, action: &Action, before: &PaxosState, after: &PaxosState) -> Vec<String> {
        let sent: Vec<String> = after
            .msgs
            .difference(&before.msgs)
            .map(|m| m.to_string())
            .collect();
        let sent = if sent.is_empty() {
            "(already sent)".to_string()
        } else {
            sent.join(", ")
        };
        match *action {
            Action::Phase1a { b } => vec![format!("P{b}->>Net: {sent}")],
            Action::Phase2a { b, q, .. } => vec![
                format!("Net->>P{b}: promises of ballot {b} from {q}"),
                format!("P{b}->>Net: {sent}"),
            ],
            Action::Phase1b { a, m } | Action::Phase2b { a, m } => {
                vec![format!("Net->>A{a}: {m}"), format!("A{a}->>Net: {sent}")]
            }
        }
    }
}
