//! Colony: a Paxos implementation and the store of many tiny databases ("cells") that runs on it.
//!
//! This crate is the product. It will hold the sans-IO protocol core (acceptor, proposer and
//! learner as deterministic state machines whose output states what to persist, what to send and
//! what was decided) and then the runtime around it. It is empty until the core lands.
//!
//! **Architecture invariant:** this crate depends on no other crate of the workspace and not on
//! stateright: the product does not carry the verification machinery.
