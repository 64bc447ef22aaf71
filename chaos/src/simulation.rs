//! The server under simulation: three nodes running the real server
//! ([`colony_server::run_with_storage`]) on turmoil's simulated TCP, clock and scheduler, each on
//! a simulated disk that loses what was not synced when its node crashes; the clients of
//! [`crate::workload`] through the real client library; and a nemesis between the
//! simulation's steps.
//!
//! The nemesis takes turns among three faults, each healed after a while:
//! - a crash: the node's tasks vanish mid-flight and its disk keeps only what was synced (or,
//!   as a real disk may, a torn prefix of the rest); it restarts from what the disk holds;
//! - a partition of one node from the others: its segments are held back until the partition
//!   heals (as TCP's retransmissions deliver them after a real one), or dropped, which stalls
//!   the connection until the idle timeout replaces it;
//! - a failed sync: the node must stop at it, and restarts from its disk.
//!
//! At the end every fault is healed and every key read through its cell's log. The checks are
//! the simulator's: the history against the final reads (and adya, when given), and the
//! replicas' agreement, read off each node's disk: the replicas of a cell that applied through
//! the same slot hold the same state.
//!
//! A run is a function of its options alone: the same seed gives the same history, byte for
//! byte. So a failing run is replayed by its seed, and [`Report::history_hash`] lets a test
//! check that it is.

use crate::workload::{self, Recorder, Workload};
use colony_client::ClientConfig;
use colony_core::group::NodeId;
use colony_net::api::DIRECTORY_CELL;
use colony_net::conn::Io;
use colony_net::{directory, Listener, Net, Network, Security};
use colony_node::driver::{Driver, Outbox};
use colony_node::host::HostConfig;
use colony_node::storage::{Recovered, SimFaults, SimStorage, Storage, StorageError, Write};
use colony_server::{Environment, ServerConfig, Tasks};
use colony_sim::history::History;
use futures_util::future::BoxFuture;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// The port every node serves on (each simulated host has an address of its own).
const PORT: u16 = 7000;

/// Time between two ticks of a node, as on a machine.
const TICK: Duration = Duration::from_millis(10);

/// The simulated time by which a run must have finished, faults and final reads included,
/// beyond the options' own duration: past it the run is a finding.
const FINISH_MARGIN: Duration = Duration::from_secs(300);

/// What a run simulates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The seed: every choice of the run is drawn from it.
    pub seed: u64,
    /// Cells the clients use.
    pub cells: usize,
    /// Keys per cell.
    pub keys_per_cell: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// The least simulated time the clients run (faults keep coming until then).
    pub duration: Duration,
    /// The least number of transactions a run records.
    pub transactions_min: usize,
    /// Whether the nemesis injects faults.
    pub faults: bool,
}

impl Options {
    /// The defaults for `seed`: 3 cells of 4 keys, 6 clients, 20 simulated seconds, at least
    /// 500 transactions, with faults.
    pub fn new(seed: u64) -> Options {
        Options {
            seed,
            cells: 3,
            keys_per_cell: 4,
            clients: 6,
            duration: Duration::from_secs(20),
            transactions_min: 500,
            faults: true,
        }
    }
}

/// The faults a run injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Nodes crashed (and restarted).
    pub crashes: u64,
    /// Partitions whose segments were held back until they healed.
    pub held_partitions: u64,
    /// Partitions whose segments were dropped.
    pub dropped_partitions: u64,
    /// Nodes that stopped at a failed sync.
    pub sync_failures: u64,
    /// Crashes that lost unsynced writes.
    pub lost_writes: u64,
    /// Crashes that tore the last write.
    pub torn_writes: u64,
}

impl Faults {
    /// Adds another run's faults to these.
    pub fn add(&mut self, other: &Faults) {
        self.crashes += other.crashes;
        self.held_partitions += other.held_partitions;
        self.dropped_partitions += other.dropped_partitions;
        self.sync_failures += other.sync_failures;
        self.lost_writes += other.lost_writes;
        self.torn_writes += other.torn_writes;
    }
}

/// What a run did and found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Transactions recorded.
    pub transactions: usize,
    /// Transactions that ended ok, fail and info.
    pub counts: (u64, u64, u64),
    /// The faults injected.
    pub faults: Faults,
    /// Every check that failed.
    pub violations: Vec<String>,
    /// Whether adya checked the history.
    pub adya_checked: bool,
    /// The simulated time the run took.
    pub simulated: Duration,
    /// A hash of the history and of every fault's time: equal for two runs of one seed.
    pub history_hash: u64,
    /// The history.
    pub history: History,
    /// What every key held at the end.
    pub finals: Finals,
}

impl Report {
    /// One line: the figures of the run and whether it passed.
    pub fn summary(&self) -> String {
        let (ok, fail, info) = self.counts;
        let f = &self.faults;
        format!(
            "seed {}: {} transactions (ok {ok}, fail {fail}, info {info}) in {:.1} simulated s; \
             {} crashes, {} partitions held and {} dropping, {} nodes stopped by a failed sync; \
             disks lost their unsynced writes {} times and tore them {} times; {}{}",
            self.seed,
            self.transactions,
            self.simulated.as_secs_f64(),
            f.crashes,
            f.held_partitions,
            f.dropped_partitions,
            f.sync_failures,
            f.lost_writes,
            f.torn_writes,
            if self.violations.is_empty() {
                "no violation".to_string()
            } else {
                format!("{} VIOLATIONS", self.violations.len())
            },
            if self.adya_checked {
                ", checked by adya"
            } else {
                ""
            },
        )
    }
}

/// Runs one simulation, writes its history to `dir/history.jsonl` and checks it (with adya
/// too when `adya` is given). An `Err` is a run that could not be carried out or finished; a
/// run that finished and found a violation is an `Ok` whose report lists it.
pub fn run(options: &Options, dir: &Path, adya: Option<&Path>) -> Result<Report, String> {
    let nodes: BTreeMap<NodeId, String> = (1..=3u8)
        .map(|id| (NodeId(id), format!("{}:{PORT}", host_name(id))))
        .collect();
    let mut sim = turmoil::Builder::new()
        .rng_seed(options.seed)
        // A fixed epoch: the nodes' wall clocks, which stamp sessions, are the simulation's.
        .epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .simulation_duration(options.duration + FINISH_MARGIN)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(10))
        // Room for a burst of frames before a receiver reads them: turmoil resets a stream
        // whose receive buffer overflows, which no real kernel does to a reader that is merely
        // slow.
        .tcp_capacity(65_536)
        .build();

    let disks: BTreeMap<u8, Disk> = nodes
        .keys()
        .map(|node| {
            let seed = options.seed ^ (u64::from(node.0) << 56);
            (
                node.0,
                Disk::new(SimStorage::new(seed, SimFaults::default())),
            )
        })
        .collect();
    let stops: Arc<Mutex<Vec<(u8, String)>>> = Arc::default();
    for (node, disk) in &disks {
        let config = ServerConfig {
            node: NodeId(*node),
            listen: format!("0.0.0.0:{PORT}"),
            nodes: nodes.clone(),
            data_dir: format!("simulated disk of node {node}").into(),
            security: Security::Insecure,
            metrics_listen: None,
            tick: TICK,
            environment: Environment {
                network: Net::new(Turmoil),
                wall_clock_ms: simulated_clock_ms,
                tasks: Tasks::Simulation,
            },
        };
        let disk = disk.clone();
        let stops = stops.clone();
        let node = *node;
        sim.host(host_name(node), move || {
            let config = config.clone();
            let disk = disk.clone();
            let stops = stops.clone();
            async move {
                let result =
                    colony_server::run_with_storage(config, disk, std::future::pending()).await;
                let reason = match result {
                    Ok(()) => "stopped".to_string(),
                    Err(e) => e.to_string(),
                };
                lock(&stops).push((node, reason));
                Ok(())
            }
        });
    }

    let workload = Arc::new(Workload {
        cells: (0..options.cells).map(|i| format!("sim-{i}")).collect(),
        keys_per_cell: options.keys_per_cell,
        clients: options.clients,
    });
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(RUNNING),
        recorder: Mutex::new(None),
        finals: Mutex::new(None),
    });
    let mut client_config =
        ClientConfig::new(nodes.values().cloned().collect(), Security::Insecure);
    client_config.network = Net::new(Turmoil);
    client_config.seed = Some(options.seed);
    {
        let shared = shared.clone();
        let workload = workload.clone();
        let options = options.clone();
        sim.client("clients", async move {
            let finals = clients(&client_config, &workload, &shared, &options).await;
            *lock(&shared.finals) = Some(finals);
            Ok(())
        });
    }

    let mut nemesis = Nemesis::new(options, &disks);
    let mut trace = DefaultHasher::new();
    let mut expected_stops = 0usize;
    loop {
        let done = sim.step().map_err(|e| {
            format!(
                "the simulation stopped at {:?}: {e}; run again with seed {}",
                sim.elapsed(),
                options.seed
            )
        })?;
        if done {
            break;
        }
        let now = sim.elapsed();
        match shared.phase.load(Ordering::SeqCst) {
            RUNNING if options.faults => {
                if let Some(event) = nemesis.act(&mut sim, now) {
                    (now.as_millis(), event).hash(&mut trace);
                    if event.starts_with("sync") {
                        expected_stops += 1;
                    }
                }
            }
            HEALING => {
                nemesis.heal(&mut sim);
                shared.phase.store(HEALED, Ordering::SeqCst);
            }
            _ => {}
        }
        // A node whose server stopped when no sync was made to fail is a finding.
        let stopped = lock(&stops).len();
        if stopped > expected_stops {
            let stops = lock(&stops).clone();
            return Err(format!(
                "a node stopped on its own at {now:?}: {stops:?}; run again with seed {}",
                options.seed
            ));
        }
    }
    let simulated = sim.elapsed();
    drop(sim);

    let finals = lock(&shared.finals)
        .take()
        .ok_or("the clients did not finish")??;
    let recorder = lock(&shared.recorder)
        .take()
        .ok_or("the clients did not start")?;
    let file = dir.join("history.jsonl");
    let mut checked = workload::check(&recorder, &finals, &file, adya)?;
    let mut faults = nemesis.faults;
    for disk in disks.values() {
        let counts = disk.lock().counts();
        faults.lost_writes += counts.lost_writes;
        faults.torn_writes += counts.torn_writes;
    }
    faults.sync_failures = lock(&stops)
        .iter()
        .filter(|(_, reason)| reason.contains("storage"))
        .count() as u64;
    checked
        .violations
        .extend(replicas_disagree(&disks, &workload));
    checked.history.to_jsonl().hash(&mut trace);
    Ok(Report {
        seed: options.seed,
        transactions: checked.history.transactions.len(),
        counts: checked.history.counts(),
        faults,
        violations: checked.violations,
        adya_checked: checked.adya_checked,
        simulated,
        history_hash: trace.finish(),
        history: checked.history,
        finals,
    })
}

/// The simulated host of node `id`.
fn host_name(id: u8) -> String {
    format!("node{id}")
}

/// The nodes' wall clock: the simulation's time since its epoch.
fn simulated_clock_ms() -> u64 {
    turmoil::since_epoch().map_or(0, |d| d.as_millis() as u64)
}

/// What every key held at the end, by key.
pub type Finals = BTreeMap<u64, Vec<u32>>;

/// The clients' phases, which the nemesis follows: it injects faults while they run, heals
/// everything when they are done, and they read every key once it has.
const RUNNING: u8 = 0;
const HEALING: u8 = 1;
const HEALED: u8 = 2;

/// What the clients' host shares with the loop that steps the simulation.
struct Shared {
    phase: AtomicU8,
    /// Made by the clients' host, so that its clock is the simulation's.
    recorder: Mutex<Option<Arc<Recorder>>>,
    finals: Mutex<Option<Result<Finals, String>>>,
}

/// The clients' host: create the cells, run the clients for the run's time, wait for the
/// faults to be healed, read every key.
async fn clients(
    config: &ClientConfig,
    workload: &Arc<Workload>,
    shared: &Shared,
    options: &Options,
) -> Result<Finals, String> {
    let wait = Duration::from_secs(60);
    let client = workload::connect(config, wait).await?;
    workload::create_cells(&client, workload, wait).await?;
    let recorder = Arc::new(Recorder::new());
    *lock(&shared.recorder) = Some(recorder.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = workload::start_clients(&client, workload, &recorder, &stop, options.seed);
    let started = tokio::time::Instant::now();
    while started.elapsed() < options.duration || recorder.recorded() < options.transactions_min {
        if started.elapsed() > options.duration * 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        let _ = task.await;
    }
    shared.phase.store(HEALING, Ordering::SeqCst);
    while shared.phase.load(Ordering::SeqCst) != HEALED {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    workload::final_reads(&client, workload, wait).await
}

/// A fault in progress, and when it heals.
enum Fault {
    Crashed(u8),
    Partitioned { node: u8, held: bool },
    FailingSync(u8),
}

/// The nemesis: one fault at a time, each healed after a while, with a pause between two.
struct Nemesis {
    rng: ChaCha8Rng,
    disks: BTreeMap<u8, Disk>,
    current: Option<(Fault, Duration)>,
    next: Duration,
    turn: usize,
    faults: Faults,
}

impl Nemesis {
    fn new(options: &Options, disks: &BTreeMap<u8, Disk>) -> Nemesis {
        // A stream of its own, apart from the clients' draws from the same seed.
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        rng.set_stream(1);
        // The first fault comes once the cells exist and the clients are under way.
        let next = Duration::from_millis(rng.random_range(2000..3000));
        let turn = rng.random_range(0..3);
        Nemesis {
            rng,
            disks: disks.clone(),
            current: None,
            next,
            turn,
            faults: Faults::default(),
        }
    }

    /// Heals the fault in progress when its time has come, or starts the next one when its
    /// time has; returns what it did, for the run's trace.
    fn act(&mut self, sim: &mut turmoil::Sim<'_>, now: Duration) -> Option<&'static str> {
        if let Some((_, heal_at)) = &self.current {
            if now < *heal_at {
                return None;
            }
            self.heal(sim);
            self.next = now + Duration::from_millis(self.rng.random_range(200..1200));
            return Some("healed");
        }
        if now < self.next {
            return None;
        }
        let node = self.rng.random_range(1..=3u8);
        let hold = Duration::from_millis(self.rng.random_range(300..2500));
        let (fault, event) = match self.turn % 3 {
            0 => {
                sim.crash(host_name(node));
                self.disks[&node].lock().crash();
                self.faults.crashes += 1;
                (Fault::Crashed(node), "crash")
            }
            1 => {
                let others = others(node);
                let held = self.rng.random_bool(0.5);
                for other in &others {
                    if held {
                        sim.hold(host_name(node), host_name(*other));
                    } else {
                        sim.partition(host_name(node), host_name(*other));
                    }
                }
                if held {
                    self.faults.held_partitions += 1;
                } else {
                    self.faults.dropped_partitions += 1;
                }
                (Fault::Partitioned { node, held }, "partition")
            }
            _ => {
                self.disks[&node].lock().fail_next_sync();
                (Fault::FailingSync(node), "sync failure")
            }
        };
        self.turn += 1;
        self.current = Some((fault, now + hold));
        Some(event)
    }

    /// Heals the fault in progress, if any.
    fn heal(&mut self, sim: &mut turmoil::Sim<'_>) {
        let Some((fault, _)) = self.current.take() else {
            return;
        };
        match fault {
            Fault::Crashed(node) => sim.bounce(host_name(node)),
            Fault::Partitioned { node, held } => {
                for other in others(node) {
                    if held {
                        sim.release(host_name(node), host_name(other));
                    } else {
                        sim.repair(host_name(node), host_name(other));
                    }
                }
            }
            Fault::FailingSync(node) => {
                // The node stopped at its failed sync, or has not synced since (it had nothing
                // to write): either way it restarts from what its disk holds.
                if sim.is_host_running(host_name(node)) {
                    sim.crash(host_name(node));
                }
                self.disks[&node].lock().crash();
                sim.bounce(host_name(node));
            }
        }
    }
}

/// The nodes other than `node`.
fn others(node: u8) -> Vec<u8> {
    (1..=3u8).filter(|n| *n != node).collect()
}

/// The replicas' agreement, read off each node's disk as it would recover: the replicas of a
/// cell that applied through the same slot must hold the same state.
fn replicas_disagree(disks: &BTreeMap<u8, Disk>, workload: &Workload) -> Vec<String> {
    let mut cells: BTreeSet<_> = workload
        .cells
        .iter()
        .map(|name| directory::cell_id_of(name))
        .collect();
    cells.insert(DIRECTORY_CELL);
    let mut drivers = Vec::new();
    let mut violations = Vec::new();
    for (node, disk) in disks {
        disk.lock().crash();
        match Driver::start(
            HostConfig::new(NodeId(*node), 0),
            disk.clone(),
            Outbox::default(),
        ) {
            Ok(driver) => drivers.push(driver),
            Err(e) => violations.push(format!("node {node}'s disk does not recover: {e}")),
        }
    }
    for cell in cells {
        let mut by_slot: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
        for driver in &mut drivers {
            if let Some((slot, digest)) = driver.host().cell_digest(cell) {
                by_slot.entry(slot.0).or_default().insert(digest);
            }
        }
        for (slot, digests) in by_slot {
            if digests.len() > 1 {
                violations.push(format!(
                    "{cell}: replicas applied through slot {slot} hold {} different states",
                    digests.len()
                ));
            }
        }
    }
    violations
}

/// A node's simulated disk, shared between the runs of its server (it outlives a crash) and
/// the nemesis, which crashes it.
#[derive(Clone)]
struct Disk(Arc<Mutex<SimStorage>>);

impl Disk {
    fn new(storage: SimStorage) -> Disk {
        Disk(Arc::new(Mutex::new(storage)))
    }

    fn lock(&self) -> MutexGuard<'_, SimStorage> {
        lock(&self.0)
    }
}

impl Storage for Disk {
    fn append(&mut self, batch: &[Write]) -> Result<(), StorageError> {
        self.lock().append(batch)
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.lock().sync()
    }

    fn recover(&mut self) -> Result<Recovered, StorageError> {
        self.lock().recover()
    }
}

/// A lock, whether or not a panic poisoned it: the simulation is one thread, and a panic
/// fails the run anyway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// turmoil's simulated TCP, as a [`Network`]. A simulated host has one address, so the
/// source address a node would connect from is its own anyway.
struct Turmoil;

impl Network for Turmoil {
    fn name(&self) -> &'static str {
        "turmoil"
    }

    fn connect(
        &self,
        addr: String,
        _source: Option<IpAddr>,
    ) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let stream = turmoil::net::TcpStream::connect(addr.as_str()).await?;
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }

    fn listen(&self, addr: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = turmoil::net::TcpListener::bind(addr.as_str()).await?;
            Ok(Box::new(TurmoilListener(listener)) as Box<dyn Listener>)
        })
    }
}

struct TurmoilListener(turmoil::net::TcpListener);

impl Listener for TurmoilListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn Io>, SocketAddr)>> {
        Box::pin(async move {
            let (stream, from) = self.0.accept().await?;
            Ok((Box::new(stream) as Box<dyn Io>, from))
        })
    }
}
