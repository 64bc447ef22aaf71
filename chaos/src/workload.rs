//! The clients: concurrent list-append transactions over several cells, recorded as an Elle
//! history with the client library's verdicts.
//!
//! Each key holds a list of numbers, written as a whole under the condition that it still holds
//! what the client last saw, so that a transaction appends one number or fails; every number is
//! appended once in the whole run. A transaction ends `ok` (with its reads), `fail` (nothing was
//! applied: a condition failed, or no node took it) or `info` (the outcome is unknown), and a
//! client whose transaction ended `info` goes on as a new Elle process.
//!
//! The steps around the clients are here too, shared by the real-process runs and the
//! simulated ones: connect, create the cells, read every key at the end, and check the history.
//! Every wait is on tokio's clock, which is the machine's in a real run and the simulation's
//! under turmoil.

use colony_client::{single, Client, ClientConfig, ClientError};
use colony_core::cell::{Abort, ConditionFailure, Operation, OperationResult};
use colony_sim::history::{Completion, History, MicroOp, Transaction};
use colony_sim::list_append;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

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
    pub fn recorded(&self) -> usize {
        self.history
            .lock()
            .map(|h| h.transactions.len())
            .unwrap_or(0)
    }
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new()
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

/// Connects to the cluster, trying again until `wait` has passed (the nodes are starting).
pub async fn connect(config: &ClientConfig, wait: Duration) -> Result<Arc<Client>, String> {
    let deadline = Instant::now() + wait;
    loop {
        match Client::connect(config.clone()).await {
            Ok(client) => return Ok(Arc::new(client)),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("the cluster did not start within {wait:?}: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Creates every cell of the workload on three nodes, each tried again until `wait` has
/// passed (the directory's cell elects its first leader).
pub async fn create_cells(
    client: &Client,
    workload: &Workload,
    wait: Duration,
) -> Result<(), String> {
    for cell in &workload.cells {
        let deadline = Instant::now() + wait;
        loop {
            match client.create_cell(cell, 3).await {
                Ok(_) => break,
                Err(e) if Instant::now() > deadline => return Err(format!("creating {cell}: {e}")),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    Ok(())
}

/// Starts the workload's clients, each with a seed of its own drawn from `seed`; they run
/// until `stop` is set.
pub fn start_clients(
    client: &Arc<Client>,
    workload: &Arc<Workload>,
    recorder: &Arc<Recorder>,
    stop: &Arc<AtomicBool>,
    seed: u64,
) -> Vec<JoinHandle<()>> {
    (0..workload.clients)
        .map(|c| {
            tokio::spawn(self::client(
                client.clone(),
                workload.clone(),
                recorder.clone(),
                stop.clone(),
                seed.wrapping_mul(1000).wrapping_add(c as u64),
            ))
        })
        .collect()
}

/// Every key, read through its cell's log (each read tried again until `wait` has passed):
/// what the history's appends must add up to.
pub async fn final_reads(
    client: &Client,
    workload: &Workload,
    wait: Duration,
) -> Result<BTreeMap<u64, Vec<u32>>, String> {
    let mut finals = BTreeMap::new();
    for key in 0..(workload.cells.len() as u64 * workload.keys_per_cell) {
        let read = single(Operation::Read {
            key: list_append::key(key),
        });
        let deadline = Instant::now() + wait;
        let list = loop {
            match client.transact(workload.cell_of(key), read.clone()).await {
                Ok(results) => match results.first().and_then(list_append::read_list) {
                    Some(list) => break list,
                    None => return Err(format!("a final read answered {results:?}")),
                },
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("the final read of key {key}: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        finals.insert(key, list);
    }
    Ok(finals)
}

/// What the checks found in a run's history.
pub struct Checked {
    /// The history.
    pub history: History,
    /// Every violation, and every client error that is not a verdict.
    pub violations: Vec<String>,
    /// Whether adya checked it too.
    pub adya_checked: bool,
}

/// Checks the recorded history against the final reads with the simulator's checker, writes
/// it to `file` in Elle's format, and has `adya` check it when given.
pub fn check(
    recorder: &Recorder,
    finals: &BTreeMap<u64, Vec<u32>>,
    file: &Path,
    adya: Option<&Path>,
) -> Result<Checked, String> {
    let history = recorder.history();
    let mut violations = history.check(finals);
    if let Ok(unexpected) = recorder.unexpected.lock() {
        violations.extend(
            unexpected
                .iter()
                .map(|e| format!("unexpected client error: {e}")),
        );
    }
    std::fs::write(file, history.to_jsonl()).map_err(|e| format!("{}: {e}", file.display()))?;
    let adya_checked = match adya {
        Some(adya) => {
            violations.extend(colony_sim::adya::check(adya, file));
            true
        }
        None => false,
    };
    Ok(Checked {
        history,
        violations,
        adya_checked,
    })
}
