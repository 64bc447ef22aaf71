//! The binary encodings of a cell's items: a [`Transaction`], the [`Command`] a cell's log holds,
//! the [`Reply`] a client gets, and a whole [`CellState`], the snapshot of a cell.
//!
//! An encoding is one byte of [`FORMAT_VERSION`] followed by the item in
//! postcard's format (<https://postcard.jamesmunns.com/wire-format>): a list as its length and
//! then its items, an enum as its variant's index, a key or bytes as their length and then the
//! bytes, and an integer as num-bigint's serde form (its sign as -1, 0 or 1, then its magnitude as
//! a list of 32-bit digits, least significant first, each a varint). A state is its keys in
//! order, as (key, value) pairs; its sessions in client order, each as (client, last sequence,
//! last activity, remembered reply); and its clock. Its activity index is not encoded: the
//! decoder rebuilds it from the sessions, so that it cannot disagree with them.
//!
//! Decoding is Colony's strict decoding ([`crate::codec`]), so that every item has exactly
//! one encoding: an unknown version, a truncated or malformed body, trailing bytes and a
//! non-canonical encoding (a varint padded with extra bytes, an integer with a leading zero digit
//! or a sign that disagrees with its magnitude) are refused, and so is an item past any bound: a
//! transaction past one of [`Transaction::validate`] (alone or in a command), a command of
//! sequence 0, a reply past [`OutcomeError`]'s bounds, a state past [`StateError`]'s. Decoding
//! never panics, whatever the input.

use super::session::{CellState, ClientId, Command, Outcome, Reply};
use super::state_machine::{Abort, ConditionFailure, OperationFailure, OperationResult};
use super::transaction::{Key, Transaction, TransactionError, Value};
use super::{
    outcome_size_bytes, KEYS_MAX, KEY_BYTES_MAX, OPERATIONS_MAX, REPLY_BYTES_MAX, SESSIONS_MAX,
    SESSION_EXPIRY_MS, SESSION_REPLIES_BYTES_MAX, VALUE_BYTES_MAX,
};
use crate::codec::{self, CodecError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version byte that starts every encoded item of the cell. Any change to the encoding of
/// [`Transaction`], [`Command`], [`Reply`] or [`CellState`] (a field, a variant, their order)
/// must increase it, so that a replica reading a log or a snapshot written by another version of
/// Colony refuses it instead of misreading it.
pub const FORMAT_VERSION: u8 = 1;

/// Why a cell's item could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not an encoding (see [`CodecError`]).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The transaction is past a bound.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TransactionError),
    /// A command's sequence number is 0; a client's first request is 1.
    #[error("a command of sequence 0: sequence numbers start at 1")]
    SequenceZero,
    /// A reply's outcome is past a bound.
    #[error("invalid reply: {0}")]
    Outcome(#[from] OutcomeError),
    /// A state is past a bound or breaks an invariant of the session table.
    #[error("invalid state: {0}")]
    State(#[from] StateError),
}

/// Why an outcome (a reply's, or one a session remembers) is refused: what no transaction within
/// the bounds can give.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum OutcomeError {
    /// More results than a transaction has operations.
    #[error("{count} results are more than the bound of {max} (OPERATIONS_MAX)")]
    TooManyResults {
        /// The number of results.
        count: usize,
        /// [`OPERATIONS_MAX`].
        max: usize,
    },
    /// A key longer than [`KEY_BYTES_MAX`].
    #[error("a key of {len} bytes is longer than the bound of {max} bytes (KEY_BYTES_MAX)")]
    KeyTooLong {
        /// The key's length.
        len: usize,
        /// [`KEY_BYTES_MAX`].
        max: usize,
    },
    /// A value larger than [`VALUE_BYTES_MAX`].
    #[error("a value of {len} bytes is larger than the bound of {max} bytes (VALUE_BYTES_MAX)")]
    ValueTooLarge {
        /// The value's size.
        len: usize,
        /// [`VALUE_BYTES_MAX`].
        max: usize,
    },
    /// Keys and values adding up to more than [`REPLY_BYTES_MAX`].
    #[error("the keys and values add up to {bytes} bytes, more than the bound of {max} bytes (REPLY_BYTES_MAX)")]
    TooLarge {
        /// Their size ([`super::outcome_size_bytes`]).
        bytes: usize,
        /// [`REPLY_BYTES_MAX`].
        max: usize,
    },
}

/// Why a state is refused: a bound of the cell or an invariant of its session table that the
/// bytes break. A state [`CellState::apply`] built never does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum StateError {
    /// More than [`KEYS_MAX`] keys.
    #[error("{count} keys are more than the bound of {max} (KEYS_MAX)")]
    TooManyKeys {
        /// The number of keys.
        count: usize,
        /// [`KEYS_MAX`].
        max: usize,
    },
    /// A key not after the one before it: keys are encoded in increasing order, once each.
    #[error("key {index} is not after the key before it")]
    KeysOutOfOrder {
        /// The key's index in the list.
        index: usize,
    },
    /// A key longer than [`KEY_BYTES_MAX`].
    #[error("key {index}: {len} bytes are longer than the bound of {max} bytes (KEY_BYTES_MAX)")]
    KeyTooLong {
        /// The key's index in the list.
        index: usize,
        /// Its length.
        len: usize,
        /// [`KEY_BYTES_MAX`].
        max: usize,
    },
    /// A value larger than [`VALUE_BYTES_MAX`].
    #[error("key {index}: a value of {len} bytes is larger than the bound of {max} bytes (VALUE_BYTES_MAX)")]
    ValueTooLarge {
        /// The key's index in the list.
        index: usize,
        /// The value's size.
        len: usize,
        /// [`VALUE_BYTES_MAX`].
        max: usize,
    },
    /// More than [`SESSIONS_MAX`] sessions.
    #[error("{count} sessions are more than the bound of {max} (SESSIONS_MAX)")]
    TooManySessions {
        /// The number of sessions.
        count: usize,
        /// [`SESSIONS_MAX`].
        max: usize,
    },
    /// A session not after the one before it: sessions are encoded in increasing client order,
    /// once each.
    #[error("session {index} is not after the session before it")]
    SessionsOutOfOrder {
        /// The session's index in the list.
        index: usize,
    },
    /// A session whose last sequence is 0: a session opens with sequence 1.
    #[error("the session of client {client} has last sequence 0")]
    SequenceZero {
        /// The client.
        client: u64,
    },
    /// A session active after the cell's clock, which the clock would have reached.
    #[error("the session of client {client} was active at {last_active_ms} ms, after the clock ({clock_ms} ms)")]
    ActiveAfterClock {
        /// The client.
        client: u64,
        /// Its last activity.
        last_active_ms: u64,
        /// The cell's clock.
        clock_ms: u64,
    },
    /// A session idle for more than [`SESSION_EXPIRY_MS`], which the clock would have dropped.
    #[error("the session of client {client}, last active at {last_active_ms} ms, expired by the clock ({clock_ms} ms; SESSION_EXPIRY_MS is {expiry_ms})")]
    Expired {
        /// The client.
        client: u64,
        /// Its last activity.
        last_active_ms: u64,
        /// The cell's clock.
        clock_ms: u64,
        /// [`SESSION_EXPIRY_MS`].
        expiry_ms: u64,
    },
    /// A session's remembered reply is past a bound.
    #[error("the reply remembered for client {client}: {error}")]
    Reply {
        /// The client.
        client: u64,
        /// Why the reply is refused.
        error: OutcomeError,
    },
    /// The remembered replies add up to more than [`SESSION_REPLIES_BYTES_MAX`].
    #[error("the remembered replies add up to {bytes} bytes, more than the bound of {max} bytes (SESSION_REPLIES_BYTES_MAX)")]
    RepliesTooLarge {
        /// Their size.
        bytes: usize,
        /// [`SESSION_REPLIES_BYTES_MAX`].
        max: usize,
    },
}

/// Encodes a transaction for the log, after checking it with [`Transaction::validate`].
pub fn encode_transaction(transaction: &Transaction) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, transaction, check_transaction)
}

/// Decodes a transaction encoded by [`encode_transaction`]; see the module doc for what is
/// refused. num-bigint drops leading zero digits and reconciles a sign with a zero magnitude, so
/// it reads several spellings of one integer; the codec's canonical check refuses all but one.
pub fn decode_transaction(bytes: &[u8]) -> Result<Transaction, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_transaction)
}

/// Encodes a command for the log: its request's client, sequence and transaction, then `now_ms`.
/// Refuses sequence 0 and a transaction past a bound.
pub fn encode_command(command: &Command) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, command, check_command)
}

/// Decodes a command encoded by [`encode_command`].
pub fn decode_command(bytes: &[u8]) -> Result<Command, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_command)
}

/// Encodes a reply for its client. Refuses an outcome no transaction within the bounds gives.
pub fn encode_reply(reply: &Reply) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, reply, check_reply)
}

/// Decodes a reply encoded by [`encode_reply`].
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_reply)
}

/// Encodes a whole cell, the state a snapshot holds: its keys, its sessions with their
/// remembered replies, and its clock (not its limits, which are configuration). Refuses a state
/// [`decode_state`] would refuse, which [`CellState::apply`] never builds.
pub fn encode_state(state: &CellState) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, &StateView::of(state), check_view)
}

/// Decodes a state encoded by [`encode_state`], with the default limits, after checking every
/// bound and invariant: at most [`KEYS_MAX`] keys, in increasing order, each within
/// [`KEY_BYTES_MAX`] and [`VALUE_BYTES_MAX`]; at most [`SESSIONS_MAX`] sessions, in increasing
/// client order, each of a sequence of at least 1, active no later than the clock and not expired
/// by it ([`SESSION_EXPIRY_MS`]), remembering a reply within [`OutcomeError`]'s bounds; and at
/// most [`SESSION_REPLIES_BYTES_MAX`] of replies in all.
pub fn decode_state(bytes: &[u8]) -> Result<CellState, WireError> {
    let image: StateImage = codec::decode(FORMAT_VERSION, bytes, |image: &StateImage| {
        check_state(
            image.keys.iter().map(|(k, v)| (k, v)),
            image
                .sessions
                .iter()
                .map(|s| (s.client, s.last_sequence, s.last_active_ms, &s.reply)),
            image.clock_ms,
        )
    })?;
    let keys: BTreeMap<Key, Value> = image.keys.into_iter().collect();
    let sessions = image
        .sessions
        .into_iter()
        .map(|s| (s.client, s.last_sequence, s.last_active_ms, s.reply));
    Ok(CellState::from_parts(keys, sessions, image.clock_ms))
}

fn check_transaction(transaction: &Transaction) -> Result<(), WireError> {
    Ok(transaction.validate()?)
}

fn check_command(command: &Command) -> Result<(), WireError> {
    if command.request.sequence == 0 {
        return Err(WireError::SequenceZero);
    }
    check_transaction(&command.request.transaction)
}

fn check_reply(reply: &Reply) -> Result<(), WireError> {
    match reply {
        Reply::Done(outcome) => Ok(check_outcome(outcome)?),
        Reply::SessionExpired
        | Reply::Stale { .. }
        | Reply::SequenceGap { .. }
        | Reply::SequenceZero => Ok(()),
    }
}

/// The bounds of an outcome: what a transaction within the bounds can give.
fn check_outcome(outcome: &Outcome) -> Result<(), OutcomeError> {
    let key = |key: &Key| {
        let len = key.0.len();
        if len > KEY_BYTES_MAX {
            return Err(OutcomeError::KeyTooLong {
                len,
                max: KEY_BYTES_MAX,
            });
        }
        Ok(())
    };
    let value = |value: &Value| {
        let len = value.size_bytes();
        if len > VALUE_BYTES_MAX {
            return Err(OutcomeError::ValueTooLarge {
                len,
                max: VALUE_BYTES_MAX,
            });
        }
        Ok(())
    };
    match outcome {
        Ok(results) => {
            if results.len() > OPERATIONS_MAX {
                return Err(OutcomeError::TooManyResults {
                    count: results.len(),
                    max: OPERATIONS_MAX,
                });
            }
            for result in results {
                match result {
                    OperationResult::Read(Some(found)) => value(found)?,
                    OperationResult::Incremented(integer) => {
                        value(&Value::Integer(integer.clone()))?
                    }
                    OperationResult::Read(None)
                    | OperationResult::Written
                    | OperationResult::Deleted => {}
                }
            }
        }
        Err(Abort::ConditionFailed { reason, .. }) => match reason {
            ConditionFailure::KeyAbsent { key: k } => key(k)?,
            ConditionFailure::KeyPresent { key: k, found } => {
                key(k)?;
                value(found)?;
            }
            ConditionFailure::ValueDiffers {
                key: k,
                found,
                expected,
            } => {
                key(k)?;
                value(found)?;
                value(expected)?;
            }
        },
        Err(Abort::OperationFailed { reason, .. }) => match reason {
            OperationFailure::NotAnInteger { key: k, found } => {
                key(k)?;
                value(found)?;
            }
            OperationFailure::IntegerTooLarge { key: k, .. } => key(k)?,
        },
        Err(Abort::Malformed(_) | Abort::CellFull { .. }) => {}
    }
    let bytes = outcome_size_bytes(outcome);
    if bytes > REPLY_BYTES_MAX {
        return Err(OutcomeError::TooLarge {
            bytes,
            max: REPLY_BYTES_MAX,
        });
    }
    Ok(())
}

/// The checks of a state, over its keys in order and its sessions in order, whichever form they
/// are held in (the live state's, or the decoded image's).
fn check_state<'a>(
    keys: impl ExactSizeIterator<Item = (&'a Key, &'a Value)>,
    sessions: impl ExactSizeIterator<Item = (ClientId, u64, u64, &'a Outcome)>,
    clock_ms: u64,
) -> Result<(), WireError> {
    if keys.len() > KEYS_MAX {
        return Err(StateError::TooManyKeys {
            count: keys.len(),
            max: KEYS_MAX,
        }
        .into());
    }
    let mut previous: Option<&Key> = None;
    for (index, (key, value)) in keys.enumerate() {
        if previous.is_some_and(|previous| previous >= key) {
            return Err(StateError::KeysOutOfOrder { index }.into());
        }
        previous = Some(key);
        if key.0.len() > KEY_BYTES_MAX {
            let len = key.0.len();
            let max = KEY_BYTES_MAX;
            return Err(StateError::KeyTooLong { index, len, max }.into());
        }
        if value.size_bytes() > VALUE_BYTES_MAX {
            let len = value.size_bytes();
            let max = VALUE_BYTES_MAX;
            return Err(StateError::ValueTooLarge { index, len, max }.into());
        }
    }
    if sessions.len() > SESSIONS_MAX {
        return Err(StateError::TooManySessions {
            count: sessions.len(),
            max: SESSIONS_MAX,
        }
        .into());
    }
    let mut previous: Option<ClientId> = None;
    let mut replies_bytes: usize = 0;
    for (index, (client, last_sequence, last_active_ms, reply)) in sessions.enumerate() {
        if previous.is_some_and(|previous| previous >= client) {
            return Err(StateError::SessionsOutOfOrder { index }.into());
        }
        previous = Some(client);
        let client = client.0;
        if last_sequence == 0 {
            return Err(StateError::SequenceZero { client }.into());
        }
        if last_active_ms > clock_ms {
            return Err(StateError::ActiveAfterClock {
                client,
                last_active_ms,
                clock_ms,
            }
            .into());
        }
        if clock_ms - last_active_ms > SESSION_EXPIRY_MS {
            return Err(StateError::Expired {
                client,
                last_active_ms,
                clock_ms,
                expiry_ms: SESSION_EXPIRY_MS,
            }
            .into());
        }
        check_outcome(reply).map_err(|error| StateError::Reply { client, error })?;
        replies_bytes = replies_bytes.saturating_add(outcome_size_bytes(reply));
    }
    if replies_bytes > SESSION_REPLIES_BYTES_MAX {
        return Err(StateError::RepliesTooLarge {
            bytes: replies_bytes,
            max: SESSION_REPLIES_BYTES_MAX,
        }
        .into());
    }
    Ok(())
}

/// A state as [`encode_state`] writes it, borrowed from the live state.
#[derive(Serialize)]
struct StateView<'a> {
    keys: Vec<(&'a Key, &'a Value)>,
    sessions: Vec<SessionView<'a>>,
    clock_ms: u64,
}

impl<'a> StateView<'a> {
    fn of(state: &'a CellState) -> Self {
        StateView {
            keys: state.machine().iter().collect(),
            sessions: state
                .sessions()
                .map(|(client, session)| SessionView {
                    client,
                    last_sequence: session.last_sequence(),
                    last_active_ms: session.last_active_ms(),
                    reply: session.reply(),
                })
                .collect(),
            clock_ms: state.clock_ms(),
        }
    }
}

fn check_view(view: &StateView<'_>) -> Result<(), WireError> {
    check_state(
        view.keys.iter().copied(),
        view.sessions
            .iter()
            .map(|s| (s.client, s.last_sequence, s.last_active_ms, s.reply)),
        view.clock_ms,
    )
}

/// A state serializes as its encoding's body, so that it can be written by any serde format
/// (the tests write one unchecked, to see the decoder refuse it).
impl Serialize for CellState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StateView::of(self).serialize(serializer)
    }
}

#[derive(Serialize)]
struct SessionView<'a> {
    client: ClientId,
    last_sequence: u64,
    last_active_ms: u64,
    reply: &'a Outcome,
}

/// A state as [`decode_state`] reads it; the same encoding as [`StateView`].
#[derive(Serialize, Deserialize)]
struct StateImage {
    keys: Vec<(Key, Value)>,
    sessions: Vec<SessionImage>,
    clock_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct SessionImage {
    client: ClientId,
    last_sequence: u64,
    last_active_ms: u64,
    reply: Outcome,
}
