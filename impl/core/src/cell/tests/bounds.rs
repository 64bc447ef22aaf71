//! Every bound just at and just past its limit, the keys per cell, and the texts of aborts.

use super::*;

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

/// Eight writes of one-byte keys whose sizes add up to [`TRANSACTION_BYTES_MAX`] plus `extra`.
fn writes_adding_up_to(extra: usize) -> Transaction {
    let per_write = TRANSACTION_BYTES_MAX / 8;
    let operations = (0..8u8)
        .map(|i| Operation::Write {
            key: Key(vec![b'a' + i]),
            value: Value::Bytes(vec![i; per_write - 1 + usize::from(i == 7) * extra]),
        })
        .collect();
    tx(vec![], operations)
}

fn transaction_size_cases() -> Vec<Case> {
    vec![
        simple(
            "transaction at its size bound",
            writes_adding_up_to(0),
            Ok(vec![Written; 8]),
        ),
        simple(
            "transaction past its size bound",
            writes_adding_up_to(1),
            Err(
                "malformed transaction: the keys and values add up to 524289 bytes, more than \
                 the bound of 524288 bytes (TRANSACTION_BYTES_MAX)"
                    .into(),
            ),
        ),
    ]
}

#[test]
fn transaction_size_at_and_past_its_bound() {
    transaction_size_cases().into_iter().for_each(check);
}

/// The transaction whose encoding is longest for its size: every condition and operation used,
/// each holding an integer of all ones (num-bigint writes 32-bit digits as varints, 5 bytes for
/// 4), sizes adding up to [`TRANSACTION_BYTES_MAX`].
#[test]
fn the_longest_encoding_fits_a_command_of_the_log() {
    let items = CONDITIONS_MAX + OPERATIONS_MAX;
    let integer_bytes = TRANSACTION_BYTES_MAX / items - 1;
    let integer: BigInt = (BigInt::from(1) << (8 * integer_bytes)) - 1;
    let key = |i: usize| Key(vec![u8::try_from(i % 256).unwrap()]);
    let conditions = (0..CONDITIONS_MAX)
        .map(|i| Condition::Equals {
            key: key(i),
            value: Value::Integer(integer.clone()),
        })
        .collect();
    let operations = (0..OPERATIONS_MAX)
        .map(|i| Operation::Increment {
            key: key(i),
            amount: integer.clone(),
        })
        .collect();
    let transaction = tx(conditions, operations);
    assert_eq!(transaction.size_bytes(), TRANSACTION_BYTES_MAX);
    let encoded = encode_transaction(&transaction).unwrap();
    assert!(
        encoded.len() <= crate::multipaxos::COMMAND_BYTES_MAX,
        "{} bytes encoded",
        encoded.len()
    );
    assert!(
        encoded.len() > TRANSACTION_BYTES_MAX * 5 / 4,
        "the worst case is reached"
    );
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
