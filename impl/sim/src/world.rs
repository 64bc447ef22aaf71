//! The simulated world: nodes, the network between them, the clients, the faults, and the
//! queue of events that drives them all in simulated time.

use crate::history::{Completion, History, Instant, MicroOp, Transaction as HistoryTransaction};
use colony_core::cell::{
    Abort, ClientId, Key, Operation, OperationResult, Reply, Request, Transaction, Value,
};
use colony_core::group::NodeId;
use colony_node::driver::{Driver, Outbox};
use colony_node::host::{ClientReply, Event as HostEvent, Frame, HostConfig, Input, Outcome};
use colony_node::storage::{SimFaults, SimStorage};
use colony_node::wire::{decode_frame, encode_frame};
use colony_node::CellId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};

mod clients;

/// What a run simulates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Nodes in the cluster (each cell has three of them as members).
    pub nodes: u8,
    /// Cells.
    pub cells: u64,
    /// Keys per cell, each a list.
    pub keys_per_cell: u64,
    /// Clients running transactions at once.
    pub clients: usize,
    /// Transactions in all (each client runs its share, one at a time).
    pub transactions: u64,
    /// Whether to inject faults (without them, a run checks the happy path).
    pub faults: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nodes: 5,
            cells: 16,
            keys_per_cell: 3,
            clients: 12,
            transactions: 2_000,
            faults: true,
        }
    }
}

/// Faults injected, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Frames (and client replies) the network lost.
    pub lost_frames: u64,
    /// Frames it delivered twice.
    pub duplicated_frames: u64,
    /// Frames a partition dropped.
    pub partitioned_frames: u64,
    /// Partitions started (one node cut off from the others).
    pub partitions: u64,
    /// Node crashes.
    pub crashes: u64,
    /// Crashes that lost every unsynced write.
    pub lost_writes: u64,
    /// Crashes that tore the last write.
    pub torn_writes: u64,
    /// Bits flipped on a crashed node's disk.
    pub bit_flips: u64,
    /// Syncs that failed (the node stops, as it must).
    pub sync_failures: u64,
    /// Cells a node reported corrupt at recovery (they refuse to serve there).
    pub corrupt_cells: u64,
    /// Restarts refused because the log was damaged where no cell can be named.
    pub refused_restarts: u64,
    /// Snapshots nodes took of their cells (not a fault: what the faults met).
    pub snapshots_taken: u64,
    /// Snapshots nodes installed from a peer.
    pub snapshots_installed: u64,
}

impl FaultCounts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &FaultCounts) {
        self.lost_frames += other.lost_frames;
        self.duplicated_frames += other.duplicated_frames;
        self.partitioned_frames += other.partitioned_frames;
        self.partitions += other.partitions;
        self.crashes += other.crashes;
        self.lost_writes += other.lost_writes;
        self.torn_writes += other.torn_writes;
        self.bit_flips += other.bit_flips;
        self.sync_failures += other.sync_failures;
        self.corrupt_cells += other.corrupt_cells;
        self.refused_restarts += other.refused_restarts;
        self.snapshots_taken += other.snapshots_taken;
        self.snapshots_installed += other.snapshots_installed;
    }
}

/// What one run found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Every transaction the clients ran, in Elle's terms.
    pub history: History,
    /// Simulated time, in milliseconds.
    pub simulated_ms: u64,
    /// The faults injected.
    pub faults: FaultCounts,
    /// Every check that failed, one line each.
    pub violations: Vec<String>,
    /// A hash of every event processed, in order, and of the final states: equal for two runs
    /// of one seed, or the run is not deterministic.
    pub trace_hash: u64,
    /// Replicas that were behind their cell's latest slot at the end (not a violation: a
    /// replica learns what it missed when its cell is next used).
    pub lagging_replicas: u64,
}

/// Milliseconds between two ticks of a node.
const TICK_MS: u64 = 10;
/// How long a simulated `fdatasync` takes.
const SYNC_MS: u64 = 1;
/// How long a client waits for a reply before it tries again.
const CLIENT_TIMEOUT_MS: u64 = 300;
/// How many times a client sends one request before it gives up (the outcome is unknown).
const CLIENT_ATTEMPTS_MAX: u32 = 12;
/// A run that has not finished by this simulated time is reported as stuck: ten times the
/// longest run seen with every fault.
const SIMULATED_MS_MAX: u64 = 30 * 60 * 1000;

#[derive(Debug)]
enum Event {
    Tick(usize),
    Sync(usize),
    Deliver {
        from: NodeId,
        to: usize,
        frame: Frame,
    },
    Send {
        client: usize,
        attempt: u64,
    },
    Reply(ClientReply),
    Timeout {
        client: usize,
        attempt: u64,
    },
    Restart(usize),
    Heal,
    Fault,
}

struct Node {
    id: NodeId,
    driver: Option<Driver<SimStorage, Outbox>>,
    /// The disk of a node that is down.
    disk: Option<SimStorage>,
    sync_scheduled: bool,
    /// The node refused to start (its log is damaged where no cell can be named).
    dead: bool,
}

/// A transaction a client has sent and waits for.
struct Pending {
    cell: CellId,
    request: Request,
    ops: Vec<MicroOp>,
    invoked: Instant,
    /// Which member it goes to next.
    target: NodeId,
    sends: u32,
    /// The current attempt: the send and the timeout scheduled for it carry it, so that those
    /// of an earlier attempt, or of an earlier transaction, are ignored.
    attempt: u64,
}

struct Client {
    process: u64,
    id: ClientId,
    /// The last sequence number used in each cell: a session is a client's in one cell.
    sequences: BTreeMap<CellId, u64>,
    left: u64,
    pending: Option<Pending>,
    /// The last list this client saw at each key, to condition its appends on.
    known: BTreeMap<u64, Vec<u32>>,
    /// Whether it is the reader of the final lists, which runs after every other client.
    finisher: bool,
}

pub(crate) struct World {
    seed: u64,
    options: Options,
    rng: ChaCha8Rng,
    now_ms: u64,
    order: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<Node>,
    clients: Vec<Client>,
    client_by_id: BTreeMap<ClientId, usize>,
    processes: u64,
    next_value: u32,
    /// The node cut off from the others, if any.
    partitioned: Option<NodeId>,
    /// The one node whose disk may have bits flipped. Damage is kept to one node so that every
    /// cell keeps a quorum of healthy replicas: a replica whose state is damaged refuses to
    /// serve, and a cell that lost two of three would stay unavailable (repairing a replica
    /// from its peers is not built yet).
    damaged: Option<usize>,
    loss_per_mille: u32,
    duplicate_per_mille: u32,
    delay_ms_max: u64,
    faults: FaultCounts,
    finals: BTreeMap<u64, Vec<u32>>,
    /// Each cell's counter, read at the end.
    counters: BTreeMap<u64, i64>,
    finishing: bool,
    /// When the run ends: a little after the final reads, so that followers catch up.
    end_ms: Option<u64>,
    lagging: u64,
    history: History,
    violations: Vec<String>,
    trace: DefaultHasher,
}

fn members(cell: CellId, nodes: u8) -> Vec<NodeId> {
    (0..3)
        .map(|i| NodeId(((cell.0 + i) % u64::from(nodes)) as u8 + 1))
        .collect()
}

/// A node's configuration: its timers from the seed, and snapshots far more often than a real
/// node takes them (every 4 to 64 decided slots, drawn per seed), so that every run compacts,
/// recovers from snapshots and sends them to replicas that lag.
fn host_config(node: NodeId, seed: u64) -> HostConfig {
    HostConfig {
        snapshot_interval_slots: 4 << (seed % 5),
        ..HostConfig::new(
            node,
            seed ^ u64::from(node.0).wrapping_mul(0x2545_F491_4F6C_DD1D),
        )
    }
}

impl World {
    pub(crate) fn new(seed: u64, options: &Options) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (loss, duplicate, delay) = if options.faults {
            (
                rng.random_range(0..=50),
                rng.random_range(0..=30),
                rng.random_range(2..=30),
            )
        } else {
            (0, 0, 2)
        };
        let nodes = (1..=options.nodes)
            .map(|n| {
                let disk = SimStorage::new(
                    rng.random(),
                    SimFaults {
                        torn_per_mille: 500,
                    },
                );
                let id = NodeId(n);
                let driver = Driver::start(host_config(id, seed), disk, Outbox::default())
                    .expect("an empty simulated disk recovers");
                Node {
                    id,
                    driver: Some(driver),
                    disk: None,
                    sync_scheduled: false,
                    dead: false,
                }
            })
            .collect();
        let mut world = World {
            seed,
            options: options.clone(),
            rng,
            now_ms: 0,
            order: 0,
            queue: BTreeMap::new(),
            nodes,
            clients: Vec::new(),
            client_by_id: BTreeMap::new(),
            processes: 0,
            next_value: 1,
            partitioned: None,
            damaged: None,
            loss_per_mille: loss,
            duplicate_per_mille: duplicate,
            delay_ms_max: delay,
            faults: FaultCounts::default(),
            finals: BTreeMap::new(),
            counters: BTreeMap::new(),
            finishing: false,
            end_ms: None,
            lagging: 0,
            history: History::default(),
            violations: Vec::new(),
            trace: DefaultHasher::new(),
        };
        seed.hash(&mut world.trace);
        let per_client = options.transactions / options.clients.max(1) as u64;
        let extra = options.transactions % options.clients.max(1) as u64;
        for c in 0..options.clients {
            let left = per_client + u64::from((c as u64) < extra);
            world.add_client(left, false);
        }
        world
    }

    fn at(&mut self, delay_ms: u64, event: Event) {
        self.order += 1;
        self.queue
            .insert((self.now_ms + delay_ms, self.order), event);
    }

    pub(crate) fn run(mut self) -> crate::Report {
        for cell in 0..self.options.cells {
            let cell = CellId(cell);
            let members = members(cell, self.options.nodes);
            for member in &members {
                let index = usize::from(member.0 - 1);
                let input = Input::CreateCell {
                    cell,
                    members: members.clone(),
                };
                self.input(index, input);
            }
        }
        for n in 0..self.nodes.len() {
            self.at(TICK_MS + n as u64, Event::Tick(n));
        }
        for c in 0..self.clients.len() {
            let start = self.rng.random_range(0..200);
            self.start_next(c, start);
        }
        if self.options.faults {
            let first = self.rng.random_range(100..1000);
            self.at(first, Event::Fault);
        }
        while let Some(((time, order), event)) = self.queue.pop_first() {
            self.now_ms = time;
            (time, order).hash(&mut self.trace);
            if time > SIMULATED_MS_MAX {
                let waiting: Vec<String> = self
                    .clients
                    .iter()
                    .filter_map(|c| c.pending.as_ref())
                    .map(|p| format!("{}", p.cell))
                    .collect();
                self.violations.push(format!(
                    "the run did not finish within {SIMULATED_MS_MAX} simulated ms; \
                     transactions still waiting on: {}",
                    waiting.join(", ")
                ));
                break;
            }
            if self.handle(event) {
                break;
            }
        }
        if self.violations.is_empty() {
            self.final_checks();
        }
        crate::Report {
            seed: self.seed,
            history: self.history,
            simulated_ms: self.now_ms,
            faults: self.faults,
            violations: self.violations,
            trace_hash: self.trace.finish(),
            lagging_replicas: self.lagging,
        }
    }

    /// Handles one event; true when the run is over.
    fn handle(&mut self, event: Event) -> bool {
        match event {
            Event::Tick(n) => {
                "tick".hash(&mut self.trace);
                n.hash(&mut self.trace);
                let now_ms = self.now_ms;
                self.input(n, Input::Tick { now_ms });
                self.at(TICK_MS, Event::Tick(n));
            }
            Event::Sync(n) => {
                "sync".hash(&mut self.trace);
                n.hash(&mut self.trace);
                self.nodes[n].sync_scheduled = false;
                let synced = self.nodes[n].driver.as_mut().map(Driver::sync);
                match synced {
                    Some(Ok(())) => self.pump(n),
                    Some(Err(_)) => self.crash(n),
                    None => {}
                }
            }
            Event::Deliver { from, to, frame } => {
                "deliver".hash(&mut self.trace);
                (from, to).hash(&mut self.trace);
                frame.hash(&mut self.trace);
                self.input(to, Input::Peer { from, frame });
            }
            Event::Send { client, attempt } => {
                let current = self.clients[client].pending.as_ref().map(|p| p.attempt);
                if current == Some(attempt) {
                    self.send(client);
                }
            }
            Event::Reply(reply) => {
                "reply".hash(&mut self.trace);
                reply.hash(&mut self.trace);
                self.on_reply(reply);
            }
            Event::Timeout { client, attempt } => {
                let current = self.clients[client].pending.as_ref().map(|p| p.attempt);
                if current == Some(attempt) {
                    "timeout".hash(&mut self.trace);
                    client.hash(&mut self.trace);
                    self.retry(client, true);
                }
            }
            Event::Restart(n) => self.restart(n),
            Event::Heal => {
                "heal".hash(&mut self.trace);
                self.partitioned = None;
            }
            Event::Fault => self.fault(),
        }
        if self.end_ms.is_none()
            && self.finishing
            && self
                .clients
                .iter()
                .all(|c| c.pending.is_none() && c.left == 0)
        {
            self.end_ms = Some(self.now_ms + 50 * TICK_MS);
        }
        self.end_ms.is_some_and(|end| self.now_ms >= end)
    }

    fn input(&mut self, n: usize, input: Input) {
        let Some(driver) = self.nodes[n].driver.as_mut() else {
            return;
        };
        driver.submit(input);
        self.pump(n);
    }

    /// Carries out what node `n` has ready: its batches go to its disk (synced a little
    /// later), its frames to the network, its replies to their clients.
    fn pump(&mut self, n: usize) {
        let Some(driver) = self.nodes[n].driver.as_mut() else {
            return;
        };
        let pumped = driver.pump();
        let outbox = std::mem::take(driver.transport());
        match pumped {
            Ok(true) if !self.nodes[n].sync_scheduled => {
                self.nodes[n].sync_scheduled = true;
                self.at(SYNC_MS, Event::Sync(n));
            }
            Ok(_) => {}
            Err(_) => {
                self.crash(n);
                return;
            }
        }
        let from = self.nodes[n].id;
        for (to, frame) in outbox.frames {
            self.transmit(from, to, frame);
        }
        for reply in outbox.replies {
            if self.drawn(self.loss_per_mille) {
                self.faults.lost_frames += 1;
                continue;
            }
            let delay = self.rng.random_range(1..=self.delay_ms_max);
            self.at(delay, Event::Reply(reply));
        }
        for event in outbox.events {
            if let HostEvent::Corrupt { .. } = event {
                self.faults.corrupt_cells += 1;
            }
        }
    }

    fn drawn(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.rng.random_range(0..1000) < per_mille
    }

    fn transmit(&mut self, from: NodeId, to: NodeId, frame: Frame) {
        // Every frame crosses the network as bytes, in the encoding a real node sends, so
        // that the simulator runs the wire format too.
        let frame = match encode_frame(&frame).and_then(|bytes| decode_frame(&bytes)) {
            Ok(decoded) if decoded == frame => decoded,
            Ok(decoded) => {
                self.violations.push(format!(
                    "a frame changed on the wire: {frame:?} became {decoded:?}"
                ));
                return;
            }
            Err(e) => {
                self.violations
                    .push(format!("a frame does not cross the wire: {e}: {frame:?}"));
                return;
            }
        };
        if let Some(cut) = self.partitioned {
            if (from == cut) != (to == cut) {
                self.faults.partitioned_frames += 1;
                return;
            }
        }
        if self.drawn(self.loss_per_mille) {
            self.faults.lost_frames += 1;
            return;
        }
        let copies = if self.drawn(self.duplicate_per_mille) {
            self.faults.duplicated_frames += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.random_range(1..=self.delay_ms_max);
            let to_index = usize::from(to.0 - 1);
            self.at(
                delay,
                Event::Deliver {
                    from,
                    to: to_index,
                    frame: frame.clone(),
                },
            );
        }
    }

    fn fault(&mut self) {
        if self.finishing {
            return;
        }
        "fault".hash(&mut self.trace);
        let up: Vec<usize> = (0..self.nodes.len())
            .filter(|&n| self.nodes[n].driver.is_some())
            .collect();
        let all_up = up.len() == self.nodes.len() && self.partitioned.is_none();
        let choice = self.rng.random_range(0..10);
        // At most one node is down or cut off at a time, so that every cell keeps a quorum
        // most of the time and the run makes progress.
        if all_up && !up.is_empty() {
            let n = up[self.rng.random_range(0..up.len())];
            match choice {
                0..=3 => self.crash(n),
                4..=5 => {
                    self.faults.partitions += 1;
                    self.partitioned = Some(self.nodes[n].id);
                    let length = self.rng.random_range(100..1500);
                    self.at(length, Event::Heal);
                }
                6 => {
                    if let Some(driver) = self.nodes[n].driver.as_mut() {
                        self.faults.sync_failures += 1;
                        driver.storage().fail_next_sync();
                    }
                }
                _ => {}
            }
        }
        let next = self.rng.random_range(200..2000);
        self.at(next, Event::Fault);
    }

    fn crash(&mut self, n: usize) {
        let Some(driver) = self.nodes[n].driver.take() else {
            return;
        };
        "crash".hash(&mut self.trace);
        n.hash(&mut self.trace);
        self.faults.crashes += 1;
        let mut driver = driver;
        self.count_snapshots(driver.host().metrics());
        let mut disk = driver.into_storage();
        let before = disk.counts();
        disk.crash();
        let after = disk.counts();
        self.faults.lost_writes += after.lost_writes - before.lost_writes;
        self.faults.torn_writes += after.torn_writes - before.torn_writes;
        if self.options.faults && self.damaged.is_none_or(|d| d == n) && self.drawn(100) {
            self.damaged = Some(n);
            let bits = disk.len_bytes() * 8;
            if bits > 0 {
                let bit = self.rng.random_range(0..bits);
                disk.flip_bit(bit);
                self.faults.bit_flips += 1;
            }
        }
        self.nodes[n].disk = Some(disk);
        self.nodes[n].sync_scheduled = false;
        let down = self.rng.random_range(50..800);
        self.at(down, Event::Restart(n));
    }

    fn restart(&mut self, n: usize) {
        let Some(disk) = self.nodes[n].disk.take() else {
            return;
        };
        "restart".hash(&mut self.trace);
        n.hash(&mut self.trace);
        match Driver::start(
            host_config(self.nodes[n].id, self.seed),
            disk,
            Outbox::default(),
        ) {
            Ok(driver) => {
                self.nodes[n].driver = Some(driver);
                self.pump(n);
            }
            Err(_) => {
                self.faults.refused_restarts += 1;
                self.nodes[n].dead = true;
            }
        }
    }

    /// Starts client `c`'s next transaction after `delay_ms`, or the final reads once every
    /// other client is done.
    fn count_snapshots(&mut self, metrics: colony_node::host::HostMetrics) {
        self.faults.snapshots_taken += metrics.snapshots_taken;
        self.faults.snapshots_installed += metrics.snapshots_installed;
    }

    fn final_checks(&mut self) {
        for n in 0..self.nodes.len() {
            if let Some(driver) = self.nodes[n].driver.as_mut() {
                let metrics = driver.host().metrics();
                self.count_snapshots(metrics);
            }
        }
        // The replicas of each cell, on the nodes that are up, agree where they are applied
        // through the same slot.
        for cell in 0..self.options.cells {
            let cell = CellId(cell);
            let mut by_slot: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
            for node in &mut self.nodes {
                if let Some(driver) = node.driver.as_mut() {
                    if let Some((slot, digest)) = driver.host().cell_digest(cell) {
                        by_slot.entry(slot.0).or_default().insert(digest);
                        (cell, slot, digest).hash(&mut self.trace);
                    }
                }
            }
            let latest = by_slot.keys().next_back().copied();
            for (slot, digests) in &by_slot {
                if Some(*slot) != latest {
                    self.lagging += digests.len() as u64;
                }
            }
            for (slot, digests) in by_slot {
                if digests.len() > 1 {
                    self.violations.push(format!(
                        "{cell}: replicas applied through slot {slot} hold {} different states",
                        digests.len()
                    ));
                }
            }
        }
        let expected = self.options.cells * self.options.keys_per_cell;
        if self.violations.is_empty() && (self.finals.len() as u64) < expected {
            // Keys never written read as empty lists, and are in `finals` too.
            self.violations.push(format!(
                "the final reads returned {} of {expected} keys",
                self.finals.len()
            ));
        }
        let found = self.history.check(&self.finals);
        self.violations.extend(found);
        let found = self.history.check_counters(&self.counters);
        self.violations.extend(found);
    }
}
