//! The deterministic key-value state machine of a cell: what every replica applies, in log
//! order, to the transactions Multi-Paxos decides.
//!
//! A cell holds the keys of one partition. Keys are bytes ([`Key`]); values are typed
//! ([`Value`]): bytes, integers of any size, booleans. A [`Transaction`] is a list of
//! [`Condition`]s and a list of [`Operation`]s, and [`StateMachine::apply`] either applies all of
//! its operations and returns one [`OperationResult`] for each, or changes nothing and returns
//! why ([`Abort`]).
//!
//! **Strict serializability.** Every replica applies the same transactions one at a time, in the
//! order of the replicated log, and [`StateMachine::apply`] is pure: the same state and the same
//! transaction always give the same result and the same next state. So the transactions of a
//! cell execute in one total order, the log's, which every replica agrees on; and a transaction
//! is decided in the log after every transaction that completed before it was proposed, so that
//! order respects real time. That is strict serializability within the cell. Transactions are
//! proposed optimistically: their conditions are checked when they are applied, not when they are
//! proposed, so every replica reaches the same verdict.
//!
//! **Semantics** of one transaction, chosen here and relied on by clients:
//!
//! - The transaction's shape is checked first ([`Transaction::validate`], the same function a
//!   client calls before proposing), so a malformed command in the log is refused alike on every
//!   replica.
//! - Every condition is checked against the state before the transaction, in order; the first
//!   that fails is reported with its index and why.
//! - Operations then apply in order, and each sees the effects of the ones before it: a read
//!   after a write of the same key in the same transaction returns the written value.
//! - An increment of an absent key treats it as 0, so it creates the key holding the amount. An
//!   increment of a key holding bytes or a boolean fails the transaction. A delete of an absent
//!   key succeeds and does nothing.
//! - The bounds ([`KEY_BYTES_MAX`], [`VALUE_BYTES_MAX`], [`TRANSACTION_BYTES_MAX`],
//!   [`OPERATIONS_MAX`], [`CONDITIONS_MAX`], [`KEYS_MAX`]) are checked on every transaction; one that would leave
//!   more than [`KEYS_MAX`] keys in the cell, or an integer larger than [`VALUE_BYTES_MAX`], fails.
//! - All or nothing: when anything fails, the state is exactly as before.
//!
//! **Sessions** ([`CellState`], in `session.rs`) make a client's retries exactly-once (the Raft
//! dissertation, §6.3). The log holds [`Command`]s: a client's [`Request`] (its [`ClientId`], its
//! sequence number, its transaction) stamped with the proposing node's clock. [`CellState::apply`]
//! keeps the keys, one session per client (the last sequence number applied and its reply) and
//! the cell's clock, the largest `now_ms` applied so far, which never goes back:
//!
//! - The clock advances first; then every session idle for more than [`SESSION_EXPIRY_MS`] by the
//!   cell's clock is dropped. Expiry is decided by the log, so every replica agrees on it.
//! - A client's first request (sequence 1) opens its session; at [`SESSIONS_MAX`] sessions the
//!   least recently active one (ties by the smaller client id) is evicted to make room.
//! - Sequence `last + 1` applies the transaction and remembers its reply (a malformed
//!   transaction's reply too); `last` again gets the remembered reply, applied once and answered
//!   twice; below `last` is a delayed duplicate ([`Reply::Stale`]); above `last + 1` breaks the
//!   rule of one request outstanding ([`Reply::SequenceGap`]); a request other than the first
//!   from a client with no session gets [`Reply::SessionExpired`]: its earlier request's outcome
//!   is unknown, and the client must report it as indeterminate and start over under a new id.
//!   None of these three applies anything or changes the session.
//! - Remembered replies are bounded in all by [`SESSION_REPLIES_BYTES_MAX`]; remembering one past
//!   it evicts the least recently active other sessions.
//!
//! A session's first request is the one the table cannot protect: a retry of sequence 1 after
//! the session expired or was evicted opens a new session and applies again. A client must stop
//! retrying a request well within [`SESSION_EXPIRY_MS`] of sending it, and a cell must have room
//! for its clients' sessions.
//!
//! Nothing here does I/O, reads a clock, spawns a thread or draws a random number. The store is
//! a `BTreeMap`, so iteration order, [`StateMachine::digest`] and any future snapshot are the
//! same on every replica.

mod id;
mod session;
mod state_machine;
mod transaction;
mod wire;

#[cfg(test)]
mod tests;

pub use id::CellId;
pub use session::{
    outcome_size_bytes, CellState, ClientId, Command, Outcome, Reply, Request, Session,
    SessionLimits, SessionLimitsError,
};
pub use state_machine::{Abort, ConditionFailure, OperationFailure, OperationResult, StateMachine};
pub use transaction::{Condition, Key, Operation, Place, Transaction, TransactionError, Value};
pub use wire::{
    decode_command, decode_reply, decode_state, decode_transaction, encode_command, encode_reply,
    encode_state, encode_transaction, OutcomeError, StateError, WireError, FORMAT_VERSION,
};

/// The longest key, in bytes: 1 KiB. Keys name rows of a tiny database; a longer one is more
/// likely a value stored in the wrong place.
pub const KEY_BYTES_MAX: usize = 1024;

/// The largest value, in bytes: 64 KiB. For bytes, their length; for an integer, the bytes of its
/// magnitude (so an integer is at most 2^524288 - 1 in absolute value); a boolean counts as one
/// byte. The bound applies to the values and increment amounts in a transaction and to every
/// integer an increment produces.
pub const VALUE_BYTES_MAX: usize = 64 * 1024;

/// The most operations in one transaction.
pub const OPERATIONS_MAX: usize = 64;

/// The most conditions in one transaction.
pub const CONDITIONS_MAX: usize = 64;

/// The most bytes of keys and values in one transaction: 512 KiB (see
/// [`Transaction::size_bytes`]). With the other bounds it keeps an encoded transaction within
/// [`crate::multipaxos::COMMAND_BYTES_MAX`], the longest command a cell's log takes: an
/// integer's encoding is at most 5/4 of its size, and each of the 128 conditions and operations
/// adds a few bytes of tags and lengths.
pub const TRANSACTION_BYTES_MAX: usize = 512 * 1024;

/// The most keys one cell holds. A cell is a tiny database: this bound, with the others, caps
/// its size (at most about 650 MiB of keys and values, far less in practice) so that a snapshot
/// of it can be sent and restored.
pub const KEYS_MAX: usize = 10_000;

/// The most sessions one cell keeps: 1,024. A cell is one partition of a tiny database, served
/// by its application's processes, each a client with one request outstanding at a time; a
/// thousand is more than such a partition has at once, and a session costs about 2 KiB beyond
/// its reply (see the assert below). Opening one more evicts the least recently active.
pub const SESSIONS_MAX: usize = 1024;

/// How long a session outlives its last activity, by the cell's clock: one hour. Far longer than
/// a client retries one request (seconds), so that a live client never loses its session to
/// time, and short enough that the sessions of clients that went away free their room within
/// the hour, before eviction has to. Memory is bounded by [`SESSIONS_MAX`] and
/// [`SESSION_REPLIES_BYTES_MAX`] whatever the expiry.
pub const SESSION_EXPIRY_MS: u64 = 60 * 60 * 1000;

/// The largest reply one session may remember, in bytes of keys and values
/// ([`outcome_size_bytes`]): 4 MiB, what a transaction of [`OPERATIONS_MAX`] reads of the
/// largest values returns. Every outcome a transaction within the bounds can have is within it.
pub const REPLY_BYTES_MAX: usize = OPERATIONS_MAX * VALUE_BYTES_MAX;

// An abort holds at most one key and two values (`ValueDiffers`), which is within a reply.
const _: () = assert!(KEY_BYTES_MAX + 2 * VALUE_BYTES_MAX <= REPLY_BYTES_MAX);

/// The most bytes of remembered replies a cell's sessions hold together: 64 MiB, sixteen of the
/// largest replies. Most replies are a few bytes (an increment's integer, a write's
/// acknowledgement), so the bound binds only when clients read large values; remembering a reply
/// past it evicts the least recently active other sessions, which is what [`SESSIONS_MAX`] does
/// for their count. Bounding the replies in all, rather than each session's, lets a thousand
/// clients of small replies and a few of large ones share a cell, and keeps a snapshot within
/// [`crate::multipaxos::SNAPSHOT_BYTES_MAX`] (see the assert below).
pub const SESSION_REPLIES_BYTES_MAX: usize = 64 * 1024 * 1024;

// The largest reply always fits, once every other session is evicted.
const _: () = assert!(REPLY_BYTES_MAX <= SESSION_REPLIES_BYTES_MAX);

/// A cell's state, encoded, fits one snapshot ([`crate::multipaxos::SNAPSHOT_BYTES_MAX`]). Its
/// keys: at most [`KEYS_MAX`] keys, each at most [`KEY_BYTES_MAX`] bytes and holding a value
/// whose encoding is at most 5/4 of [`VALUE_BYTES_MAX`] (an integer's 32-bit digits take up to
/// five bytes each as varints), and a few bytes of tags and lengths per key (16 is generous):
/// about 791 MiB. Its sessions: at most [`SESSION_REPLIES_BYTES_MAX`] of keys and values in
/// replies, encoded in at most 5/4 of that (80 MiB), and per session its client id, sequence
/// number and activity (three varints of at most ten bytes) and its reply's tags and lengths (at
/// most [`OPERATIONS_MAX`] results of 16 bytes, or an abort's few fields): 2 KiB is generous, 2
/// MiB for [`SESSIONS_MAX`]. With the clock and the lists' lengths, about 873 MiB of 1 GiB.
const _: () = assert!(
    (KEYS_MAX * (KEY_BYTES_MAX + VALUE_BYTES_MAX / 4 * 5 + 16)
        + SESSION_REPLIES_BYTES_MAX / 4 * 5
        + SESSIONS_MAX * 2048
        + 64) as u64
        <= crate::multipaxos::SNAPSHOT_BYTES_MAX
);
