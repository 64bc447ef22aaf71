//! The tests `testgen` writes (in `tests/`), and the hand-written harness they call.
//!
//! Every generated test is one line: a call into this harness with the case's data, written in
//! the spec's terms (ballots `0..MaxBallot`, values `1..NumValues`, acceptors `1..N`). The
//! harness maps that data to the implementation's types, drives a real node through the
//! deliveries and asserts, at every step, that what it persists and sends is exactly what the
//! spec's action does (the acceptor's actions allow exactly one outcome each).
//!
//! **Architecture invariant:** expected results of the generated tests come from the model,
//! through the generator; no generated test runs the model or derives an expectation from the
//! implementation.
//!
//! [`refinement`] does run the model, and no generated test calls it: it maps a cell of real
//! nodes to a state of the spec and checks that every step the cell takes is a step of the spec
//! (one the model's `next_state` takes, or a stutter) and every state it reaches satisfies the
//! spec's invariants. The hand-written tests `core_in_checker` (the real nodes as actors inside
//! the model checker) and `random_runs` (long random runs, mapped afterwards) use it.
//!
//! [`checker`] is what `core_in_checker` and `multipaxos_core_in_checker` share: the model that
//! wraps a cell of real nodes, maps and checks every state and step the search reaches, and
//! describes a counterexample; each harness supplies only its protocol's nodes and mapping.

#![deny(missing_docs)]

pub mod acceptor;
pub mod cell;
pub mod checker;
pub mod learner;
pub mod multipaxos;
pub mod network;
pub mod proposer;
pub mod refinement;
pub mod session;
pub mod spec;
pub mod walk;
