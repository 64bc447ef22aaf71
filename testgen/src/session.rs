//! Session cases: sequences of up to three commands over a small universe (clients 1, 2 and 3,
//! sequence numbers 1 to 3, three times, an increment or a read of `a`), with the replies and the
//! final state the cell's model (`colony_model::cell::Cell`) gives, in a table of
//! [`SESSIONS_MAX`] sessions with an expiry of [`EXPIRY_MS`].
//!
//! The times are 0, [`EXPIRY_MS`] (the last instant a session active at 0 is still alive) and
//! one past it, so that a session expires one millisecond after the expiry and not at it. Two
//! prunings keep the file small (24,426 sequences instead of 160,434): clients are named in order
//! of first appearance (the first client of a sequence is 1, the next new one 2), since the rules
//! treat clients alike but for eviction's tie-break by id, which that order still meets (two
//! sessions active at the same time, the one of the smaller id opened first); and a retry
//! carries its request's transaction, as a client's does.
//!
//! Each first command is one table-driven test: rows of (commands, replies, `a` after, the
//! sessions after as (client, last sequence, last activity), the clock after).

use crate::COMMAND;
use colony_model::cell::{
    Cell, Client, Command, Operation, OperationResult, Outcome, Reply, Transaction, Value,
    EXPIRY_MS, SESSIONS_MAX,
};
use std::collections::BTreeMap;

/// The clients of the universe.
const CLIENTS: [Client; 3] = [1, 2, 3];

/// The sequence numbers of the universe.
const SEQUENCES: [u64; 3] = [1, 2, 3];

/// The times of the universe.
const TIMES: [u64; 3] = [0, EXPIRY_MS, EXPIRY_MS + 1];

/// The longest sequence of commands.
const LENGTH_MAX: usize = 3;

/// The transactions of the universe: increment `a` by 1 (`true`), read `a` (`false`).
fn transaction(increment: bool) -> Transaction {
    let operation = if increment {
        Operation::Increment(0, 1)
    } else {
        Operation::Read(0)
    };
    Transaction {
        conditions: vec![],
        operations: vec![operation],
    }
}

/// One generated row: the commands, and what the model says of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCase {
    /// The commands, in log order.
    pub commands: Vec<Command>,
    /// The model's reply to each.
    pub replies: Vec<Reply>,
    /// The model's cell after them.
    pub after: Cell,
}

/// Every sequence of the universe as pruned in the module doc, with the model's replies, grouped
/// by their first command; and the number of sequences.
pub fn cases() -> (Vec<Vec<SessionCase>>, u64) {
    let mut singles = Vec::new();
    for &client in &CLIENTS {
        for &sequence in &SEQUENCES {
            for &now_ms in &TIMES {
                for increment in [true, false] {
                    singles.push(Command {
                        client,
                        sequence,
                        now_ms,
                        transaction: transaction(increment),
                    });
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<SessionCase>> = BTreeMap::new();
    let mut count = 0;
    let mut prefix = Vec::new();
    extend(&singles, &mut prefix, &mut |commands| {
        let first = singles
            .iter()
            .position(|c| *c == commands[0])
            .unwrap_or(usize::MAX);
        let mut cell = Cell::default();
        let replies = commands.iter().map(|c| cell.apply(c)).collect();
        groups.entry(first).or_default().push(SessionCase {
            commands: commands.to_vec(),
            replies,
            after: cell,
        });
        count += 1;
    });
    (groups.into_values().collect(), count)
}

/// Calls `emit` on `prefix` extended by every allowed command, and recursively up to
/// [`LENGTH_MAX`] commands, depth first.
fn extend(singles: &[Command], prefix: &mut Vec<Command>, emit: &mut dyn FnMut(&[Command])) {
    if prefix.len() == LENGTH_MAX {
        return;
    }
    for command in singles {
        prefix.push(command.clone());
        if allowed(prefix) {
            emit(prefix);
            extend(singles, prefix, emit);
        }
        prefix.pop();
    }
}

/// Whether a sequence is kept (see the module doc): clients in order of first appearance, and
/// one transaction per request.
fn allowed(commands: &[Command]) -> bool {
    let mut seen: Vec<Client> = Vec::new();
    for command in commands {
        if !seen.contains(&command.client) {
            if command.client != seen.len() as Client + 1 {
                return false;
            }
            seen.push(command.client);
        }
    }
    commands.iter().enumerate().all(|(i, a)| {
        commands[..i].iter().all(|b| {
            (a.client, a.sequence) != (b.client, b.sequence) || a.transaction == b.transaction
        })
    })
}

/// The text of `generated-tests/tests/cell_sessions.rs`.
pub fn file(groups: &[Vec<SessionCase>]) -> String {
    let rows: usize = groups.iter().map(Vec::len).sum();
    let mut out = format!("// Generated by `{COMMAND}`. Do not edit by hand.\n");
    out += &format!(
        "//! The cell's sessions: {rows} sequences of up to {LENGTH_MAX} commands (clients 1-3, sequence numbers 1-3,\n\
         //! times 0, {EXPIRY_MS} and {}, an increment or a read of `a`) in a table of {SESSIONS_MAX} sessions with an\n\
         //! expiry of {EXPIRY_MS} ms. Each row is the commands, as (client, sequence, now_ms, transaction), and what\n\
         //! the cell's model (`colony_model::cell::Cell`) gives: the reply to each, `a` after, the sessions\n\
         //! after as (client, last sequence, last activity) and the cell's clock after.\n\n",
        EXPIRY_MS + 1
    );
    out += "#[rustfmt::skip]\nmod cases {\n";
    out += "use colony_generated_tests::session::{check_all, Tx::*, Answer::*};\n";
    for group in groups {
        let first = &group[0].commands[0];
        let name = format!(
            "sessions_from_client_{}_sequence_{}_at_{}_{}",
            first.client,
            first.sequence,
            first.now_ms,
            tx_name(&first.transaction)
        );
        out += &format!("\n// {} sequences\n#[test] fn {name}() {{\n", group.len());
        out += &format!("    check_all({SESSIONS_MAX}, {EXPIRY_MS}, &[\n");
        for case in group {
            out += &format!("        {},\n", row(case));
        }
        out += "    ]);\n}\n";
    }
    out + "}\n"
}

fn tx_name(transaction: &Transaction) -> &'static str {
    if transaction.operations == [Operation::Read(0)] {
        "read"
    } else {
        "increment"
    }
}

fn row(case: &SessionCase) -> String {
    let commands: Vec<String> = case
        .commands
        .iter()
        .map(|c| {
            let tx = if tx_name(&c.transaction) == "read" {
                "Read"
            } else {
                "Inc"
            };
            format!("({}, {}, {}, {tx})", c.client, c.sequence, c.now_ms)
        })
        .collect();
    let replies: Vec<String> = case.replies.iter().map(reply_literal).collect();
    let sessions: Vec<String> = case
        .after
        .sessions
        .iter()
        .map(|(client, s)| format!("({client}, {}, {})", s.last, s.active_ms))
        .collect();
    format!(
        "(&[{}], &[{}], {}, &[{}], {})",
        commands.join(", "),
        replies.join(", "),
        int_literal(case.after.keys[0]),
        sessions.join(", "),
        case.after.clock_ms
    )
}

fn int_literal(value: Option<Value>) -> String {
    match value {
        None => "None".to_string(),
        Some(Value::Int(n)) => format!("Some({n})"),
        Some(other) => unreachable!("the session universe holds integers only, not {other:?}"),
    }
}

fn reply_literal(reply: &Reply) -> String {
    match reply {
        Reply::Done(Outcome::Committed(results, _)) => match results.as_slice() {
            [OperationResult::Incremented(n)] => format!("Incremented({n})"),
            [OperationResult::Read(value)] => format!("Value({})", int_literal(*value)),
            other => unreachable!("one increment or read gives one result, not {other:?}"),
        },
        Reply::Done(other) => unreachable!("an increment or read of an integer commits: {other:?}"),
        Reply::SessionExpired => "Expired".to_string(),
        Reply::Stale(last) => format!("Stale({last})"),
        Reply::SequenceGap(last) => format!("Gap({last})"),
    }
}
