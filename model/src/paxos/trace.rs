//! How Paxos states and steps read in traces: spec notation for the numbered text trace, and
//! arrows for the Mermaid sequence diagram.

use super::state::{PaxosState, ShowBallot, ShowValue};
use super::{Action, PaxosModel};
use crate::trace::{
    change, exchange, network_participant, participants, sent_changes, sent_label, show_function,
    show_set, SpecTrace, NETWORK,
};

impl SpecTrace for PaxosModel {
    fn action_name(&self, action: &Action) -> &'static str {
        action.name()
    }

    fn describe_state(&self, state: &PaxosState) -> Vec<String> {
        vec![
            format!(
                "maxBal = {}",
                show_function(state.max_bal.iter().map(|&b| ShowBallot(b)))
            ),
            format!(
                "maxVBal = {}",
                show_function(state.max_vbal.iter().map(|&b| ShowBallot(b)))
            ),
            format!(
                "maxVal = {}",
                show_function(state.max_val.iter().map(|&v| ShowValue(v)))
            ),
            format!("msgs = {}", show_set(state.msgs.iter())),
        ]
    }

    fn describe_changes(&self, before: &PaxosState, after: &PaxosState) -> Vec<String> {
        let mut changes = Vec::new();
        for a in before.acceptors() {
            let i = usize::from(a) - 1;
            changes.extend(
                [
                    change(
                        format_args!("maxBal[a{a}]"),
                        before.max_bal[i],
                        after.max_bal[i],
                        ShowBallot,
                    ),
                    change(
                        format_args!("maxVBal[a{a}]"),
                        before.max_vbal[i],
                        after.max_vbal[i],
                        ShowBallot,
                    ),
                    change(
                        format_args!("maxVal[a{a}]"),
                        before.max_val[i],
                        after.max_val[i],
                        ShowValue,
                    ),
                ]
                .into_iter()
                .flatten(),
            );
        }
        changes.extend(sent_changes(after.msgs.difference(&before.msgs)));
        changes
    }

    fn participants(&self) -> Vec<(String, String)> {
        let mut all = participants("P", "proposer of ballot ", self.ballots());
        all.push(network_participant());
        all.extend(participants(
            "A",
            "acceptor a",
            1..=self.constants.num_acceptors,
        ));
        all
    }

    fn arrows(&self, action: &Action, before: &PaxosState, after: &PaxosState) -> Vec<String> {
        let sent = sent_label(after.msgs.difference(&before.msgs));
        match *action {
            Action::Phase1a { b } => vec![format!("P{b}->>{NETWORK}: {sent}")],
            Action::Phase2a { b, q, .. } => exchange(
                &format!("P{b}"),
                format_args!("promises of ballot {b} from {q}"),
                &sent,
            ),
            Action::Phase1b { a, m } | Action::Phase2b { a, m } => {
                exchange(&format!("A{a}"), m, &sent)
            }
        }
    }
}
