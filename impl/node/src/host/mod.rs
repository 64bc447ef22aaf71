//! The host: one node's share of many cells, as a deterministic state machine that does no I/O.
//!
//! As the core does for one replica, the host takes one [`Input`] at a time (a peer's frame, a
//! client's request, a tick, a batch made durable, a cell created) and keeps what the caller
//! must do until it asks ([`Host::ready`]). The same inputs always give the same outputs, so
//! the simulator runs the very host a server runs, and replays it from a seed.
//!
//! **Many cells.** Every cell the node is a member of has a compact record: its members, its
//! hard state, its votes above its last applied slot (none, once the cell is quiescent), and
//! its state machine encoded as bytes. A full [`Replica`] and a decoded state machine exist only
//! while the cell is active, for at most [`HostConfig::active_cells_max`] cells; the least
//! recently used is turned back into a record when one more is needed. A cell that has had
//! nothing to do for [`HostConfig::quiet_ticks`] and has nothing in flight is quiescent: it is
//! not ticked, so it has no timer and sends nothing, until a frame or a request wakes it.
//!
//! **Failure detection** between nodes is one ping per node pair ([`Frame::Ping`]), however
//! many cells they share.
//!
//! **Time.** The host's clock is what its last [`Input::Tick`] said, and it stamps every
//! command it proposes with it, for the cells' sessions to expire by. A caller on a real clock
//! gives it a tick before anything else; a command proposed before the first tick is stamped 0.
//!
//! **Durability.** Every write a step asks for goes into the open batch. Messages, replies and
//! the snapshot notifications a step produces wait, in the host, for the batch that held the
//! step's writes (or, for a step that wrote nothing, the last batch that wrote anything) to be
//! durable; [`Ready`] hands out only what may go now. So the caller never has to reason about
//! dependencies: it makes each batch durable, says so, and sends what it is given.

mod cells;
mod gate;
mod peers;

pub use cells::CellSummary;

use crate::storage::{Recovered, Write};
use crate::CellId;
use cells::Cells;
use colony_core::cell::{ClientId, Reply, Request};
use colony_core::group::NodeId;
use colony_core::multipaxos::{Message, Slot};
use gate::{Gate, Gated};
use peers::Peers;
use std::sync::Arc;

/// A host's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// This node.
    pub node: NodeId,
    /// The most cells active at once (with a full replica and a decoded state machine).
    pub active_cells_max: usize,
    /// Ticks with nothing to do after which an active cell with nothing in flight stops being
    /// ticked. Above a replica's `election_ticks`, so that a follower goes quiet only after its
    /// leader has had time to.
    pub quiet_ticks: u32,
    /// Ticks between two pings to each peer node.
    pub ping_ticks: u32,
    /// Ticks without a frame from a peer after which it is reported down.
    pub peer_timeout_ticks: u32,
    /// Draws each cell's election timeout, so that the members of a cell rarely time out at
    /// once.
    pub seed: u64,
    /// Decided slots beyond a cell's last snapshot after which its replica asks for a new one
    /// (the replica's `snapshot_interval_slots`).
    pub snapshot_interval_slots: u64,
}

impl HostConfig {
    /// A configuration with the default bounds and timers.
    pub fn new(node: NodeId, seed: u64) -> HostConfig {
        HostConfig {
            node,
            active_cells_max: 4096,
            quiet_ticks: 40,
            ping_ticks: 5,
            peer_timeout_ticks: 30,
            seed,
            snapshot_interval_slots: 1024,
        }
    }
}

/// What one node sends another: a cell's message, a snapshot, or a ping.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Frame {
    /// A protocol message of one cell.
    Cell {
        /// The cell.
        cell: CellId,
        /// The message.
        message: Message,
    },
    /// A snapshot of a cell's state machine, for a member that lags behind it.
    Snapshot {
        /// The cell.
        cell: CellId,
        /// The last slot it covers.
        last_slot: Slot,
        /// The encoded state machine.
        state: Arc<[u8]>,
    },
    /// The sender is alive: failure detection between nodes, one for all their cells.
    Ping,
}

/// One input to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Create a cell this node is a member of (the control plane asks each member). Creating a
    /// cell that exists with the same members does nothing.
    CreateCell {
        /// The cell.
        cell: CellId,
        /// Its members, this node among them.
        members: Vec<NodeId>,
    },
    /// A frame from a peer node.
    Peer {
        /// The sender.
        from: NodeId,
        /// The frame.
        frame: Frame,
    },
    /// A client's request for a cell.
    Client {
        /// The cell.
        cell: CellId,
        /// The request.
        request: Request,
    },
    /// Time passed: one tick, and the node's clock now reads `now_ms`.
    Tick {
        /// The clock, in milliseconds.
        now_ms: u64,
    },
    /// Every batch up to `batch` is durable.
    Durable {
        /// The last durable batch.
        batch: u64,
    },
}

/// What a client is told.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The cell applied the request (or had, and this is the remembered reply).
    Reply(Reply),
    /// This node does not lead the cell: try `leader`, or another member if `None`.
    NotLeader {
        /// The leader, as far as this node knows.
        leader: Option<NodeId>,
    },
    /// The request was not taken and may be sent again: the cell is unknown here, corrupt here,
    /// busy, or the request is malformed. The text says which.
    Refused {
        /// Why.
        reason: String,
    },
    /// The request was taken but this node will not learn its fate (it gave the cell's replica
    /// up to make room, or its leadership passed): it may or may not be applied. Retry under
    /// the same sequence number: the cell's session answers a retry of an applied request with
    /// its first reply.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A reply to a client's request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientReply {
    /// The cell.
    pub cell: CellId,
    /// The client.
    pub client: ClientId,
    /// The request's sequence number.
    pub sequence: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// Something an operator wants to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A cell was created and its creation is durable.
    Created(CellId),
    /// A cell was not created: the text says why (bad members, a reserved id, or a cell of
    /// that id with other members).
    CreateRefused {
        /// The cell.
        cell: CellId,
        /// Why.
        reason: String,
    },
    /// A cell's durable state is damaged: it refuses to serve on this node.
    Corrupt {
        /// The cell.
        cell: CellId,
        /// What recovery found.
        reason: String,
    },
    /// A peer node has not been heard from for `peer_timeout_ticks`.
    PeerDown(NodeId),
    /// A peer node reported down is heard from again.
    PeerUp(NodeId),
}

/// A batch of writes to make durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Its number: batches are numbered 1, 2, 3... and must be made durable in this order.
    pub id: u64,
    /// The writes, of any number of cells.
    pub writes: Vec<Write>,
}

/// What the caller must do, **in this order**:
///
/// 1. Make each batch of `batches` durable, in order ([`crate::storage::Storage::append`],
///    then [`crate::storage::Storage::sync`], which may cover several batches at once), and
///    then give the host [`Input::Durable`] with the last one. A failed sync stops the node.
/// 2. Send `messages` and `replies`, in any order, at once: they depend on nothing that is not
///    durable yet (the host held them until it was). They may be lost, duplicated or
///    reordered; the protocol and the clients' retries tolerate it.
/// 3. Report `events`.
#[must_use = "the caller must persist the batches, then send what the host gives"]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// Batches of writes to make durable, oldest first.
    pub batches: Vec<Batch>,
    /// Frames to send now, each to its node.
    pub messages: Vec<(NodeId, Frame)>,
    /// Replies to send now.
    pub replies: Vec<ClientReply>,
    /// Events to report.
    pub events: Vec<Event>,
}

impl Ready {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
            && self.messages.is_empty()
            && self.replies.is_empty()
            && self.events.is_empty()
    }
}

/// Counts a host keeps, for metrics and for the simulator's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostMetrics {
    /// Cells this node holds.
    pub cells: usize,
    /// Of which active.
    pub active: usize,
    /// Of which ticked (active and not quiescent).
    pub ticking: usize,
    /// Of which corrupt.
    pub corrupt: usize,
    /// Messages, replies and notifications waiting for a batch to be durable.
    pub held: usize,
    /// Replicas turned back into records to make room.
    pub evictions: u64,
    /// Batches handed out.
    pub batches: u64,
    /// Writes handed out.
    pub writes: u64,
    /// Commands in the log that did not decode (each replica skips the same ones).
    pub undecodable_commands: u64,
    /// Snapshots from peers that did not decode (dropped; the replica asks again).
    pub undecodable_snapshots: u64,
    /// Snapshots of a cell's state machine this node took.
    pub snapshots_taken: u64,
    /// Snapshots from peers this node installed.
    pub snapshots_installed: u64,
}

/// The host. See the module's documentation.
#[derive(Debug)]
pub struct Host {
    config: HostConfig,
    now_ms: u64,
    tick: u64,
    cells: Cells,
    gate: Gate,
    peers: Peers,
    out: Ready,
    metrics: HostMetrics,
}

impl Host {
    /// A host starting from what its storage recovered.
    pub fn new(config: HostConfig, recovered: Recovered) -> Host {
        let mut host = Host {
            cells: Cells::new(&config),
            peers: Peers::default(),
            gate: Gate::default(),
            now_ms: 0,
            tick: 0,
            out: Ready::default(),
            metrics: HostMetrics::default(),
            config,
        };
        for (cell, corruption) in recovered.corrupt {
            host.out.events.push(Event::Corrupt {
                cell,
                reason: corruption.to_string(),
            });
            host.cells.insert_corrupt(cell, corruption.to_string());
        }
        for (cell, image) in recovered.cells {
            if let Err(reason) = host.cells.insert_recovered(cell, &image, &mut host.metrics) {
                host.out.events.push(Event::Corrupt {
                    cell,
                    reason: reason.clone(),
                });
                host.cells.insert_corrupt(cell, reason);
            }
            for member in &image.members {
                host.peers.add(*member, host.config.node, host.tick);
            }
        }
        host
    }

    /// This host's configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Takes one input. What it leads to is collected until [`Host::ready`].
    pub fn step(&mut self, input: Input) {
        match input {
            Input::CreateCell { cell, members } => self.on_create(cell, members),
            Input::Peer { from, frame } => {
                if let Some(event) = self.peers.heard(from, self.tick) {
                    self.out.events.push(event);
                }
                self.on_frame(from, frame);
            }
            Input::Client { cell, request } => self.on_client(cell, request),
            Input::Tick { now_ms } => self.on_tick(now_ms),
            Input::Durable { batch } => {
                let released = self.gate.durable(batch);
                self.release(released);
            }
        }
    }

    /// What the caller must do now (see [`Ready`]). The open batch, if it holds anything, is
    /// closed and handed out.
    pub fn ready(&mut self) -> Ready {
        for (id, writes) in self.gate.close_batches() {
            self.metrics.batches += 1;
            self.metrics.writes += writes.len() as u64;
            self.out.batches.push(Batch { id, writes });
        }
        std::mem::take(&mut self.out)
    }

    /// The cells of this node, in id order.
    pub fn cells(&self) -> impl Iterator<Item = CellSummary> + '_ {
        self.cells.summaries()
    }

    /// The host's counts.
    pub fn metrics(&self) -> HostMetrics {
        HostMetrics {
            cells: self.cells.len(),
            active: self.cells.active_len(),
            ticking: self.cells.ticking_len(),
            corrupt: self.cells.corrupt_len(),
            held: self.gate.held_len(),
            evictions: self.cells.evictions(),
            ..self.metrics
        }
    }

    /// Whether this node holds the cell (sound or corrupt): a cheap check for every request.
    pub fn has_cell(&self, cell: CellId) -> bool {
        self.cells.contains(cell)
    }

    /// One cell as this node sees it; `None` for a cell unknown here.
    pub fn cell_summary(&self, cell: CellId) -> Option<CellSummary> {
        self.cells.summary(cell)
    }

    /// A cell's members; `None` for a cell unknown or corrupt here.
    pub fn cell_members(&self, cell: CellId) -> Option<Vec<NodeId>> {
        self.cells.members(cell)
    }

    /// The digest of a cell's state machine and the slot it is applied through, for checks
    /// that replicas agree. `None` for a cell unknown or corrupt here.
    pub fn cell_digest(&mut self, cell: CellId) -> Option<(Slot, u64)> {
        self.cells.digest(cell)
    }

    /// A copy of a cell's state machine and the slot it is applied through, for checks.
    pub fn cell_state(&self, cell: CellId) -> Option<(Slot, colony_core::cell::CellState)> {
        self.cells.state(cell)
    }

    fn on_create(&mut self, cell: CellId, members: Vec<NodeId>) {
        let refused = |reason: String| Event::CreateRefused { cell, reason };
        if cell == CellId::RESERVED {
            let reason = format!("{cell} is reserved for the log's own records");
            self.out.events.push(refused(reason));
            return;
        }
        if let Err(e) = colony_core::group::check_members(self.config.node, &members) {
            self.out.events.push(refused(format!("bad members: {e}")));
            return;
        }
        match self.cells.members(cell) {
            Some(existing) if existing == members => return, // Created before: nothing to do.
            Some(existing) => {
                let reason = format!("it exists with other members: {existing:?}");
                self.out.events.push(refused(reason));
                return;
            }
            None if self.cells.is_corrupt(cell) => {
                let reason = "it exists here and is corrupt".to_string();
                self.out.events.push(refused(reason));
                return;
            }
            None => {}
        }
        self.cells.create(cell, &members);
        for member in &members {
            self.peers.add(*member, self.config.node, self.tick);
        }
        self.gate.write(Write::Cell { cell, members });
        let gated = Gated::Event(Event::Created(cell));
        self.gate_or_release(gated);
    }

    fn on_frame(&mut self, from: NodeId, frame: Frame) {
        let effects = match frame {
            Frame::Ping => return,
            Frame::Cell { cell, message } => {
                self.cells
                    .on_message(cell, from, message, &mut self.metrics)
            }
            Frame::Snapshot {
                cell,
                last_slot,
                state,
            } => self
                .cells
                .on_snapshot(cell, last_slot, state, &mut self.metrics),
        };
        self.carry_out(effects);
    }

    fn on_client(&mut self, cell: CellId, request: Request) {
        let effects = self
            .cells
            .on_client(cell, request, self.now_ms, &mut self.metrics);
        self.carry_out(effects);
    }

    fn on_tick(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        self.tick += 1;
        if self
            .tick
            .is_multiple_of(u64::from(self.config.ping_ticks.max(1)))
        {
            for peer in self.peers.all() {
                self.out.messages.push((peer, Frame::Ping));
            }
        }
        for event in self.peers.check(self.tick, self.config.peer_timeout_ticks) {
            self.out.events.push(event);
        }
        let effects = self.cells.tick(&mut self.metrics);
        self.carry_out(effects);
    }

    /// Puts the writes of `effects` in the open batch and its messages, replies and
    /// notifications behind it, and hands out what may go at once.
    fn carry_out(&mut self, effects: cells::Effects) {
        let now = self.absorb(effects);
        self.release(now);
    }

    /// Puts the writes of `effects` in the open batch and the rest behind it; returns what
    /// depends on nothing that is not durable yet.
    fn absorb(&mut self, effects: cells::Effects) -> Vec<Gated> {
        for write in effects.writes {
            self.gate.write(write);
        }
        effects
            .gated
            .into_iter()
            .filter_map(|gated| self.gate.hold(gated))
            .collect()
    }

    fn gate_or_release(&mut self, gated: Gated) {
        if let Some(now) = self.gate.hold(gated) {
            self.release(vec![now]);
        }
    }

    /// Hands out what may go. A frame to this node itself is delivered here, and what it leads
    /// to may go at once too: the work list is bounded by the protocol (each delivery answers
    /// a change of state), and the bound is checked.
    fn release(&mut self, released: Vec<Gated>) {
        let mut work: std::collections::VecDeque<Gated> = released.into();
        let mut steps = 0usize;
        while let Some(gated) = work.pop_front() {
            steps += 1;
            assert!(
                steps <= crate::limits::LOCAL_DELIVERIES_MAX,
                "a release loops: {steps} local deliveries"
            );
            let effects = match gated {
                Gated::Send(to, Frame::Cell { cell, message }) if to == self.config.node => {
                    self.cells.on_message(cell, to, message, &mut self.metrics)
                }
                Gated::Send(to, _) if to == self.config.node => continue,
                Gated::Send(to, frame) => {
                    self.out.messages.push((to, frame));
                    continue;
                }
                Gated::Reply(reply) => {
                    self.out.replies.push(reply);
                    continue;
                }
                Gated::Event(event) => {
                    self.out.events.push(event);
                    continue;
                }
                Gated::Snapshotted {
                    cell,
                    last_slot,
                    state,
                    generation,
                } => {
                    self.cells
                        .on_snapshotted(cell, last_slot, state, generation, &mut self.metrics)
                }
            };
            work.extend(self.absorb(effects));
        }
    }
}
