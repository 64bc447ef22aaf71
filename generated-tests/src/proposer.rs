//! The replay harness for proposer cases.

pub use crate::spec::m1b;
use crate::spec::{ballot, proposer_of, value, SpecMsg};
use crate::walk::{bit, ensure_eq, walk_with_copies, Replay, Scenario};
use colony_core::group::{Ballot, NodeId};
use colony_core::paxos::{Config, Envelope, HardState, Input, Message, Node, Vote};
use colony_model::deliveries::COPIES_MAX;

/// The value the client asks the proposer to propose: `v2`.
const CLIENT_VALUE: u8 = 2;

/// One delivered promise and the values the spec allows the proposer to propose right after it
/// (empty: it must not propose).
pub type Step<'a> = (SpecMsg, &'a [u8]);

/// Starts the proposer of spec ballot 1 in a cell of `n` with a client value, checks that it
/// persists its round and then sends the `1a` to every member (`Phase1a(1)`), delivers each
/// promise, and asserts after each that the node proposes exactly when the spec first allows it,
/// a value the spec allows, to every member, and never again.
pub fn check(n: u8, steps: &[Step<'_>]) {
    let mut proposer = Proposer::start(n, 1);
    for (index, &(deliver, allowed)) in steps.iter().enumerate() {
        if let Err(fault) = proposer.hear(deliver, allowed) {
            panic!("step {}: {fault}", index + 1);
        }
    }
}

/// Walks every folded combination of the promises in `scenario` through the proposer of spec
/// ballot 1 in a cell of `n`. `allowed` lists, for every set of promises (a bit per message)
/// after which the spec's `Phase2a(1, v)` is enabled, the values `v` it allows; after any
/// other set it is not enabled. At each step the node must propose an allowed value exactly
/// when a proposal is first allowed, and never again.
pub fn check_all(n: u8, scenario: &Scenario<'_>, allowed: &[(u8, &[u8])], combinations: u64) {
    check_all_in(n, 1, COPIES_MAX, scenario, allowed, combinations);
}

/// [`check_all`] for the proposer of spec ballot `b`, delivering each promise at most
/// `copies_max` times. The node restarts knowing it started round `b - 1`, so that the ballot
/// it starts is round `b`; `allowed` lists the values `Phase2a(b, v)` allows.
pub fn check_all_in(
    n: u8,
    b: i8,
    copies_max: usize,
    scenario: &Scenario<'_>,
    allowed: &[(u8, &[u8])],
    combinations: u64,
) {
    let start = Walker {
        proposer: Proposer::start(n, b),
        messages: scenario.messages,
        allowed,
        heard: 0,
        proposed: false,
    };
    walk_with_copies(scenario, copies_max, start, combinations);
}

#[derive(Clone)]
struct Walker<'a> {
    proposer: Proposer,
    messages: &'a [SpecMsg],
    allowed: &'a [(u8, &'a [u8])],
    heard: u8,
    proposed: bool,
}

impl Replay for Walker<'_> {
    fn deliver(&mut self, index: usize) -> Result<(), String> {
        self.heard |= bit(index);
        let allowed: &[u8] = match self.allowed.iter().find(|&&(set, _)| set == self.heard) {
            Some(&(_, values)) if !self.proposed => values,
            _ => &[],
        };
        self.proposed |= !allowed.is_empty();
        self.proposer.hear(self.messages[index], allowed)
    }
}

/// The proposer of a spec ballot, started.
#[derive(Clone)]
struct Proposer {
    n: u8,
    node: Node,
    members: Vec<NodeId>,
    ballot: Ballot,
}

impl Proposer {
    /// Starts the proposer of spec ballot `b` with the client's value and checks `Phase1a(b)`.
    /// For `b` above 1 the node restarts from a hard state saying it started round `b - 1`
    /// (a proposer remembers only the round, not who owned the ballot), so that the next round
    /// it starts is `b`.
    fn start(n: u8, b: i8) -> Proposer {
        assert!(b >= 1, "the proposer under test starts ballot 1 or above");
        let members: Vec<NodeId> = (1..=n).map(NodeId).collect();
        let config = Config {
            id: proposer_of(b, n),
            members: members.clone(),
            retry_ticks: 1_000,
        };
        let restarted = HardState {
            round_started_max: (b >= 2).then(|| (b - 1) as u32),
            ..HardState::default()
        };
        let mut node = Node::new(config, restarted).expect("the cell's configuration is valid");
        let the_ballot = ballot(b, n).expect("the ballot exists");
        let started = node.step(Input::Propose(value(CLIENT_VALUE)));
        let round = HardState {
            round_started_max: Some(the_ballot.round),
            ..HardState::default()
        };
        assert_eq!(
            started.hard_state,
            Some(round),
            "Phase1a: the round is persisted before the 1a is sent"
        );
        assert_eq!(
            started.messages,
            broadcast(&members, &Message::Prepare { ballot: the_ballot }),
            "Phase1a({b})"
        );
        Proposer {
            n,
            node,
            members,
            ballot: the_ballot,
        }
    }

    /// Delivers the promise `deliver` and checks that the node proposes one of `allowed`, to
    /// every member, or nothing when `allowed` is empty.
    fn hear(&mut self, deliver: SpecMsg, allowed: &[u8]) -> Result<(), String> {
        let SpecMsg::M1b {
            acc,
            bal,
            mbal,
            mval,
        } = deliver
        else {
            return Err(format!("a proposer hears promises only, not {deliver:?}"));
        };
        let reported = ballot(mbal, self.n).map(|ballot| Vote {
            ballot,
            value: value(mval),
        });
        let promise = Message::Promise {
            ballot: ballot(bal, self.n).expect("a promise has a ballot"),
            acceptor: NodeId(acc),
            vote: reported,
        };
        let ready = self.node.step(Input::Message {
            from: NodeId(acc),
            message: promise,
        });
        ensure_eq(ready.hard_state, None, "a promise changes nothing durable")?;
        ensure_eq(ready.learned, None, "a promise teaches nothing")?;
        if allowed.is_empty() {
            return ensure_eq(
                ready.messages,
                Vec::new(),
                format_args!("the spec allows no proposal after {deliver:?}"),
            );
        }
        let Some(Envelope {
            message:
                Message::Accept {
                    ballot,
                    value: proposed,
                },
            ..
        }) = ready.messages.first()
        else {
            return Err(format!(
                "a quorum promised, so the node proposes at once; it sent {:?}",
                ready.messages
            ));
        };
        ensure_eq(*ballot, self.ballot, "the proposal's ballot")?;
        if !allowed.iter().any(|&v| value(v) == *proposed) {
            return Err(format!(
                "Phase2a({}, v) allows v in {allowed:?}, the node proposed {proposed}",
                self.ballot.round
            ));
        }
        let accept = Message::Accept {
            ballot: self.ballot,
            value: proposed.clone(),
        };
        let everyone = broadcast(&self.members, &accept);
        ensure_eq(ready.messages, everyone, "the 2a goes to every member")
    }
}

fn broadcast(members: &[NodeId], message: &Message) -> Vec<Envelope> {
    members
        .iter()
        .map(|&to| Envelope {
            to,
            message: message.clone(),
        })
        .collect()
}
