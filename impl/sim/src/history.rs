//! What the clients saw, as a list-append history in Elle's format, and the simulator's own
//! check of it.
//!
//! Each key holds a list of numbers; a transaction appends to some keys and reads others. A
//! number is appended to a key at most once in the whole run, so a read reveals the order of
//! every append before it. That is what lets both checkers, this one and `adya`, recover the
//! order the cell applied transactions in from nothing but what clients saw.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One operation inside a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MicroOp {
    /// Append `value` to the list at `key`.
    Append {
        /// The key.
        key: u64,
        /// The number appended.
        value: u32,
    },
    /// Read the list at `key`: `None` until the transaction completed.
    Read {
        /// The key.
        key: u64,
        /// What it held.
        list: Option<Vec<u32>>,
    },
    /// Add 1 to the counter of `cell`, unconditionally: `value` is the new count, once the
    /// transaction completed. Not idempotent, unlike a conditional append: a retry applied
    /// twice shows in the final count. Not part of the Elle history.
    Increment {
        /// The cell.
        cell: u64,
        /// The count after it.
        value: Option<i64>,
    },
    /// Read the counter of `cell` (the final reads only). Not part of the Elle history.
    Counter {
        /// The cell.
        cell: u64,
        /// The count.
        value: Option<i64>,
    },
}

/// How a transaction ended, as the client knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// It committed, and its reads are filled in.
    Ok,
    /// It certainly did not commit (a condition failed).
    Fail,
    /// Its fate is unknown (the client gave up waiting, or its session expired).
    Info,
}

/// A point in the run: simulated milliseconds, then the order events were processed in.
pub type Instant = (u64, u64);

/// One transaction of one client process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// The Elle process: a client, until its first indeterminate transaction, after which it
    /// continues as a new process.
    pub process: u64,
    /// When it was invoked.
    pub invoked: Instant,
    /// When it completed.
    pub completed: Instant,
    /// Its operations.
    pub ops: Vec<MicroOp>,
    /// How it ended.
    pub completion: Completion,
}

/// Every transaction of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// In the order they completed.
    pub transactions: Vec<Transaction>,
}

fn micro_ops_json(ops: &[MicroOp], with_reads: bool) -> String {
    let mut out = String::from("[");
    let listed = ops
        .iter()
        .filter(|op| matches!(op, MicroOp::Append { .. } | MicroOp::Read { .. }));
    for (i, op) in listed.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match op {
            MicroOp::Increment { .. } | MicroOp::Counter { .. } => {}
            MicroOp::Append { key, value } => {
                let _ = write!(out, "[\"append\",{key},{value}]");
            }
            MicroOp::Read { key, list } => match list.as_ref().filter(|_| with_reads) {
                Some(list) => {
                    let items: Vec<String> = list.iter().map(u32::to_string).collect();
                    let _ = write!(out, "[\"r\",{key},[{}]]", items.join(","));
                }
                None => {
                    let _ = write!(out, "[\"r\",{key},null]");
                }
            },
        }
    }
    out.push(']');
    out
}

impl History {
    /// The count of transactions that ended each way: (ok, fail, info).
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut counts = (0, 0, 0);
        for t in &self.transactions {
            match t.completion {
                Completion::Ok => counts.0 += 1,
                Completion::Fail => counts.1 += 1,
                Completion::Info => counts.2 += 1,
            }
        }
        counts
    }

    /// The history in Elle's JSON-lines format: one line per invocation and per completion, in
    /// the order they happened.
    pub fn to_jsonl(&self) -> String {
        let mut events: Vec<(Instant, bool, usize)> = Vec::new();
        for (i, t) in self.transactions.iter().enumerate() {
            events.push((t.invoked, false, i));
            events.push((t.completed, true, i));
        }
        events.sort();
        let mut out = String::new();
        for (index, (_, completion, i)) in events.into_iter().enumerate() {
            let t = &self.transactions[i];
            let (kind, reads) = match (completion, t.completion) {
                (false, _) => ("invoke", false),
                (true, Completion::Ok) => ("ok", true),
                (true, Completion::Fail) => ("fail", false),
                (true, Completion::Info) => ("info", false),
            };
            let _ = writeln!(
                out,
                "{{\"index\":{index},\"type\":\"{kind}\",\"process\":{},\"value\":{}}}",
                t.process,
                micro_ops_json(&t.ops, reads)
            );
        }
        out
    }

    /// Checks the history against the lists the keys hold at the end (`finals`, read through
    /// the log once every client was done): every committed append is there exactly once, none
    /// from a failed transaction is, every committed read is a prefix of its key's final list,
    /// and what completed before a transaction began is ordered before it (real time). Returns
    /// one line per violation.
    pub fn check(&self, finals: &BTreeMap<u64, Vec<u32>>) -> Vec<String> {
        let mut violations = Vec::new();
        let empty = Vec::new();
        let mut position: BTreeMap<(u64, u32), usize> = BTreeMap::new();
        for (key, list) in finals {
            let mut seen = BTreeSet::new();
            for (i, value) in list.iter().enumerate() {
                if !seen.insert(*value) {
                    violations.push(format!("key {key}: {value} appended twice: {list:?}"));
                }
                position.insert((*key, *value), i);
            }
        }
        let mut appended_by: BTreeMap<(u64, u32), Completion> = BTreeMap::new();
        for t in &self.transactions {
            for op in &t.ops {
                if let MicroOp::Append { key, value } = op {
                    appended_by.insert((*key, *value), t.completion);
                }
            }
        }
        for (key, value) in position.keys() {
            match appended_by.get(&(*key, *value)) {
                None => violations.push(format!("key {key}: {value} was never appended")),
                Some(Completion::Fail) => violations.push(format!(
                    "key {key}: {value} is there but its transaction failed"
                )),
                Some(_) => {}
            }
        }
        // Per key, the committed appends by completion, to check real-time order.
        let mut committed: BTreeMap<u64, Vec<(Instant, usize)>> = BTreeMap::new();
        for t in self
            .transactions
            .iter()
            .filter(|t| t.completion == Completion::Ok)
        {
            for op in &t.ops {
                match op {
                    MicroOp::Append { key, value } => match position.get(&(*key, *value)) {
                        Some(&at) => committed.entry(*key).or_default().push((t.completed, at)),
                        None => violations.push(format!(
                            "key {key}: the committed append of {value} is lost"
                        )),
                    },
                    MicroOp::Increment { .. } | MicroOp::Counter { .. } => {}
                    MicroOp::Read { key, list } => {
                        let list = list.as_ref().unwrap_or(&empty);
                        let fin = finals.get(key).unwrap_or(&empty);
                        if !fin.starts_with(list) {
                            violations.push(format!(
                                "key {key}: read {list:?} is not a prefix of the final {fin:?}"
                            ));
                        }
                    }
                }
            }
        }
        // The highest position of an append completed before each instant, per key.
        let mut frontier: BTreeMap<u64, (Vec<Instant>, Vec<usize>)> = BTreeMap::new();
        for (key, mut appends) in committed {
            appends.sort();
            let mut highest = 0;
            let (times, maxima): (Vec<Instant>, Vec<usize>) = appends
                .into_iter()
                .map(|(time, at)| {
                    highest = highest.max(at + 1);
                    (time, highest)
                })
                .unzip();
            frontier.insert(key, (times, maxima));
        }
        let before = |key: u64, instant: Instant| -> usize {
            frontier.get(&key).map_or(0, |(times, maxima)| {
                let n = times.partition_point(|t| *t < instant);
                if n == 0 {
                    0
                } else {
                    maxima[n - 1]
                }
            })
        };
        for t in self
            .transactions
            .iter()
            .filter(|t| t.completion == Completion::Ok)
        {
            for op in &t.ops {
                let (key, seen, what) = match op {
                    MicroOp::Append { key, value } => match position.get(&(*key, *value)) {
                        Some(&at) => (*key, at, format!("its append of {value}")),
                        None => continue,
                    },
                    MicroOp::Read { key, list } => {
                        let len = list.as_ref().map_or(0, Vec::len);
                        (*key, len, format!("its read of {len} elements"))
                    }
                    MicroOp::Increment { .. } | MicroOp::Counter { .. } => continue,
                };
                let must_follow = before(key, t.invoked);
                if seen < must_follow {
                    violations.push(format!(
                        "key {key}: a transaction of process {} invoked at {:?} ordered {what} \
                         before an append that had completed ({must_follow} elements)",
                        t.process, t.invoked
                    ));
                }
            }
        }
        violations
    }

    /// Checks the counters against their final counts (`finals`, per cell): each committed
    /// increment returned a count no other did, at most the final one; the final count is at
    /// least the committed increments and at most those and the indeterminate ones (so none
    /// was applied twice, and none committed was lost); and an increment that began after
    /// another completed counted higher.
    pub fn check_counters(&self, finals: &BTreeMap<u64, i64>) -> Vec<String> {
        let mut violations = Vec::new();
        // Per cell: the committed increments (completed, invoked, count), and how many were
        // indeterminate.
        let mut committed: BTreeMap<u64, Vec<(Instant, Instant, i64)>> = BTreeMap::new();
        let mut unknown: BTreeMap<u64, i64> = BTreeMap::new();
        for t in &self.transactions {
            for op in &t.ops {
                if let MicroOp::Increment { cell, value } = op {
                    match (t.completion, value) {
                        (Completion::Ok, Some(value)) => committed
                            .entry(*cell)
                            .or_default()
                            .push((t.completed, t.invoked, *value)),
                        (Completion::Ok, None) => violations
                            .push(format!("cell {cell}: a committed increment has no count")),
                        (Completion::Info, _) => *unknown.entry(*cell).or_default() += 1,
                        (Completion::Fail, _) => violations
                            .push(format!("cell {cell}: an unconditional increment failed")),
                    }
                }
            }
        }
        for (cell, &count) in finals {
            let mut increments = committed.remove(cell).unwrap_or_default();
            let acked = increments.len() as i64;
            let unknown = unknown.get(cell).copied().unwrap_or(0);
            if count < acked || count > acked + unknown {
                violations.push(format!(
                    "cell {cell}: the final count is {count}, but {acked} increments committed \
                     and {unknown} are indeterminate"
                ));
            }
            let values: BTreeSet<i64> = increments.iter().map(|(_, _, v)| *v).collect();
            if values.len() != increments.len() {
                violations.push(format!(
                    "cell {cell}: two committed increments returned one count"
                ));
            }
            if let Some(high) = values.iter().next_back().filter(|v| **v > count) {
                violations.push(format!(
                    "cell {cell}: an increment returned {high}, above the final count {count}"
                ));
            }
            increments.sort();
            let mut highest = Vec::with_capacity(increments.len());
            let mut running = i64::MIN;
            for (_, _, value) in &increments {
                running = running.max(*value);
                highest.push(running);
            }
            for (_, invoked, value) in &increments {
                let n = increments.partition_point(|(completed, _, _)| completed < invoked);
                if n > 0 && highest[n - 1] >= *value {
                    violations.push(format!(
                        "cell {cell}: an increment invoked at {invoked:?} counted {value}, not \
                         above one that had completed with {}",
                        highest[n - 1]
                    ));
                }
            }
        }
        for cell in committed.keys() {
            violations.push(format!(
                "cell {cell}: increments committed but no final count"
            ));
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(process: u64, at: u64, done: u64, key: u64, value: u32) -> Transaction {
        Transaction {
            process,
            invoked: (at, 0),
            completed: (done, 0),
            ops: vec![MicroOp::Append { key, value }],
            completion: Completion::Ok,
        }
    }

    fn read(process: u64, at: u64, done: u64, key: u64, list: &[u32]) -> Transaction {
        Transaction {
            process,
            invoked: (at, 0),
            completed: (done, 0),
            ops: vec![MicroOp::Read {
                key,
                list: Some(list.to_vec()),
            }],
            completion: Completion::Ok,
        }
    }

    fn check(transactions: Vec<Transaction>, finals: &[(u64, &[u32])]) -> Vec<String> {
        let history = History { transactions };
        let finals = finals.iter().map(|(k, l)| (*k, l.to_vec())).collect();
        history.check(&finals)
    }

    #[test]
    fn a_clean_history_passes() {
        let v = check(
            vec![
                append(1, 0, 5, 1, 10),
                append(2, 6, 9, 1, 11),
                read(3, 10, 12, 1, &[10, 11]),
            ],
            &[(1, &[10, 11])],
        );
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn each_kind_of_violation_is_found() {
        let lost = check(vec![append(1, 0, 5, 1, 10)], &[(1, &[])]);
        assert!(lost.iter().any(|v| v.contains("lost")), "{lost:?}");
        let twice = check(vec![append(1, 0, 5, 1, 10)], &[(1, &[10, 10])]);
        assert!(twice.iter().any(|v| v.contains("twice")), "{twice:?}");
        let mut failed = append(1, 0, 5, 1, 10);
        failed.completion = Completion::Fail;
        let phantom = check(vec![failed], &[(1, &[10])]);
        assert!(phantom.iter().any(|v| v.contains("failed")), "{phantom:?}");
        let stale = check(
            vec![append(1, 0, 5, 1, 10), read(2, 6, 8, 1, &[])],
            &[(1, &[10])],
        );
        assert!(
            stale.iter().any(|v| v.contains("before an append")),
            "{stale:?}"
        );
        let reordered = check(
            vec![append(1, 0, 5, 1, 10), append(2, 6, 8, 1, 11)],
            &[(1, &[11, 10])],
        );
        assert!(
            reordered.iter().any(|v| v.contains("before an append")),
            "{reordered:?}"
        );
        let forked = check(vec![read(1, 0, 5, 1, &[11])], &[(1, &[10, 11])]);
        assert!(forked.iter().any(|v| v.contains("prefix")), "{forked:?}");
    }

    fn increment(
        at: u64,
        done: u64,
        cell: u64,
        value: Option<i64>,
        completion: Completion,
    ) -> Transaction {
        Transaction {
            process: 9,
            invoked: (at, 0),
            completed: (done, 0),
            ops: vec![MicroOp::Increment { cell, value }],
            completion,
        }
    }

    #[test]
    fn counters_catch_a_double_apply_a_loss_and_a_reordering() {
        let ok = |at, done, v| increment(at, done, 0, Some(v), Completion::Ok);
        let history = |transactions| History { transactions };
        let finals = |count| BTreeMap::from([(0u64, count)]);
        assert!(history(vec![ok(0, 5, 1), ok(6, 9, 2)])
            .check_counters(&finals(2))
            .is_empty());
        let info = increment(0, 5, 0, None, Completion::Info);
        assert!(history(vec![ok(0, 5, 1), info.clone()])
            .check_counters(&finals(2))
            .is_empty());
        let twice = history(vec![ok(0, 5, 1), ok(6, 9, 3)]).check_counters(&finals(3));
        assert!(twice.iter().any(|v| v.contains("final count")), "{twice:?}");
        let lost = history(vec![ok(0, 5, 1), ok(6, 9, 2)]).check_counters(&finals(1));
        assert!(lost.iter().any(|v| v.contains("final count")), "{lost:?}");
        let reordered = history(vec![ok(0, 5, 2), ok(6, 9, 1)]).check_counters(&finals(2));
        assert!(
            reordered.iter().any(|v| v.contains("not above")),
            "{reordered:?}"
        );
    }

    #[test]
    fn the_elle_lines_interleave_invocations_and_completions_in_time_order() {
        let history = History {
            transactions: vec![append(1, 0, 5, 1, 10), read(2, 3, 4, 1, &[])],
        };
        let text = history.to_jsonl();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].contains("\"invoke\"") && lines[0].contains("\"process\":1"));
        assert!(lines[1].contains("\"invoke\"") && lines[1].contains("[\"r\",1,null]"));
        assert!(lines[2].contains("\"ok\"") && lines[2].contains("[\"r\",1,[]]"));
        assert!(lines[3].contains("\"ok\"") && lines[3].contains("[\"append\",1,10]"));
    }
}
