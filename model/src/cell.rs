//! The model of a cell's transactions: what one transaction does to a cell's keys, written as
//! plainly as possible over a tiny universe (two keys, small values), for the test generator.
//!
//! This is the reference the generated transaction tests take their expectations from, as the
//! protocol tests take theirs from the Stateright mirrors: it is written from the semantics the
//! implementation documents (`impl/core/src/cell/mod.rs`), not from its code, and shares none of it.
//!
//! A transaction checks its conditions, in order, against the state before it; the first that
//! fails aborts it. Its operations then apply in order, each seeing the effects of the ones before;
//! the first that fails aborts it, and an aborted transaction changes nothing. An increment of an
//! absent key treats it as 0; of a key holding bytes or a boolean, it fails. A delete of an absent
//! key succeeds.

use std::fmt;

/// The keys of the universe: `a` and `b`.
pub const KEYS: usize = 2;

/// A key, `0` for `a` and `1` for `b`.
pub type Key = u8;

/// A value of the universe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// Bytes: a one-letter string.
    Bytes(char),
    /// A boolean.
    Bool(bool),
}

/// A cell's state: each key's value, or `None` for absent.
pub type State = [Option<Value>; KEYS];

/// A condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// The key holds a value.
    Exists(Key),
    /// The key holds none.
    Absent(Key),
    /// The key holds this value.
    Equals(Key, Value),
}

/// An operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Read the key.
    Read(Key),
    /// Write the value.
    Write(Key, Value),
    /// Delete the key.
    Delete(Key),
    /// Add the amount to the key's integer.
    Increment(Key, i64),
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Transaction {
    /// Checked first, in order.
    pub conditions: Vec<Condition>,
    /// Applied in order.
    pub operations: Vec<Operation>,
}

/// Why a condition failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionFailure {
    /// `Exists` or `Equals` found no value.
    KeyAbsent,
    /// `Absent` found a value.
    KeyPresent,
    /// `Equals` found another value.
    ValueDiffers,
}

/// What one operation of a committed transaction returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationResult {
    /// A read: the value, or `None`.
    Read(Option<Value>),
    /// A write.
    Written,
    /// A delete.
    Deleted,
    /// An increment: the new integer.
    Incremented(i64),
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It committed: one result per operation, and the state after it.
    Committed(Vec<OperationResult>, State),
    /// Condition `index` failed, for this reason; nothing changed.
    ConditionFailed(usize, ConditionFailure),
    /// Operation `index` is an increment of a key that holds no integer; nothing changed.
    NotAnInteger(usize),
}

/// What `transaction` does to a cell in state `state`.
pub fn apply(state: State, transaction: &Transaction) -> Outcome {
    for (index, &condition) in transaction.conditions.iter().enumerate() {
        let failure = match condition {
            Condition::Exists(k) if state[usize::from(k)].is_none() => {
                Some(ConditionFailure::KeyAbsent)
            }
            Condition::Absent(k) if state[usize::from(k)].is_some() => {
                Some(ConditionFailure::KeyPresent)
            }
            Condition::Equals(k, v) => match state[usize::from(k)] {
                None => Some(ConditionFailure::KeyAbsent),
                Some(found) if found != v => Some(ConditionFailure::ValueDiffers),
                Some(_) => None,
            },
            _ => None,
        };
        if let Some(failure) = failure {
            return Outcome::ConditionFailed(index, failure);
        }
    }
    let mut after = state;
    let mut results = Vec::new();
    for (index, &operation) in transaction.operations.iter().enumerate() {
        let result = match operation {
            Operation::Read(k) => OperationResult::Read(after[usize::from(k)]),
            Operation::Write(k, v) => {
                after[usize::from(k)] = Some(v);
                OperationResult::Written
            }
            Operation::Delete(k) => {
                after[usize::from(k)] = None;
                OperationResult::Deleted
            }
            Operation::Increment(k, amount) => match after[usize::from(k)] {
                None | Some(Value::Int(_)) => {
                    let Some(Value::Int(old)) = after[usize::from(k)].or(Some(Value::Int(0)))
                    else {
                        unreachable!("an absent key counts as 0");
                    };
                    after[usize::from(k)] = Some(Value::Int(old + amount));
                    OperationResult::Incremented(old + amount)
                }
                Some(_) => return Outcome::NotAnInteger(index),
            },
        };
        results.push(result);
    }
    Outcome::Committed(results, after)
}

/// `a` or `b`.
pub fn key_name(k: Key) -> char {
    char::from(b'a' + k)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Bytes(c) => write!(f, "{c:?}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aborted_transactions_change_nothing_and_say_why() {
        let state: State = [Some(Value::Bytes('x')), None];
        let increment_a = Transaction {
            conditions: vec![],
            operations: vec![Operation::Increment(1, 2), Operation::Increment(0, 1)],
        };
        assert_eq!(apply(state, &increment_a), Outcome::NotAnInteger(1));
        let absent_a = Transaction {
            conditions: vec![Condition::Exists(1), Condition::Absent(0)],
            operations: vec![],
        };
        assert_eq!(
            apply(state, &absent_a),
            Outcome::ConditionFailed(0, ConditionFailure::KeyAbsent)
        );
        let write_then_read = Transaction {
            conditions: vec![Condition::Equals(0, Value::Bytes('x'))],
            operations: vec![Operation::Write(1, Value::Int(4)), Operation::Read(1)],
        };
        let committed = Outcome::Committed(
            vec![
                OperationResult::Written,
                OperationResult::Read(Some(Value::Int(4))),
            ],
            [Some(Value::Bytes('x')), Some(Value::Int(4))],
        );
        assert_eq!(apply(state, &write_then_read), committed);
    }
}
