//! The replay harness for the generated transaction cases: the real state machine against the
//! cell's model, one transaction at a time.

use colony_core::cell::{
    Abort, Condition, ConditionFailure, Key, Operation, OperationFailure, OperationResult,
    StateMachine, Transaction, Value,
};

/// A value of the generated universe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// An integer.
    Int(i64),
    /// Bytes: one character.
    Bytes(char),
    /// A boolean.
    Bool(bool),
}

/// A condition on key `'a'` or `'b'`.
#[derive(Clone, Copy, Debug)]
pub enum Cond {
    /// The key holds a value.
    Exists(char),
    /// The key holds none.
    Absent(char),
    /// The key holds this value.
    Equals(char, Val),
}

/// An operation on key `'a'` or `'b'`.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// Read the key.
    Read(char),
    /// Write the value.
    Write(char, Val),
    /// Delete the key.
    Delete(char),
    /// Add the amount.
    Increment(char, i64),
}

/// What an operation of a committed transaction returned.
#[derive(Clone, Copy, Debug)]
pub enum Got {
    /// A read's value.
    Value(Option<Val>),
    /// A write.
    Written,
    /// A delete.
    Deleted,
    /// An increment's new integer.
    Incremented(i64),
}

/// Why a condition failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No value.
    KeyAbsent,
    /// A value, where none was required.
    KeyPresent,
    /// Another value.
    ValueDiffers,
}

/// What the model says a transaction does.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    /// Committed: the results, and the state of `a` and `b` after.
    Committed(&'static [Got], [Option<Val>; 2]),
    /// Condition `index` failed.
    ConditionFailed(usize, Why),
    /// Operation `index` incremented a key holding no integer.
    NotAnInteger(usize),
}

/// One generated row: conditions, operations, the model's outcome.
pub type Row = (&'static [Cond], &'static [Op], Outcome);

/// Applies every row's transaction to a state machine holding `state` and checks it did
/// exactly what the model says: the same results and state after, or the same abort and no
/// change.
pub fn check_all(state: [Option<Val>; 2], rows: &[Row]) {
    let start = machine(state);
    for (index, &(conditions, operations, outcome)) in rows.iter().enumerate() {
        let transaction = Transaction {
            conditions: conditions.iter().map(|&c| condition(c)).collect(),
            operations: operations.iter().map(|&o| operation(o)).collect(),
        };
        let mut cell = start.clone();
        let result = cell.apply(&transaction);
        let fault = check(&start, &cell, result, outcome);
        if let Err(fault) = fault {
            panic!("row {}: {conditions:?} {operations:?}: {fault}", index + 1);
        }
    }
}

fn check(
    before: &StateMachine,
    after: &StateMachine,
    result: Result<Vec<OperationResult>, Abort>,
    outcome: Outcome,
) -> Result<(), String> {
    let mismatch = |expected: &dyn std::fmt::Debug| {
        Err(format!(
            "the model says {expected:?}, the state machine gave {result:?}"
        ))
    };
    match outcome {
        Outcome::Committed(got, state) => {
            let expected: Vec<OperationResult> = got.iter().map(|&g| operation_result(g)).collect();
            if result.as_ref().ok() != Some(&expected) {
                return mismatch(&expected);
            }
            if *after != machine(state) {
                return Err(format!(
                    "the state after is {after:?}, the model says {state:?}"
                ));
            }
        }
        Outcome::ConditionFailed(index, why) => {
            let matches = matches!(&result, Err(Abort::ConditionFailed { index: i, reason }) if *i == index && reason_of(reason) == why);
            if !matches {
                return mismatch(&outcome);
            }
        }
        Outcome::NotAnInteger(index) => {
            let matches = matches!(&result, Err(Abort::OperationFailed { index: i, reason: OperationFailure::NotAnInteger { .. } }) if *i == index);
            if !matches {
                return mismatch(&outcome);
            }
        }
    }
    if result.is_err() && after != before {
        return Err("an aborted transaction changed the state".to_string());
    }
    Ok(())
}

fn reason_of(reason: &ConditionFailure) -> Why {
    match reason {
        ConditionFailure::KeyAbsent { .. } => Why::KeyAbsent,
        ConditionFailure::KeyPresent { .. } => Why::KeyPresent,
        ConditionFailure::ValueDiffers { .. } => Why::ValueDiffers,
    }
}

fn key(k: char) -> Key {
    Key(k.to_string().into_bytes())
}

fn value(v: Val) -> Value {
    match v {
        Val::Int(n) => Value::from(n),
        Val::Bytes(c) => Value::Bytes(c.to_string().into_bytes()),
        Val::Bool(b) => Value::Boolean(b),
    }
}

fn machine(state: [Option<Val>; 2]) -> StateMachine {
    let mut cell = StateMachine::new();
    let writes = ['a', 'b']
        .into_iter()
        .zip(state)
        .filter_map(|(k, v)| {
            Some(Operation::Write {
                key: key(k),
                value: value(v?),
            })
        })
        .collect();
    let setup = Transaction {
        conditions: vec![],
        operations: writes,
    };
    cell.apply(&setup)
        .expect("writing the initial state commits");
    cell
}

fn condition(c: Cond) -> Condition {
    match c {
        Cond::Exists(k) => Condition::Exists { key: key(k) },
        Cond::Absent(k) => Condition::Absent { key: key(k) },
        Cond::Equals(k, v) => Condition::Equals {
            key: key(k),
            value: value(v),
        },
    }
}

fn operation(o: Op) -> Operation {
    match o {
        Op::Read(k) => Operation::Read { key: key(k) },
        Op::Write(k, v) => Operation::Write {
            key: key(k),
            value: value(v),
        },
        Op::Delete(k) => Operation::Delete { key: key(k) },
        Op::Increment(k, n) => Operation::Increment {
            key: key(k),
            amount: n.into(),
        },
    }
}

fn operation_result(g: Got) -> OperationResult {
    match g {
        Got::Value(v) => OperationResult::Read(v.map(value)),
        Got::Written => OperationResult::Written,
        Got::Deleted => OperationResult::Deleted,
        Got::Incremented(n) => OperationResult::Incremented(n.into()),
    }
}
