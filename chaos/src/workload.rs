//! The clients: concurrent list-append transactions over several cells, recorded as an Elle
//! history with the client library's verdicts.
//!
//! Each key holds a list of numbers, written as a whole under the condition that it still holds
//! what the client last saw, so that a transaction appends one number or fails; every number is
//! appended once in the whole run. A transaction ends `ok` (with its reads), `fail` (nothing was
//! applied: a condition failed, or no node took it) or `info` (the outcome is unknown), and a
//! client whose transaction ended `info` goes on as a new Elle process.

use colony_client::{Client, ClientError};
use colony_core::cell::{Abort, ConditionFailure, Operation, OperationResult};
use colony_sim::history::{Completion, History, MicroOp, Transaction};
use colony_sim::list_append;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the clients do.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The cells, by name.
    pub cells: Vec<String>,
    /// Keys in each cell.
    pub keys_per_cell: u64,
    /// Concurrent clients.
    pub clients: usize,
}

impl Workload {
    /// The global number of key `index` of cell `cell`.
    pub fn key(&self, cell: usize, index: u64) -> u64 {
        cell as u64 * self.keys_per_cell + index
    }

    /// The cell a global key number is in.
    pub fn cell_of(&self, key: u64) -> &str {
        &self.cells[(key / self.keys_per_cell) as usize]
    }
}

/// What every client shares: the history, the clock, the next number and process.
pub struct Recorder {
    started: Instant,
    order: AtomicU64,
    next_value: AtomicU64,
    next_process: AtomicU64,
    history: Mutex<History>,
    /// Client errors that are not verdicts (a protocol error): each is a finding.
    pub unexpected: Mutex<Vec<String>>,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Recorder {
        Recorder {
            started: Instant::now(),
            order: AtomicU64::new(0),
            next_value: AtomicU64::new(1),
            next_process: AtomicU64::new(0),
            history: Mutex::new(History::default()),
            unexpected: Mutex::new(Vec::new()),
        }
    }

    /// Now, as the history orders events: microseconds since the start, then the order in
    /// which the clients took the reading.
    fn now(&self) -> (u64, u64) {
        let micros = self.started.elapsed().as_micros() as u64;
        (micros, self.order.fetch_add(1, Ordering::SeqCst))
    }

    /// The history so far.
    pub fn history(&self) -> History {
        self.history.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Transactions recorded so far.
    pub fn len(&self) -> usize {
        self.history
            .lock()
            .map(|h| h.transactions.len())
            .unwrap_or(0)
    }
}

/// Runs one client until `stop` is set.
pub async fn client(
    client: Arc<Client>,
    workload: Arc<Workload>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut known: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    let mut process = recorder.next_process.fetch_add(1, Ordering::SeqCst);
    while !stop.load(Ordering::SeqCst) {
        let cell = rng.random_range(0..workload.cells.len());
        let first = workload.key(cell, rng.random_range(0..workload.keys_per_cell));
        let second = workload.key(
            cell,
            (first % workload.keys_per_cell + rng.random_range(1..workload.keys_per_cell.max(2)))
                % workload.keys_per_cell,
        );
        let append = rng.random_range(0..10) < 6;
        let (transaction, mut ops) = if append {
            let value = recorder.next_value.fetch_add(1, Ordering::SeqCst) as u32;
            let seen = known.get(&first).cloned().unwrap_or_default();
            list_append::append(first, second, value, seen)
        } else {
            list_append::reads(first, second)
        };
        let invoked = recorder.now();
        let result = client
            .transact(&workload.cells[cell], transaction.clone())
            .await;
        let completed = recorder.now();
        let completion = match result {
            Ok(results) => {
                fill_reads(&mut ops, &results, &mut known);
                // The client's own append is what the key holds now, as far as it knows.
                if let (MicroOp::Append { key, .. }, Some(Operation::Write { value, .. })) =
                    (&ops[0], transaction.operations.first())
                {
                    let written = OperationResult::Read(Some(value.clone()));
                    known.insert(*key, list_append::read_list(&written).unwrap_or_default());
                }
                Completion::Ok
            }
            Err(ClientError::Aborted(Abort::ConditionFailed { reason, .. })) => {
                // The failure says what the key holds now: the next append starts from it.
                let found = match reason {
                    ConditionFailure::KeyAbsent { .. } => Some(Vec::new()),
                    ConditionFailure::KeyPresent { found, .. }
                    | ConditionFailure::ValueDiffers { found, .. } => {
                        list_append::read_list(&OperationResult::Read(Some(found)))
                    }
                };
                known.insert(first, found.unwrap_or_default());
                Completion::Fail
            }
            // Nothing was applied: no member took the request.
            Err(ClientError::Unavailable(_)) => Completion::Fail,
            Err(ClientError::Indeterminate(_)) => Completion::Info,
            Err(other) => {
                if let Ok(mut unexpected) = recorder.unexpected.lock() {
                    unexpected.push(other.to_string());
                }
                Completion::Info
            }
        };
        if let Ok(mut history) = recorder.history.lock() {
            history.transactions.push(Transaction {
                process,
                invoked,
                completed,
                ops,
                completion,
            });
        }
        if completion == Completion::Info {
            process = recorder.next_process.fetch_add(1, Ordering::SeqCst);
            known.clear();
        }
    }
}

/// Fills the reads of a committed transaction from its results and learns what they show.
fn fill_reads(
    ops: &mut [MicroOp],
    results: &[OperationResult],
    known: &mut BTreeMap<u64, Vec<u32>>,
) {
    for (op, result) in ops.iter_mut().zip(results) {
        if let MicroOp::Read { key, list } = op {
            let read = list_append::read_list(result).unwrap_or_default();
            known.insert(*key, read.clone());
            *list = Some(read);
        }
    }
}
