//! Colony: a Paxos implementation and the store of many tiny databases ("cells") that runs on it.
//!
//! This crate is the product's core. It holds the vocabulary both protocol cores share
//! ([`group`]: members, quorums, ballots, envelopes); the sans-IO core of single-decree Paxos
//! ([`paxos`]): acceptor, proposer and learner as deterministic state machines that take an
//! input and return a [`paxos::Ready`] saying what the caller must persist, send and report; the
//! sans-IO core of Multi-Paxos ([`multipaxos`]): a replica per cell deciding a log of batched
//! commands under one leader at a time, in the same shape; and the cell's transactional
//! key-value state machine ([`cell`]), which every replica of a cell applies to the log its
//! Multi-Paxos group decides. The runtime around it (the node hosting many cells, its storage and
//! the simulator) is in the crates beside this one, under `impl/`.
//!
//! **Architecture invariant:** this crate depends on no other crate of the workspace, not on
//! stateright and not on an async runtime: it is the bottom of the product and does no I/O.

#![deny(missing_docs)]

pub mod cell;
pub mod codec;
pub mod group;
pub mod multipaxos;
pub mod paxos;
