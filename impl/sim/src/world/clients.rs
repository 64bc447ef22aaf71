//! The clients of the simulated world: what transaction each runs next, how it sends, waits,
//! retries and gives up, and how what it saw goes into the history.

use super::*;

use crate::list_append::{self, key as key_name};

/// The key of a cell's counter, apart from its lists' keys (which are 8 bytes long).
fn counter_key(cell: CellId) -> Key {
    Key([b"n".as_slice(), &cell.0.to_le_bytes()].concat())
}

impl World {
    pub(super) fn add_client(&mut self, left: u64, finisher: bool) -> usize {
        let index = self.clients.len();
        let id = self.fresh_client_id(index);
        self.clients.push(Client {
            process: self.processes,
            id,
            sequences: BTreeMap::new(),
            left,
            pending: None,
            known: BTreeMap::new(),
            finisher,
        });
        self.processes += 1;
        index
    }

    pub(super) fn fresh_client_id(&mut self, index: usize) -> ClientId {
        loop {
            let id = ClientId(self.rng.random());
            if let std::collections::btree_map::Entry::Vacant(entry) = self.client_by_id.entry(id) {
                entry.insert(index);
                return id;
            }
        }
    }

    pub(super) fn start_next(&mut self, c: usize, delay_ms: u64) {
        if self.clients[c].left == 0 {
            if !self.clients[c].finisher
                && self
                    .clients
                    .iter()
                    .all(|c| c.left == 0 && c.pending.is_none())
                && !self.finishing
            {
                self.finish();
            }
            return;
        }
        self.clients[c].left -= 1;
        let (cell, request, ops) = self.next_transaction(c);
        let target = members(cell, self.options.nodes)[self.rng.random_range(0..3)];
        self.pend(c, cell, request, ops, target, delay_ms);
    }

    /// Every client is done: heal the cluster, then read every key of every cell through the
    /// log, once each, to get the final lists.
    pub(super) fn finish(&mut self) {
        self.finishing = true;
        self.partitioned = None;
        for n in 0..self.nodes.len() {
            if self.nodes[n].disk.is_some() {
                self.at(1, Event::Restart(n));
            }
        }
        for cell in 0..self.options.cells {
            let c = self.add_client(1, true);
            self.finish_cell(c, CellId(cell));
        }
    }

    pub(super) fn finish_cell(&mut self, c: usize, cell: CellId) {
        let keys: Vec<u64> = (0..self.options.keys_per_cell)
            .map(|k| cell.0 * self.options.keys_per_cell + k)
            .collect();
        let client = &mut self.clients[c];
        client.left = 0;
        let sequence = client.sequences.entry(cell).or_default();
        *sequence += 1;
        let request = Request {
            client: client.id,
            sequence: *sequence,
            transaction: Transaction {
                conditions: vec![],
                operations: keys
                    .iter()
                    .map(|k| Operation::Read { key: key_name(*k) })
                    .chain([Operation::Read {
                        key: counter_key(cell),
                    }])
                    .collect(),
            },
        };
        let ops = keys
            .iter()
            .map(|k| MicroOp::Read {
                key: *k,
                list: None,
            })
            .chain([MicroOp::Counter {
                cell: cell.0,
                value: None,
            }])
            .collect();
        let target = members(cell, self.options.nodes)[0];
        self.pend(c, cell, request, ops, target, 500);
    }

    /// Client `c` will send `request` in `delay_ms`; it is invoked when first sent.
    pub(super) fn pend(
        &mut self,
        c: usize,
        cell: CellId,
        request: Request,
        ops: Vec<MicroOp>,
        target: NodeId,
        delay_ms: u64,
    ) {
        self.order += 1;
        let attempt = self.order;
        self.clients[c].pending = Some(Pending {
            cell,
            request,
            ops,
            invoked: (0, 0),
            target,
            sends: 0,
            attempt,
        });
        self.at(delay_ms, Event::Send { client: c, attempt });
    }

    /// A transaction on a random cell: half are reads of two keys, half append to one key
    /// (conditioned on the list this client last saw there) and read another.
    pub(super) fn next_transaction(&mut self, c: usize) -> (CellId, Request, Vec<MicroOp>) {
        let cell = CellId(self.rng.random_range(0..self.options.cells));
        let keys = self.options.keys_per_cell;
        let first_index = self.rng.random_range(0..keys);
        // Another key of the same cell when there is one.
        let second_index = (first_index + self.rng.random_range(1..keys.max(2))) % keys;
        let first = cell.0 * keys + first_index;
        let second = cell.0 * keys + second_index;
        let client = &mut self.clients[c];
        let sequence = {
            let sequence = client.sequences.entry(cell).or_default();
            *sequence += 1;
            *sequence
        };
        let kind = self.rng.random_range(0..10);
        let (transaction, ops) = if kind < 2 {
            (
                Transaction {
                    conditions: vec![],
                    operations: vec![
                        Operation::Increment {
                            key: counter_key(cell),
                            amount: 1.into(),
                        },
                        Operation::Read {
                            key: key_name(first),
                        },
                    ],
                },
                vec![
                    MicroOp::Increment {
                        cell: cell.0,
                        value: None,
                    },
                    MicroOp::Read {
                        key: first,
                        list: None,
                    },
                ],
            )
        } else if kind < 6 {
            list_append::reads(first, second)
        } else {
            let value = self.next_value;
            self.next_value += 1;
            let known = client.known.get(&first).cloned().unwrap_or_default();
            list_append::append(first, second, value, known)
        };
        let request = Request {
            client: client.id,
            sequence,
            transaction,
        };
        (cell, request, ops)
    }

    pub(super) fn send(&mut self, c: usize) {
        let Some(pending) = self.clients[c].pending.as_mut() else {
            return;
        };
        self.order += 1;
        if pending.sends == 0 {
            pending.invoked = (self.now_ms, self.order);
        }
        pending.sends += 1;
        let attempt = pending.attempt;
        let (cell, request, target) = (pending.cell, pending.request.clone(), pending.target);
        "send".hash(&mut self.trace);
        (c, target, request.client, request.sequence).hash(&mut self.trace);
        self.at(CLIENT_TIMEOUT_MS, Event::Timeout { client: c, attempt });
        let n = usize::from(target.0 - 1);
        // The request crosses the network too: a cut-off or down node never hears it.
        let reachable = self.partitioned != Some(target) && !self.drawn(self.loss_per_mille);
        if reachable {
            self.input(n, Input::Client { cell, request });
        }
    }

    /// Sends the pending request again (to another member when `elsewhere`), or gives up.
    pub(super) fn retry(&mut self, c: usize, elsewhere: bool) {
        let finisher = self.clients[c].finisher;
        let Some(pending) = self.clients[c].pending.as_mut() else {
            return;
        };
        if pending.sends >= CLIENT_ATTEMPTS_MAX && !finisher {
            self.complete(c, Completion::Info, None);
            return;
        }
        if elsewhere {
            let members = members(pending.cell, self.options.nodes);
            let at = members
                .iter()
                .position(|m| *m == pending.target)
                .unwrap_or(0);
            pending.target = members[(at + 1) % members.len()];
        }
        self.order += 1;
        pending.attempt = self.order;
        let attempt = pending.attempt;
        let delay = self.rng.random_range(1..20);
        self.at(delay, Event::Send { client: c, attempt });
    }

    pub(super) fn on_reply(&mut self, reply: ClientReply) {
        let Some(&c) = self.client_by_id.get(&reply.client) else {
            return;
        };
        let Some(pending) = self.clients[c].pending.as_mut() else {
            return;
        };
        if pending.request.sequence != reply.sequence || pending.cell != reply.cell {
            return; // A late reply to an earlier request.
        }
        match reply.outcome {
            Outcome::Reply(Reply::Done(Ok(results))) => {
                self.complete(c, Completion::Ok, Some(results));
            }
            Outcome::Reply(Reply::Done(Err(Abort::ConditionFailed { .. }))) => {
                self.complete(c, Completion::Fail, None);
            }
            Outcome::Reply(Reply::SessionExpired) => self.complete(c, Completion::Info, None),
            Outcome::Reply(other) => {
                self.violations.push(format!(
                    "client {:?} sequence {} got {other:?}",
                    reply.client, reply.sequence
                ));
                self.complete(c, Completion::Info, None);
            }
            Outcome::NotLeader {
                leader: Some(leader),
            } if leader != pending.target => {
                pending.target = leader;
                self.retry(c, false);
            }
            Outcome::NotLeader { .. } | Outcome::Refused { .. } => self.retry(c, true),
            Outcome::Unknown { .. } => self.retry(c, false),
        }
    }

    pub(super) fn complete(
        &mut self,
        c: usize,
        completion: Completion,
        results: Option<Vec<OperationResult>>,
    ) {
        let Some(mut pending) = self.clients[c].pending.take() else {
            return;
        };
        "complete".hash(&mut self.trace);
        (c, pending.request.sequence).hash(&mut self.trace);
        self.order += 1;
        let completed = (self.now_ms, self.order);
        if let Some(results) = &results {
            // Fill the reads in: operation i of the request is micro-op i.
            for (op, result) in pending.ops.iter_mut().zip(results) {
                if let MicroOp::Increment { value, cell } | MicroOp::Counter { value, cell } = op {
                    let count = match result {
                        OperationResult::Incremented(n) => i64::try_from(n).ok(),
                        OperationResult::Read(None) => Some(0),
                        OperationResult::Read(Some(Value::Integer(n))) => i64::try_from(n).ok(),
                        _ => None,
                    };
                    if count.is_none() {
                        self.violations.push(format!(
                            "cell {cell}: the counter gave {result:?}, not a count"
                        ));
                    }
                    *value = count;
                }
                if let MicroOp::Read { list, key } = op {
                    let read = list_append::read_list(result);
                    match read {
                        Some(read) => {
                            self.clients[c].known.insert(*key, read.clone());
                            *list = Some(read);
                        }
                        None => self
                            .violations
                            .push(format!("key {key}: a read returned {result:?}, not a list")),
                    }
                }
            }
        }
        if completion == Completion::Ok {
            for op in &pending.ops {
                if let MicroOp::Append { key, value } = op {
                    let known = self.clients[c].known.entry(*key).or_default();
                    known.push(*value);
                }
            }
        } else {
            for op in &pending.ops {
                if let MicroOp::Append { key, .. } = op {
                    // The condition failed or the fate is unknown: read again before the
                    // next append to this key.
                    self.clients[c].known.remove(key);
                }
            }
        }
        if self.clients[c].finisher {
            if completion == Completion::Ok {
                for op in &pending.ops {
                    match op {
                        MicroOp::Read {
                            key,
                            list: Some(list),
                        } => {
                            self.finals.insert(*key, list.clone());
                        }
                        MicroOp::Counter {
                            cell,
                            value: Some(count),
                        } => {
                            self.counters.insert(*cell, *count);
                        }
                        _ => {}
                    }
                }
            } else {
                // The final read must succeed: send it again under a new session.
                let id = self.fresh_client_id(c);
                self.clients[c].id = id;
                self.clients[c].sequences.clear();
                let cell = pending.cell;
                self.finish_cell(c, cell);
            }
            return;
        }
        self.history.transactions.push(HistoryTransaction {
            process: self.clients[c].process,
            invoked: pending.invoked,
            completed,
            ops: pending.ops,
            completion,
        });
        if completion == Completion::Info {
            // Its fate is unknown: as in Jepsen, the client goes on as a new process, under a
            // new session.
            self.clients[c].process = self.processes;
            self.processes += 1;
            let id = self.fresh_client_id(c);
            self.clients[c].id = id;
            self.clients[c].sequences.clear();
        }
        let think = self.rng.random_range(0..20);
        self.start_next(c, think);
    }
}
