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
pub use log::{Command, Entry, Slot, Vote};
pub use message::Message;
pub use ready::{Durable, Envelope, HardState, Ready, Runtime, SnapshotTransfer};
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

/// The most slots of the log a replica holds beyond its snapshot: its acceptor's votes, and its
/// learner's decided entries, entries chosen ahead and tallies. Past it an acceptor refuses to
/// vote and a learner waits, until the runtime snapshots ([`Ready::snapshot_wanted`] asks for
/// one well before), so that a replica's memory and every promise it sends stay bounded however
/// long the cell runs. It is far beyond any pipeline ([`SLOTS_IN_FLIGHT_MAX`]), so that a live
/// cell that snapshots never meets it.
pub const LOG_SLOTS_MAX: u64 = 4096;

/// The most command bytes one message carries: 16 entries of the largest size, so that no
/// message keeps a connection busy for long and a receiver can size its buffers.
///
/// A catch-up reply stops before an entry that would pass it (it always carries one). A promise
/// must report every vote its acceptor holds from the leader's first slot on and cannot be cut
/// short without losing safety, so an acceptor whose votes there pass the bound does not promise
/// at all: the leader lags too far behind the log and must catch up first. In a live cell those
/// votes are the slots still undecided, which the leaders' pipelines bound
/// ([`IN_FLIGHT_BYTES_MAX`]: four full pipelines fit).
pub const MESSAGE_BYTES_MAX: usize = 16 * ENTRY_BYTES_MAX;

/// The most distinct command bytes the messages of one [`Ready`] carry ([`Ready::payload_bytes`]):
/// what one step may ask the caller to send, counting a batch once however many members it goes
/// to (entries are shared, not copied). The largest is a new leader's first proposals, one entry
/// per slot its quorum reported, which is at most a promise's worth from each member of the
/// largest quorum (4 of 7); a heartbeat resends those too until they are decided.
pub const READY_BYTES_MAX: usize = (crate::group::MEMBERS_MAX / 2 + 1) * MESSAGE_BYTES_MAX;

/// The most command bytes a leader has proposed and not yet seen decided, alongside its
/// `slots_in_flight_max`: what a heartbeat resends, and so the most bytes one step sends to each
/// member (a proposal is resent until it is decided). A single entry may reach it alone.
pub const IN_FLIGHT_BYTES_MAX: usize = 4 * ENTRY_BYTES_MAX;

// A leader with nothing in flight can always propose the largest command.
const _: () = assert!(COMMAND_BYTES_MAX <= IN_FLIGHT_BYTES_MAX);

/// The longest state a snapshot may hold, in bytes: 1 GiB. The bound lets a receiver refuse a
/// snapshot header that announces more before it reads or allocates anything. A cell's state fits
/// within it whatever it holds (see [`crate::cell::KEYS_MAX`]).
pub const SNAPSHOT_BYTES_MAX: u64 = 1024 * 1024 * 1024;
