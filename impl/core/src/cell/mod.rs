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
//! Nothing here does I/O, reads a clock, spawns a thread or draws a random number. The store is
//! a `BTreeMap`, so iteration order, [`StateMachine::digest`] and any future snapshot are the
//! same on every replica.

mod state_machine;
mod transaction;
mod wire;

#[cfg(test)]
mod tests;

pub use state_machine::{Abort, ConditionFailure, OperationFailure, OperationResult, StateMachine};
pub use transaction::{Condition, Key, Operation, Place, Transaction, TransactionError, Value};
pub use wire::{decode_transaction, encode_transaction, WireError, FORMAT_VERSION};

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

/// A cell's state, encoded, fits one snapshot ([`crate::multipaxos::SNAPSHOT_BYTES_MAX`]): at
/// most [`KEYS_MAX`] keys, each at most [`KEY_BYTES_MAX`] bytes and holding a value whose
/// encoding is at most 5/4 of [`VALUE_BYTES_MAX`] (an integer's 32-bit digits take up to five
/// bytes each as varints), and a few bytes of tags and lengths per key (16 is generous): about
/// 790 MiB in all.
const _: () = assert!(
    (KEYS_MAX * (KEY_BYTES_MAX + VALUE_BYTES_MAX / 4 * 5 + 16)) as u64
        <= crate::multipaxos::SNAPSHOT_BYTES_MAX
);
