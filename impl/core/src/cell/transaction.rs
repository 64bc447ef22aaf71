//! Transactions: keys, typed values, conditions and operations, and the check of their shape.

use super::{
    CONDITIONS_MAX, KEY_BYTES_MAX, OPERATIONS_MAX, TRANSACTION_BYTES_MAX, VALUE_BYTES_MAX,
};
use num_bigint::BigInt;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A key: bytes, at most [`KEY_BYTES_MAX`] of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
// Serialized as bytes, not as a sequence of numbers, for the reason given on `paxos::Value`:
// reading bytes checks the claimed length against the input before taking them.
pub struct Key(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// A typed value. There are no floats: their equality is not an equivalence (NaN) and their
/// arithmetic differs across platforms, and a replicated state machine needs both exact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// Opaque bytes, at most [`VALUE_BYTES_MAX`] of them.
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
    /// An integer of any sign whose magnitude takes at most [`VALUE_BYTES_MAX`] bytes.
    Integer(BigInt),
    /// A boolean.
    Boolean(bool),
}

/// A condition a transaction requires of the state before it, checked when it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Condition {
    /// The key holds some value.
    Exists {
        /// The key.
        key: Key,
    },
    /// The key holds no value.
    Absent {
        /// The key.
        key: Key,
    },
    /// The key holds exactly this value, of this type: the integer 1 does not equal the bytes
    /// `"1"` nor the boolean `true`.
    Equals {
        /// The key.
        key: Key,
        /// The value it must hold.
        value: Value,
    },
}

/// One operation of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// Reads the key's value, seeing the writes of earlier operations of the same transaction.
    Read {
        /// The key.
        key: Key,
    },
    /// Sets the key to the value, creating it if absent.
    Write {
        /// The key.
        key: Key,
        /// The new value.
        value: Value,
    },
    /// Removes the key; removing an absent key does nothing and succeeds.
    Delete {
        /// The key.
        key: Key,
    },
    /// Adds `amount` (which may be negative) to the integer the key holds, an absent key counting
    /// as 0. Fails the transaction if the key holds bytes or a boolean.
    Increment {
        /// The key.
        key: Key,
        /// The amount added, whose magnitude takes at most [`VALUE_BYTES_MAX`] bytes.
        amount: BigInt,
    },
}

/// A transaction: all of its operations apply if all of its conditions hold, or none do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transaction {
    /// Checked in order against the state before the transaction; at most [`CONDITIONS_MAX`].
    pub conditions: Vec<Condition>,
    /// Applied in order, each seeing the effects of the ones before; at most [`OPERATIONS_MAX`].
    pub operations: Vec<Operation>,
}

/// Where in a transaction a key or value past its bound is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Place {
    /// The condition of this index.
    Condition(usize),
    /// The operation of this index.
    Operation(usize),
}

/// Why a transaction's shape is refused: a count or a size past its bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum TransactionError {
    /// More than [`CONDITIONS_MAX`] conditions.
    #[error("{count} conditions are more than the bound of {max} (CONDITIONS_MAX)")]
    TooManyConditions {
        /// The number of conditions.
        count: usize,
        /// The bound, [`CONDITIONS_MAX`].
        max: usize,
    },
    /// More than [`OPERATIONS_MAX`] operations.
    #[error("{count} operations are more than the bound of {max} (OPERATIONS_MAX)")]
    TooManyOperations {
        /// The number of operations.
        count: usize,
        /// The bound, [`OPERATIONS_MAX`].
        max: usize,
    },
    /// A key longer than [`KEY_BYTES_MAX`].
    #[error(
        "{place}: a key of {len} bytes is longer than the bound of {max} bytes (KEY_BYTES_MAX)"
    )]
    KeyTooLong {
        /// The condition or operation holding the key.
        place: Place,
        /// The key's length in bytes.
        len: usize,
        /// The bound, [`KEY_BYTES_MAX`].
        max: usize,
    },
    /// Keys and values adding up to more than [`TRANSACTION_BYTES_MAX`].
    #[error("the keys and values add up to {bytes} bytes, more than the bound of {max} bytes (TRANSACTION_BYTES_MAX)")]
    TooLarge {
        /// Their size (see [`Transaction::size_bytes`]).
        bytes: usize,
        /// The bound, [`TRANSACTION_BYTES_MAX`].
        max: usize,
    },
    /// A value or an increment amount larger than [`VALUE_BYTES_MAX`].
    #[error(
        "{place}: a value of {len} bytes is larger than the bound of {max} bytes (VALUE_BYTES_MAX)"
    )]
    ValueTooLarge {
        /// The condition or operation holding the value.
        place: Place,
        /// The value's size in bytes (see [`Value::size_bytes`]).
        len: usize,
        /// The bound, [`VALUE_BYTES_MAX`].
        max: usize,
    },
}

impl Transaction {
    /// Checks the transaction's shape against the bounds: counts first, then each condition's and
    /// each operation's key and value, in order, then their total; the first past its bound is
    /// the error.
    ///
    /// A client calls this before proposing; [`super::StateMachine::apply`] calls it again, so
    /// that a malformed transaction that reached the log is refused alike on every replica.
    pub fn validate(&self) -> Result<(), TransactionError> {
        check_count(self.conditions.len(), CONDITIONS_MAX, |count, max| {
            TransactionError::TooManyConditions { count, max }
        })?;
        check_count(self.operations.len(), OPERATIONS_MAX, |count, max| {
            TransactionError::TooManyOperations { count, max }
        })?;
        for (index, condition) in self.conditions.iter().enumerate() {
            check_condition(condition, Place::Condition(index))?;
        }
        for (index, operation) in self.operations.iter().enumerate() {
            check_operation(operation, Place::Operation(index))?;
        }
        let bytes = self.size_bytes();
        if bytes > TRANSACTION_BYTES_MAX {
            return Err(TransactionError::TooLarge {
                bytes,
                max: TRANSACTION_BYTES_MAX,
            });
        }
        Ok(())
    }

    /// The transaction's size as bounded by [`TRANSACTION_BYTES_MAX`]: the bytes of every key,
    /// value and increment amount it holds (each value sized as [`Value::size_bytes`] does).
    pub fn size_bytes(&self) -> usize {
        let conditions = self.conditions.iter().map(|condition| match condition {
            Condition::Exists { key } | Condition::Absent { key } => key.0.len(),
            Condition::Equals { key, value } => key.0.len() + value.size_bytes(),
        });
        let operations = self.operations.iter().map(|operation| match operation {
            Operation::Read { key } | Operation::Delete { key } => key.0.len(),
            Operation::Write { key, value } => key.0.len() + value.size_bytes(),
            Operation::Increment { key, amount } => key.0.len() + integer_size_bytes(amount),
        });
        conditions.chain(operations).fold(0, usize::saturating_add)
    }
}

fn check_count(
    count: usize,
    max: usize,
    error: fn(usize, usize) -> TransactionError,
) -> Result<(), TransactionError> {
    if count > max {
        return Err(error(count, max));
    }
    Ok(())
}

fn check_condition(condition: &Condition, place: Place) -> Result<(), TransactionError> {
    match condition {
        Condition::Exists { key } | Condition::Absent { key } => check_key(key, place),
        Condition::Equals { key, value } => {
            check_key(key, place)?;
            check_size(value.size_bytes(), place)
        }
    }
}

fn check_operation(operation: &Operation, place: Place) -> Result<(), TransactionError> {
    match operation {
        Operation::Read { key } | Operation::Delete { key } => check_key(key, place),
        Operation::Write { key, value } => {
            check_key(key, place)?;
            check_size(value.size_bytes(), place)
        }
        Operation::Increment { key, amount } => {
            check_key(key, place)?;
            check_size(integer_size_bytes(amount), place)
        }
    }
}

fn check_key(key: &Key, place: Place) -> Result<(), TransactionError> {
    let len = key.0.len();
    if len > KEY_BYTES_MAX {
        return Err(TransactionError::KeyTooLong {
            place,
            len,
            max: KEY_BYTES_MAX,
        });
    }
    Ok(())
}

fn check_size(len: usize, place: Place) -> Result<(), TransactionError> {
    if len > VALUE_BYTES_MAX {
        return Err(TransactionError::ValueTooLarge {
            place,
            len,
            max: VALUE_BYTES_MAX,
        });
    }
    Ok(())
}

/// The bytes of an integer's magnitude: 0 for zero, 1 up to 255, 2 up to 65535, and so on.
pub(super) fn integer_size_bytes(integer: &BigInt) -> usize {
    // An integer's bit count fits in a usize on every platform Rust supports that can hold the
    // integer in memory; saturating keeps the function total all the same.
    usize::try_from(integer.bits().div_ceil(8)).unwrap_or(usize::MAX)
}

impl Value {
    /// The value's size as bounded by [`VALUE_BYTES_MAX`]: the length of bytes, the bytes of an
    /// integer's magnitude, and 1 for a boolean.
    pub fn size_bytes(&self) -> usize {
        match self {
            Value::Bytes(bytes) => bytes.len(),
            Value::Integer(integer) => integer_size_bytes(integer),
            Value::Boolean(_) => 1,
        }
    }
}

impl From<&str> for Key {
    fn from(text: &str) -> Self {
        Key(text.as_bytes().to_vec())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Bytes(text.as_bytes().to_vec())
    }
}

impl From<BigInt> for Value {
    fn from(integer: BigInt) -> Self {
        Value::Integer(integer)
    }
}

impl From<i64> for Value {
    fn from(integer: i64) -> Self {
        Value::Integer(BigInt::from(integer))
    }
}

impl From<bool> for Value {
    fn from(boolean: bool) -> Self {
        Value::Boolean(boolean)
    }
}

/// Printable ASCII as a quoted string, anything else as hexadecimal, so that error messages
/// stay on one line and keys that differ only in unprintable bytes read differently.
fn write_bytes(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.chars().all(|c| c.is_ascii_graphic() || c == ' ') => {
            write!(f, "{text:?}")
        }
        _ => {
            f.write_str("0x")?;
            bytes.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bytes(f, &self.0)
    }
}

/// Bytes print quoted or in hexadecimal, integers in decimal and booleans as `true`/`false`, so
/// the three types never print alike.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bytes(bytes) => write_bytes(f, bytes),
            Value::Integer(integer) => write!(f, "{integer}"),
            Value::Boolean(boolean) => write!(f, "{boolean}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Condition(index) => write!(f, "condition {index}"),
            Place::Operation(index) => write!(f, "operation {index}"),
        }
    }
}
