//! The replay harness for acceptor cases.

use crate::spec::{envelopes, from_proposer, hard_state, SpecLocal, SpecMsg};
pub use crate::spec::{m1a, m1b, m2a, m2b};
use colony::paxos::{Config, Input, Node, NodeId, Ready};

/// One delivery and the spec's outcome: the acceptor's new variables and the message it sends,
/// or `None` when the spec's action is not enabled and the node must do nothing.
pub type Step = (SpecMsg, Option<(SpecLocal, SpecMsg)>);

/// Restarts node 1 of a cell of `n` from the durable state of spec variables `prior`, delivers
/// each step's message, and asserts after each that the node persisted exactly the spec's new
/// variables (nothing when they did not change), sent exactly the spec's message, and learned
/// nothing.
pub fn check(n: u8, prior: SpecLocal, steps: &[Step]) {
    let members = (1..=n).map(NodeId).collect();
    let config = Config {
        id: NodeId(1),
        members,
        retry_ticks: 1_000,
    };
    let mut durable = hard_state(prior, n);
    let mut node = Node::new(config, durable.clone()).expect("the cell's configuration is valid");
    for (index, (deliver, outcome)) in steps.iter().enumerate() {
        let step = index + 1;
        let (from, message) = from_proposer(*deliver, n);
        let ready = node.step(Input::Message { from, message });
        let Some((local, sent)) = outcome else {
            // Compared field by field, not through `Ready::is_empty`: the harness trusts
            // nothing of the code it checks.
            assert_eq!(
                ready,
                Ready::default(),
                "step {step}: the spec does nothing with {deliver:?}"
            );
            continue;
        };
        let expected = hard_state(*local, n);
        let persist = (expected != durable).then(|| expected.clone());
        assert_eq!(
            ready.hard_state, persist,
            "step {step}: what {deliver:?} makes the node persist"
        );
        assert_eq!(
            ready.messages,
            envelopes(*sent, n),
            "step {step}: what {deliver:?} makes the node send"
        );
        assert_eq!(
            ready.learned, None,
            "step {step}: an acceptor step learns nothing"
        );
        durable = expected;
    }
}
