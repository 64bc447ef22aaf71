//! The replay harness for learner cases.

pub use crate::spec::m2b;
use crate::spec::{ballot, value, SpecMsg};
use colony::paxos::{Config, HardState, Input, Message, Node, NodeId};

/// One delivered vote and the value the learner must report at that step (`None`: nothing).
pub type Step = (SpecMsg, Option<u8>);

/// Starts node 1 of a cell of `n`, delivers each vote, and asserts after each that the node
/// reports exactly the value the spec's `Chosen` says was first chosen at that step, and that
/// hearing votes makes it neither persist nor send anything.
pub fn check(n: u8, steps: &[Step]) {
    let members = (1..=n).map(NodeId).collect();
    let config = Config {
        id: NodeId(1),
        members,
        retry_ticks: 1_000,
    };
    let mut node =
        Node::new(config, HardState::default()).expect("the cell's configuration is valid");
    let mut learned_so_far = None;
    for (index, (deliver, learned)) in steps.iter().enumerate() {
        let step = index + 1;
        let SpecMsg::M2b { acc, bal, val } = *deliver else {
            panic!("step {step}: a learner hears votes only, not {deliver:?}");
        };
        let ballot = ballot(bal, n).expect("a vote carries a ballot");
        let message = Message::Accepted {
            ballot,
            acceptor: NodeId(acc),
            value: value(val),
        };
        let ready = node.step(Input::Message {
            from: NodeId(acc),
            message,
        });
        assert_eq!(
            ready.learned,
            learned.map(value),
            "step {step}: what {deliver:?} makes the node learn"
        );
        assert_eq!(
            ready.hard_state, None,
            "step {step}: a vote changes nothing durable"
        );
        assert!(
            ready.messages.is_empty(),
            "step {step}: a vote is not answered"
        );
        learned_so_far = learned_so_far.or(learned.map(value));
        assert_eq!(
            node.learned(),
            learned_so_far.as_ref(),
            "step {step}: what the node says it learned"
        );
    }
}
