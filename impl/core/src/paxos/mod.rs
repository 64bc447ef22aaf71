//! The sans-IO core of single-decree Paxos, the protocol of `tla/Paxos.tla`.
//!
//! Nothing here does I/O, reads a clock, spawns a thread or draws a random number: a [`Node`]
//! takes one [`Input`] (a message, a client proposal, a tick) and returns a [`Ready`] listing
//! what the caller must do, in the order written on that type. The same inputs always give the
//! same outputs, so every run can be replayed.
//!
//! Names follow the spec: the handler that implements the spec action `Phase1b` says
//! `Spec: Phase1b` in its doc comment, and the spec's invariants are checked by debug assertions
//! on both sides of every step.

mod acceptor;
mod learner;
mod message;
mod node;
mod proposer;
mod ready;
mod wire;

pub use acceptor::{Acceptor, AcceptorState};
pub use learner::Learner;
pub use message::{Message, Value, Vote, VALUE_BYTES_MAX};
pub use node::{Config, ConfigError, Input, Node};
pub use proposer::Proposer;
pub use ready::{Envelope, HardState, Ready};
pub use wire::{
    decode_hard_state, decode_message, encode_hard_state, encode_message, WireError, FORMAT_VERSION,
};
