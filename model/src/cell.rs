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
//!
//! Sessions ([`Cell`], [`Cell::apply`]) are modelled over the same universe with a table of
//! [`SESSIONS_MAX`] sessions and an expiry of [`EXPIRY_MS`], written from the rules the
//! implementation documents (the Raft dissertation's §6.3 as `impl/core/src/cell/mod.rs` states
//! it), as plainly as possible: expiry scans every session, eviction looks for the smallest
//! (activity, client) pair.

use std::collections::BTreeMap;
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

/// The most sessions the model's cell keeps.
pub const SESSIONS_MAX: usize = 2;

/// A session idle for more than this, by the cell's clock, is dropped.
pub const EXPIRY_MS: u64 = 10;

/// A client's id.
pub type Client = u64;

/// A command of the log: a client's request stamped with the proposing node's clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command {
    /// The client.
    pub client: Client,
    /// Its sequence number, from 1.
    pub sequence: u64,
    /// The proposing node's clock.
    pub now_ms: u64,
    /// What to apply.
    pub transaction: Transaction,
}

/// What the cell answers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// The transaction was applied once, with this outcome (for a retry, the remembered one).
    Done(Outcome),
    /// No session, and not the client's first request.
    SessionExpired,
    /// Below the session's last sequence number, which it carries.
    Stale(u64),
    /// More than one past the session's last sequence number, which it carries.
    SequenceGap(u64),
}

/// What the cell remembers of one client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    /// The last sequence number applied.
    pub last: u64,
    /// The cell's clock when the session was last active.
    pub active_ms: u64,
    /// The outcome of the last request applied.
    pub reply: Outcome,
}

/// A cell: its keys, its clock and its sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cell {
    /// The keys.
    pub keys: State,
    /// The largest `now_ms` applied so far.
    pub clock_ms: u64,
    /// The sessions, by client.
    pub sessions: BTreeMap<Client, Session>,
}

impl Cell {
    /// Applies one command and returns the reply.
    ///
    /// The clock becomes the larger of itself and the command's time; every session idle for
    /// more than [`EXPIRY_MS`] is dropped. Then: a client with no session opens one with
    /// sequence 1 (evicting the least recently active session, the smaller client among equals,
    /// when [`SESSIONS_MAX`] are open), and gets `SessionExpired` for any other sequence; a
    /// client with a session whose last is `last` gets the remembered reply for `last` (and its
    /// session becomes active now), `Stale` below it, `SequenceGap` above `last + 1`, and for
    /// `last + 1` the transaction is applied and its outcome remembered, the session active now.
    pub fn apply(&mut self, command: &Command) -> Reply {
        if command.now_ms > self.clock_ms {
            self.clock_ms = command.now_ms;
        }
        let clock = self.clock_ms;
        self.sessions
            .retain(|_, session| clock - session.active_ms <= EXPIRY_MS);
        match self.sessions.get(&command.client).cloned() {
            None if command.sequence == 1 => {
                if self.sessions.len() == SESSIONS_MAX {
                    let oldest = self
                        .sessions
                        .iter()
                        .map(|(&client, session)| (session.active_ms, client))
                        .min()
                        .map(|(_, client)| client);
                    if let Some(client) = oldest {
                        self.sessions.remove(&client);
                    }
                }
                self.run(command)
            }
            None => Reply::SessionExpired,
            Some(session) if command.sequence == session.last => {
                if let Some(session) = self.sessions.get_mut(&command.client) {
                    session.active_ms = clock;
                }
                Reply::Done(session.reply)
            }
            Some(session) if command.sequence < session.last => Reply::Stale(session.last),
            Some(session) if command.sequence > session.last + 1 => {
                Reply::SequenceGap(session.last)
            }
            Some(_) => self.run(command),
        }
    }

    fn run(&mut self, command: &Command) -> Reply {
        let outcome = apply(self.keys, &command.transaction);
        if let Outcome::Committed(_, after) = &outcome {
            self.keys = *after;
        }
        let session = Session {
            last: command.sequence,
            active_ms: self.clock_ms,
            reply: outcome.clone(),
        };
        self.sessions.insert(command.client, session);
        Reply::Done(outcome)
    }
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

    fn increment_a() -> Transaction {
        Transaction {
            conditions: vec![],
            operations: vec![Operation::Increment(0, 1)],
        }
    }

    fn command(client: Client, sequence: u64, now_ms: u64) -> Command {
        Command {
            client,
            sequence,
            now_ms,
            transaction: increment_a(),
        }
    }

    fn done(n: i64) -> Reply {
        Reply::Done(Outcome::Committed(
            vec![OperationResult::Incremented(n)],
            [Some(Value::Int(n)), None],
        ))
    }

    #[test]
    fn sessions_answer_retries_once_and_expire_by_the_clock() {
        let mut cell = Cell::default();
        assert_eq!(cell.apply(&command(1, 1, 0)), done(1));
        assert_eq!(cell.apply(&command(1, 1, 3)), done(1));
        assert_eq!(cell.keys[0], Some(Value::Int(1)));
        assert_eq!(cell.apply(&command(1, 3, 3)), Reply::SequenceGap(1));
        assert_eq!(cell.apply(&command(1, 2, 0)), done(2));
        assert_eq!(cell.apply(&command(1, 1, 0)), Reply::Stale(2));
        assert_eq!(cell.clock_ms, 3);
        assert_eq!(cell.apply(&command(2, 1, 3 + EXPIRY_MS)), done(3));
        assert_eq!(cell.sessions.len(), 2, "exactly the expiry old: kept");
        assert_eq!(cell.apply(&command(3, 1, 4 + EXPIRY_MS)), done(4));
        assert_eq!(cell.sessions.keys().collect::<Vec<_>>(), [&2, &3]);
        assert_eq!(
            cell.apply(&command(1, 3, 4 + EXPIRY_MS)),
            Reply::SessionExpired
        );
        assert_eq!(cell.apply(&command(1, 1, 4 + EXPIRY_MS)), done(5));
        assert_eq!(
            cell.sessions.keys().collect::<Vec<_>>(),
            [&1, &3],
            "2 evicted"
        );
    }
}
