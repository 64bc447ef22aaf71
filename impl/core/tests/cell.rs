//! The cell's state machine against random transactions: replicas applying the same log agree
//! (determinism), the state machine agrees with a reference written as plainly as possible
//! (model-based), and the transaction encoding round-trips, is strict and never panics. Then the
//! cell's sessions: replicas applying one log of commands agree, every rule of
//! `CellState::apply` on its own, and the encodings of commands, replies and whole states, with
//! the same checks as every encoding (`common/mod.rs`) and every invariant of a state refused by
//! name.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use colony_core::cell::{
    decode_command, decode_reply, decode_state, decode_transaction, encode_command, encode_reply,
    encode_state, encode_transaction, outcome_size_bytes, Abort, CellState, ClientId, Command,
    Condition, ConditionFailure, Key, Operation, OperationFailure, OperationResult, Outcome,
    OutcomeError, Place, Reply, Request, SessionLimits, SessionLimitsError, StateError,
    StateMachine, Transaction, TransactionError, Value, WireError, FORMAT_VERSION, KEYS_MAX,
    KEY_BYTES_MAX, OPERATIONS_MAX, REPLY_BYTES_MAX, SESSIONS_MAX, SESSION_EXPIRY_MS,
    SESSION_REPLIES_BYTES_MAX, VALUE_BYTES_MAX,
};
use colony_core::codec::CodecError;
use common::{garbage, prefixes_refused, refused_or_canonical, round_trip};
use num_bigint::BigInt;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::BTreeMap;

encoded!(Transaction, encode_transaction, decode_transaction);
encoded!(Command, encode_command, decode_command);
encoded!(Reply, encode_reply, decode_reply);
encoded!(CellState, encode_state, decode_state);

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

// ---------------------------------------------------------------------------------------------
// Sessions. Strategies: a few clients, sequence numbers around each client's last, times that
// go forward and now and then back, and small transactions, so that retries, stale requests,
// gaps, expiry and eviction all happen in a log of 40 commands.

fn small_transaction() -> impl Strategy<Value = Transaction> {
    (vec(condition(), 0..2), vec(operation(), 0..3)).prop_map(|(conditions, operations)| {
        Transaction {
            conditions,
            operations,
        }
    })
}

fn command() -> impl Strategy<Value = Command> {
    let now_ms = prop_oneof![
        0..5u64,
        Just(SESSION_EXPIRY_MS),
        Just(SESSION_EXPIRY_MS + 1),
        any::<u64>()
    ];
    (0..4u64, 1..5u64, small_transaction(), now_ms).prop_map(
        |(client, sequence, transaction, now_ms)| Command {
            request: Request {
                client: ClientId(client),
                sequence,
                transaction,
            },
            now_ms,
        },
    )
}

/// Logs whose times mostly go forward in small steps, so that sessions live long enough to be
/// retried, with a jump past the expiry or back now and then.
fn command_log() -> impl Strategy<Value = Vec<Command>> {
    let step = prop_oneof![
        8 => 0..3u64,
        1 => Just(SESSION_EXPIRY_MS + 1),
    ];
    vec((command(), step, any::<bool>()), 0..40).prop_map(|items| {
        let mut now = 0u64;
        items
            .into_iter()
            .map(|(mut command, step, back)| {
                now = now.saturating_add(step);
                command.now_ms = if back { now.saturating_sub(2) } else { now };
                command
            })
            .collect()
    })
}

fn outcome() -> impl Strategy<Value = Outcome> {
    let result = prop_oneof![
        prop::option::of(value()).prop_map(OperationResult::Read),
        Just(OperationResult::Written),
        Just(OperationResult::Deleted),
        integer().prop_map(OperationResult::Incremented),
    ];
    prop_oneof![
        vec(result, 0..4).prop_map(Ok),
        (key(), value(), value()).prop_map(|(key, found, expected)| Err(Abort::ConditionFailed {
            index: 0,
            reason: ConditionFailure::ValueDiffers {
                key,
                found,
                expected
            }
        })),
        (key(), value()).prop_map(|(key, found)| Err(Abort::OperationFailed {
            index: 1,
            reason: OperationFailure::NotAnInteger { key, found }
        })),
        Just(Err(Abort::CellFull {
            keys: KEYS_MAX + 1,
            max: KEYS_MAX
        })),
        Just(Err(Abort::Malformed(TransactionError::TooManyOperations {
            count: 65,
            max: 64
        }))),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        4 => outcome().prop_map(Reply::Done),
        1 => Just(Reply::SessionExpired),
        1 => any::<u64>().prop_map(|last| Reply::Stale { last }),
        1 => any::<u64>().prop_map(|last| Reply::SequenceGap { last }),
        1 => Just(Reply::SequenceZero),
    ]
}

/// A cell (default limits) after a random log of commands.
fn cell_state() -> impl Strategy<Value = CellState> {
    vec(command(), 0..8).prop_map(|log| {
        let mut state = CellState::new();
        let mut now = 0;
        for mut command in log {
            now += command.now_ms % 3;
            command.now_ms = now;
            state.apply(&command);
        }
        state
    })
}

properties! {
    command: command();
    reply: reply();
    state: cell_state();
}

garbage_is_refused_or_canonical!(
    prop_oneof![
        garbage(FORMAT_VERSION, command().prop_map(|c| encode_command(&c).unwrap())),
        garbage(FORMAT_VERSION, reply().prop_map(|r| encode_reply(&r).unwrap())),
        garbage(FORMAT_VERSION, cell_state().prop_map(|s| encode_state(&s).unwrap())),
    ] => Command, Reply, CellState
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Two replicas applying one log of commands, one from its encoded form, give the same
    /// replies and end equal, with equal digests; a third restored from the first's snapshot
    /// halfway gives the same replies from there on.
    #[test]
    fn replicas_applying_one_log_of_commands_agree(log in command_log()) {
        let mut first = CellState::new();
        let mut second = CellState::new();
        let mut restored = None;
        for (index, command) in log.iter().enumerate() {
            if index == log.len() / 2 {
                restored = Some(decode_state(&encode_state(&first).unwrap()).unwrap());
            }
            let decoded = decode_command(&encode_command(command).unwrap()).unwrap();
            let reply = first.apply(command);
            prop_assert_eq!(&reply, &second.apply(&decoded));
            if let Some(restored) = restored.as_mut() {
                prop_assert_eq!(&reply, &restored.apply(command));
            }
            prop_assert_eq!(decode_reply(&encode_reply(&reply).unwrap()), Ok(reply));
        }
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(first.digest(), second.digest());
        if let Some(restored) = restored {
            prop_assert_eq!(&first, &restored);
            prop_assert_eq!(first.digest(), restored.digest());
        }
    }

    /// Whatever the log, the table keeps its bounds, every session is younger than the expiry by
    /// the clock, the clock is the largest time applied, and a retry of a client's last request
    /// right after it gets the same reply and changes no key.
    #[test]
    fn sessions_keep_their_invariants(log in command_log()) {
        let limits = SessionLimits { sessions_max: 2, expiry_ms: 3, ..SessionLimits::default() };
        let mut state = CellState::with_limits(limits).unwrap();
        let mut clock = 0;
        for command in &log {
            clock = clock.max(command.now_ms);
            let reply = state.apply(command);
            prop_assert_eq!(state.clock_ms(), clock);
            prop_assert!(state.sessions().count() <= 2);
            for (_, session) in state.sessions() {
                prop_assert!(session.last_active_ms() <= clock);
                prop_assert!(clock - session.last_active_ms() <= 3);
            }
            if matches!(reply, Reply::Done(_)) {
                let keys = state.machine().clone();
                prop_assert_eq!(state.apply(command), reply);
                prop_assert_eq!(state.machine(), &keys);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Each rule of `CellState::apply`, on its own.

fn increment_a() -> Transaction {
    Transaction {
        conditions: vec![],
        operations: vec![Operation::Increment {
            key: Key::from("a"),
            amount: BigInt::from(1),
        }],
    }
}

fn cmd(client: u64, sequence: u64, now_ms: u64, transaction: Transaction) -> Command {
    Command {
        request: Request {
            client: ClientId(client),
            sequence,
            transaction,
        },
        now_ms,
    }
}

fn incremented(n: i64) -> Reply {
    Reply::Done(Ok(vec![OperationResult::Incremented(BigInt::from(n))]))
}

fn a(state: &CellState) -> Option<&Value> {
    state.machine().get(&Key::from("a"))
}

fn clients(state: &CellState) -> Vec<u64> {
    state.sessions().map(|(client, _)| client.0).collect()
}

fn small(sessions_max: usize, expiry_ms: u64) -> CellState {
    CellState::with_limits(SessionLimits {
        sessions_max,
        expiry_ms,
        ..SessionLimits::default()
    })
    .unwrap()
}

#[test]
fn a_retry_is_answered_again_and_applied_once() {
    let mut state = CellState::new();
    assert_eq!(state.apply(&cmd(7, 1, 0, increment_a())), incremented(1));
    assert_eq!(state.apply(&cmd(7, 1, 5, increment_a())), incremented(1));
    assert_eq!(a(&state), Some(&Value::from(1)));
    assert_eq!(state.session(ClientId(7)).unwrap().last_active_ms(), 5);
    assert_eq!(state.apply(&cmd(7, 2, 6, increment_a())), incremented(2));
    assert_eq!(state.apply(&cmd(7, 2, 6, increment_a())), incremented(2));
    assert_eq!(a(&state), Some(&Value::from(2)));
}

#[test]
fn stale_requests_and_gaps_apply_nothing_and_leave_the_session() {
    let mut state = CellState::new();
    state.apply(&cmd(1, 1, 0, increment_a()));
    state.apply(&cmd(1, 2, 1, increment_a()));
    let before = state.session(ClientId(1)).unwrap().clone();
    assert_eq!(
        state.apply(&cmd(1, 1, 2, increment_a())),
        Reply::Stale { last: 2 }
    );
    assert_eq!(
        state.apply(&cmd(1, 4, 3, increment_a())),
        Reply::SequenceGap { last: 2 }
    );
    assert_eq!(state.session(ClientId(1)), Some(&before));
    assert_eq!(a(&state), Some(&Value::from(2)));
    assert_eq!(
        state.apply(&cmd(1, 0, 3, increment_a())),
        Reply::SequenceZero
    );
    assert_eq!(
        state.apply(&cmd(2, 2, 3, increment_a())),
        Reply::SessionExpired
    );
    assert_eq!(clients(&state), [1]);
}

#[test]
fn a_session_expires_one_millisecond_past_the_expiry() {
    let mut state = small(2, 10);
    state.apply(&cmd(1, 1, 0, increment_a()));
    state.apply(&cmd(2, 1, 10, increment_a()));
    assert_eq!(clients(&state), [1, 2], "exactly the expiry old: kept");
    state.apply(&cmd(2, 2, 11, increment_a()));
    assert_eq!(clients(&state), [2], "one past: dropped");
    assert_eq!(
        state.apply(&cmd(1, 2, 11, increment_a())),
        Reply::SessionExpired
    );
}

#[test]
fn the_default_expiry_is_an_hour_by_the_cell_clock() {
    let mut state = CellState::new();
    state.apply(&cmd(1, 1, 0, increment_a()));
    state.apply(&cmd(2, 1, SESSION_EXPIRY_MS, increment_a()));
    assert_eq!(clients(&state), [1, 2]);
    state.apply(&cmd(2, 2, SESSION_EXPIRY_MS + 1, increment_a()));
    assert_eq!(clients(&state), [2]);
}

#[test]
fn the_clock_never_goes_back() {
    let mut state = small(2, 10);
    state.apply(&cmd(1, 1, 20, increment_a()));
    assert_eq!(state.clock_ms(), 20);
    // A node whose clock is behind stamps 0: the cell's clock stays, and the session is active
    // at 20, not 0, so that it does not expire early.
    state.apply(&cmd(1, 2, 0, increment_a()));
    assert_eq!(state.clock_ms(), 20);
    assert_eq!(state.session(ClientId(1)).unwrap().last_active_ms(), 20);
    state.apply(&cmd(2, 1, 30, increment_a()));
    assert_eq!(clients(&state), [1, 2]);
}

#[test]
fn a_full_table_evicts_the_least_recently_active_ties_by_client_id() {
    let mut state = small(2, 100);
    state.apply(&cmd(5, 1, 0, increment_a()));
    state.apply(&cmd(3, 1, 0, increment_a()));
    state.apply(&cmd(9, 1, 1, increment_a()));
    assert_eq!(clients(&state), [5, 9], "3 and 5 tie at 0: 3 goes");
    // A retry refreshes its session: 5 is now the most recently active.
    state.apply(&cmd(5, 1, 2, increment_a()));
    state.apply(&cmd(4, 1, 3, increment_a()));
    assert_eq!(clients(&state), [4, 5]);
    assert_eq!(
        state.apply(&cmd(9, 2, 3, increment_a())),
        Reply::SessionExpired
    );
}

#[test]
fn a_malformed_transaction_counts_as_its_sequence_number() {
    let mut state = CellState::new();
    let malformed = Transaction {
        conditions: vec![],
        operations: vec![
            Operation::Read {
                key: Key::from("a")
            };
            OPERATIONS_MAX + 1
        ],
    };
    let reply = state.apply(&cmd(1, 1, 0, malformed.clone()));
    assert!(matches!(reply, Reply::Done(Err(Abort::Malformed(_)))));
    assert_eq!(state.apply(&cmd(1, 1, 0, malformed)), reply);
    assert_eq!(state.apply(&cmd(1, 2, 0, increment_a())), incremented(1));
}

/// A transaction reading `a` `reads` times.
fn big_read(reads: usize) -> Transaction {
    Transaction {
        conditions: vec![],
        operations: vec![
            Operation::Read {
                key: Key::from("a")
            };
            reads
        ],
    }
}

#[test]
fn remembered_replies_past_their_bound_evict_the_least_recently_active() {
    let mut state = CellState::with_limits(SessionLimits {
        sessions_max: 8,
        expiry_ms: 100,
        replies_bytes_max: REPLY_BYTES_MAX,
    })
    .unwrap();
    let write = Transaction {
        conditions: vec![],
        operations: vec![Operation::Write {
            key: Key::from("a"),
            value: Value::Bytes(vec![7; VALUE_BYTES_MAX]),
        }],
    };
    state.apply(&cmd(1, 1, 0, write));
    state.apply(&cmd(2, 1, 1, big_read(40)));
    assert_eq!(clients(&state), [1, 2]);
    assert_eq!(state.replies_bytes(), 40 * VALUE_BYTES_MAX);
    let increment_b = Transaction {
        conditions: vec![],
        operations: vec![Operation::Increment {
            key: Key::from("b"),
            amount: BigInt::from(1),
        }],
    };
    state.apply(&cmd(4, 1, 2, increment_b));
    state.apply(&cmd(3, 1, 3, big_read(30)));
    // Eviction goes by activity alone: 1, whose reply held no byte, went before 2, whose reply
    // made room for 3's; 4 stays.
    assert_eq!(clients(&state), [3, 4]);
    assert_eq!(state.replies_bytes(), 30 * VALUE_BYTES_MAX + 1);
    // The largest reply fits, once every other session is gone.
    state.apply(&cmd(3, 2, 4, big_read(OPERATIONS_MAX)));
    assert_eq!(clients(&state), [3]);
    assert_eq!(state.replies_bytes(), REPLY_BYTES_MAX);
    assert_eq!(
        outcome_size_bytes(state.session(ClientId(3)).unwrap().reply()),
        REPLY_BYTES_MAX
    );
}

#[test]
fn limits_above_the_defaults_are_refused() {
    let limits = |sessions_max, expiry_ms, replies_bytes_max| {
        CellState::with_limits(SessionLimits {
            sessions_max,
            expiry_ms,
            replies_bytes_max,
        })
        .map(|_| ())
    };
    let (s, e, r) = (SESSIONS_MAX, SESSION_EXPIRY_MS, SESSION_REPLIES_BYTES_MAX);
    assert_eq!(limits(s, e, r), Ok(()));
    assert_eq!(
        limits(0, e, r),
        Err(SessionLimitsError::SessionsMax { found: 0, max: s })
    );
    assert_eq!(
        limits(s + 1, e, r),
        Err(SessionLimitsError::SessionsMax {
            found: s + 1,
            max: s
        })
    );
    assert_eq!(
        limits(s, e + 1, r),
        Err(SessionLimitsError::ExpiryMs {
            found: e + 1,
            max: e
        })
    );
    let error = limits(s, e, REPLY_BYTES_MAX - 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "replies_bytes_max 4194303 is not between 4194304 (REPLY_BYTES_MAX) and 67108864 \
         (SESSION_REPLIES_BYTES_MAX)"
    );
    assert_eq!(CellState::new().limits(), SessionLimits::default());
}

#[test]
fn the_digest_covers_the_sessions_and_the_clock() {
    let mut first = CellState::new();
    let mut second = CellState::new();
    first.apply(&cmd(1, 1, 0, increment_a()));
    second.apply(&cmd(2, 1, 0, increment_a()));
    assert_eq!(first.machine(), second.machine());
    assert_ne!(first.digest(), second.digest(), "another client");
    let mut later = CellState::new();
    later.apply(&cmd(1, 1, 1, increment_a()));
    assert_ne!(first.digest(), later.digest(), "another clock");
    let mut same = CellState::new();
    same.apply(&cmd(1, 1, 0, increment_a()));
    assert_eq!(first.digest(), same.digest());
}

// ---------------------------------------------------------------------------------------------
// The session encodings' exact bytes, strictness and bounds.

fn sample_command() -> Command {
    cmd(300, 2, 5, increment_a())
}

fn sample_state() -> CellState {
    let mut state = CellState::new();
    state.apply(&cmd(1, 1, 3, increment_a()));
    state.apply(&cmd(2, 1, 4, big_read(1)));
    state
}

#[test]
fn session_encodings_are_pinned() {
    #[rustfmt::skip]
    let command = [
        1,                          // version
        0xac, 0x02,                 // client 300
        2,                          // sequence 2
        0, 1, 3, 1, b'a', 1, 1, 1,  // no condition, one operation: Increment "a" by 1
        5,                          // now_ms 5
    ];
    common::pinned(&sample_command(), &command);
    common::pinned(&Reply::SessionExpired, &[1, 1]);
    common::pinned(&Reply::Stale { last: 3 }, &[1, 2, 3]);
    common::pinned(&Reply::SequenceGap { last: 1 }, &[1, 3, 1]);
    common::pinned(&Reply::SequenceZero, &[1, 4]);
    // Done(Ok([Incremented(1)])): Done, Ok, one result, Incremented, sign +1, one digit 1.
    common::pinned(&incremented(1), &[1, 0, 0, 1, 3, 1, 1, 1]);
    #[rustfmt::skip]
    let state = [
        1,                           // version
        1, 1, b'a', 1, 1, 1, 1,      // one key: "a", Integer 1
        2,                           // two sessions
        1, 1, 3, 0, 1, 3, 1, 1, 1,   // client 1, last 1, active at 3, Ok([Incremented(1)])
        2, 1, 4, 0, 1, 0, 1, 1, 1, 1, 1, // client 2, last 1, active at 4, Ok([Read(Some(Integer 1))])
        4,                           // clock 4
    ];
    common::pinned(&sample_state(), &state);
}

#[test]
fn session_decoding_is_strict() {
    common::strict(&sample_command());
    common::strict(&Reply::Stale { last: 3 });
    common::strict(&sample_state());
}

#[test]
fn session_bounds_are_enforced_both_ways() {
    let mut zero = sample_command();
    zero.request.sequence = 0;
    common::refused(&zero, &WireError::SequenceZero, "sequence 0");
    let mut malformed = sample_command();
    malformed.request.transaction = big_read(OPERATIONS_MAX + 1);
    common::refused(
        &malformed,
        &WireError::Invalid(TransactionError::TooManyOperations {
            count: OPERATIONS_MAX + 1,
            max: OPERATIONS_MAX,
        }),
        "(OPERATIONS_MAX)",
    );
    let results = vec![OperationResult::Written; OPERATIONS_MAX + 1];
    common::refused(
        &Reply::Done(Ok(results)),
        &WireError::Outcome(OutcomeError::TooManyResults {
            count: OPERATIONS_MAX + 1,
            max: OPERATIONS_MAX,
        }),
        "invalid reply: 65 results are more than the bound of 64 (OPERATIONS_MAX)",
    );
    let long_key = Reply::Done(Err(Abort::ConditionFailed {
        index: 0,
        reason: ConditionFailure::KeyAbsent {
            key: Key(vec![0; KEY_BYTES_MAX + 1]),
        },
    }));
    common::refused(
        &long_key,
        &WireError::Outcome(OutcomeError::KeyTooLong {
            len: KEY_BYTES_MAX + 1,
            max: KEY_BYTES_MAX,
        }),
        "(KEY_BYTES_MAX)",
    );
    let big_value = Reply::Done(Ok(vec![OperationResult::Read(Some(Value::Bytes(
        vec![0; VALUE_BYTES_MAX + 1],
    )))]));
    common::refused(
        &big_value,
        &WireError::Outcome(OutcomeError::ValueTooLarge {
            len: VALUE_BYTES_MAX + 1,
            max: VALUE_BYTES_MAX,
        }),
        "(VALUE_BYTES_MAX)",
    );
}

/// A state's encoding written by hand, checking nothing: the same shape as `encode_state`'s.
#[derive(serde::Serialize)]
struct Image {
    keys: Vec<(Key, Value)>,
    sessions: Vec<(ClientId, u64, u64, Outcome)>,
    clock_ms: u64,
}

impl Image {
    fn decode(&self) -> Result<CellState, WireError> {
        decode_state(&postcard::to_extend(self, vec![FORMAT_VERSION]).unwrap())
    }
}

fn image() -> Image {
    Image {
        keys: vec![
            (Key::from("a"), Value::from(1)),
            (Key::from("b"), Value::from(2)),
        ],
        sessions: vec![
            (ClientId(1), 1, 3, Ok(vec![])),
            (ClientId(2), 4, 5, Ok(vec![])),
        ],
        clock_ms: 5,
    }
}

/// Every invariant of a state, broken in bytes some other writer produced, is refused by name.
#[test]
fn every_invariant_of_a_state_is_refused_by_name() {
    let good = image().decode().unwrap();
    assert_eq!(clients(&good), [1, 2]);
    assert_eq!(good.session(ClientId(2)).unwrap().last_sequence(), 4);
    assert_eq!(
        encode_state(&good).unwrap(),
        postcard::to_extend(&image(), vec![1]).unwrap()
    );

    let state = |error: StateError| Err(WireError::State(error));
    let mut i = image();
    i.keys.swap(0, 1);
    assert_eq!(i.decode(), state(StateError::KeysOutOfOrder { index: 1 }));
    let mut i = image();
    i.keys[1].0 = Key::from("a");
    assert_eq!(i.decode(), state(StateError::KeysOutOfOrder { index: 1 }));
    let mut i = image();
    i.keys[1].0 = Key(vec![b'b'; KEY_BYTES_MAX + 1]);
    let error = StateError::KeyTooLong {
        index: 1,
        len: KEY_BYTES_MAX + 1,
        max: KEY_BYTES_MAX,
    };
    assert_eq!(i.decode(), state(error));
    let mut i = image();
    i.keys[0].1 = Value::Bytes(vec![0; VALUE_BYTES_MAX + 1]);
    let error = StateError::ValueTooLarge {
        index: 0,
        len: VALUE_BYTES_MAX + 1,
        max: VALUE_BYTES_MAX,
    };
    assert_eq!(i.decode(), state(error));
    let mut i = image();
    i.keys = (0..=KEYS_MAX)
        .map(|n| (Key(n.to_be_bytes().to_vec()), Value::from(0)))
        .collect();
    let error = StateError::TooManyKeys {
        count: KEYS_MAX + 1,
        max: KEYS_MAX,
    };
    assert_eq!(i.decode(), state(error));

    let mut i = image();
    i.sessions.swap(0, 1);
    assert_eq!(
        i.decode(),
        state(StateError::SessionsOutOfOrder { index: 1 })
    );
    let mut i = image();
    i.sessions[1].0 = ClientId(1);
    assert_eq!(
        i.decode(),
        state(StateError::SessionsOutOfOrder { index: 1 })
    );
    let mut i = image();
    i.sessions = (0..=SESSIONS_MAX as u64)
        .map(|n| (ClientId(n), 1, 5, Ok(vec![])))
        .collect();
    let error = StateError::TooManySessions {
        count: SESSIONS_MAX + 1,
        max: SESSIONS_MAX,
    };
    assert_eq!(i.decode(), state(error));
    let mut i = image();
    i.sessions[0].1 = 0;
    assert_eq!(i.decode(), state(StateError::SequenceZero { client: 1 }));
    let mut i = image();
    i.sessions[1].2 = 6;
    let error = StateError::ActiveAfterClock {
        client: 2,
        last_active_ms: 6,
        clock_ms: 5,
    };
    assert_eq!(i.decode(), state(error));
    let mut i = image();
    i.clock_ms = SESSION_EXPIRY_MS + 4;
    let error = StateError::Expired {
        client: 1,
        last_active_ms: 3,
        clock_ms: SESSION_EXPIRY_MS + 4,
        expiry_ms: SESSION_EXPIRY_MS,
    };
    assert_eq!(i.decode(), state(error.clone()));
    assert!(WireError::State(error)
        .to_string()
        .contains("SESSION_EXPIRY_MS"));
    let mut i = image();
    i.clock_ms = SESSION_EXPIRY_MS + 3;
    assert!(i.decode().is_ok(), "exactly the expiry old: kept");
    let mut i = image();
    i.sessions[0].3 = Ok(vec![OperationResult::Written; OPERATIONS_MAX + 1]);
    let error = StateError::Reply {
        client: 1,
        error: OutcomeError::TooManyResults {
            count: OPERATIONS_MAX + 1,
            max: OPERATIONS_MAX,
        },
    };
    assert_eq!(i.decode(), state(error));
    let mut i = image();
    let largest = Value::Bytes(vec![0; VALUE_BYTES_MAX]);
    let largest_reply = Ok(vec![OperationResult::Read(Some(largest)); OPERATIONS_MAX]);
    i.sessions = (0..=(SESSION_REPLIES_BYTES_MAX / REPLY_BYTES_MAX) as u64)
        .map(|n| (ClientId(n), 1, 5, largest_reply.clone()))
        .collect();
    let error = StateError::RepliesTooLarge {
        bytes: SESSION_REPLIES_BYTES_MAX + REPLY_BYTES_MAX,
        max: SESSION_REPLIES_BYTES_MAX,
    };
    assert_eq!(i.decode(), state(error));
    let message = WireError::State(StateError::TooManySessions {
        count: 1025,
        max: 1024,
    });
    assert_eq!(
        message.to_string(),
        "invalid state: 1025 sessions are more than the bound of 1024 (SESSIONS_MAX)"
    );
}
