//! The node loop: one task that owns the node's driver (its host and its write-ahead log) and
//! is the only code that touches them. On a machine it runs on a thread of its own, where its
//! syncs block nothing else; under a simulated network it is one more task of the simulation.
//!
//! Everything else (peer connections, client connections, the metrics endpoint) talks to it
//! through one bounded inbox. Each round the loop waits for an input or the next tick, takes
//! every input that has arrived since (up to [`INPUTS_PER_ROUND_MAX`]), gives them all to the
//! host, and flushes: one append and one `fdatasync` for everything the round wrote, then the
//! frames and replies that waited for it. Inputs that arrive during the sync wait in the inbox
//! and join the next round: group commit across connections as well as across cells.
//!
//! A failed sync ends the loop with the error; the server stops, and nothing written after
//! the last good sync was acknowledged.

use crate::metrics::Metrics;
use colony_core::cell::{CellId, CellState, Request};
use colony_core::group::NodeId;
use colony_core::multipaxos::Slot;
use colony_net::api::{
    CellRecord, CellStatus, Location, NodeStatus, TransactOutcome, DIRECTORY_CELL,
};
use colony_net::directory;
use colony_node::driver::{Driver, Transport};
use colony_node::host::{ClientReply, Event, Frame, HostConfig, Input, Outcome};
use colony_node::storage::{Storage, StorageError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};
// tokio's clock, not the system's: the same on a machine, and the simulation's in a simulation.
use tokio::time::Instant;

/// The most inputs waiting in the node loop's inbox. A peer frame that finds it full is
/// dropped (the protocol retransmits), a client request is refused as busy: memory stays
/// bounded however fast the network delivers.
pub const INBOX_MAX: usize = 65_536;

/// The most inputs one round takes before it flushes, so that a flood of inputs still gets
/// its writes synced and its replies sent at a steady pace.
pub const INPUTS_PER_ROUND_MAX: usize = 4096;

/// The most client requests waiting for their reply at once.
pub const PENDING_REQUESTS_MAX: usize = 65_536;

/// Where the rest of the server sends the node loop its commands.
pub type Inbox = mpsc::Sender<Command>;

/// What the rest of the server asks of the node loop.
pub enum Command {
    /// A frame from a peer.
    Peer {
        /// The sender.
        from: NodeId,
        /// The frame.
        frame: Frame,
    },
    /// A client's transaction.
    Transact {
        /// The cell.
        cell: CellId,
        /// The request.
        request: Request,
        /// Where the outcome goes.
        reply: oneshot::Sender<TransactOutcome>,
    },
    /// Make this node a member of a cell.
    Create {
        /// The cell.
        cell: CellId,
        /// Its members.
        members: Vec<NodeId>,
        /// Where the answer goes: `Ok` once the creation is durable.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Where a cell of this name lives.
    Locate {
        /// The name.
        name: String,
        /// Where the answer goes.
        reply: oneshot::Sender<Location>,
    },
    /// A page of the directory.
    ListDirectory {
        /// Start after this name.
        after: Option<String>,
        /// The most records.
        limit: usize,
        /// Where the answer goes (`None`: this node keeps no copy of the directory).
        reply: oneshot::Sender<Option<Vec<CellRecord>>>,
    },
    /// How this node sees a cell.
    CellStatus {
        /// The cell.
        cell: CellId,
        /// Where the answer goes.
        reply: oneshot::Sender<Option<CellStatus>>,
    },
    /// This node's status.
    Status {
        /// Where the answer goes.
        reply: oneshot::Sender<NodeStatus>,
    },
    /// Flush and stop.
    Shutdown,
}

/// A node's frames on their way to its peers, one bounded queue per peer and channel.
#[derive(Clone, Debug)]
pub struct PeerOutboxes {
    /// Votes, heartbeats and pings, by peer.
    pub votes: BTreeMap<NodeId, mpsc::Sender<Vec<u8>>>,
    /// Snapshots, by peer.
    pub bulk: BTreeMap<NodeId, mpsc::Sender<Vec<u8>>>,
}

/// How the loop is set up.
pub struct LoopConfig {
    /// The host's configuration.
    pub host: HostConfig,
    /// Every node of the cluster with its address.
    pub nodes: BTreeMap<NodeId, String>,
    /// Time between ticks.
    pub tick: Duration,
    /// Milliseconds since the Unix epoch: the clock a cell's sessions expire by
    /// ([`wall_clock_ms`] on a machine).
    pub wall_clock_ms: fn() -> u64,
}

/// The transport the driver carries the host's output to: frames to the peers' outboxes,
/// replies to the clients waiting for them, events to the log and to waiting creations.
struct LoopTransport {
    node: NodeId,
    outboxes: PeerOutboxes,
    pending: BTreeMap<(CellId, u64, u64), Vec<oneshot::Sender<TransactOutcome>>>,
    pending_len: usize,
    creating: BTreeMap<CellId, Vec<oneshot::Sender<Result<(), String>>>>,
    peers_down: BTreeSet<NodeId>,
    metrics: Arc<Metrics>,
}

impl Transport for LoopTransport {
    fn send(&mut self, to: NodeId, frame: Frame) {
        let bytes = match colony_node::wire::encode_frame(&frame) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(
                    node = self.node.0,
                    to = to.0,
                    "a frame does not encode: {e}"
                );
                return;
            }
        };
        let outboxes = match frame {
            Frame::Snapshot { .. } => &self.outboxes.bulk,
            _ => &self.outboxes.votes,
        };
        let Some(outbox) = outboxes.get(&to) else {
            tracing::warn!(
                to = to.0,
                "a frame for a node not in the cluster's list is dropped"
            );
            return;
        };
        match outbox.try_send(bytes) {
            Ok(()) => Metrics::add(&self.metrics.frames_sent, 1),
            // A full outbox means the peer is slow or unreachable: the frame is lost, as on a
            // network, and the protocol sends again what matters.
            Err(_) => Metrics::add(&self.metrics.frames_dropped, 1),
        }
    }

    fn reply(&mut self, reply: ClientReply) {
        let key = (reply.cell, reply.client.0, reply.sequence);
        let Some(waiting) = self.pending.remove(&key) else {
            return;
        };
        self.pending_len -= waiting.len();
        let outcome = transact_outcome(reply.outcome);
        for sender in waiting {
            let _ = sender.send(outcome.clone());
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Created(cell) => {
                tracing::info!("{cell} created");
                for sender in self.creating.remove(&cell).unwrap_or_default() {
                    let _ = sender.send(Ok(()));
                }
            }
            Event::CreateRefused { cell, reason } => {
                tracing::warn!("{cell} not created: {reason}");
                for sender in self.creating.remove(&cell).unwrap_or_default() {
                    let _ = sender.send(Err(reason.clone()));
                }
            }
            Event::Corrupt { cell, reason } => {
                tracing::error!("{cell} is corrupt on this node and refuses to serve: {reason}");
            }
            Event::PeerDown(peer) => {
                tracing::warn!(peer = peer.0, "node {} is not heard from", peer.0);
                self.peers_down.insert(peer);
            }
            Event::PeerUp(peer) => {
                tracing::info!(peer = peer.0, "node {} is heard from again", peer.0);
                self.peers_down.remove(&peer);
            }
        }
    }
}

fn transact_outcome(outcome: Outcome) -> TransactOutcome {
    match outcome {
        Outcome::Reply(reply) => TransactOutcome::Reply(reply),
        Outcome::NotLeader { leader } => TransactOutcome::NotLeader { leader },
        Outcome::Refused { reason } => TransactOutcome::Refused(reason),
        Outcome::Unknown { reason } => TransactOutcome::Unknown(reason),
    }
}

/// The node loop's state beside the driver.
struct NodeLoop<S: Storage> {
    driver: Driver<S, LoopTransport>,
    config: LoopConfig,
    started: Instant,
    /// A copy of the directory cell's state, and the slot it was read at.
    directory: Option<(Slot, Arc<CellState>)>,
    /// Creations of cells that existed already: answered once the round's flush is done.
    created_before: Vec<oneshot::Sender<Result<(), String>>>,
    metrics: Arc<Metrics>,
}

/// Runs the node loop until [`Command::Shutdown`] or until every sender of the inbox is gone;
/// returns the error that stopped it, if one did. Its syncs block the thread it runs on.
pub async fn run<S: Storage>(
    storage: S,
    config: LoopConfig,
    outboxes: PeerOutboxes,
    inbox: mpsc::Receiver<Command>,
    metrics: Arc<Metrics>,
) -> Result<(), StorageError> {
    let node = config.host.node;
    let transport = LoopTransport {
        node,
        outboxes,
        pending: BTreeMap::new(),
        pending_len: 0,
        creating: BTreeMap::new(),
        peers_down: BTreeSet::new(),
        metrics: metrics.clone(),
    };
    let driver = Driver::start(config.host.clone(), storage, transport)?;
    let mut node_loop = NodeLoop {
        driver,
        config,
        started: Instant::now(),
        directory: None,
        created_before: Vec::new(),
        metrics,
    };
    node_loop.bootstrap_directory();
    node_loop.run(inbox).await
}

impl<S: Storage> NodeLoop<S> {
    /// The first nodes of the cluster hold the directory cell; creating it again is a no-op.
    fn bootstrap_directory(&mut self) {
        let members = directory::directory_members(self.config.nodes.keys().copied());
        if members.contains(&self.config.host.node) {
            self.driver.submit(Input::CreateCell {
                cell: DIRECTORY_CELL,
                members,
            });
        }
    }

    async fn run(&mut self, mut inbox: mpsc::Receiver<Command>) -> Result<(), StorageError> {
        // The host's clock reads 0 until its first tick, and a command proposed then would be
        // stamped 0: a session it opened would look idle since 1970 to the next command and
        // expire at once. So the clock is set before anything else is taken.
        self.driver.submit(Input::Tick {
            now_ms: (self.config.wall_clock_ms)(),
        });
        let mut next_tick = Instant::now() + self.config.tick;
        loop {
            let mut stop = false;
            // Biased: the branches are polled in order, so that a simulation's run does not
            // depend on tokio's random choice between two ready branches.
            tokio::select! {
                biased;
                command = inbox.recv() => match command {
                    Some(command) => stop |= self.handle(command),
                    None => stop = true,
                },
                () = tokio::time::sleep_until(next_tick) => {}
            }
            for _ in 1..INPUTS_PER_ROUND_MAX {
                if stop {
                    break;
                }
                match inbox.try_recv() {
                    Ok(command) => stop |= self.handle(command),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                self.driver.submit(Input::Tick {
                    now_ms: (self.config.wall_clock_ms)(),
                });
                // A loop that fell behind (a long sync) ticks once, not once per missed tick.
                next_tick = (next_tick + self.config.tick).max(now);
                self.forget_abandoned();
            }
            let started = Instant::now();
            self.driver.flush()?;
            self.metrics.flush_seconds.observe(started.elapsed());
            for sender in self.created_before.drain(..) {
                let _ = sender.send(Ok(()));
            }
            self.publish_metrics();
            if stop {
                tracing::info!("the node loop stopped; everything acknowledged is durable");
                return Ok(());
            }
        }
    }

    /// Takes one command; returns whether the loop must stop after this round.
    fn handle(&mut self, command: Command) -> bool {
        match command {
            Command::Peer { from, frame } => self.driver.submit(Input::Peer { from, frame }),
            Command::Transact {
                cell,
                request,
                reply,
            } => self.transact(cell, request, reply),
            Command::Create {
                cell,
                members,
                reply,
            } => {
                if self.driver.host().cell_members(cell).as_ref() == Some(&members) {
                    self.created_before.push(reply);
                } else {
                    let transport = self.driver.transport();
                    transport.creating.entry(cell).or_default().push(reply);
                    self.driver.submit(Input::CreateCell { cell, members });
                }
            }
            Command::Locate { name, reply } => {
                let location = match self.directory_copy() {
                    None => Location::AskDirectory(directory::directory_members(
                        self.config.nodes.keys().copied(),
                    )),
                    Some(state) => match directory::lookup_name(state.machine(), &name) {
                        Some(record) => Location::Found(record),
                        None => Location::NotFound,
                    },
                };
                let _ = reply.send(location);
            }
            Command::ListDirectory {
                after,
                limit,
                reply,
            } => {
                let page = self
                    .directory_copy()
                    .map(|state| directory::records(state.machine(), after.as_deref(), limit));
                let _ = reply.send(page);
            }
            Command::CellStatus { cell, reply } => {
                let status = self.driver.host().cell_summary(cell).map(|s| CellStatus {
                    cell: s.cell,
                    members: s.members,
                    applied: s.applied,
                    active: s.active,
                    corrupt: s.corrupt,
                });
                let _ = reply.send(status);
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::Shutdown => return true,
        }
        false
    }

    fn transact(
        &mut self,
        cell: CellId,
        request: Request,
        reply: oneshot::Sender<TransactOutcome>,
    ) {
        Metrics::add(&self.metrics.requests, 1);
        if !self.driver.host().has_cell(cell) {
            // Not a member: say where the cell lives, if this node's directory copy knows.
            let members = self
                .directory_copy()
                .and_then(|state| directory::lookup_id(state.machine(), cell))
                .map(|record| record.members);
            let _ = reply.send(TransactOutcome::NotHosted { members });
            return;
        }
        let transport = self.driver.transport();
        if transport.pending_len >= PENDING_REQUESTS_MAX {
            let _ = reply.send(TransactOutcome::Refused(format!(
                "the node is busy: {PENDING_REQUESTS_MAX} requests wait for their replies"
            )));
            return;
        }
        let key = (cell, request.client.0, request.sequence);
        transport.pending.entry(key).or_default().push(reply);
        transport.pending_len += 1;
        self.driver.submit(Input::Client { cell, request });
    }

    /// Drops the reply slots of clients that gave up waiting, so that they cost nothing.
    fn forget_abandoned(&mut self) {
        let transport = self.driver.transport();
        let mut len = 0;
        transport.pending.retain(|_, waiting| {
            waiting.retain(|sender| !sender.is_closed());
            len += waiting.len();
            !waiting.is_empty()
        });
        transport.pending_len = len;
        transport.creating.retain(|_, waiting| {
            waiting.retain(|sender| !sender.is_closed());
            !waiting.is_empty()
        });
    }

    /// This node's copy of the directory's state, refreshed when the cell applied more.
    fn directory_copy(&mut self) -> Option<Arc<CellState>> {
        let applied = self.driver.host().cell_summary(DIRECTORY_CELL)?.applied;
        match &self.directory {
            Some((slot, state)) if *slot == applied => Some(state.clone()),
            _ => {
                let (slot, state) = self.driver.host().cell_state(DIRECTORY_CELL)?;
                let state = Arc::new(state);
                self.directory = Some((slot, state.clone()));
                Some(state)
            }
        }
    }

    fn status(&mut self) -> NodeStatus {
        let metrics = self.driver.host().metrics();
        let node = self.config.host.node;
        let down = &self.driver.transport().peers_down;
        NodeStatus {
            node,
            nodes: self
                .config
                .nodes
                .iter()
                .map(|(id, addr)| (*id, addr.clone()))
                .collect(),
            peers_up: self
                .config
                .nodes
                .keys()
                .filter(|id| **id != node && !down.contains(id))
                .copied()
                .collect(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            cells: metrics.cells as u64,
            active: metrics.active as u64,
            corrupt: metrics.corrupt as u64,
            batches: metrics.batches,
            uptime_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    fn publish_metrics(&mut self) {
        let host = self.driver.host().metrics();
        let m = &self.metrics;
        Metrics::set(&m.cells, host.cells as u64);
        Metrics::set(&m.cells_active, host.active as u64);
        Metrics::set(&m.cells_ticking, host.ticking as u64);
        Metrics::set(&m.cells_corrupt, host.corrupt as u64);
        Metrics::set(&m.batches, host.batches);
        Metrics::set(&m.writes, host.writes);
        Metrics::set(&m.snapshots_taken, host.snapshots_taken);
        Metrics::set(&m.snapshots_installed, host.snapshots_installed);
        Metrics::set(&m.pending, self.driver.transport().pending_len as u64);
    }
}

/// Milliseconds since the Unix epoch by the system's clock: the clock a cell's sessions expire
/// by. A clock set before 1970 reads 0; the cell's own clock never goes back, whatever the
/// nodes' clocks do.
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Why the node loop did not take a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotTaken {
    /// Its inbox is full.
    #[error("the node is busy (its inbox is full): retry")]
    Busy,
    /// It has stopped: the server is shutting down, or its storage failed.
    #[error("the node is shutting down")]
    Stopped,
}

/// Sends `command` to the loop without waiting.
pub fn offer(inbox: &Inbox, command: Command) -> Result<(), NotTaken> {
    inbox.try_send(command).map_err(|e| match e {
        TrySendError::Full(_) => NotTaken::Busy,
        TrySendError::Closed(_) => NotTaken::Stopped,
    })
}
