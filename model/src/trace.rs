//! Counterexamples as traces a reviewer can read: a numbered text trace with one spec action per
//! line, and Markdown with a Mermaid sequence diagram that code review sites render.

use serde::Serialize;
use stateright::{Model, Path};
use std::fmt::Display;

/// What a model must say about its states and actions to be rendered as a trace.
pub trait SpecTrace: Model {
    /// The spec action an action of the model mirrors (`Phase1b`).
    fn action_name(&self, action: &Self::Action) -> &'static str;
    /// The state's variables, in spec notation.
    fn describe_state(&self, state: &Self::State) -> Vec<String>;
    /// The variables a step changed, in spec notation (`maxBal[a1]: -1 -> 0`).
    fn describe_changes(&self, before: &Self::State, after: &Self::State) -> Vec<String>;
    /// Sequence diagram participants: (id, label).
    fn participants(&self) -> Vec<(String, String)>;
    /// Sequence diagram arrows for one step (`P0->>Net: 1a(b=0)`).
    fn arrows(
        &self,
        action: &Self::Action,
        before: &Self::State,
        after: &Self::State,
    ) -> Vec<String>;
}

/// One step of a trace.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Step {
    /// 1 for the initial state, as in TLC's error traces.
    pub number: usize,
    /// The spec action with its parameters and witnesses, or `Init`.
    pub action: String,
    /// The variables the step changed (the whole state for `Init`).
    pub changes: Vec<String>,
    /// Sequence diagram arrows.
    #[serde(skip)]
    pub arrows: Vec<String>,
}

/// A counterexample: the steps from an initial state to a state violating `invariant`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Trace {
    /// The violated invariant.
    pub invariant: String,
    /// The steps, the initial state first.
    pub steps: Vec<Step>,
}

impl Trace {
    /// The trace of `path`, a counterexample to `invariant` found in `model`.
    pub fn of<M>(model: &M, invariant: &str, path: &Path<M::State, M::Action>) -> Trace
    where
        M: SpecTrace,
        M::State: Clone,
        M::Action: Clone + std::fmt::Display,
    {
        let pairs = path.clone().into_vec();
        let mut steps = vec![Step {
            number: 1,
            action: "Init".to_string(),
            changes: model.describe_state(&pairs[0].0),
            arrows: Vec::new(),
        }];
        for window in pairs.windows(2) {
            let (before, action) = (&window[0].0, window[0].1.as_ref());
            let after = &window[1].0;
            let action = action.expect("every state but the last is left by an action");
            let mut changes = model.describe_changes(before, after);
            if changes.is_empty() {
                changes.push("(no change)".to_string());
            }
            steps.push(Step {
                number: steps.len() + 1,
                action: action.to_string(),
                changes,
                arrows: model.arrows(action, before, after),
            });
        }
        Trace {
            invariant: invariant.to_string(),
            steps,
        }
    }

    /// The numbered text trace: one spec action per line, then the variables it changed.
    pub fn to_text(&self) -> String {
        let width = self.steps.iter().map(|s| s.action.len()).max().unwrap_or(0);
        let mut text = format!(
            "Invariant {} is violated after {} steps:\n",
            self.invariant,
            self.steps.len()
        );
        for step in &self.steps {
            let changes = step.changes.join("; ");
            text += &format!("{:>3}  {:<width$}  {changes}\n", step.number, step.action);
        }
        text
    }

    /// The trace as Markdown: a table of steps and a Mermaid sequence diagram.
    pub fn to_markdown<M: SpecTrace>(&self, model: &M, title: &str) -> String {
        let mut md = format!(
            "# {title}\n\nInvariant `{}` is violated after {} steps.\n\n",
            self.invariant,
            self.steps.len()
        );
        md += "| # | action | changes |\n|---|---|---|\n";
        for step in &self.steps {
            md += &format!(
                "| {} | `{}` | {} |\n",
                step.number,
                step.action,
                step.changes
                    .iter()
                    .map(|change| markdown_text(change))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        md += "\n```mermaid\nsequenceDiagram\n";
        let participants = model.participants();
        for (id, label) in &participants {
            md += &format!("    participant {id} as {label}\n");
        }
        for step in self.steps.iter().skip(1) {
            let actor = step.arrows.first().and_then(|a| a.split("->>").next());
            let actor = actor.unwrap_or(participants[0].0.as_str());
            md += &format!("    Note over {actor}: {}. {}\n", step.number, step.action);
            for arrow in &step.arrows {
                md += &format!("    {arrow}\n");
            }
        }
        if let (Some(first), Some(last)) = (participants.first(), participants.last()) {
            md += &format!(
                "    Note over {},{}: {} violated\n",
                first.0, last.0, self.invariant
            );
        }
        md += "```\n";
        md
    }
}

/// The participant that stands for `msgs`, the set of every message sent, in sequence diagrams.
pub const NETWORK: &str = "Net";

/// `[x, y, z]`: a function over `1..n` (one entry per acceptor or replica) in spec notation,
/// entry `i` first for `i = 1, 2, ...`.
pub fn show_function<T: Display>(entries: impl IntoIterator<Item = T>) -> String {
    format!("[{}]", join(entries, ", "))
}

/// `{x, y}`: a set in spec notation.
pub fn show_set<T: Display>(members: impl IntoIterator<Item = T>) -> String {
    format!("{{{}}}", join(members, ", "))
}

/// `name: before -> after`, when the step changed the variable; each is shown by `show`.
pub fn change<T: PartialEq, D: Display>(
    name: impl Display,
    before: T,
    after: T,
    show: impl Fn(T) -> D,
) -> Option<String> {
    (before != after).then(|| format!("{name}: {} -> {}", show(before), show(after)))
}

/// `msgs += m` for every message a step sent.
pub fn sent_changes<T: Display>(sent: impl IntoIterator<Item = T>) -> Vec<String> {
    sent.into_iter().map(|m| format!("msgs += {m}")).collect()
}

/// What an arrow to the network carries: the messages a step sent. A step may send a message
/// that is already in `msgs` (the spec's `Send` is a set union), and the arrow says so rather
/// than carrying nothing.
pub fn sent_label<T: Display>(sent: impl IntoIterator<Item = T>) -> String {
    let label = join(sent, ", ");
    if label.is_empty() {
        "(already sent)".to_string()
    } else {
        label
    }
}

/// The two arrows of a node that takes `received` from the network and answers with `sent`.
pub fn exchange(node: &str, received: impl Display, sent: &str) -> Vec<String> {
    vec![
        format!("{NETWORK}->>{node}: {received}"),
        format!("{node}->>{NETWORK}: {sent}"),
    ]
}

/// Sequence diagram participants: one per member `m` of `members`, in the order given, with id
/// `{prefix}{m}` and label `{label}{m}` (`label` ends with its own separator, as in
/// `"acceptor a"`).
pub fn participants<T: Display>(
    prefix: &str,
    label: &str,
    members: impl IntoIterator<Item = T>,
) -> Vec<(String, String)> {
    members
        .into_iter()
        .map(|m| (format!("{prefix}{m}"), format!("{label}{m}")))
        .collect()
}

/// The network's participant: it stands for `msgs`.
pub fn network_participant() -> (String, String) {
    (NETWORK.to_string(), "msgs".to_string())
}

/// `text` escaped for a Markdown table cell, where `<c1>` of a TLA+ sequence `<<c1>>` would
/// otherwise read as an HTML tag and `|` would end the cell.
fn markdown_text(text: &str) -> String {
    text.replace('<', "\\<").replace('|', "\\|")
}

fn join<T: Display>(items: impl IntoIterator<Item = T>, separator: &str) -> String {
    let shown: Vec<String> = items.into_iter().map(|item| item.to_string()).collect();
    shown.join(separator)
}
