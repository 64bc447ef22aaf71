//! The test generator: it enumerates every combination of packet loss, reordering and
//! duplication a node can experience in one protocol round, asks the model (`colony-model`) what
//! the node may do after each step, and writes Rust unit tests into `generated-tests/`.
//!
//! Today it holds the enumeration of delivery combinations ([`combinations`]); the scenarios per
//! role and the code writer come next.

#![deny(missing_docs)]

pub mod combinations;
