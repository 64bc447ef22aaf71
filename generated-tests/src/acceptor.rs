//! The replay harness for acceptor cases.

use crate::spec::{envelopes, from_proposer, hard_state, SpecLocal, SpecMsg};
pub use crate::spec::{m1a, m1b, m2a, m2b};
use crate::walk::{self, ensure_eq, walk, Receiver, Scenario, TableWalker};
use colony_core::group::NodeId;
use colony_core::paxos::{Config, HardState, Input, Node, Ready};

/// The spec's outcome of one delivery: the acceptor's new variables and the message it sends,
/// or `None` when the spec's action is not enabled and the node must do nothing.
pub type Outcome = Option<(SpecLocal, SpecMsg)>;

/// One delivery and the spec's outcome.
pub type Step = (SpecMsg, Outcome);

/// One row of an acceptor's transition table: from these variables, this message gives this
/// outcome.
pub type Transition = walk::Transition<Acceptor>;

/// Restarts node 1 of a cell of `n` from the durable state of spec variables `prior`, delivers
/// each step's message, and asserts after each that the node persisted exactly the spec's new
/// variables (nothing when they did not change), sent exactly the spec's message, and learned
/// nothing.
pub fn check(n: u8, prior: SpecLocal, steps: &[Step]) {
    let mut acceptor = Acceptor::restart(n, prior);
    for (index, &(deliver, outcome)) in steps.iter().enumerate() {
        if let Err(fault) = acceptor.receive(deliver, outcome) {
            panic!("step {}: {fault}", index + 1);
        }
    }
}

/// Walks every folded combination of the messages in `scenario` through node 1 of a cell of
/// `n`, restarted from spec variables `prior`. `transitions` is the spec's outcome of every
/// message of the scenario from every state the acceptor passes through.
pub fn check_all(
    n: u8,
    scenario: &Scenario<'_>,
    prior: SpecLocal,
    transitions: &[Transition],
    combinations: u64,
) {
    let start = TableWalker {
        node: Acceptor::restart(n, prior),
        messages: scenario.messages,
        transitions,
    };
    walk(scenario, start, combinations);
}

/// Node 1 of a cell, and the spec variables its durable state stands for.
#[derive(Clone)]
pub struct Acceptor {
    n: u8,
    node: Node,
    local: SpecLocal,
    durable: HardState,
}

impl Acceptor {
    fn restart(n: u8, prior: SpecLocal) -> Acceptor {
        let config = Config {
            id: NodeId(1),
            members: (1..=n).map(NodeId).collect(),
            retry_ticks: 1_000,
        };
        let durable = hard_state(prior, n);
        let node = Node::new(config, durable.clone()).expect("the cell's configuration is valid");
        Acceptor {
            n,
            node,
            local: prior,
            durable,
        }
    }
}

impl Receiver for Acceptor {
    type Local = SpecLocal;
    type Msg = SpecMsg;
    type Sent = SpecMsg;

    fn local(&self) -> SpecLocal {
        self.local
    }

    /// Delivers `deliver` and checks that the node persists and sends exactly what `outcome`
    /// says, and learns nothing.
    fn receive(&mut self, deliver: SpecMsg, outcome: Outcome) -> Result<(), String> {
        let (from, message) = from_proposer(deliver, self.n);
        let ready = self.node.step(Input::Message { from, message });
        let Some((local, sent)) = outcome else {
            // Compared whole, not through `Ready::is_empty`: the harness trusts nothing of the
            // code it checks.
            return ensure_eq(
                ready,
                Ready::default(),
                format_args!("the spec does nothing with {deliver:?}"),
            );
        };
        let expected = hard_state(local, self.n);
        let persist = (expected != self.durable).then(|| expected.clone());
        ensure_eq(
            ready.hard_state,
            persist,
            format_args!("what {deliver:?} makes the node persist"),
        )?;
        ensure_eq(
            ready.messages,
            envelopes(sent, self.n),
            format_args!("what {deliver:?} makes the node send"),
        )?;
        ensure_eq(ready.learned, None, "an acceptor step learns nothing")?;
        self.durable = expected;
        self.local = local;
        Ok(())
    }
}
