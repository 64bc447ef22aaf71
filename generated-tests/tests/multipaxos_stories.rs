//! Curated Multi-Paxos stories, run on real replicas and kept as Markdown traces with a Mermaid
//! sequence diagram (insta snapshots): a change to the protocol shows up in review as a diff of
//! these stories. Each story is a fixed script (no randomness) and asserts its outcome: the log
//! every live replica decided.
//!
//! Accept an intended change with `cargo insta review` (or `INSTA_UPDATE=always`) after reading
//! the diff.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::group::NodeId;
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, Envelope, Input, Message, Ready, Replica,
};
use std::collections::VecDeque;

/// One step of a story's script.
#[derive(Clone, Copy)]
enum Event {
    /// Logical time passes at a replica, this many ticks.
    Tick(u8, u32),
    /// A client proposes a command at a replica.
    Propose(u8, &'static str),
    /// Every message in flight is delivered, oldest first, until none is left.
    DeliverAll,
    /// A replica stops: it takes no more input, and messages to it are lost.
    Stop(u8),
}

/// A story: its script, what the network loses, and the log every live replica must decide.
struct Story {
    name: &'static str,
    /// Changes to every replica's configuration.
    config: fn(Config) -> Config,
    script: Vec<Event>,
    /// Messages the network loses: (from, envelope) -> lost?
    lose: fn(NodeId, &Envelope) -> bool,
    decided: &'static [&'static [&'static str]],
}

/// A bound on the deliveries of one `DeliverAll`.
const DELIVERIES_MAX: usize = 1_000;

struct Run {
    replicas: Vec<Replica>,
    stopped: Vec<bool>,
    in_flight: VecDeque<(NodeId, Envelope)>,
    text: Vec<String>,
    mermaid: Vec<String>,
}

impl Run {
    fn new(n: u8, adjust: fn(Config) -> Config) -> Run {
        let members: Vec<NodeId> = (1..=n).map(NodeId).collect();
        let replicas = members.iter().map(|&id| {
            let mut config = Config::new(id, members.clone());
            config.election_ticks = 3 * u32::from(id.0);
            config.heartbeat_ticks = 2;
            Replica::new(adjust(config), Durable::default()).unwrap()
        });
        Run {
            replicas: replicas.collect(),
            stopped: vec![false; usize::from(n)],
            in_flight: VecDeque::new(),
            text: Vec::new(),
            mermaid: Vec::new(),
        }
    }

    fn play(&mut self, story: &Story) {
        for &event in &story.script {
            match event {
                Event::Tick(node, ticks) => {
                    for _ in 0..ticks {
                        let ready = self.replica(node).step(Input::Tick);
                        if !ready.is_empty() {
                            self.text.push(format!("n{node} <- tick"));
                        }
                        self.record(NodeId(node), ready, story.lose, "Apply");
                    }
                }
                Event::Propose(node, command) => {
                    let command = Command(command.as_bytes().to_vec());
                    self.text
                        .push(format!("n{node} <- client: propose {command}"));
                    let ready = self.replica(node).propose(command).unwrap();
                    self.record(NodeId(node), ready, story.lose, "Apply");
                }
                Event::DeliverAll => self.deliver_all(story.lose),
                Event::Stop(node) => {
                    self.stopped[usize::from(node) - 1] = true;
                    self.text.push(format!("n{node} stops"));
                    self.mermaid.push(format!("    Note over n{node}: stops"));
                }
            }
        }
    }

    fn replica(&mut self, node: u8) -> &mut Replica {
        assert!(!self.stopped[usize::from(node) - 1], "n{node} stopped");
        &mut self.replicas[usize::from(node) - 1]
    }

    fn deliver_all(&mut self, lose: fn(NodeId, &Envelope) -> bool) {
        for _ in 0..DELIVERIES_MAX {
            let Some((from, envelope)) = self.in_flight.pop_front() else {
                return;
            };
            let to = envelope.to;
            if self.stopped[usize::from(to.0) - 1] {
                continue;
            }
            let (action, handler) = spec_of(&envelope.message);
            // A slot a catch-up reply brings is the spec's CatchUp; any other is its Apply.
            let applies = match envelope.message {
                Message::CatchUp { .. } => "CatchUp",
                _ => "Apply",
            };
            self.text.push(format!(
                "{to} <- {from}: {:<44} {action}   impl: {handler}",
                envelope.message.to_string()
            ));
            self.mermaid
                .push(format!("    {from}->>{to}: {}", envelope.message));
            let input = Input::Message {
                from,
                message: envelope.message,
            };
            let ready = self.replicas[usize::from(to.0) - 1].step(input);
            self.record(to, ready, lose, applies);
        }
        panic!("more than {DELIVERIES_MAX} deliveries");
    }

    /// Writes down what a step asked of the caller; `applies` names the spec action of the slots
    /// it decided.
    fn record(
        &mut self,
        node: NodeId,
        ready: Ready,
        lose: fn(NodeId, &Envelope) -> bool,
        applies: &str,
    ) {
        if let Some(hard) = &ready.hard_state {
            let promised = hard.promised.map_or("none".to_string(), |b| b.to_string());
            let round = hard
                .round_started_max
                .map_or("none".to_string(), |r| r.to_string());
            let line = format!("persist promised={promised} round_started_max={round}");
            self.text.push(format!("{node}    {line}"));
            self.mermaid.push(format!("    Note over {node}: {line}"));
        }
        for (slot, vote) in &ready.votes {
            let line = format!("persist vote {slot}={vote}");
            self.text.push(format!("{node}    {line}"));
            self.mermaid.push(format!("    Note over {node}: {line}"));
        }
        let mut sent: Vec<String> = Vec::new();
        for envelope in ready.messages {
            if lose(node, &envelope) {
                self.text.push(format!(
                    "{node} -> {}: {}   (lost)",
                    envelope.to, envelope.message
                ));
                continue;
            }
            let line = envelope.message.to_string();
            if sent.last() != Some(&line) {
                sent.push(line);
            }
            self.in_flight.push_back((node, envelope));
        }
        for line in sent {
            self.text.push(format!("{node} -> {line}"));
        }
        for (slot, entry) in &ready.decided {
            let line = format!("applies {slot} = {entry}");
            self.text
                .push(format!("{node}    {line}   Spec: {applies}(r{})", node.0));
            self.mermaid.push(format!("    Note over {node}: {line}"));
        }
        for command in &ready.abandoned {
            self.text.push(format!("{node}    gives up {command}"));
        }
    }

    fn markdown(&self, story: &Story) -> String {
        let participants: Vec<String> = (1..=self.replicas.len())
            .map(|n| format!("    participant n{n}"))
            .collect();
        format!(
            "# {}\n\n```\n{}\n```\n\n```mermaid\nsequenceDiagram\n{}\n{}\n```\n",
            story.name,
            self.text.join("\n"),
            participants.join("\n"),
            self.mermaid.join("\n")
        )
    }
}

/// The spec action a delivery of `message` is, and the handler that implements it.
fn spec_of(message: &Message) -> (&'static str, &'static str) {
    match message {
        Message::Prepare { .. } => ("Spec: Phase1b", "Acceptor::on_prepare"),
        Message::Promise { .. } => ("Spec: Phase2a", "Leader::on_promise"),
        Message::Accept { .. } => ("Spec: Phase2b", "Acceptor::on_accept"),
        Message::Accepted { .. } => ("Spec: ChosenIn", "Learner::on_accepted"),
        Message::Heartbeat { .. } => ("no spec action", "Replica::on_message"),
        Message::CatchUpRequest { .. } => ("no spec action", "Replica::on_catch_up_request"),
        Message::CatchUp { .. } => ("Spec: CatchUp", "Learner::on_catch_up"),
    }
}

fn entry(commands: &[&str]) -> Entry {
    if commands.is_empty() {
        return Entry::NoOp;
    }
    Entry::Batch(
        commands
            .iter()
            .map(|c| Command(c.as_bytes().to_vec()))
            .collect(),
    )
}

fn play(story: &Story) -> String {
    let mut run = Run::new(3, story.config);
    run.play(story);
    let expected: Vec<Entry> = story.decided.iter().map(|c| entry(c)).collect();
    for (i, replica) in run.replicas.iter().enumerate() {
        if !run.stopped[i] {
            assert_eq!(replica.decided(), expected, "n{} in {}", i + 1, story.name);
        }
    }
    run.markdown(story)
}

/// n1's election timer runs out first and it becomes the leader; then clients propose "c1" and
/// "c2" at it and every message is delivered.
fn n1_leads_and_proposes_two() -> Vec<Event> {
    vec![
        Event::Tick(1, 3),
        Event::DeliverAll,
        Event::Propose(1, "c1"),
        Event::Propose(1, "c2"),
        Event::DeliverAll,
    ]
}

fn nothing_lost(_: NodeId, _: &Envelope) -> bool {
    false
}

fn keep(config: Config) -> Config {
    config
}

#[test]
fn a_busy_leader_batches_behind_a_one_slot_pipeline() {
    let story = Story {
        name: "A busy leader batches behind a one-slot pipeline",
        config: |mut config| {
            config.slots_in_flight_max = 1;
            config
        },
        script: vec![
            Event::Tick(1, 3),
            Event::DeliverAll,
            Event::Propose(1, "c1"),
            Event::Propose(1, "c2"),
            Event::Propose(1, "c3"),
            Event::DeliverAll,
        ],
        lose: nothing_lost,
        decided: &[&["c1"], &["c2", "c3"]],
    };
    insta::assert_snapshot!(play(&story));
}

#[test]
fn a_new_leader_fills_a_hole_with_noop() {
    let story = Story {
        name: "A new leader fills the hole its predecessor left with NoOp",
        config: keep,
        script: [
            n1_leads_and_proposes_two(),
            vec![Event::Stop(1), Event::Tick(2, 6), Event::DeliverAll],
        ]
        .concat(),
        // The first leader's proposal for slot 1 reaches nobody but itself.
        lose: |from, envelope| {
            from == NodeId(1)
                && envelope.to != NodeId(1)
                && matches!(&envelope.message, Message::Accept { slot, .. } if slot.0 == 1)
        },
        decided: &[&[], &["c2"]],
    };
    insta::assert_snapshot!(play(&story));
}

#[test]
fn a_lagging_replica_catches_up() {
    let story = Story {
        name: "A replica that heard no votes catches up from the leader",
        config: keep,
        script: [
            n1_leads_and_proposes_two(),
            vec![Event::Tick(1, 2), Event::DeliverAll],
        ]
        .concat(),
        // No vote reaches n3.
        lose: |_, envelope| {
            envelope.to == NodeId(3) && matches!(envelope.message, Message::Accepted { .. })
        },
        decided: &[&["c1"], &["c2"]],
    };
    insta::assert_snapshot!(play(&story));
}
