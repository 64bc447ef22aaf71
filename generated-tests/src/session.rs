//! The replay harness for the generated session cases: each row's commands applied, in order, to
//! a fresh real [`CellState`] with the model's limits, and checked against the model's replies,
//! keys, sessions and clock. Every row is checked, and a test that fails says how many of its
//! rows failed and shows the first few, so that a seeded bug's reach can be counted.

use colony_core::cell::{
    CellState, ClientId, Command, Key, Operation, OperationResult, Reply, Request, SessionLimits,
    Transaction, Value,
};

/// A transaction of the generated universe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tx {
    /// Increment `a` by 1.
    Inc,
    /// Read `a`.
    Read,
}

/// A reply, as the model gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The increment was applied (now or, for a retry, earlier); `a`'s new value.
    Incremented(i64),
    /// The read was applied; the value it read.
    Value(Option<i64>),
    /// [`Reply::SessionExpired`].
    Expired,
    /// [`Reply::Stale`], with the session's last sequence number.
    Stale(u64),
    /// [`Reply::SequenceGap`], with the session's last sequence number.
    Gap(u64),
}

/// One command: (client, sequence, now_ms, transaction).
pub type Cmd = (u64, u64, u64, Tx);

/// One generated row: the commands; the model's reply to each; `a` after; the sessions after as
/// (client, last sequence, last activity), by client; the clock after.
pub type Row = (
    &'static [Cmd],
    &'static [Answer],
    Option<i64>,
    &'static [(u64, u64, u64)],
    u64,
);

/// Replays every row on a fresh cell with a table of `sessions_max` sessions and an expiry of
/// `expiry_ms`, and panics, naming how many rows failed, if any did.
pub fn check_all(sessions_max: usize, expiry_ms: u64, rows: &[Row]) {
    let limits = SessionLimits {
        sessions_max,
        expiry_ms,
        ..SessionLimits::default()
    };
    let failures: Vec<String> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, row)| {
            let cell = CellState::with_limits(limits).expect("the model's limits are allowed");
            check(cell, row)
                .err()
                .map(|fault| format!("row {}: {:?}: {fault}", index + 1, row.0))
        })
        .collect();
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(3).map(String::as_str).collect();
        panic!(
            "{} of {} rows failed; the first:\n{}",
            failures.len(),
            rows.len(),
            shown.join("\n")
        );
    }
}

fn check(mut cell: CellState, row: &Row) -> Result<(), String> {
    let &(commands, answers, a, sessions, clock) = row;
    for (step, (&command, &answer)) in commands.iter().zip(answers).enumerate() {
        let reply = cell.apply(&real(command));
        let expected = reply_of(answer);
        if reply != expected {
            return Err(format!(
                "command {}: the model says {expected:?}, the cell gave {reply:?}",
                step + 1
            ));
        }
    }
    let found_a = cell.machine().get(&key_a()).cloned();
    let expected_a = a.map(Value::from);
    if found_a != expected_a {
        return Err(format!(
            "a is {found_a:?} after, the model says {expected_a:?}"
        ));
    }
    let found: Vec<(u64, u64, u64)> = cell
        .sessions()
        .map(|(client, s)| (client.0, s.last_sequence(), s.last_active_ms()))
        .collect();
    if found != sessions {
        return Err(format!(
            "the sessions after are {found:?}, the model says {sessions:?}"
        ));
    }
    if cell.clock_ms() != clock {
        return Err(format!(
            "the clock after is {}, the model says {clock}",
            cell.clock_ms()
        ));
    }
    Ok(())
}

fn key_a() -> Key {
    Key::from("a")
}

fn real((client, sequence, now_ms, tx): Cmd) -> Command {
    let operation = match tx {
        Tx::Inc => Operation::Increment {
            key: key_a(),
            amount: 1.into(),
        },
        Tx::Read => Operation::Read { key: key_a() },
    };
    Command {
        request: Request {
            client: ClientId(client),
            sequence,
            transaction: Transaction {
                conditions: vec![],
                operations: vec![operation],
            },
        },
        now_ms,
    }
}

fn reply_of(answer: Answer) -> Reply {
    match answer {
        Answer::Incremented(n) => Reply::Done(Ok(vec![OperationResult::Incremented(n.into())])),
        Answer::Value(v) => Reply::Done(Ok(vec![OperationResult::Read(v.map(Value::from))])),
        Answer::Expired => Reply::SessionExpired,
        Answer::Stale(last) => Reply::Stale { last },
        Answer::Gap(last) => Reply::SequenceGap { last },
    }
}
