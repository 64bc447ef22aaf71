//! The test generator: it enumerates every combination of packet loss, reordering and
//! duplication a node can experience in one protocol round, asks the model (`colony-model`) what
//! the node may do after each step, and writes Rust unit tests into `generated-tests/`.
//!
//! It is empty until the protocol core exists in `impl/` for the tests to drive.
