//! Data-driven tests of the state machine: each case is an initial store, a transaction, the
//! expected outcome (the results, or the abort's message) and the expected store afterwards, all
//! checked by one helper, [`check`]. The cases are in [`semantics`] (what conditions and
//! operations do) and [`bounds`] (every bound at and past its limit, and the error texts).

#![allow(clippy::unwrap_used)]

use super::*;

mod bounds;
mod semantics;
use num_bigint::BigInt;

/// What the store must hold after the transaction.
enum After {
    /// Exactly the initial entries.
    Unchanged,
    /// Exactly these entries.
    Entries(Vec<(Key, Value)>),
}

struct Case {
    name: &'static str,
    initial: Vec<(Key, Value)>,
    transaction: Transaction,
    /// The results, or the `Display` text of the abort.
    outcome: Result<Vec<OperationResult>, String>,
    after: After,
}

fn key(text: &str) -> Key {
    Key::from(text)
}

fn int(integer: impl Into<BigInt>) -> Value {
    Value::Integer(integer.into())
}

fn big(text: &str) -> BigInt {
    text.parse().unwrap()
}

fn tx(conditions: Vec<Condition>, operations: Vec<Operation>) -> Transaction {
    Transaction {
        conditions,
        operations,
    }
}

fn exists(k: &str) -> Condition {
    Condition::Exists { key: key(k) }
}

fn absent(k: &str) -> Condition {
    Condition::Absent { key: key(k) }
}

fn equals(k: &str, value: Value) -> Condition {
    Condition::Equals { key: key(k), value }
}

fn read(k: &str) -> Operation {
    Operation::Read { key: key(k) }
}

fn write(k: &str, value: Value) -> Operation {
    Operation::Write { key: key(k), value }
}

fn delete(k: &str) -> Operation {
    Operation::Delete { key: key(k) }
}

fn increment(k: &str, amount: impl Into<BigInt>) -> Operation {
    Operation::Increment {
        key: key(k),
        amount: amount.into(),
    }
}

fn entries(pairs: Vec<(&str, Value)>) -> Vec<(Key, Value)> {
    pairs.into_iter().map(|(k, v)| (key(k), v)).collect()
}

/// A state machine holding exactly `entries`, built through the public API.
fn machine(entries: &[(Key, Value)]) -> StateMachine {
    let mut machine = StateMachine::new();
    for chunk in entries.chunks(OPERATIONS_MAX) {
        let operations = chunk
            .iter()
            .map(|(key, value)| Operation::Write {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        machine.apply(&tx(vec![], operations)).unwrap();
    }
    machine
}

/// The one helper: applies the case's transaction to its initial store and checks the outcome,
/// the store afterwards, and that the digest agrees with the expected store's.
fn check(case: Case) {
    let mut machine = machine(&case.initial);
    let outcome = machine
        .apply(&case.transaction)
        .map_err(|abort| abort.to_string());
    assert_eq!(outcome, case.outcome, "case {}: outcome", case.name);
    let expected = match case.after {
        After::Unchanged => case.initial,
        After::Entries(entries) => entries,
    };
    let found: Vec<(Key, Value)> = machine
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(found, expected, "case {}: store afterwards", case.name);
    let expected_machine = self::machine(&expected);
    assert_eq!(machine, expected_machine, "case {}: equality", case.name);
    assert_eq!(
        machine.digest(),
        expected_machine.digest(),
        "case {}: digest",
        case.name
    );
}

fn committed(
    name: &'static str,
    initial: Vec<(&str, Value)>,
    transaction: Transaction,
    results: Vec<OperationResult>,
    after: Vec<(&str, Value)>,
) -> Case {
    Case {
        name,
        initial: entries(initial),
        transaction,
        outcome: Ok(results),
        after: After::Entries(entries(after)),
    }
}

fn aborted(
    name: &'static str,
    initial: Vec<(&str, Value)>,
    transaction: Transaction,
    message: &str,
) -> Case {
    Case {
        name,
        initial: entries(initial),
        transaction,
        outcome: Err(message.to_string()),
        after: After::Unchanged,
    }
}

use OperationResult::{Deleted, Incremented, Read, Written};
