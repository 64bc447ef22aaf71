//! Data-driven tests of the state machine: each case is an initial store, a transaction, the
//! expected outcome (the results, or the abort's message) and the expected store afterwards, all
//! checked by one helper, [`check`].

#![allow(clippy::unwrap_used)]

use super::*;
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

fn condition_cases() -> Vec<Case> {
    vec![
        committed(
            "exists holds",
            vec![("a", int(1))],
            tx(vec![exists("a")], vec![read("a")]),
            vec![Read(Some(int(1)))],
            vec![("a", int(1))],
        ),
        aborted(
            "exists fails",
            vec![],
            tx(vec![exists("a")], vec![write("b", int(1))]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        committed(
            "absent holds",
            vec![],
            tx(vec![absent("a")], vec![write("a", true.into())]),
            vec![Written],
            vec![("a", Value::Boolean(true))],
        ),
        aborted(
            "absent fails",
            vec![("a", int(1))],
            tx(vec![absent("a")], vec![delete("a")]),
            r#"condition 0 failed: key "a" is present, holding 1"#,
        ),
        committed(
            "equals holds",
            vec![("a", "x".into())],
            tx(vec![equals("a", "x".into())], vec![write("a", "y".into())]),
            vec![Written],
            vec![("a", "y".into())],
        ),
        aborted(
            "equals fails on another value",
            vec![("a", int(1))],
            tx(vec![equals("a", int(2))], vec![write("a", int(3))]),
            r#"condition 0 failed: key "a" holds 1, not 2"#,
        ),
        aborted(
            "equals compares types",
            vec![("a", int(1))],
            tx(vec![equals("a", "1".into())], vec![]),
            r#"condition 0 failed: key "a" holds 1, not "1""#,
        ),
        aborted(
            "equals compares booleans",
            vec![("a", true.into())],
            tx(vec![equals("a", false.into())], vec![]),
            r#"condition 0 failed: key "a" holds true, not false"#,
        ),
        aborted(
            "equals fails on an absent key",
            vec![],
            tx(vec![equals("a", int(0))], vec![]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        aborted(
            "the first failing condition is reported",
            vec![("a", int(1))],
            tx(
                vec![exists("a"), absent("a"), exists("z")],
                vec![write("a", int(2))],
            ),
            r#"condition 1 failed: key "a" is present, holding 1"#,
        ),
        aborted(
            "conditions see the state before the operations",
            vec![],
            tx(vec![exists("a")], vec![write("a", int(1))]),
            r#"condition 0 failed: key "a" is absent"#,
        ),
        aborted(
            "unprintable keys print in hexadecimal",
            vec![],
            tx(
                vec![Condition::Exists {
                    key: Key(vec![0, 255]),
                }],
                vec![],
            ),
            "condition 0 failed: key 0x00ff is absent",
        ),
    ]
}

fn operation_cases() -> Vec<Case> {
    vec![
        committed(
            "empty transaction",
            vec![("a", int(1))],
            tx(vec![], vec![]),
            vec![],
            vec![("a", int(1))],
        ),
        committed(
            "read present and absent",
            vec![("a", "x".into())],
            tx(vec![], vec![read("a"), read("b")]),
            vec![Read(Some("x".into())), Read(None)],
            vec![("a", "x".into())],
        ),
        committed(
            "write creates and overwrites",
            vec![("a", int(1))],
            tx(
                vec![],
                vec![write("a", "x".into()), write("b", false.into())],
            ),
            vec![Written, Written],
            vec![("a", "x".into()), ("b", false.into())],
        ),
        committed(
            "delete present and absent",
            vec![("a", int(1)), ("b", int(2))],
            tx(vec![], vec![delete("a"), delete("z")]),
            vec![Deleted, Deleted],
            vec![("b", int(2))],
        ),
        committed(
            "increment of an absent key starts at 0",
            vec![],
            tx(vec![], vec![increment("a", 5)]),
            vec![Incremented(5.into())],
            vec![("a", int(5))],
        ),
        committed(
            "increment by a negative amount",
            vec![("a", int(3))],
            tx(vec![], vec![increment("a", -10)]),
            vec![Incremented((-7).into())],
            vec![("a", int(-7))],
        ),
        aborted(
            "increment of bytes fails and undoes earlier operations",
            vec![("a", "x".into())],
            tx(
                vec![],
                vec![write("b", int(1)), increment("a", 1), write("c", int(1))],
            ),
            r#"operation 1 failed: cannot increment key "a": it holds "x", not an integer"#,
        ),
        aborted(
            "increment of a boolean fails",
            vec![("a", true.into())],
            tx(vec![], vec![increment("a", 1)]),
            r#"operation 0 failed: cannot increment key "a": it holds true, not an integer"#,
        ),
        aborted(
            "a failing condition undoes everything",
            vec![("a", int(1))],
            tx(
                vec![exists("a"), exists("b")],
                vec![delete("a"), write("c", int(1))],
            ),
            r#"condition 1 failed: key "b" is absent"#,
        ),
        committed(
            "read after write sees the write",
            vec![("a", int(1))],
            tx(vec![], vec![write("a", int(2)), read("a")]),
            vec![Written, Read(Some(int(2)))],
            vec![("a", int(2))],
        ),
        committed(
            "read after delete sees nothing",
            vec![("a", int(1))],
            tx(
                vec![],
                vec![delete("a"), read("a"), write("a", int(9)), read("a")],
            ),
            vec![Deleted, Read(None), Written, Read(Some(int(9)))],
            vec![("a", int(9))],
        ),
        committed(
            "increments see earlier increments",
            vec![],
            tx(
                vec![],
                vec![increment("a", 1), increment("a", 2), read("a")],
            ),
            vec![
                Incremented(1.into()),
                Incremented(3.into()),
                Read(Some(int(3))),
            ],
            vec![("a", int(3))],
        ),
        aborted(
            "increment after a write of bytes fails",
            vec![],
            tx(vec![], vec![write("a", "1".into()), increment("a", 1)]),
            r#"operation 1 failed: cannot increment key "a": it holds "1", not an integer"#,
        ),
        committed(
            "increment past u64",
            vec![("a", int(u64::MAX))],
            tx(vec![], vec![increment("a", 1)]),
            vec![Incremented(big("18446744073709551616"))],
            vec![("a", int(big("18446744073709551616")))],
        ),
        committed(
            "increment below i64",
            vec![("a", int(i64::MIN))],
            tx(vec![], vec![increment("a", -1)]),
            vec![Incremented(big("-9223372036854775809"))],
            vec![("a", int(big("-9223372036854775809")))],
        ),
        committed(
            "increment of big integers back to 0",
            vec![("a", int(big("340282366920938463463374607431768211456")))],
            tx(
                vec![],
                vec![increment(
                    "a",
                    big("-340282366920938463463374607431768211456"),
                )],
            ),
            vec![Incremented(0.into())],
            vec![("a", int(0))],
        ),
    ]
}

#[test]
fn conditions() {
    condition_cases().into_iter().for_each(check);
}

#[test]
fn operations() {
    operation_cases().into_iter().for_each(check);
}

/// The largest integer allowed: all ones over [`VALUE_BYTES_MAX`] bytes.
fn largest_integer() -> BigInt {
    (BigInt::from(1) << (8 * VALUE_BYTES_MAX)) - 1
}

fn long_key(len: usize) -> Key {
    Key(vec![b'k'; len])
}

/// A case whose initial store and expected store are empty except as written.
fn simple(
    name: &'static str,
    transaction: Transaction,
    outcome: Result<Vec<OperationResult>, String>,
) -> Case {
    let after = match &outcome {
        Ok(_) => After::Entries(written(&transaction)),
        Err(_) => After::Unchanged,
    };
    Case {
        name,
        initial: vec![],
        transaction,
        outcome,
        after,
    }
}

/// What a transaction of writes and increments of distinct keys leaves in an empty store.
fn written(transaction: &Transaction) -> Vec<(Key, Value)> {
    let mut store = std::collections::BTreeMap::new();
    for operation in &transaction.operations {
        match operation {
            Operation::Write { key, value } => {
                store.insert(key.clone(), value.clone());
            }
            Operation::Increment { key, amount } => {
                store.insert(key.clone(), Value::Integer(amount.clone()));
            }
            Operation::Read { .. } | Operation::Delete { .. } => {}
        }
    }
    store.into_iter().collect()
}

fn size_cases() -> Vec<Case> {
    let max_bytes = Value::Bytes(vec![7; VALUE_BYTES_MAX]);
    let past_bytes = Value::Bytes(vec![7; VALUE_BYTES_MAX + 1]);
    vec![
        simple(
            "key at its bound",
            tx(
                vec![],
                vec![Operation::Write {
                    key: long_key(KEY_BYTES_MAX),
                    value: int(1),
                }],
            ),
            Ok(vec![Written]),
        ),
        simple(
            "key past its bound in an operation",
            tx(
                vec![],
                vec![Operation::Read {
                    key: long_key(KEY_BYTES_MAX + 1),
                }],
            ),
            Err(
                "malformed transaction: operation 0: a key of 1025 bytes is longer than the \
                 bound of 1024 bytes (KEY_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "key past its bound in a condition",
            tx(
                vec![
                    absent("a"),
                    Condition::Absent {
                        key: long_key(KEY_BYTES_MAX + 1),
                    },
                ],
                vec![],
            ),
            Err(
                "malformed transaction: condition 1: a key of 1025 bytes is longer than the \
                 bound of 1024 bytes (KEY_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "bytes at their bound",
            tx(vec![], vec![write("a", max_bytes.clone())]),
            Ok(vec![Written]),
        ),
        simple(
            "bytes past their bound",
            tx(vec![], vec![write("a", past_bytes.clone())]),
            Err(
                "malformed transaction: operation 0: a value of 65537 bytes is larger than \
                 the bound of 65536 bytes (VALUE_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "bytes past their bound in a condition",
            tx(vec![equals("a", past_bytes)], vec![]),
            Err(
                "malformed transaction: condition 0: a value of 65537 bytes is larger than \
                 the bound of 65536 bytes (VALUE_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "integer at its bound",
            tx(vec![], vec![write("a", int(largest_integer()))]),
            Ok(vec![Written]),
        ),
        simple(
            "negative integer at its bound",
            tx(vec![], vec![write("a", int(-largest_integer()))]),
            Ok(vec![Written]),
        ),
        simple(
            "integer past its bound",
            tx(vec![], vec![write("a", int(largest_integer() + 1))]),
            Err(
                "malformed transaction: operation 0: a value of 65537 bytes is larger than \
                 the bound of 65536 bytes (VALUE_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "increment amount at its bound",
            tx(vec![], vec![increment("a", largest_integer())]),
            Ok(vec![Incremented(largest_integer())]),
        ),
        simple(
            "increment amount past its bound",
            tx(vec![], vec![increment("a", -largest_integer() - 1)]),
            Err(
                "malformed transaction: operation 0: a value of 65537 bytes is larger than \
                 the bound of 65536 bytes (VALUE_BYTES_MAX)"
                    .into(),
            ),
        ),
        simple(
            "increment result past the bound",
            tx(
                vec![],
                vec![
                    write("b", int(1)),
                    increment("a", largest_integer()),
                    increment("a", 1),
                ],
            ),
            Err(
                "operation 2 failed: incrementing key \"a\" would give an integer of 65537 \
                 bytes, larger than the bound of 65536 bytes (VALUE_BYTES_MAX)"
                    .into(),
            ),
        ),
    ]
}

fn count_cases() -> Vec<Case> {
    let writes = |count: usize| -> Vec<Operation> {
        (0..count)
            .map(|i| write(&format!("k{i:03}"), int(i64::try_from(i).unwrap())))
            .collect()
    };
    let conditions = |count: usize| -> Vec<Condition> {
        (0..count).map(|i| absent(&format!("k{i:03}"))).collect()
    };
    vec![
        simple(
            "operations at their bound",
            tx(vec![], writes(OPERATIONS_MAX)),
            Ok(vec![Written; OPERATIONS_MAX]),
        ),
        simple(
            "operations past their bound",
            tx(vec![], writes(OPERATIONS_MAX + 1)),
            Err(
                "malformed transaction: 65 operations are more than the bound of 64 \
                 (OPERATIONS_MAX)"
                    .into(),
            ),
        ),
        simple(
            "conditions at their bound",
            tx(conditions(CONDITIONS_MAX), vec![]),
            Ok(vec![]),
        ),
        simple(
            "conditions past their bound",
            tx(conditions(CONDITIONS_MAX + 1), vec![]),
            Err(
                "malformed transaction: 65 conditions are more than the bound of 64 \
                 (CONDITIONS_MAX)"
                    .into(),
            ),
        ),
    ]
}

#[test]
fn sizes_at_and_past_their_bounds() {
    size_cases().into_iter().for_each(check);
}

#[test]
fn counts_at_and_past_their_bounds() {
    count_cases().into_iter().for_each(check);
}

fn full_cell(keys: usize) -> Vec<(Key, Value)> {
    (0..keys)
        .map(|i| (key(&format!("key{i:05}")), int(1)))
        .collect()
}

fn keys_cases() -> Vec<Case> {
    let mut at_bound = full_cell(KEYS_MAX - 1);
    at_bound.push((key("new"), int(1)));
    let mut swapped = full_cell(KEYS_MAX);
    swapped.remove(0);
    swapped.push((key("new"), int(1)));
    let full_message = "the transaction would leave 10001 keys in the cell, more than the \
                        bound of 10000 (KEYS_MAX)";
    vec![
        Case {
            name: "a write that fills the cell",
            initial: full_cell(KEYS_MAX - 1),
            transaction: tx(vec![], vec![write("new", int(1))]),
            outcome: Ok(vec![Written]),
            after: After::Entries(at_bound),
        },
        Case {
            name: "a write past the keys bound",
            initial: full_cell(KEYS_MAX),
            transaction: tx(vec![], vec![write("new", int(1))]),
            outcome: Err(full_message.into()),
            after: After::Unchanged,
        },
        Case {
            name: "an increment past the keys bound",
            initial: full_cell(KEYS_MAX),
            transaction: tx(vec![], vec![increment("new", 1)]),
            outcome: Err(full_message.into()),
            after: After::Unchanged,
        },
        Case {
            name: "a full cell can swap a key",
            initial: full_cell(KEYS_MAX),
            transaction: tx(vec![], vec![write("new", int(1)), delete("key00000")]),
            outcome: Ok(vec![Written, Deleted]),
            after: After::Entries(swapped),
        },
        Case {
            name: "a full cell can overwrite",
            initial: full_cell(KEYS_MAX),
            transaction: tx(
                vec![],
                vec![write("key00001", int(2)), write("key00001", int(1))],
            ),
            outcome: Ok(vec![Written, Written]),
            after: After::Entries(full_cell(KEYS_MAX)),
        },
    ]
}

#[test]
fn keys_per_cell_at_and_past_the_bound() {
    keys_cases().into_iter().for_each(check);
}

#[test]
fn abort_variants_name_what_failed() {
    let mut machine = StateMachine::new();
    let abort = machine
        .apply(&tx(vec![], vec![write("a", "x".into()), increment("a", 1)]))
        .unwrap_err();
    assert_eq!(
        abort,
        Abort::OperationFailed {
            index: 1,
            reason: OperationFailure::NotAnInteger {
                key: key("a"),
                found: "x".into()
            }
        }
    );
    let malformed = tx(vec![], vec![read("a"); OPERATIONS_MAX + 1]);
    assert_eq!(
        machine.apply(&malformed).unwrap_err(),
        Abort::Malformed(malformed.validate().unwrap_err())
    );
}

#[test]
fn digest_tells_types_and_boundaries_apart() {
    let digest = |pairs: Vec<(&str, Value)>| machine(&entries(pairs)).digest();
    let digests = [
        digest(vec![]),
        digest(vec![("a", int(1))]),
        digest(vec![("a", "\u{1}".into())]),
        digest(vec![("a", true.into())]),
        digest(vec![("ab", "c".into())]),
        digest(vec![("a", "bc".into())]),
        digest(vec![("a", int(1)), ("b", int(1))]),
    ];
    let distinct: std::collections::BTreeSet<u64> = digests.iter().copied().collect();
    assert_eq!(distinct.len(), digests.len());
    // Pinned, so that a change of the digest's definition shows here: replicas of different
    // versions compare digests.
    assert_eq!(digest(vec![]), 0xcbf2_9ce4_8422_2325);
}
