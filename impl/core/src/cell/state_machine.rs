//! The state machine: the cell's store and the application of one transaction to it.

use super::transaction::{integer_size_bytes, Condition, Key, Operation, Transaction, Value};
use super::{TransactionError, KEYS_MAX, VALUE_BYTES_MAX};
use num_bigint::BigInt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The result of one operation of a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationResult {
    /// A read: the value, or `None` if the key was absent.
    Read(Option<Value>),
    /// A write.
    Written,
    /// A delete (of a present or an absent key).
    Deleted,
    /// An increment: the key's new value.
    Incremented(BigInt),
}

/// Why a condition failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum ConditionFailure {
    /// `Exists` or `Equals` found no value.
    #[error("key {key} is absent")]
    KeyAbsent {
        /// The key.
        key: Key,
    },
    /// `Absent` found a value.
    #[error("key {key} is present, holding {found}")]
    KeyPresent {
        /// The key.
        key: Key,
        /// The value it holds.
        found: Value,
    },
    /// `Equals` found another value.
    #[error("key {key} holds {found}, not {expected}")]
    ValueDiffers {
        /// The key.
        key: Key,
        /// The value it holds.
        found: Value,
        /// The value the condition required.
        expected: Value,
    },
}

/// Why an operation failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum OperationFailure {
    /// An increment of a key holding bytes or a boolean.
    #[error("cannot increment key {key}: it holds {found}, not an integer")]
    NotAnInteger {
        /// The key.
        key: Key,
        /// The value it holds.
        found: Value,
    },
    /// An increment whose result would be larger than [`VALUE_BYTES_MAX`].
    #[error(
        "incrementing key {key} would give an integer of {len} bytes, larger than the bound of \
         {max} bytes (VALUE_BYTES_MAX)"
    )]
    IntegerTooLarge {
        /// The key.
        key: Key,
        /// The size in bytes of the integer the increment would give.
        len: usize,
        /// The bound, [`VALUE_BYTES_MAX`].
        max: usize,
    },
}

/// Why a transaction changed nothing. Every replica returns the same `Abort` for the same
/// transaction applied to the same state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
pub enum Abort {
    /// The transaction's shape is past a bound (see [`Transaction::validate`]).
    #[error("malformed transaction: {0}")]
    Malformed(#[from] TransactionError),
    /// A condition does not hold: the first failing one, by index.
    #[error("condition {index} failed: {reason}")]
    ConditionFailed {
        /// The index of the condition in the transaction.
        index: usize,
        /// Why it failed.
        reason: ConditionFailure,
    },
    /// An operation cannot be applied: the first failing one, by index.
    #[error("operation {index} failed: {reason}")]
    OperationFailed {
        /// The index of the operation in the transaction.
        index: usize,
        /// Why it failed.
        reason: OperationFailure,
    },
    /// The transaction would leave more than [`KEYS_MAX`] keys in the cell.
    #[error("the transaction would leave {keys} keys in the cell, more than the bound of {max} (KEYS_MAX)")]
    CellFull {
        /// The number of keys the cell would hold.
        keys: usize,
        /// The bound, [`KEYS_MAX`].
        max: usize,
    },
}

/// The state of one cell: its keys and their values. Replicas that applied the same transactions
/// in the same order are equal (`==`) and have equal [`StateMachine::digest`]s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StateMachine {
    /// A `BTreeMap`, not a `HashMap`, so that iteration order is the keys' order everywhere.
    store: BTreeMap<Key, Value>,
}

impl StateMachine {
    /// An empty cell.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one transaction: checks its shape, then its conditions against the current state,
    /// then applies its operations in order; returns one result per operation, or changes
    /// nothing and returns why. See the module doc for the semantics.
    pub fn apply(&mut self, transaction: &Transaction) -> Result<Vec<OperationResult>, Abort> {
        transaction.validate()?;
        self.check_conditions(&transaction.conditions)?;
        let mut pending = Pending::new(&self.store);
        let results = pending.apply_all(&transaction.operations)?;
        let writes = pending.writes;
        let keys = self.keys_after(&writes);
        if keys > KEYS_MAX {
            return Err(Abort::CellFull {
                keys,
                max: KEYS_MAX,
            });
        }
        self.commit(writes);
        Ok(results)
    }

    /// A state machine holding exactly `store`, for decoding a snapshot, whose decoder has
    /// checked every key and value against the bounds.
    pub(super) fn from_store(store: BTreeMap<Key, Value>) -> Self {
        StateMachine { store }
    }

    /// The value of a key, if present.
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.store.get(key)
    }

    /// The number of keys in the cell.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the cell holds no key.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Every key and its value, in the keys' order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.store.iter()
    }

    /// A 64-bit digest of the whole state (FNV-1a over each key and value in key order), equal on
    /// replicas with equal states on every platform and Rust version, for comparing replicas in
    /// tests and logs. It is not cryptographic: it detects divergence, not tampering.
    pub fn digest(&self) -> u64 {
        let mut hash = Fnv1a::new();
        for (key, value) in &self.store {
            hash.write_bytes(&key.0);
            hash.write_value(value);
        }
        hash.0
    }

    fn check_conditions(&self, conditions: &[Condition]) -> Result<(), Abort> {
        for (index, condition) in conditions.iter().enumerate() {
            check_condition(self.store.get(condition_key(condition)), condition)
                .map_err(|reason| Abort::ConditionFailed { index, reason })?;
        }
        Ok(())
    }

    /// The number of keys the store would hold after `writes`.
    fn keys_after(&self, writes: &BTreeMap<Key, Option<Value>>) -> usize {
        let mut keys = self.store.len();
        for (key, write) in writes {
            match (self.store.contains_key(key), write) {
                (false, Some(_)) => keys = keys.saturating_add(1),
                (true, None) => keys = keys.saturating_sub(1),
                _ => {}
            }
        }
        keys
    }

    fn commit(&mut self, writes: BTreeMap<Key, Option<Value>>) {
        for (key, write) in writes {
            match write {
                Some(value) => self.store.insert(key, value),
                None => self.store.remove(&key),
            };
        }
    }
}

fn condition_key(condition: &Condition) -> &Key {
    match condition {
        Condition::Exists { key } | Condition::Absent { key } | Condition::Equals { key, .. } => {
            key
        }
    }
}

fn check_condition(found: Option<&Value>, condition: &Condition) -> Result<(), ConditionFailure> {
    match (condition, found) {
        (Condition::Exists { .. }, Some(_)) | (Condition::Absent { .. }, None) => Ok(()),
        (Condition::Exists { key } | Condition::Equals { key, .. }, None) => {
            Err(ConditionFailure::KeyAbsent { key: key.clone() })
        }
        (Condition::Absent { key }, Some(found)) => Err(ConditionFailure::KeyPresent {
            key: key.clone(),
            found: found.clone(),
        }),
        (Condition::Equals { key, value }, Some(found)) => {
            if found == value {
                return Ok(());
            }
            Err(ConditionFailure::ValueDiffers {
                key: key.clone(),
                found: found.clone(),
                expected: value.clone(),
            })
        }
    }
}

/// A transaction's writes so far, over the store it does not change until it commits: `Some` for
/// a key written, `None` for a key deleted. Applying to this overlay rather than to a copy of the
/// store keeps a failed transaction from costing a copy of the whole cell.
struct Pending<'a> {
    store: &'a BTreeMap<Key, Value>,
    writes: BTreeMap<Key, Option<Value>>,
}

impl<'a> Pending<'a> {
    fn new(store: &'a BTreeMap<Key, Value>) -> Self {
        Pending {
            store,
            writes: BTreeMap::new(),
        }
    }

    /// The key's value as the operations so far left it.
    fn get(&self, key: &Key) -> Option<&Value> {
        match self.writes.get(key) {
            Some(write) => write.as_ref(),
            None => self.store.get(key),
        }
    }

    fn apply_all(&mut self, operations: &[Operation]) -> Result<Vec<OperationResult>, Abort> {
        let mut results = Vec::with_capacity(operations.len());
        for (index, operation) in operations.iter().enumerate() {
            let result = self
                .apply(operation)
                .map_err(|reason| Abort::OperationFailed { index, reason })?;
            results.push(result);
        }
        Ok(results)
    }

    fn apply(&mut self, operation: &Operation) -> Result<OperationResult, OperationFailure> {
        match operation {
            Operation::Read { key } => Ok(OperationResult::Read(self.get(key).cloned())),
            Operation::Write { key, value } => {
                self.writes.insert(key.clone(), Some(value.clone()));
                Ok(OperationResult::Written)
            }
            Operation::Delete { key } => {
                self.writes.insert(key.clone(), None);
                Ok(OperationResult::Deleted)
            }
            Operation::Increment { key, amount } => self.increment(key, amount),
        }
    }

    fn increment(
        &mut self,
        key: &Key,
        amount: &BigInt,
    ) -> Result<OperationResult, OperationFailure> {
        let sum = match self.get(key) {
            None => amount.clone(),
            Some(Value::Integer(integer)) => integer + amount,
            Some(found) => {
                return Err(OperationFailure::NotAnInteger {
                    key: key.clone(),
                    found: found.clone(),
                })
            }
        };
        let len = integer_size_bytes(&sum);
        if len > VALUE_BYTES_MAX {
            return Err(OperationFailure::IntegerTooLarge {
                key: key.clone(),
                len,
                max: VALUE_BYTES_MAX,
            });
        }
        self.writes
            .insert(key.clone(), Some(Value::Integer(sum.clone())));
        Ok(OperationResult::Incremented(sum))
    }
}

/// 64-bit FNV-1a, written out because its definition is fixed forever, where std's hashers may
/// change between Rust versions. Every item is written with its length or a type tag first, so
/// that different states cannot feed the hash the same bytes.
pub(super) struct Fnv1a(pub(super) u64);

impl Fnv1a {
    pub(super) fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub(super) fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(super) fn write_bytes(&mut self, bytes: &[u8]) {
        // A usize always fits in a u64 on the platforms Rust supports.
        self.write(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_le_bytes());
        self.write(bytes);
    }

    fn write_value(&mut self, value: &Value) {
        match value {
            Value::Bytes(bytes) => {
                self.write(&[0]);
                self.write_bytes(bytes);
            }
            Value::Integer(integer) => {
                self.write(&[1]);
                self.write_bytes(&integer.to_signed_bytes_le());
            }
            Value::Boolean(boolean) => self.write(&[2, u8::from(*boolean)]),
        }
    }
}
