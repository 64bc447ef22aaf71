//! The tests `testgen` writes (in `tests/`), and the hand-written harness they call.
//!
//! Every generated test is one line: a call into this harness with the case's data, written in
//! the spec's terms (ballots `0..MaxBallot`, values `1..NumValues`, acceptors `1..N`). The
//! harness maps that data to the implementation's types, drives a real node through the
//! deliveries and asserts, at every step, that what it persists and sends is exactly what the
//! spec's action does (the acceptor's actions allow exactly one outcome each).
//!
//! **Architecture invariant:** expected results come from the model, through the generator;
//! nothing here runs the model or derives an expectation from the implementation.

#![deny(missing_docs)]

pub mod acceptor;
pub mod learner;
pub mod proposer;
pub mod spec;
pub mod walk;
