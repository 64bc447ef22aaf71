//! The cells of a host: a compact record for every cell, a full replica and state machine for
//! the few active ones, and what moves a cell between the two.

use super::gate::Gated;
use super::{ClientReply, Frame, HostConfig, HostMetrics, Outcome};
use crate::storage::{CellImage, Write};
use crate::CellId;
use arrayvec::ArrayVec;
use colony_core::cell::{decode_command, decode_state, encode_command, encode_state, CellState};
use colony_core::cell::{ClientId, Command as CellCommand, Request};
use colony_core::group::{NodeId, MEMBERS_MAX};
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, Envelope, HardState, Input, Message, ProposeError, Ready,
    Replica, Runtime, Slot, SnapshotTransfer, Vote,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a step of one cell asks of the host: writes for the open batch, and what waits for it.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) writes: Vec<Write>,
    pub(crate) gated: Vec<Gated>,
}

impl Effects {
    fn reply(&mut self, cell: CellId, request: &Request, outcome: Outcome) {
        self.gated.push(Gated::Reply(ClientReply {
            cell,
            client: request.client,
            sequence: request.sequence,
            outcome,
        }));
    }
}

/// An idle cell: what its replica and state machine are rebuilt from. Kept small (about 70
/// bytes and the encoded state), since a node holds a million of them.
#[derive(Debug)]
struct Record {
    members: ArrayVec<NodeId, MEMBERS_MAX>,
    hard_state: HardState,
    /// The last slot applied to the state machine: the state below is a snapshot through it.
    applied: Slot,
    /// The state machine through `applied`, encoded.
    state: Box<[u8]>,
    /// The votes above `applied`, by slot (none, for a quiescent cell: an empty slice takes
    /// no allocation).
    votes: Box<[(Slot, Vote)]>,
}

/// An active cell.
#[derive(Debug)]
struct Active {
    replica: Replica,
    state: CellState,
    applied: Slot,
    /// The snapshot the replica's log starts after, to send a peer that lags behind it.
    snapshot: (Slot, Arc<[u8]>),
    /// Ticks since the cell last had something to do.
    idle_ticks: u32,
    /// Which activation this is: a snapshot made durable for an earlier one is not this one's.
    generation: u64,
    /// When it was last used, for the least-recently-used order.
    used: u64,
    /// The requests this node took for the cell and will answer: client to sequence.
    waiters: BTreeMap<ClientId, u64>,
}

/// A summary of one cell, to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellSummary {
    /// The cell.
    pub cell: CellId,
    /// Its members.
    pub members: Vec<NodeId>,
    /// Whether its replica is in memory.
    pub active: bool,
    /// Whether it is ticked (active and not quiescent).
    pub ticking: bool,
    /// The last slot applied here.
    pub applied: Slot,
    /// Why it refuses to serve here, when it does.
    pub corrupt: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Cells {
    config: HostConfig,
    records: BTreeMap<CellId, Record>,
    active: BTreeMap<CellId, Active>,
    /// Active cells by when they were last used, oldest first.
    lru: BTreeMap<u64, CellId>,
    ticking: BTreeSet<CellId>,
    corrupt: BTreeMap<CellId, String>,
    uses: u64,
    generations: u64,
    evictions: u64,
}

/// A cell's election timeout, drawn from the seed, the cell and the node, so that the members
/// of a cell rarely time out together and a rerun draws the same.
fn election_ticks(seed: u64, cell: CellId, node: NodeId) -> u32 {
    let mut z = seed ^ cell.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(node.0) << 56;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    10 + ((z ^ (z >> 31)) % 10) as u32
}

fn empty_state() -> Box<[u8]> {
    encode_state(&CellState::new())
        .expect("an empty cell encodes")
        .into_boxed_slice()
}

impl Cells {
    pub(crate) fn new(config: &HostConfig) -> Cells {
        Cells {
            config: config.clone(),
            records: BTreeMap::new(),
            active: BTreeMap::new(),
            lru: BTreeMap::new(),
            ticking: BTreeSet::new(),
            corrupt: BTreeMap::new(),
            uses: 0,
            generations: 0,
            evictions: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len() + self.corrupt.len()
    }

    pub(crate) fn active_len(&self) -> usize {
        self.active.len()
    }

    pub(crate) fn ticking_len(&self) -> usize {
        self.ticking.len()
    }

    pub(crate) fn evictions(&self) -> u64 {
        self.evictions
    }

    pub(crate) fn corrupt_len(&self) -> usize {
        self.corrupt.len()
    }

    /// The members of a cell held here (corrupt cells excepted).
    pub(crate) fn members(&self, cell: CellId) -> Option<Vec<NodeId>> {
        self.records
            .get(&cell)
            .map(|record| record.members.to_vec())
    }

    pub(crate) fn is_corrupt(&self, cell: CellId) -> bool {
        self.corrupt.contains_key(&cell)
    }

    /// Whether this node holds the cell, sound or corrupt.
    pub(crate) fn contains(&self, cell: CellId) -> bool {
        self.records.contains_key(&cell) || self.corrupt.contains_key(&cell)
    }

    /// A new cell; false when it exists already.
    pub(crate) fn create(&mut self, cell: CellId, members: &[NodeId]) -> bool {
        if self.records.contains_key(&cell) || self.corrupt.contains_key(&cell) {
            return false;
        }
        self.records.insert(
            cell,
            Record {
                members: members.iter().copied().collect(),
                hard_state: HardState::default(),
                applied: Slot(0),
                state: empty_state(),
                votes: Box::new([]),
            },
        );
        true
    }

    pub(crate) fn insert_corrupt(&mut self, cell: CellId, reason: String) {
        self.records.remove(&cell);
        self.active.retain(|c, _| *c != cell);
        self.ticking.remove(&cell);
        self.corrupt.insert(cell, reason);
    }

    /// A cell as storage recovered it: its snapshot, with its decided log applied on top.
    pub(crate) fn insert_recovered(
        &mut self,
        cell: CellId,
        image: &CellImage,
        metrics: &mut HostMetrics,
    ) -> Result<(), String> {
        let mut state = match &image.snapshot_state {
            Some(bytes) => decode_state(bytes)
                .map_err(|e| format!("{cell}: its snapshot does not decode: {e}"))?,
            None if image.snapshot_slot == Slot(0) => CellState::new(),
            None => {
                return Err(format!(
                    "{cell}: its snapshot through {} is missing",
                    image.snapshot_slot
                ))
            }
        };
        let durable = image.durable();
        let mut applied = image.snapshot_slot;
        for entry in &durable.decided {
            apply_entry(&mut state, entry, metrics, |_, _| {});
            applied = applied.next();
        }
        let votes: Box<[(Slot, Vote)]> = image
            .votes
            .range(applied.next()..)
            .map(|(s, v)| (*s, v.clone()))
            .collect();
        let encoded =
            encode_state(&state).map_err(|e| format!("{cell}: its state does not encode: {e}"))?;
        self.records.insert(
            cell,
            Record {
                members: image.members.iter().copied().collect(),
                hard_state: image.hard_state.clone(),
                applied,
                state: encoded.into_boxed_slice(),
                votes,
            },
        );
        Ok(())
    }

    /// The cell's replica and state machine, made active if it was not; `None` for a cell
    /// unknown or corrupt here. Activating one more than the bound turns the least recently
    /// used other back into a record.
    fn activate(&mut self, cell: CellId, effects: &mut Effects) -> Option<&mut Active> {
        self.uses += 1;
        let used = self.uses;
        if let Some(active) = self.active.get_mut(&cell) {
            self.lru.remove(&active.used);
            active.used = used;
            self.lru.insert(used, cell);
            return self.active.get_mut(&cell);
        }
        let record = self.records.get(&cell)?;
        let config = Config {
            election_ticks: election_ticks(self.config.seed, cell, self.config.node),
            snapshot_interval_slots: self.config.snapshot_interval_slots,
            ..Config::new(self.config.node, record.members.to_vec())
        };
        let applied = record.applied;
        let durable = Durable {
            hard_state: record.hard_state.clone(),
            votes: record.votes.iter().cloned().collect(),
            snapshot_slot: applied,
            decided: Vec::new(),
        };
        let snapshot: Arc<[u8]> = Arc::from(&record.state[..]);
        let built = Replica::new(config, durable)
            .map_err(|e| format!("{cell}: its replica does not start: {e}"))
            .and_then(|replica| {
                decode_state(&snapshot)
                    .map(|state| (replica, state))
                    .map_err(|e| format!("{cell}: its state does not decode: {e}"))
            });
        let (replica, state) = match built {
            Ok(built) => built,
            Err(reason) => {
                self.insert_corrupt(cell, reason);
                return None;
            }
        };
        self.generations += 1;
        let active = Active {
            replica,
            state,
            applied,
            snapshot: (applied, snapshot),
            idle_ticks: 0,
            generation: self.generations,
            used,
            waiters: BTreeMap::new(),
        };
        self.active.insert(cell, active);
        self.lru.insert(used, cell);
        while self.active.len() > self.config.active_cells_max.max(1) {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            self.evict(oldest, effects);
        }
        self.active.get_mut(&cell)
    }

    /// Turns an active cell back into a record. The requests it was to answer are told their
    /// fate is unknown here.
    fn evict(&mut self, cell: CellId, effects: &mut Effects) {
        let Some(active) = self.active.remove(&cell) else {
            return;
        };
        self.lru.remove(&active.used);
        self.ticking.remove(&cell);
        self.evictions += 1;
        let Some(record) = self.records.get_mut(&cell) else {
            return;
        };
        let encoded = match encode_state(&active.state) {
            Ok(encoded) => encoded,
            Err(e) => {
                let reason = format!("{cell}: its state does not encode: {e}");
                self.insert_corrupt(cell, reason);
                return;
            }
        };
        let votes: Box<[(Slot, Vote)]> = active
            .replica
            .votes()
            .range(active.applied.next()..)
            .map(|(s, v)| (*s, v.clone()))
            .collect();
        record.hard_state = active.replica.hard_state();
        record.applied = active.applied;
        record.state = encoded.into_boxed_slice();
        record.votes = votes;
        for (client, sequence) in active.waiters {
            effects.gated.push(Gated::Reply(ClientReply {
                cell,
                client,
                sequence,
                outcome: Outcome::Unknown {
                    reason: "the node gave the cell's replica up to make room".to_string(),
                },
            }));
        }
    }

    pub(crate) fn on_message(
        &mut self,
        cell: CellId,
        from: NodeId,
        message: Message,
        metrics: &mut HostMetrics,
    ) -> Effects {
        let mut effects = Effects::default();
        let activity = !matches!(message, Message::Heartbeat { .. });
        let Some(active) = self.activate(cell, &mut effects) else {
            return effects;
        };
        let ready = active.replica.step(Input::Message { from, message });
        self.process(cell, ready, activity, &mut effects, metrics);
        effects
    }

    /// A peer's snapshot: installed when it moves the replica's log forward.
    pub(crate) fn on_snapshot(
        &mut self,
        cell: CellId,
        last_slot: Slot,
        bytes: Arc<[u8]>,
        metrics: &mut HostMetrics,
    ) -> Effects {
        let mut effects = Effects::default();
        let Some(active) = self.activate(cell, &mut effects) else {
            return effects;
        };
        if !active.replica.wants_snapshot(last_slot) || last_slot <= active.applied {
            return effects;
        }
        let Ok(state) = decode_state(&bytes) else {
            // A snapshot that does not decode is dropped: the replica asks again.
            metrics.undecodable_snapshots += 1;
            return effects;
        };
        active.state = state;
        active.applied = last_slot;
        active.idle_ticks = 0;
        metrics.snapshots_installed += 1;
        let generation = active.generation;
        self.ticking.insert(cell);
        effects.writes.push(Write::Snapshot {
            cell,
            last_slot,
            state: bytes.clone(),
        });
        effects.gated.push(Gated::Snapshotted {
            cell,
            last_slot,
            state: bytes,
            generation,
        });
        effects
    }

    /// A snapshot is durable: its replica may forget what it covers.
    pub(crate) fn on_snapshotted(
        &mut self,
        cell: CellId,
        last_slot: Slot,
        state: Arc<[u8]>,
        generation: u64,
        metrics: &mut HostMetrics,
    ) -> Effects {
        let mut effects = Effects::default();
        let Some(active) = self.active.get_mut(&cell) else {
            return effects;
        };
        if active.generation != generation {
            return effects;
        }
        if last_slot > active.snapshot.0 {
            active.snapshot = (last_slot, state);
        }
        let ready = active.replica.step(Input::Snapshotted { last_slot });
        self.process(cell, ready, false, &mut effects, metrics);
        effects
    }

    pub(crate) fn on_client(
        &mut self,
        cell: CellId,
        request: Request,
        now_ms: u64,
        metrics: &mut HostMetrics,
    ) -> Effects {
        let mut effects = Effects::default();
        if let Some(reason) = self.corrupt.get(&cell) {
            let reason = format!("the cell is corrupt on this node: {reason}");
            effects.reply(cell, &request, Outcome::Refused { reason });
            return effects;
        }
        let Some(active) = self.activate(cell, &mut effects) else {
            let reason = format!("{cell} is not on this node");
            effects.reply(cell, &request, Outcome::Refused { reason });
            return effects;
        };
        let command = CellCommand {
            request: request.clone(),
            now_ms,
        };
        let bytes = match encode_command(&command) {
            Ok(bytes) => bytes,
            Err(e) => {
                let reason = format!("the request is malformed: {e}");
                effects.reply(cell, &request, Outcome::Refused { reason });
                return effects;
            }
        };
        // Whatever the answer, the cell has work now: a follower asked for a command wakes up,
        // so that it elects itself if its leader is gone.
        active.idle_ticks = 0;
        let proposed = active.replica.propose(Command(bytes));
        if proposed.is_ok() {
            active.waiters.insert(request.client, request.sequence);
        }
        self.ticking.insert(cell);
        match proposed {
            Ok(ready) => self.process(cell, ready, true, &mut effects, metrics),
            Err(ProposeError::NotLeader { leader }) => {
                let outcome = Outcome::NotLeader {
                    leader: Some(leader),
                };
                effects.reply(cell, &request, outcome);
            }
            Err(e @ (ProposeError::QueueFull { .. } | ProposeError::CommandTooLong { .. })) => {
                let reason = e.to_string();
                effects.reply(cell, &request, Outcome::Refused { reason });
            }
        }
        effects
    }

    /// Ticks every cell that is not quiescent, and lets those that had nothing to do for long
    /// enough, with nothing in flight, go quiet.
    pub(crate) fn tick(&mut self, metrics: &mut HostMetrics) -> Effects {
        let mut effects = Effects::default();
        let ticking: Vec<CellId> = self.ticking.iter().copied().collect();
        for cell in ticking {
            let Some(active) = self.active.get_mut(&cell) else {
                self.ticking.remove(&cell);
                continue;
            };
            active.idle_ticks = active.idle_ticks.saturating_add(1);
            let ready = active.replica.step(Input::Tick);
            self.process(cell, ready, false, &mut effects, metrics);
            let Some(active) = self.active.get(&cell) else {
                continue;
            };
            let quiet = active.idle_ticks >= self.config.quiet_ticks
                && active.replica.pending_count() == 0
                && active.replica.proposals_in_flight() == 0
                && active.waiters.is_empty();
            if quiet {
                self.ticking.remove(&cell);
            }
        }
        effects
    }

    /// Carries a replica's `Ready` out ([`Ready::carry_out`], in the order it states) into
    /// writes for the open batch and items held behind them.
    fn process(
        &mut self,
        cell: CellId,
        ready: Ready,
        activity: bool,
        effects: &mut Effects,
        metrics: &mut HostMetrics,
    ) {
        let Some(active) = self.active.get_mut(&cell) else {
            return;
        };
        let activity = activity
            || ready.hard_state.is_some()
            || !ready.votes.is_empty()
            || !ready.decided.is_empty();
        ready.carry_out(&mut CellRuntime {
            cell,
            active,
            effects,
            metrics,
        });
        if activity {
            if let Some(active) = self.active.get_mut(&cell) {
                active.idle_ticks = 0;
            }
            self.ticking.insert(cell);
        }
    }

    pub(crate) fn state(&self, cell: CellId) -> Option<(Slot, CellState)> {
        if let Some(active) = self.active.get(&cell) {
            return Some((active.applied, active.state.clone()));
        }
        let record = self.records.get(&cell)?;
        Some((record.applied, decode_state(&record.state).ok()?))
    }

    pub(crate) fn digest(&mut self, cell: CellId) -> Option<(Slot, u64)> {
        if let Some(active) = self.active.get(&cell) {
            return Some((active.applied, active.state.digest()));
        }
        let record = self.records.get(&cell)?;
        let state = decode_state(&record.state).ok()?;
        Some((record.applied, state.digest()))
    }

    /// One cell's summary, `None` for a cell unknown here.
    pub(crate) fn summary(&self, cell: CellId) -> Option<CellSummary> {
        if let Some(reason) = self.corrupt.get(&cell) {
            return Some(CellSummary {
                cell,
                members: Vec::new(),
                active: false,
                ticking: false,
                applied: Slot(0),
                corrupt: Some(reason.clone()),
            });
        }
        let record = self.records.get(&cell)?;
        let active = self.active.get(&cell);
        Some(CellSummary {
            cell,
            members: record.members.to_vec(),
            active: active.is_some(),
            ticking: self.ticking.contains(&cell),
            applied: active.map_or(record.applied, |a| a.applied),
            corrupt: None,
        })
    }

    pub(crate) fn summaries(&self) -> impl Iterator<Item = CellSummary> + '_ {
        let mut all: Vec<CellId> = self
            .records
            .keys()
            .chain(self.corrupt.keys())
            .copied()
            .collect();
        all.sort();
        all.into_iter().filter_map(|cell| self.summary(cell))
    }
}

/// Applies the commands of `entry` in order, and hands each with its reply to `replied`. A
/// command that does not decode is skipped, alike on every replica, and counted.
fn apply_entry(
    state: &mut CellState,
    entry: &Entry,
    metrics: &mut HostMetrics,
    mut replied: impl FnMut(&CellCommand, colony_core::cell::Reply),
) {
    for command in entry.commands() {
        match decode_command(&command.0) {
            Ok(command) => {
                let reply = state.apply(&command);
                replied(&command, reply);
            }
            Err(_) => metrics.undecodable_commands += 1,
        }
    }
}

/// The host as the runtime of one active cell's replica: what the replica's step asks becomes
/// writes for the open batch, and messages, replies and notifications held behind them.
struct CellRuntime<'a> {
    cell: CellId,
    active: &'a mut Active,
    effects: &'a mut Effects,
    metrics: &'a mut HostMetrics,
}

impl Runtime for CellRuntime<'_> {
    fn persist(&mut self, hard_state: Option<HardState>, votes: Vec<(Slot, Vote)>) {
        let cell = self.cell;
        if let Some(hard_state) = hard_state {
            self.effects
                .writes
                .push(Write::HardState { cell, hard_state });
        }
        for (slot, vote) in votes {
            self.effects.writes.push(Write::Vote { cell, slot, vote });
        }
    }

    fn send(&mut self, envelope: Envelope) {
        let frame = Frame::Cell {
            cell: self.cell,
            message: envelope.message,
        };
        self.effects.gated.push(Gated::Send(envelope.to, frame));
    }

    fn apply(&mut self, slot: Slot, entry: Entry) {
        let cell = self.cell;
        self.effects.writes.push(Write::Decided {
            cell,
            slot,
            entry: entry.clone(),
        });
        if slot <= self.active.applied {
            return; // Covered by a snapshot installed from a peer.
        }
        let waiters = &mut self.active.waiters;
        let effects = &mut *self.effects;
        apply_entry(
            &mut self.active.state,
            &entry,
            self.metrics,
            |command, reply| {
                let request = &command.request;
                if waiters.get(&request.client) == Some(&request.sequence) {
                    waiters.remove(&request.client);
                    effects.reply(cell, request, Outcome::Reply(reply));
                }
            },
        );
        self.active.applied = slot;
    }

    /// A command this replica proposed and gave up on. Its client is told the fate is unknown,
    /// not that nothing was applied: a command given up because a snapshot covered its slot
    /// may have been decided there, and the replica cannot tell (`Leader::on_installed`). A
    /// retry under the same sequence number is safe either way: the session answers it.
    fn abandoned(&mut self, command: Command) {
        if let Ok(command) = decode_command(&command.0) {
            let request = &command.request;
            if self.active.waiters.get(&request.client) == Some(&request.sequence) {
                self.active.waiters.remove(&request.client);
                let reason = match self.active.replica.leader_hint() {
                    Some(leader) => format!(
                        "this node's proposal was overtaken; node {} leads now: retry under the same sequence number",
                        leader.0
                    ),
                    None => "this node's proposal was overtaken: retry under the same sequence number".to_string(),
                };
                self.effects
                    .reply(self.cell, request, Outcome::Unknown { reason });
            }
        }
    }

    fn send_snapshot(&mut self, transfer: SnapshotTransfer) {
        let (last_slot, state) = &self.active.snapshot;
        if *last_slot >= transfer.last_slot {
            let frame = Frame::Snapshot {
                cell: self.cell,
                last_slot: *last_slot,
                state: state.clone(),
            };
            self.effects.gated.push(Gated::Send(transfer.to, frame));
        }
    }

    fn snapshot_wanted(&mut self, _slot: Slot) {
        // The state machine is applied through every decided slot: snapshot it there.
        if let Ok(encoded) = encode_state(&self.active.state) {
            self.metrics.snapshots_taken += 1;
            let state: Arc<[u8]> = encoded.into();
            let last_slot = self.active.applied;
            self.effects.writes.push(Write::Snapshot {
                cell: self.cell,
                last_slot,
                state: state.clone(),
            });
            self.effects.gated.push(Gated::Snapshotted {
                cell: self.cell,
                last_slot,
                state,
                generation: self.active.generation,
            });
        }
    }
}
