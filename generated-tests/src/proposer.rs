//! The replay harness for proposer cases.

pub use crate::spec::m1b;
use crate::spec::{ballot, proposer_of, value, SpecMsg};
use colony::paxos::{Config, Envelope, HardState, Input, Message, Node, NodeId, Vote};

/// The spec ballot the proposer under test drives.
const BALLOT: i8 = 1;

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
    let id = proposer_of(BALLOT, n);
    let members: Vec<NodeId> = (1..=n).map(NodeId).collect();
    let config = Config {
        id,
        members: members.clone(),
        retry_ticks: 1_000,
    };
    let mut node =
        Node::new(config, HardState::default()).expect("the cell's configuration is valid");
    let the_ballot = ballot(BALLOT, n).expect("ballot 1 exists");
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
        "Phase1a(1)"
    );
    for (index, (deliver, allowed)) in steps.iter().enumerate() {
        let step = index + 1;
        let SpecMsg::M1b {
            acc,
            bal,
            mbal,
            mval,
        } = *deliver
        else {
            panic!("step {step}: a proposer hears promises only, not {deliver:?}");
        };
        let reported = ballot(mbal, n).map(|ballot| Vote {
            ballot,
            value: value(mval),
        });
        let promise = Message::Promise {
            ballot: ballot(bal, n).expect("a promise has a ballot"),
            acceptor: NodeId(acc),
            vote: reported,
        };
        let ready = node.step(Input::Message {
            from: NodeId(acc),
            message: promise,
        });
        assert_eq!(
            ready.hard_state, None,
            "step {step}: a promise changes nothing durable"
        );
        assert_eq!(
            ready.learned, None,
            "step {step}: a promise teaches nothing"
        );
        if allowed.is_empty() {
            assert!(
                ready.messages.is_empty(),
                "step {step}: the spec allows no proposal after {deliver:?}, the node sent {:?}",
                ready.messages
            );
            continue;
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
            panic!(
                "step {step}: a quorum promised, so the node proposes at once; it sent {:?}",
                ready.messages
            );
        };
        assert_eq!(
            *ballot, the_ballot,
            "step {step}: the proposal is in the node's ballot"
        );
        let allowed_values: Vec<_> = allowed.iter().map(|&v| value(v)).collect();
        assert!(
            allowed_values.contains(proposed),
            "step {step}: Phase2a(1, v) allows v in {allowed:?}, the node proposed {proposed}"
        );
        let accept = Message::Accept {
            ballot: the_ballot,
            value: proposed.clone(),
        };
        assert_eq!(
            ready.messages,
            broadcast(&members, &accept),
            "step {step}: the 2a goes to every member"
        );
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
