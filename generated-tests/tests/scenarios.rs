//! Curated scenarios, run on real nodes and kept as Markdown traces with a Mermaid sequence
//! diagram (insta snapshots): a change to the protocol shows up in review as a diff of these
//! stories. Each scenario is deterministic (fixed delivery policy, no randomness) and also
//! asserts its outcome: every node learns, and all learn the one value the story says.
//!
//! Accept an intended change with `cargo insta review` (or `INSTA_UPDATE=always`) after reading
//! the diff.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::group::NodeId;
use colony_core::paxos::{Config, Envelope, HardState, Input, Message, Node, Ready, Value};
use std::collections::VecDeque;

/// Which in-flight message is delivered next.
#[derive(Clone, Copy)]
enum Order {
    /// The oldest first.
    Fifo,
    /// The newest first.
    Lifo,
}

/// A story: who proposes what, when, and what the network does.
struct Scenario {
    name: &'static str,
    /// (delivery count at which it happens, proposer, value).
    proposals: Vec<(usize, u8, &'static str)>,
    order: Order,
    /// Every delivered message is delivered a second time too.
    duplicate: bool,
    /// Messages the network loses: (from, to, message) -> lost?
    lose: fn(NodeId, &Envelope) -> bool,
    /// The value every node must learn.
    decided: &'static str,
}

const DELIVERIES_MAX: usize = 500;

struct Run {
    nodes: Vec<Node>,
    in_flight: VecDeque<(NodeId, Envelope, bool)>,
    learned: Vec<Option<Value>>,
    text: Vec<String>,
    mermaid: Vec<String>,
}

impl Run {
    fn new(n: u8) -> Run {
        let members: Vec<NodeId> = (1..=n).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|&id| {
                Node::new(
                    Config {
                        id,
                        members: members.clone(),
                        retry_ticks: 2,
                    },
                    HardState::default(),
                )
                .unwrap()
            })
            .collect();
        Run {
            nodes,
            in_flight: VecDeque::new(),
            learned: vec![None; usize::from(n)],
            text: Vec::new(),
            mermaid: Vec::new(),
        }
    }

    fn step(&mut self, node: NodeId, input: Input, duplicate: bool) {
        let (arrives, spec) = describe_input(node, &input);
        let ready = self.nodes[usize::from(node.0) - 1].step(input);
        self.text.push(format!("{node} <- {arrives:<40} {spec}"));
        self.record(node, ready, duplicate);
    }

    fn record(&mut self, node: NodeId, ready: Ready, duplicate: bool) {
        if let Some(hard) = &ready.hard_state {
            let promised = hard.promised.map_or("none".to_string(), |b| b.to_string());
            let vote = hard.vote.as_ref().map_or("none".to_string(), |v| {
                format!("({}, {})", v.ballot, v.value)
            });
            let round = hard
                .round_started_max
                .map_or("none".to_string(), |r| r.to_string());
            let line = format!("persist promised={promised} vote={vote} round_started_max={round}");
            self.text.push(format!("{node}    {line}"));
            self.mermaid.push(format!("    Note over {node}: {line}"));
        }
        if let Some(first) = ready.messages.first() {
            let to: Vec<String> = ready.messages.iter().map(|e| e.to.to_string()).collect();
            self.text
                .push(format!("{node} -> {} to {}", first.message, to.join(", ")));
        }
        for envelope in ready.messages {
            self.in_flight.push_back((node, envelope.clone(), false));
            if duplicate {
                self.in_flight.push_back((node, envelope, true));
            }
        }
        if let Some(value) = ready.learned {
            self.text
                .push(format!("{node}    learns {value}   Spec: Chosen({value})"));
            self.mermaid
                .push(format!("    Note over {node}: learns {value}"));
            self.learned[usize::from(node.0) - 1] = Some(value);
        }
    }

    fn next(&mut self, order: Order) -> Option<(NodeId, Envelope, bool)> {
        match order {
            Order::Fifo => self.in_flight.pop_front(),
            Order::Lifo => self.in_flight.pop_back(),
        }
    }
}

fn describe_input(node: NodeId, input: &Input) -> (String, String) {
    match input {
        Input::Propose(value) => (
            format!("propose {value}"),
            "Spec: Phase1a(b)   impl: Node::start_ballot".into(),
        ),
        Input::Tick => (
            "tick".into(),
            "(retry: Phase1a with a higher ballot when due)".into(),
        ),
        Input::Message { from, message } => {
            let spec = match message {
                Message::Prepare { .. } => {
                    format!("Spec: Phase1b({node})   impl: Acceptor::on_prepare")
                }
                Message::Promise { .. } => {
                    "Spec: Phase2a(b, v) once a quorum promised   impl: Proposer::on_promise".into()
                }
                Message::Accept { .. } => {
                    format!("Spec: Phase2b({node})   impl: Acceptor::on_accept")
                }
                Message::Accepted { .. } => "Spec: Chosen   impl: Learner::on_accepted".into(),
            };
            (format!("{message} from {from}"), spec)
        }
    }
}

/// Runs `scenario` on a cell of 3 and returns its Markdown trace.
fn run(scenario: &Scenario) -> String {
    let mut run = Run::new(3);
    let mut deliveries = 0;
    while deliveries < DELIVERIES_MAX {
        for &(at, node, value) in &scenario.proposals {
            if at == deliveries {
                run.step(
                    NodeId(node),
                    Input::Propose(Value(value.as_bytes().to_vec())),
                    scenario.duplicate,
                );
            }
        }
        if run.learned.iter().all(Option::is_some) && run.in_flight.is_empty() {
            break;
        }
        let Some((from, envelope, copy)) = run.next(scenario.order) else {
            for node in 1..=3 {
                run.step(NodeId(node), Input::Tick, scenario.duplicate);
            }
            deliveries += 1;
            continue;
        };
        deliveries += 1;
        let arrow = format!(
            "{from}->>{}: {}{}",
            envelope.to,
            envelope.message,
            if copy { " (copy)" } else { "" }
        );
        if (scenario.lose)(from, &envelope) && !copy {
            run.text.push(format!(
                "{} <- {} from {from}   LOST",
                envelope.to, envelope.message
            ));
            run.mermaid.push(format!(
                "    {from}-x{}: {} (lost)",
                envelope.to, envelope.message
            ));
            continue;
        }
        run.mermaid.push(format!("    {arrow}"));
        run.step(
            envelope.to,
            Input::Message {
                from,
                message: envelope.message,
            },
            false,
        );
    }
    let decided = Value(scenario.decided.as_bytes().to_vec());
    assert!(
        run.learned.iter().all(|l| l.as_ref() == Some(&decided)),
        "{}: learned {:?}",
        scenario.name,
        run.learned
    );
    let mut md = format!(
        "# {}\n\nEvery node learns {decided}.\n\n```\n",
        scenario.name
    );
    for line in &run.text {
        md += line.trim_end();
        md += "\n";
    }
    md += "```\n\n```mermaid\nsequenceDiagram\n    participant n1\n    participant n2\n    participant n3\n";
    for line in &run.mermaid {
        md += line;
        md += "\n";
    }
    md += "```\n";
    md
}

fn nothing_lost(_: NodeId, _: &Envelope) -> bool {
    false
}

#[test]
fn happy_path() {
    let scenario = Scenario {
        name: "One proposer, nothing lost",
        proposals: vec![(0, 1, "A")],
        order: Order::Fifo,
        duplicate: false,
        lose: nothing_lost,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn every_message_twice() {
    let scenario = Scenario {
        name: "Every message delivered twice",
        proposals: vec![(0, 1, "A")],
        order: Order::Fifo,
        duplicate: true,
        lose: nothing_lost,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn newest_first() {
    let scenario = Scenario {
        name: "Messages delivered newest first",
        proposals: vec![(0, 1, "A")],
        order: Order::Lifo,
        duplicate: false,
        lose: nothing_lost,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn lost_quorum_then_retry() {
    fn lose(from: NodeId, e: &Envelope) -> bool {
        matches!(e.message, Message::Promise { ballot, .. } if ballot.round == 1) && from != e.to
    }
    let scenario = Scenario {
        name: "The first round's promises from others are lost; the proposer retries higher",
        proposals: vec![(0, 1, "A")],
        order: Order::Fifo,
        duplicate: false,
        lose,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn competing_proposers() {
    let scenario = Scenario {
        name: "Two proposers at once",
        proposals: vec![(0, 1, "A"), (0, 3, "B")],
        order: Order::Fifo,
        duplicate: false,
        lose: nothing_lost,
        decided: "B",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn vote_carried_into_a_higher_ballot() {
    // n1's proposal reaches only n2's acceptor; n3 then proposes B in a higher ballot, hears
    // n2's vote for A in its promises, and must propose A.
    fn lose(from: NodeId, e: &Envelope) -> bool {
        let accept_from_n1 =
            matches!(e.message, Message::Accept { .. }) && from == NodeId(1) && e.to != NodeId(2);
        let n2_vote_to_others =
            matches!(e.message, Message::Accepted { ballot, .. } if ballot.proposer == NodeId(1));
        accept_from_n1 || n2_vote_to_others
    }
    let scenario = Scenario {
        name: "A vote carried into a higher ballot",
        proposals: vec![(0, 1, "A"), (12, 3, "B")],
        order: Order::Fifo,
        duplicate: false,
        lose,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn competing_proposers_newest_first() {
    let scenario = Scenario {
        name: "Two proposers at once, messages delivered newest first",
        proposals: vec![(0, 1, "A"), (0, 3, "B")],
        order: Order::Lifo,
        duplicate: false,
        lose: nothing_lost,
        decided: "B",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn one_acceptor_silent() {
    // Everything n3 sends to others is lost: n1 and n2 are a quorum on their own, and n3 still
    // learns from their votes.
    fn lose(from: NodeId, e: &Envelope) -> bool {
        from == NodeId(3) && e.to != NodeId(3)
    }
    let scenario = Scenario {
        name: "One acceptor's replies all lost: the other two are a quorum",
        proposals: vec![(0, 1, "A")],
        order: Order::Fifo,
        duplicate: false,
        lose,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn first_ballot_votes_lost() {
    // Every vote of round 1 that travels between nodes is lost, so nobody hears a quorum; the
    // proposer retries in round 2, the promises report the votes for A, and it proposes A again.
    fn lose(from: NodeId, e: &Envelope) -> bool {
        matches!(e.message, Message::Accepted { ballot, .. } if ballot.round == 1) && from != e.to
    }
    let scenario = Scenario {
        name: "Every vote of the first ballot lost: the retry proposes the value voted for",
        proposals: vec![(0, 1, "A")],
        order: Order::Fifo,
        duplicate: false,
        lose,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn late_proposer_missed_the_decision() {
    // n3 hears none of n1's ballot, so it does not know A was chosen; when its client asks
    // for B, its promises report the votes for A, and it proposes A.
    fn lose(from: NodeId, e: &Envelope) -> bool {
        let of_n1_ballot = match &e.message {
            Message::Prepare { ballot } | Message::Accept { ballot, .. } => ballot.proposer,
            Message::Promise { ballot, .. } | Message::Accepted { ballot, .. } => ballot.proposer,
        } == NodeId(1);
        of_n1_ballot && e.to == NodeId(3) && from != NodeId(3)
    }
    let scenario = Scenario {
        name: "A late proposer that missed the decision proposes the chosen value",
        proposals: vec![(0, 1, "A"), (20, 3, "B")],
        order: Order::Fifo,
        duplicate: false,
        lose,
        decided: "A",
    };
    insta::assert_snapshot!(run(&scenario));
}

#[test]
fn everything_twice_newest_first() {
    let scenario = Scenario {
        name: "Two proposers, every message delivered twice, newest first",
        proposals: vec![(0, 1, "A"), (0, 2, "B")],
        order: Order::Lifo,
        duplicate: true,
        lose: nothing_lost,
        decided: "B",
    };
    insta::assert_snapshot!(run(&scenario));
}
