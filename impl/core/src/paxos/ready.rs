//! What a step asks of the caller, with the order of its duties written on the type.

use super::message::{Message, Value, Vote};
use crate::group::Ballot;
use serde::{Deserialize, Serialize};

/// What a node must keep across crashes.
///
/// `promised` and `vote` are the spec's acceptor variables (`maxBal`; `maxVBal` and `maxVal`).
/// `round_started_max` is the proposer's: after a restart the node must never start a ballot it
/// started before, or it could send two different `2a` messages in one ballot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    /// Spec: `maxBal[a]`, the highest ballot promised (`None` is the spec's `-1`).
    pub promised: Option<Ballot>,
    /// Spec: `maxVBal[a]` and `maxVal[a]`, the latest vote (`None` is `-1` and `None`).
    pub vote: Option<Vote>,
    /// The highest round this node has started as a proposer.
    pub round_started_max: Option<u32>,
}

/// A single-decree Paxos message and the node it is for.
pub type Envelope = crate::group::Envelope<Message>;

/// Everything the caller must do after one step, **in this order**:
///
/// 1. If `hard_state` is `Some`, write it to durable storage and wait until it is durable
///    (fsync). Only then:
/// 2. send every message in `messages`. A promise or a vote sent before it is durable could be
///    forgotten in a crash, and the restarted node could then promise or vote against it, which
///    breaks `VotesSafe` and with it `Agreement`. The network may lose, duplicate or reorder
///    the messages; the protocol tolerates all three.
/// 3. `learned`, once `Some`, is the decided value: it may be reported to clients at once (it is
///    chosen by a quorum, whatever this node persists).
#[must_use = "the caller must persist, then send, what a step returns"]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// The state to make durable before sending, when the step changed it.
    pub hard_state: Option<HardState>,
    /// The messages to send, after `hard_state` is durable.
    pub messages: Vec<Envelope>,
    /// The value this step learned was chosen, the first time it is learned.
    pub learned: Option<Value>,
}

impl Ready {
    /// True when the caller has nothing to do.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none() && self.messages.is_empty() && self.learned.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::NodeId;

    #[test]
    fn empty_means_nothing_at_all_to_do() {
        assert!(Ready::default().is_empty());
        let persist = Ready {
            hard_state: Some(HardState::default()),
            ..Ready::default()
        };
        let learn = Ready {
            learned: Some(Value(vec![1])),
            ..Ready::default()
        };
        let message = Message::Prepare {
            ballot: Ballot {
                round: 0,
                proposer: NodeId(1),
            },
        };
        let send = Ready {
            messages: vec![Envelope {
                to: NodeId(1),
                message,
            }],
            ..Ready::default()
        };
        for ready in [persist, learn, send] {
            assert!(!ready.is_empty(), "{ready:?}");
        }
    }
}
