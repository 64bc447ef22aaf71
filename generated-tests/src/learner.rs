//! The replay harness for learner cases.

pub use crate::spec::m2b;
use crate::spec::{ballot, value, SpecMsg};
use crate::walk::{bit, ensure_eq, walk, Replay, Scenario};
use colony_core::group::NodeId;
use colony_core::paxos::{Config, HardState, Input, Message, Node, Value};

/// One delivered vote and the value the learner must report at that step (`None`: nothing).
pub type Step = (SpecMsg, Option<u8>);

/// Starts node 1 of a cell of `n`, delivers each vote, and asserts after each that the node
/// reports exactly the value the spec's `Chosen` says was first chosen at that step, and that
/// hearing votes makes it neither persist nor send anything.
pub fn check(n: u8, steps: &[Step]) {
    let mut learner = Learner::new(n);
    for (index, &(deliver, learned)) in steps.iter().enumerate() {
        if let Err(fault) = learner.hear(deliver, learned) {
            panic!("step {}: {fault}", index + 1);
        }
    }
}

/// Walks every folded combination of the votes in `scenario` through node 1 of a cell of `n`.
/// `chosen` lists, for every set of votes (a bit per message) after which the spec's `Chosen`
/// holds, the value chosen; after any other set nothing is. At each step the node must report
/// the value exactly when it first becomes chosen.
pub fn check_all(n: u8, scenario: &Scenario<'_>, chosen: &[(u8, u8)], combinations: u64) {
    let start = Walker {
        learner: Learner::new(n),
        messages: scenario.messages,
        chosen,
        heard: 0,
    };
    walk(scenario, start, combinations);
}

#[derive(Clone)]
struct Walker<'a> {
    learner: Learner,
    messages: &'a [SpecMsg],
    chosen: &'a [(u8, u8)],
    heard: u8,
}

impl Replay for Walker<'_> {
    fn deliver(&mut self, index: usize) -> Result<(), String> {
        let chosen_in = |heard: u8| {
            self.chosen
                .iter()
                .find(|&&(set, _)| set == heard)
                .map(|&(_, v)| v)
        };
        let before = chosen_in(self.heard);
        self.heard |= bit(index);
        let learned = if before.is_some() {
            None
        } else {
            chosen_in(self.heard)
        };
        self.learner.hear(self.messages[index], learned)
    }
}

/// Node 1 of a cell, and what it has learned so far.
#[derive(Clone)]
struct Learner {
    n: u8,
    node: Node,
    learned_so_far: Option<Value>,
}

impl Learner {
    fn new(n: u8) -> Learner {
        let config = Config {
            id: NodeId(1),
            members: (1..=n).map(NodeId).collect(),
            retry_ticks: 1_000,
        };
        let node =
            Node::new(config, HardState::default()).expect("the cell's configuration is valid");
        Learner {
            n,
            node,
            learned_so_far: None,
        }
    }

    /// Delivers the vote `deliver` and checks that the node learns exactly `learned`.
    fn hear(&mut self, deliver: SpecMsg, learned: Option<u8>) -> Result<(), String> {
        let SpecMsg::M2b { acc, bal, val } = deliver else {
            return Err(format!("a learner hears votes only, not {deliver:?}"));
        };
        let ballot = ballot(bal, self.n).expect("a vote carries a ballot");
        let message = Message::Accepted {
            ballot,
            acceptor: NodeId(acc),
            value: value(val),
        };
        let ready = self.node.step(Input::Message {
            from: NodeId(acc),
            message,
        });
        ensure_eq(
            ready.learned,
            learned.map(value),
            format_args!("what {deliver:?} makes the node learn"),
        )?;
        ensure_eq(ready.hard_state, None, "a vote changes nothing durable")?;
        ensure_eq(ready.messages, Vec::new(), "a vote is not answered")?;
        self.learned_so_far = self.learned_so_far.take().or(learned.map(value));
        ensure_eq(
            self.node.learned(),
            self.learned_so_far.as_ref(),
            "what the node says it learned",
        )
    }
}
