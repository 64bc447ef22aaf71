//! Every limit of the node, in one place, each with its reason.
//!
//! The protocol's own bounds (entry, message, snapshot and log sizes) are the core's, in
//! `colony_core::multipaxos`; the bounds here are the node's: how it lays out its log on disk
//! and how much it holds at once.

use colony_core::multipaxos::{ENTRY_BYTES_MAX, SNAPSHOT_BYTES_MAX};

/// The longest payload of one write-ahead log record. The largest record is a decided entry or
/// a vote (an entry and a few bytes of slot, ballot and tags) or, in the logs that keep
/// snapshots inline (memory and simulated), a snapshot; the bound refuses a length field that
/// announces more before anything is read or allocated.
pub const RECORD_BYTES_MAX: u64 = SNAPSHOT_BYTES_MAX + 64 * 1024;

// An entry and its framing always fit one record.
const _: () = assert!((ENTRY_BYTES_MAX as u64) + 1024 < RECORD_BYTES_MAX);

/// A write-ahead log segment is closed and a new one started once it passes this size: 64 MiB,
/// small enough that a checkpoint folds one in well under a second, large enough that segments
/// are few.
pub const SEGMENT_BYTES_TARGET: u64 = 64 * 1024 * 1024;

/// Closed segments are folded into the embedded store (a checkpoint) and deleted once there are
/// this many, so that recovery reads at most this many segments and the open one: a node's
/// recovery time is bounded by its log's tail, not its history.
pub const CLOSED_SEGMENTS_MAX: usize = 2;

/// The most writes one batch may carry: what the host gathers between two syncs. It bounds the
/// memory a batch holds and the work one sync does; the host starts a new batch when one is
/// full.
pub const BATCH_WRITES_MAX: usize = 65_536;

/// The most frames one release delivers to the node itself in a row (a replica sends to every
/// member, itself too). The protocol answers each with a bounded amount of work and the chain
/// ends; the bound turns a loop, which would be a bug, into a clear failure.
pub const LOCAL_DELIVERIES_MAX: usize = 1_000_000;

/// The most rounds of append, sync and release one flush of the driver runs. Each round's sync
/// releases what waited for it, which may write again (a vote answering a released proposal to
/// this node itself); the chain is short, and the bound turns a loop into a clear failure.
pub const FLUSH_ROUNDS_MAX: usize = 1000;
