//! The cell's state machine against random transactions: replicas applying the same log agree
//! (determinism), the state machine agrees with a reference written as plainly as possible
//! (model-based), and the transaction encoding round-trips, is strict and never panics.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use colony_core::cell::{
    decode_transaction, encode_transaction, Abort, Condition, ConditionFailure, Key, Operation,
    OperationFailure, OperationResult, Place, StateMachine, Transaction, TransactionError, Value,
    WireError, FORMAT_VERSION, KEYS_MAX, OPERATIONS_MAX, VALUE_BYTES_MAX,
};
use colony_core::codec::CodecError;
use common::{garbage, prefixes_refused, refused_or_canonical, round_trip};
use num_bigint::BigInt;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::BTreeMap;

encoded!(Transaction, encode_transaction, decode_transaction);

// ---------------------------------------------------------------------------------------------
// Strategies. Keys come mostly from a set of four, so that conditions and operations of one
// transaction, and of successive ones, meet the same keys often.

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        8 => prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(Key::from),
        1 => vec(any::<u8>(), 0..6).prop_map(Key),
    ]
}

/// The largest integer allowed: all ones over [`VALUE_BYTES_MAX`] bytes.
fn largest_integer() -> BigInt {
    (BigInt::from(1) << (8 * VALUE_BYTES_MAX)) - 1
}

/// Small integers (which collide with each other), integers around the 64-bit limits, integers
/// of up to 40 bytes, and now and then the largest allowed, so that increments overflow it.
fn integer() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        8 => (-3i64..4).prop_map(BigInt::from),
        4 => any::<i64>().prop_map(BigInt::from),
        2 => any::<u64>().prop_map(|n| BigInt::from(n) + 1),
        4 => vec(any::<u8>(), 0..40).prop_map(|bytes| BigInt::from_signed_bytes_le(&bytes)),
        1 => any::<bool>().prop_map(|negative| {
            if negative { -largest_integer() } else { largest_integer() }
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        vec(any::<u8>(), 0..4).prop_map(Value::Bytes),
        integer().prop_map(Value::Integer),
        any::<bool>().prop_map(Value::Boolean),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        key().prop_map(|key| Condition::Exists { key }),
        key().prop_map(|key| Condition::Absent { key }),
        (key(), value()).prop_map(|(key, value)| Condition::Equals { key, value }),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        key().prop_map(|key| Operation::Read { key }),
        (key(), value()).prop_map(|(key, value)| Operation::Write { key, value }),
        key().prop_map(|key| Operation::Delete { key }),
        (key(), integer()).prop_map(|(key, amount)| Operation::Increment { key, amount }),
    ]
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (vec(condition(), 0..3), vec(operation(), 0..6)).prop_map(|(conditions, operations)| {
        Transaction {
            conditions,
            operations,
        }
    })
}

fn log() -> impl Strategy<Value = Vec<Transaction>> {
    vec(transaction(), 0..40)
}

type Outcome = Result<Vec<OperationResult>, Abort>;

// ---------------------------------------------------------------------------------------------
// The reference: a map, a copy of it for the operations, and the copy kept if nothing failed.
// It shares the public types (to compare results) and `validate` (the shape check), nothing else.

#[derive(Default)]
struct Reference {
    map: BTreeMap<Key, Value>,
}

impl Reference {
    fn apply(&mut self, transaction: &Transaction) -> Outcome {
        transaction.validate()?;
        for (index, condition) in transaction.conditions.iter().enumerate() {
            if let Some(reason) = self.failure(condition) {
                return Err(Abort::ConditionFailed { index, reason });
            }
        }
        let mut next = self.map.clone();
        let mut results = Vec::new();
        for (index, operation) in transaction.operations.iter().enumerate() {
            let result = run(&mut next, operation)
                .map_err(|reason| Abort::OperationFailed { index, reason })?;
            results.push(result);
        }
        if next.len() > KEYS_MAX {
            return Err(Abort::CellFull {
                keys: next.len(),
                max: KEYS_MAX,
            });
        }
        self.map = next;
        Ok(results)
    }

    fn failure(&self, condition: &Condition) -> Option<ConditionFailure> {
        let (key, found) = match condition {
            Condition::Exists { key }
            | Condition::Absent { key }
            | Condition::Equals { key, .. } => (key.clone(), self.map.get(key).cloned()),
        };
        match (condition, found) {
            (Condition::Exists { .. }, None) => Some(ConditionFailure::KeyAbsent { key }),
            (Condition::Absent { .. }, Some(found)) => {
                Some(ConditionFailure::KeyPresent { key, found })
            }
            (Condition::Equals { .. }, None) => Some(ConditionFailure::KeyAbsent { key }),
            (Condition::Equals { value, .. }, Some(found)) if found != *value => {
                Some(ConditionFailure::ValueDiffers {
                    key,
                    found,
                    expected: value.clone(),
                })
            }
            _ => None,
        }
    }
}

fn run(
    map: &mut BTreeMap<Key, Value>,
    operation: &Operation,
) -> Result<OperationResult, OperationFailure> {
    match operation {
        Operation::Read { key } => Ok(OperationResult::Read(map.get(key).cloned())),
        Operation::Write { key, value } => {
            map.insert(key.clone(), value.clone());
            Ok(OperationResult::Written)
        }
        Operation::Delete { key } => {
            map.remove(key);
            Ok(OperationResult::Deleted)
        }
        Operation::Increment { key, amount } => {
            let old = match map.get(key) {
                None => BigInt::from(0),
                Some(Value::Integer(old)) => old.clone(),
                Some(found) => {
                    return Err(OperationFailure::NotAnInteger {
                        key: key.clone(),
                        found: found.clone(),
                    })
                }
            };
            let new = old + amount;
            let len = usize::try_from(new.bits().div_ceil(8)).unwrap();
            if len > VALUE_BYTES_MAX {
                return Err(OperationFailure::IntegerTooLarge {
                    key: key.clone(),
                    len,
                    max: VALUE_BYTES_MAX,
                });
            }
            map.insert(key.clone(), Value::Integer(new.clone()));
            Ok(OperationResult::Incremented(new))
        }
    }
}

fn entries(machine: &StateMachine) -> BTreeMap<Key, Value> {
    machine
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Two replicas applying the same log, one of them from its encoded form as a replica would
    /// receive it, return the same outcomes and end equal, with equal digests.
    #[test]
    fn replicas_applying_one_log_agree(log in log()) {
        let mut first = StateMachine::new();
        let mut second = StateMachine::new();
        for transaction in &log {
            let decoded = decode_transaction(&encode_transaction(transaction).unwrap()).unwrap();
            prop_assert_eq!(first.apply(transaction), second.apply(&decoded));
        }
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(first.digest(), second.digest());
    }

    /// The state machine and the reference return the same outcome for every transaction of a
    /// random log and hold the same entries after each.
    #[test]
    fn state_machine_matches_the_reference(log in log()) {
        let mut machine = StateMachine::new();
        let mut reference = Reference::default();
        for transaction in &log {
            let before = machine.clone();
            let outcome = machine.apply(transaction);
            prop_assert_eq!(&outcome, &reference.apply(transaction));
            prop_assert_eq!(entries(&machine), reference.map.clone());
            if outcome.is_err() {
                prop_assert_eq!(&machine, &before, "an aborted transaction changed the state");
            }
        }
    }

    /// Every transaction within the bounds survives an encoding round trip.
    #[test]
    fn transactions_round_trip(transaction in transaction()) {
        round_trip(&transaction)?;
    }

    /// Every strict prefix of an encoding is refused as truncated. Decoding a prefix parses what
    /// comes before the cut, so only encodings of at most 1 KiB are cut at every length (most
    /// are; the others hold one of the largest integers).
    #[test]
    fn every_strict_prefix_is_refused_as_truncated(transaction in transaction()) {
        if encode_transaction(&transaction).unwrap().len() <= 1024 {
            prefixes_refused(&transaction)?;
        }
    }

    /// Garbage, and valid encodings with one byte changed, inserted or removed, decode without a
    /// panic to an error or to the one transaction whose encoding they are.
    #[test]
    fn garbage_is_refused_or_canonical(
        bytes in garbage(FORMAT_VERSION, transaction().prop_map(|t| encode_transaction(&t).unwrap())),
    ) {
        refused_or_canonical::<Transaction>(&bytes)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The encoding's exact bytes and its strictness.

fn sample() -> Transaction {
    Transaction {
        conditions: vec![Condition::Equals {
            key: Key::from("a"),
            value: Value::Integer(BigInt::from(-1)),
        }],
        operations: vec![
            Operation::Write {
                key: Key::from("b"),
                value: Value::Bytes(vec![0xff]),
            },
            Operation::Increment {
                key: Key::from("c"),
                amount: BigInt::from(u64::MAX) + 1,
            },
            Operation::Read {
                key: Key::from("d"),
            },
            Operation::Delete { key: Key(vec![]) },
            Operation::Write {
                key: Key::from("e"),
                value: Value::Boolean(true),
            },
        ],
    }
}

/// The bytes of one transaction, pinned: a change of format shows here and must bump
/// `FORMAT_VERSION`.
#[test]
fn encoding_is_pinned() {
    #[rustfmt::skip]
    let expected = vec![
        1,                          // version
        1,                          // one condition
        2, 1, b'a', 1, 0xff, 1, 1,  // Equals "a", Integer: sign -1 (an i8, raw), one digit: 1
        5,                          // five operations
        1, 1, b'b', 0, 1, 0xff,     // Write "b", Bytes [0xff]
        3, 1, b'c', 1, 3, 0, 0, 1,  // Increment "c", sign +1, three digits: 0, 0, 1
        0, 1, b'd',                 // Read "d"
        2, 0,                       // Delete ""
        1, 1, b'e', 2, 1,           // Write "e", Boolean true
    ];
    common::pinned(&sample(), &expected);
}

#[test]
fn decoding_is_strict() {
    common::strict(&sample());
    let bytes = encode_transaction(&sample()).unwrap();
    assert!(matches!(
        decode_transaction(&bytes[..bytes.len() - 1]),
        Err(WireError::Codec(CodecError::Malformed { .. }))
    ));
}

#[test]
fn non_canonical_encodings_are_refused() {
    let canonical = encode_transaction(&Transaction {
        conditions: vec![],
        operations: vec![Operation::Increment {
            key: Key::from("a"),
            amount: BigInt::from(1),
        }],
    })
    .unwrap();
    assert_eq!(canonical, [1, 0, 1, 3, 1, b'a', 1, 1, 1]);
    let variants: [&[u8]; 4] = [
        // The operation count as a padded varint.
        &[1, 0, 0x81, 0, 3, 1, b'a', 1, 1, 1],
        // A leading zero digit, which num-bigint drops.
        &[1, 0, 1, 3, 1, b'a', 1, 2, 1, 0],
        // A minus sign on zero, which num-bigint turns into no sign.
        &[1, 0, 1, 3, 1, b'a', 0xff, 0],
        // No sign on a non-zero magnitude, which num-bigint turns into zero.
        &[1, 0, 1, 3, 1, b'a', 0, 1, 1],
    ];
    for bytes in variants {
        assert_eq!(
            decode_transaction(bytes),
            Err(WireError::Codec(CodecError::NonCanonical)),
            "{bytes:?}"
        );
    }
}

/// A transaction past a bound is refused when encoding, and when decoding bytes that some other
/// writer produced without checking.
#[test]
fn bounds_are_enforced_both_ways() {
    let too_many = Transaction {
        conditions: vec![],
        operations: vec![
            Operation::Read {
                key: Key::from("a")
            };
            OPERATIONS_MAX + 1
        ],
    };
    let error = TransactionError::TooManyOperations {
        count: OPERATIONS_MAX + 1,
        max: OPERATIONS_MAX,
    };
    common::refused(
        &too_many,
        &WireError::Invalid(error),
        "invalid transaction: 65 operations are more than the bound of 64 (OPERATIONS_MAX)",
    );

    let huge = Transaction {
        conditions: vec![],
        operations: vec![Operation::Increment {
            key: Key::from("a"),
            amount: -(largest_integer() + BigInt::from(1)),
        }],
    };
    let error = TransactionError::ValueTooLarge {
        place: Place::Operation(0),
        len: VALUE_BYTES_MAX + 1,
        max: VALUE_BYTES_MAX,
    };
    common::refused(
        &huge,
        &WireError::Invalid(error),
        "invalid transaction: operation 0: a value of 65537 bytes is larger than the bound of \
         65536 bytes (VALUE_BYTES_MAX)",
    );
}
