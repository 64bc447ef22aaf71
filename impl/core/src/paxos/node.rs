//! A node of a cell: acceptor, learner and proposer behind one `step` function.

use super::acceptor::{Acceptor, AcceptorState};
use super::learner::Learner;
use super::message::{Message, Value};
use super::proposer::Proposer;
use super::ready::{Envelope, HardState, Ready};
use crate::group::{check_members, quorum_size, MembersError, NodeId, MEMBERS_MAX};

/// A node's place in its cell.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// This node.
    pub id: NodeId,
    /// Every member of the cell, this node included.
    pub members: Vec<NodeId>,
    /// Ticks without a decision after which the proposer starts a higher ballot.
    pub retry_ticks: u32,
}

/// Why a [`Config`] is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The member list, or the node's place in it.
    #[error(transparent)]
    Members(#[from] MembersError),
    /// `retry_ticks` is zero.
    #[error("retry_ticks must be at least 1")]
    RetryTicks,
}

/// One input to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message from another node (or from this one, as every node sends to all members).
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        message: Message,
    },
    /// A client asks for `value` to be chosen (if nothing else is chosen first).
    Propose(Value),
    /// Logical time passed; the proposer retries with a higher ballot after `retry_ticks`.
    Tick,
}

/// A node. Deterministic: the same inputs from the same hard state give the same outputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    config: Config,
    acceptor: Acceptor,
    proposer: Proposer,
    learner: Learner,
    ticks_since_start: u32,
}

impl Node {
    /// A node restarted from its durable `hard_state` (the default for a new node).
    pub fn new(config: Config, hard_state: HardState) -> Result<Node, ConfigError> {
        validate(&config)?;
        let quorum = quorum_size(config.members.len());
        let acceptor_state = AcceptorState {
            promised: hard_state.promised,
            vote: hard_state.vote,
        };
        let mut proposer = Proposer::new(config.id, quorum, hard_state.round_started_max);
        // The ballot it promised is one it saw: a ballot it starts must be above it, or its own
        // acceptor would refuse it.
        if let Some(promised) = hard_state.promised {
            proposer.observe(promised);
        }
        Ok(Node {
            acceptor: Acceptor::new(config.id, acceptor_state),
            proposer,
            learner: Learner::new(quorum),
            ticks_since_start: 0,
            config,
        })
    }

    /// What the node must keep across crashes.
    pub fn hard_state(&self) -> HardState {
        let AcceptorState { promised, vote } = self.acceptor.state().clone();
        HardState {
            promised,
            vote,
            round_started_max: self.proposer.round_started_max(),
        }
    }

    /// The chosen value, once this node learned it.
    pub fn learned(&self) -> Option<&Value> {
        self.learner.learned()
    }

    /// Takes one input and returns what the caller must do, in the order [`Ready`] states.
    pub fn step(&mut self, input: Input) -> Ready {
        let before = self.hard_state();
        let mut ready = Ready::default();
        match input {
            Input::Message { from, message } => self.on_message(from, message, &mut ready),
            Input::Propose(value) => self.on_propose(value, &mut ready),
            Input::Tick => self.on_tick(&mut ready),
        }
        let after = self.hard_state();
        if after != before {
            ready.hard_state = Some(after);
        }
        debug_assert!(
            ready.messages.len() <= MEMBERS_MAX,
            "one broadcast per step at most"
        );
        ready
    }

    fn on_message(&mut self, from: NodeId, message: Message, ready: &mut Ready) {
        if !self.config.members.contains(&from) {
            return; // Not of this cell: ignored, as the network may deliver anything.
        }
        match message {
            Message::Prepare { ballot } => {
                self.proposer.observe(ballot);
                if let Some(promise) = self.acceptor.on_prepare(ballot) {
                    ready.messages.push(Envelope {
                        to: ballot.proposer,
                        message: promise,
                    });
                }
            }
            Message::Promise {
                ballot,
                acceptor,
                vote,
            } => {
                if let Some((ballot, value)) = self.proposer.on_promise(ballot, acceptor, vote) {
                    self.broadcast(Message::Accept { ballot, value }, ready);
                }
            }
            Message::Accept { ballot, value } => {
                self.proposer.observe(ballot);
                if let Some(vote) = self.acceptor.on_accept(ballot, value) {
                    self.broadcast(vote, ready);
                }
            }
            Message::Accepted {
                ballot,
                acceptor,
                value,
            } => {
                ready.learned = self.learner.on_accepted(ballot, acceptor, value);
            }
        }
    }

    fn on_propose(&mut self, value: Value, ready: &mut Ready) {
        self.proposer.set_client_value(value);
        if self.proposer.is_idle() && self.learner.learned().is_none() {
            self.start_ballot(ready);
        }
    }

    fn on_tick(&mut self, ready: &mut Ready) {
        if self.proposer.is_idle() || self.learner.learned().is_some() {
            return;
        }
        self.ticks_since_start += 1;
        if self.ticks_since_start >= self.config.retry_ticks {
            self.start_ballot(ready);
        }
    }

    /// Spec: `Phase1a(b)`.
    fn start_ballot(&mut self, ready: &mut Ready) {
        assert!(self.proposer.has_client_value());
        let ballot = self.proposer.start();
        self.ticks_since_start = 0;
        self.broadcast(Message::Prepare { ballot }, ready);
    }

    fn broadcast(&self, message: Message, ready: &mut Ready) {
        for &to in &self.config.members {
            ready.messages.push(Envelope {
                to,
                message: message.clone(),
            });
        }
    }
}

fn validate(config: &Config) -> Result<(), ConfigError> {
    check_members(config.id, &config.members)?;
    if config.retry_ticks == 0 {
        return Err(ConfigError::RetryTicks);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Ballot;

    fn config(id: u8, members: &[u8]) -> Config {
        Config {
            id: NodeId(id),
            members: members.iter().map(|&m| NodeId(m)).collect(),
            retry_ticks: 2,
        }
    }

    #[test]
    fn bad_configurations_are_refused_with_the_reason() {
        let cases = [
            (config(1, &[]), MembersError::Count(0).into()),
            (
                config(1, &[1, 2, 3, 4, 5, 6, 7, 8]),
                MembersError::Count(8).into(),
            ),
            (
                config(1, &[1, 2, 2]),
                MembersError::Duplicate(NodeId(2)).into(),
            ),
            (
                config(4, &[1, 2, 3]),
                MembersError::NotAMember(NodeId(4)).into(),
            ),
            (
                Config {
                    retry_ticks: 0,
                    ..config(1, &[1, 2, 3])
                },
                ConfigError::RetryTicks,
            ),
        ];
        for (config, error) in cases {
            assert_eq!(Node::new(config, HardState::default()).unwrap_err(), error);
        }
    }

    /// Delivers votes for `value` in `ballot` from acceptors 1 and 2, a quorum of 3.
    fn hear_quorum(node: &mut Node, ballot: Ballot, value: &Value) {
        for acceptor in [1, 2] {
            let vote = Message::Accepted {
                ballot,
                acceptor: NodeId(acceptor),
                value: value.clone(),
            };
            let _ = node.step(Input::Message {
                from: NodeId(acceptor),
                message: vote,
            });
        }
    }

    #[test]
    fn a_proposal_starts_one_ballot_and_none_after_the_value_is_learned() {
        let mut node = Node::new(config(1, &[1, 2, 3]), HardState::default()).unwrap();
        let value = Value(b"x".to_vec());
        assert_eq!(node.step(Input::Propose(value.clone())).messages.len(), 3);
        assert_eq!(
            node.step(Input::Propose(value.clone())),
            Ready::default(),
            "already running"
        );
        let ballot = Ballot {
            round: 1,
            proposer: NodeId(1),
        };
        hear_quorum(&mut node, ballot, &value);
        assert_eq!(node.learned(), Some(&value));
        let mut restarted = Node::new(config(1, &[1, 2, 3]), node.hard_state()).unwrap();
        hear_quorum(&mut restarted, ballot, &value);
        assert_eq!(
            restarted.step(Input::Propose(value)),
            Ready::default(),
            "already learned"
        );
    }
}
