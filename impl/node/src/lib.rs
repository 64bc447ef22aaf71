//! A Colony node: one machine's share of many cells.
//!
//! A node takes part in a very large number of cells (a million is the design point), and each
//! cell costs almost nothing while it is idle. This crate holds what a node is made of, apart
//! from sockets:
//!
//! - [`storage`]: what a node keeps across crashes. One [`storage::Storage`] trait, one
//!   write-ahead log per node written by one writer with group commit (one `fdatasync` for every
//!   cell's writes in a batch), snapshots and cell records in an embedded store, and the three
//!   implementations every test runs against one conformance suite: the files of a real node
//!   ([`storage::FileStorage`]), memory ([`storage::MemoryStorage`]) and a simulated disk that
//!   loses unsynced writes, tears the last write and flips bits ([`storage::SimStorage`]).
//! - [`host`]: the sans-IO host of many cells. Idle cells are compact records, a bounded number
//!   are active, quiescent cells are not ticked, nodes ping each other once per pair, and
//!   every message and reply waits for the batch it depends on to be durable.
//! - [`wire`]: the encoding of the frames nodes send each other, for the network.
//! - [`driver`]: the one piece of code that carries out a host's output over a storage and a
//!   transport, in the order the output states.
//!
//! **Architecture invariant:** this crate uses no async runtime (checked by
//! `xtask/tests/architecture.rs`): what it does is called by whatever runs the node, the
//! simulator or the server, and the same code runs under both.

#![deny(missing_docs)]

pub mod driver;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod limits;
pub mod storage;
pub mod wire;

pub use colony_core::cell::CellId;
