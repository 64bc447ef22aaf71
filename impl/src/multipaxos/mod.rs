//! The sans-IO core of Multi-Paxos, the protocol of `tla/MultiPaxos.tla`: a replicated log of
//! entries, each decided by Paxos, under one leader per ballot.
//!
//! A [`Replica`] is one member of a cell: an acceptor, a learner of the log and a would-be
//! leader. As the single-decree core ([`crate::paxos`]), it does no I/O: it takes one [`Input`]
//! (a message or a tick) or one client command ([`Replica::propose`]) and returns a [`Ready`]
//! listing what the caller must persist, send, apply and report, in the order written on that
//! type. The same inputs always give the same outputs.
//!
//! - **Leader.** A replica that hears from no leader for `election_ticks` starts a ballot and
//!   runs phase 1 once for the whole log from its first undecided slot (spec: `Phase1a`,
//!   `Phase1b`). With a quorum of promises it proposes again, in every slot up to the highest
//!   vote reported, the highest-ballot entry reported there, and `NoOp` in a hole (spec:
//!   `Phase2a` with `SafeValues`); then it proposes client commands in the slots above.
//! - **Batching and pipelining.** Client commands wait in a bounded queue; the leader packs as
//!   many as its limits allow into one entry per free slot, and keeps at most
//!   `slots_in_flight_max` slots beyond the first undecided one in flight. Under load, batches
//!   grow while the pipeline is full.
//! - **Learning.** Votes (`2b`) go to every replica, which decides a slot when a quorum voted
//!   for one entry in one ballot and applies the log in slot order (spec: `Apply`).
//! - **Catch-up.** The leader's heartbeat says how far the log is decided; a replica that lags
//!   asks the leader for the entries it misses (spec: `CatchUp`).
//!
//! - **Encoding.** What a replica sends and keeps (messages, hard state, votes, snapshot headers)
//!   has one strict, versioned encoding ([`encode_message`] and the rest), whose decoder refuses
//!   anything past the bounds below, naming the bound.
//!
//! Names follow the spec: a handler that implements a spec action says `Spec: <action>` in its
//! doc comment, and the spec's invariants are checked by assertions on both sides of each step.

mod acceptor;
mod config;
mod leader;
mod learner;
mod log;
mod message;
mod ready;
mod replica;
mod snapshot;
mod wire;

#[cfg(test)]
mod tests;

pub use config::{Config, ConfigError};
pub use learner::SLOTS_TALLIED_MAX;
pub use log::{Command, Entry, Slot, Vote};
pub use message::Message;
pub use ready::{Durable, Envelope, HardState, Ready};
pub use replica::{Input, ProposeError, Replica};
pub use snapshot::{SnapshotError, SnapshotHeader};
pub use wire::{
    decode_hard_state, decode_message, decode_snapshot_header, decode_vote, encode_hard_state,
    encode_message, encode_snapshot_header, encode_vote, WireError, FORMAT_VERSION, SLOT_LAST,
};

/// The longest client command, in bytes: 1 MiB. In a cell a command is one encoded transaction,
/// bounded by [`crate::cell::TRANSACTION_BYTES_MAX`] so that its encoding fits.
pub const COMMAND_BYTES_MAX: usize = 1024 * 1024;

/// The most command bytes in one entry: as much as one command, so that a batch is never larger
/// than the largest command alone.
pub const ENTRY_BYTES_MAX: usize = COMMAND_BYTES_MAX;

/// The most commands in one entry.
pub const ENTRY_COMMANDS_MAX: usize = 1024;

/// The deepest pipeline a configuration may ask for, in slots.
pub const SLOTS_IN_FLIGHT_MAX: usize = 1024;

/// The longest queue of commands waiting for a slot a configuration may ask for.
pub const PENDING_COMMANDS_MAX: usize = 65_536;

/// The most entries in one catch-up reply.
pub const CATCH_UP_ENTRIES_MAX: usize = 64;

/// The longest state a snapshot may hold, in bytes: 1 GiB. The bound lets a receiver refuse a
/// snapshot header that announces more before it reads or allocates anything. A cell's state fits
/// within it whatever it holds (see [`crate::cell::KEYS_MAX`]).
pub const SNAPSHOT_BYTES_MAX: u64 = 1024 * 1024 * 1024;
