//! A simulated cell of real Multi-Paxos replicas, each applying the log to its own transactional
//! state machine, over a network that loses, duplicates and reorders, with crashes that restart a
//! replica from what it persisted.
//!
//! Everything is driven by the caller, one [`Fault`] or client command at a time, so that a run
//! is a list of operations and replays exactly (the core and the state machine are
//! deterministic). After every step the cell checks what must always hold:
//!
//! - `SameSequence`: the decided logs of any two replicas are prefixes of one another, so they
//!   are all prefixes of one log, [`SimCell::history`] (this also checks `Agreement` as far as
//!   replicas learned it);
//! - every decided command is one a client proposed, decided at most once;
//! - a replica applies each slot once, in order ([`colony_core::multipaxos::Ready`]'s contract), and
//!   its state after each slot is the state of the serial execution of the history's prefix
//!   (compared by digest), also after a crash, when it rebuilds its state from its disk;
//! - every result a client was given is the result its transaction has in that serial
//!   execution;
//! - real-time order: a transaction proposed after another's result was given is placed after
//!   it in the log.
//!
//! Together these are strict serializability within the cell, checked on every run.
//!
//! The cell's runtime also compacts: when a replica asks for a snapshot
//! ([`Ready::snapshot_wanted`]) it snapshots that replica's state machine at once and tells the
//! replica ([`Input::Snapshotted`]), and it carries the snapshots replicas send each other over
//! the same faulty network as their messages, installing one only when the receiver wants it
//! ([`Replica::wants_snapshot`]). A restarted replica rebuilds its state from its snapshot and the
//! decided log after it.

use crate::network::Network;
use colony_core::cell::{decode_transaction, encode_transaction, Abort, OperationResult};
use colony_core::cell::{StateMachine, Transaction};
use colony_core::group::{Envelope, NodeId};
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, HardState, Input, Message, ProposeError, Ready, Replica,
    Runtime, Slot, SnapshotTransfer, Vote,
};
use std::collections::BTreeMap;

/// What the simulated network carries: the replicas' messages, and the snapshots their runtimes
/// send each other when a replica asks for one to go to a peer ([`Ready::snapshots`]).
#[derive(Clone, Debug)]
pub enum Packet {
    /// A protocol message.
    Message(Message),
    /// A snapshot of the sender's state machine, through `last_slot`.
    Snapshot {
        /// The last slot the snapshot covers.
        last_slot: Slot,
        /// The state machine's state after that slot.
        state: StateMachine,
    },
}

/// What a transaction returned: its operations' results, or why it aborted.
pub type Outcome = Result<Vec<OperationResult>, Abort>;

/// Something that happens to the cell besides a client command. Indices are taken modulo what
/// they index, so that any list of faults is a valid run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Deliver the in-flight message at this index, removing it.
    Deliver(usize),
    /// Deliver the in-flight message at this index and keep a copy in flight.
    Duplicate(usize),
    /// Lose the in-flight message at this index.
    Drop(usize),
    /// Logical time passes at this replica.
    Tick(usize),
    /// This replica crashes and restarts from what it persisted.
    Crash(usize),
}

/// A client's transaction, from its proposal to its result.
#[derive(Clone, Debug)]
struct Submitted {
    /// The step at which a replica accepted it.
    proposed_at: u64,
    /// The step at which its result was first given, and the result.
    completed: Option<(u64, Outcome)>,
}

/// A cell of replicas over a simulated network.
pub struct SimCell {
    configs: Vec<Config>,
    replicas: Vec<Replica>,
    disks: Vec<Durable>,
    /// Each replica's durable snapshot: its last slot and the state machine after it.
    snapshots: Vec<Option<(Slot, StateMachine)>>,
    machines: Vec<StateMachine>,
    network: Network<Packet>,
    /// The most slots of the log (decided entries after the snapshot) and the most votes any
    /// replica held after any step.
    held_max: (usize, usize),
    /// How many snapshots replicas took, and how many they installed from a peer.
    snapshot_counts: (usize, usize),
    /// The longest decided log any replica reached; every replica's is a prefix of it.
    history: Vec<Entry>,
    /// The state machine's digest after each slot of `history`, in the serial execution.
    digests: Vec<u64>,
    /// The result of each command of `history` in the serial execution.
    serial: StateMachine,
    submitted: BTreeMap<u64, Submitted>,
    /// The slot each decided command took.
    positions: BTreeMap<u64, usize>,
    steps: u64,
    next_id: u64,
    abandoned: usize,
}

impl SimCell {
    /// A new cell of `size` replicas, with `election_ticks` staggered by member so that the
    /// first replica usually times out first.
    pub fn new(size: u8, adjust: impl Fn(Config) -> Config) -> SimCell {
        let members: Vec<NodeId> = (1..=size).map(NodeId).collect();
        let configs: Vec<Config> = members
            .iter()
            .map(|&id| {
                let mut config = Config::new(id, members.clone());
                config.election_ticks = 6 + 2 * u32::from(id.0);
                config.heartbeat_ticks = 2;
                adjust(config)
            })
            .collect();
        let replicas = configs
            .iter()
            .map(|c| Replica::new(c.clone(), Durable::default()).expect("a valid configuration"));
        SimCell {
            replicas: replicas.collect(),
            disks: vec![Durable::default(); usize::from(size)],
            snapshots: vec![None; usize::from(size)],
            machines: vec![StateMachine::new(); usize::from(size)],
            held_max: (0, 0),
            snapshot_counts: (0, 0),
            configs,
            network: Network::default(),
            history: Vec::new(),
            digests: Vec::new(),
            serial: StateMachine::new(),
            submitted: BTreeMap::new(),
            positions: BTreeMap::new(),
            steps: 0,
            next_id: 0,
            abandoned: 0,
        }
    }

    /// The number of replicas.
    pub fn size(&self) -> usize {
        self.replicas.len()
    }

    /// The replicas.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// The longest decided log any replica reached.
    pub fn history(&self) -> &[Entry] {
        &self.history
    }

    /// The most decided entries after its snapshot and the most votes any replica held after any
    /// step so far: what compaction keeps bounded.
    pub fn held_max(&self) -> (usize, usize) {
        self.held_max
    }

    /// How many snapshots the replicas took, and how many they installed from a peer.
    pub fn snapshot_counts(&self) -> (usize, usize) {
        self.snapshot_counts
    }

    /// How many transactions were submitted, and how many of them got a result.
    pub fn submitted_and_completed(&self) -> (usize, usize) {
        let completed = self.submitted.values().filter(|s| s.completed.is_some());
        (self.submitted.len(), completed.count())
    }

    /// A client proposes `transaction` at replica `replica` (modulo the cell size). Returns the
    /// replica's refusal, if it refused.
    pub fn propose(
        &mut self,
        replica: usize,
        transaction: Transaction,
    ) -> Result<(), ProposeError> {
        let replica = replica % self.size();
        let id = self.next_id;
        let mut bytes = id.to_le_bytes().to_vec();
        bytes.extend(encode_transaction(&transaction).expect("the workload is within bounds"));
        let ready = self.replicas[replica].propose(Command(bytes))?;
        self.next_id += 1;
        self.steps += 1;
        let proposed_at = self.steps;
        let submitted = Submitted {
            proposed_at,
            completed: None,
        };
        self.submitted.insert(id, submitted);
        self.carry_out(replica, ready);
        Ok(())
    }

    /// Proposes `transaction` at the leader, following the replicas' hints from `replica` on.
    pub fn propose_at_leader(&mut self, replica: usize, transaction: Transaction) -> bool {
        let mut at = replica % self.size();
        for _ in 0..self.size() {
            match self.propose(at, transaction.clone()) {
                Ok(()) => return true,
                Err(ProposeError::NotLeader { leader }) => at = usize::from(leader.0) - 1,
                Err(_) => return false,
            }
        }
        false
    }

    /// Loses every message in flight to `replica` (modulo the cell size): called before each
    /// delivery for a while, it cuts the replica off from its cell.
    pub fn isolate(&mut self, replica: usize) {
        let to = self.configs[replica % self.size()].id;
        self.network.drop_to(to);
    }

    /// Carries out one fault.
    pub fn fault(&mut self, fault: &Fault) {
        self.steps += 1;
        match *fault {
            Fault::Deliver(index) => self.deliver(index, false),
            Fault::Duplicate(index) => self.deliver(index, true),
            Fault::Drop(index) => {
                let _lost = self.network.take(index, false);
            }
            Fault::Tick(replica) => {
                let replica = replica % self.size();
                let ready = self.replicas[replica].step(Input::Tick);
                self.carry_out(replica, ready);
            }
            Fault::Crash(replica) => self.crash(replica % self.size()),
        }
    }

    /// With faults over: delivers every message in order and ticks every replica between
    /// rounds, until no message is in flight, every replica decided the same log, one leader
    /// leads with a ballot every replica promised and follows, and no command waits to be
    /// proposed or decided; at most `rounds_max` rounds. Returns the rounds it took.
    pub fn settle(&mut self, rounds_max: usize) -> Result<usize, String> {
        for round in 0..rounds_max {
            while !self.network.is_empty() {
                self.fault(&Fault::Deliver(0));
            }
            let logs_equal = self
                .replicas
                .iter()
                .all(|r| r.decided_through().0 as usize == self.history.len());
            let idle = self
                .replicas
                .iter()
                .all(|r| r.pending_count() == 0 && r.proposals_in_flight() == 0);
            if logs_equal && idle && self.stable_leader().is_some() {
                return Ok(round);
            }
            for replica in 0..self.size() {
                self.fault(&Fault::Tick(replica));
            }
        }
        Err(format!(
            "not settled after {rounds_max} rounds: {}",
            self.describe()
        ))
    }

    /// One line per replica: what it leads, whom it takes for the leader, how much of the log
    /// it decided, how many commands wait with it; and how many were abandoned.
    pub fn describe(&self) -> String {
        let mut lines = vec![format!(
            "history of {} slots, {} messages in flight, {} commands abandoned",
            self.history.len(),
            self.network.len(),
            self.abandoned
        )];
        for replica in &self.replicas {
            lines.push(format!(
                "  {}: promised {:?}, leading {:?}, leader hint {:?}, decided through {}, \
                 snapshot through {}, pending {}, proposals in flight {}",
                replica.config().id,
                replica.hard_state().promised,
                replica.leading(),
                replica.leader_hint(),
                replica.decided_through(),
                replica.snapshot_slot(),
                replica.pending_count(),
                replica.proposals_in_flight()
            ));
        }
        lines.join("\n")
    }

    /// The replica that leads with a ballot no replica promised to reject (no promise is above
    /// it) and that every replica takes for the leader's, if there is one.
    pub fn stable_leader(&self) -> Option<usize> {
        let leader = (0..self.size()).find(|&r| self.replicas[r].leading().is_some())?;
        let ballot = self.replicas[leader].leading();
        let id = self.configs[leader].id;
        let followed = self
            .replicas
            .iter()
            .all(|r| r.hard_state().promised <= ballot && r.leader_hint() == Some(id));
        followed.then_some(leader)
    }

    fn deliver(&mut self, index: usize, keep_copy: bool) {
        let Some((from, envelope)) = self.network.take(index, keep_copy) else {
            return;
        };
        let replica = usize::from(envelope.to.0) - 1;
        match envelope.message {
            Packet::Message(message) => {
                let ready = self.replicas[replica].step(Input::Message { from, message });
                self.carry_out(replica, ready);
            }
            Packet::Snapshot { last_slot, state } => self.install(replica, last_slot, state),
        }
    }

    /// The runtime of `replica` received a peer's snapshot: it installs it, durably, if the
    /// replica lags behind it, and then tells the replica.
    fn install(&mut self, replica: usize, last_slot: Slot, state: StateMachine) {
        if !self.replicas[replica].wants_snapshot(last_slot) {
            return; // Stale or repeated: the replica decided as much already.
        }
        let index = slot_index(last_slot);
        assert_eq!(
            state.digest(),
            self.digests[index],
            "a snapshot through {last_slot} is not the serial execution's state there"
        );
        self.machines[replica] = state.clone();
        self.snapshots[replica] = Some((last_slot, state));
        self.snapshot_counts.1 += 1;
        let disk = &mut self.disks[replica];
        disk.snapshot_slot = last_slot;
        disk.decided.clear();
        let ready = self.replicas[replica].step(Input::Snapshotted { last_slot });
        self.carry_out(replica, ready);
    }

    /// The runtime of `replica` snapshots its state machine through `last_slot`, the slot it
    /// applied last, durably, then tells the replica.
    fn snapshot(&mut self, replica: usize, last_slot: Slot) {
        let disk = &mut self.disks[replica];
        let applied = disk.snapshot_slot.0 as usize + disk.decided.len();
        assert_eq!(
            applied,
            slot_index(last_slot) + 1,
            "a snapshot is asked for through the slot applied last"
        );
        let covered = (last_slot.0 - disk.snapshot_slot.0) as usize;
        disk.decided.drain(..covered);
        disk.snapshot_slot = last_slot;
        self.snapshots[replica] = Some((last_slot, self.machines[replica].clone()));
        self.snapshot_counts.0 += 1;
        let ready = self.replicas[replica].step(Input::Snapshotted { last_slot });
        self.carry_out(replica, ready);
    }

    /// Restarts a replica from its disk: its state machine is rebuilt from its snapshot and the
    /// decided log after it, as a real one would.
    fn crash(&mut self, replica: usize) {
        let durable = self.disks[replica].clone();
        let restarted = Replica::new(self.configs[replica].clone(), durable.clone());
        self.replicas[replica] = restarted.expect("the configuration was valid");
        self.machines[replica] = match &self.snapshots[replica] {
            Some((_, state)) => state.clone(),
            None => StateMachine::new(),
        };
        let first = durable.snapshot_slot.0 as usize;
        for (offset, entry) in durable.decided.iter().enumerate() {
            self.apply(replica, first + offset, entry);
        }
    }

    /// Carries out a step's duties through [`Ready::carry_out`], the one order every runtime
    /// follows (the node's host too): persist, send, apply, report; then what the replica asked
    /// of its runtime: send snapshots, delete what a snapshot covers, take a snapshot (after
    /// the checks of the step, here).
    fn carry_out(&mut self, replica: usize, ready: Ready) {
        let mut runtime = ReplicaRuntime {
            cell: self,
            replica,
            snapshot_wanted: None,
        };
        ready.carry_out(&mut runtime);
        let snapshot_wanted = runtime.snapshot_wanted;
        assert_eq!(
            self.disks[replica].decided,
            self.replicas[replica].decided(),
            "the decided log is the one reported"
        );
        let held = (
            self.replicas[replica].decided().len(),
            self.replicas[replica].votes().len(),
        );
        self.held_max = (self.held_max.0.max(held.0), self.held_max.1.max(held.1));
        if let Some(slot) = snapshot_wanted {
            self.snapshot(replica, slot);
        }
    }

    /// Applies the entry of slot `index + 1` at `replica`, extending the history when the replica
    /// is the first to reach the slot, and checks the replica against the serial execution.
    fn apply(&mut self, replica: usize, index: usize, entry: &Entry) {
        assert!(index <= self.history.len(), "{index} skips a slot");
        if index == self.history.len() {
            self.extend_history(entry);
        }
        assert_eq!(
            &self.history[index],
            entry,
            "SameSequence: replica {} decided another entry in slot {}",
            replica + 1,
            index + 1
        );
        for command in entry.commands() {
            let (id, transaction) = decode(command);
            let outcome = self.machines[replica].apply(&transaction);
            let submitted = self
                .submitted
                .get_mut(&id)
                .expect("decided a proposed command");
            match &submitted.completed {
                None => submitted.completed = Some((self.steps, outcome)),
                Some((_, first)) => assert_eq!(*first, outcome, "{id} has two results"),
            }
        }
        assert_eq!(
            self.machines[replica].digest(),
            self.digests[index],
            "replica {} after slot {} differs from the serial execution",
            replica + 1,
            index + 1
        );
    }

    /// Appends a newly decided entry to the history, running it serially.
    fn extend_history(&mut self, entry: &Entry) {
        let slot = self.history.len();
        for command in entry.commands() {
            let (id, transaction) = decode(command);
            assert!(
                self.submitted.contains_key(&id),
                "Validity: {id} was never proposed"
            );
            let previous = self.positions.insert(id, slot);
            assert!(
                previous.is_none(),
                "{id} decided in slots {previous:?} and {slot}"
            );
            let _ = self.serial.apply(&transaction);
        }
        self.history.push(entry.clone());
        self.digests.push(self.serial.digest());
    }

    /// Checks every result given against the serial execution of the history, and the
    /// real-time order of transactions.
    pub fn check_results(&self) {
        let mut serial = StateMachine::new();
        for command in self.history.iter().flat_map(Entry::commands) {
            let (id, transaction) = decode(command);
            let outcome = serial.apply(&transaction);
            let given = self.submitted[&id].completed.as_ref();
            let (_, given) = given.expect("a decided command applied somewhere has a result");
            assert_eq!(
                *given, outcome,
                "transaction {id}: result differs from the serial one"
            );
        }
        // Real time: the latest slot of any transaction completed before each proposal.
        let mut completions: Vec<(u64, usize)> = self
            .submitted
            .iter()
            .filter_map(|(id, s)| Some((s.completed.as_ref()?.0, self.positions[id])))
            .collect();
        completions.sort();
        for (id, submitted) in &self.submitted {
            let Some(&position) = self.positions.get(id) else {
                continue;
            };
            let before = completions.partition_point(|(at, _)| *at < submitted.proposed_at);
            let latest = completions[..before].iter().map(|(_, p)| *p).max();
            assert!(
                latest.is_none_or(|latest| latest < position),
                "real-time order: transaction {id} proposed at step {} sits in slot {} before a \
                 transaction completed earlier, in slot {latest:?}",
                submitted.proposed_at,
                position + 1
            );
        }
    }
}

/// The index of `slot` in the history and its digests (slot 1 is index 0).
fn slot_index(slot: Slot) -> usize {
    usize::try_from(slot.0 - 1).expect("a slot fits in memory")
}

fn command_id(command: &Command) -> u64 {
    let bytes: [u8; 8] = command.0[..8].try_into().expect("an 8-byte id");
    u64::from_le_bytes(bytes)
}

fn decode(command: &Command) -> (u64, Transaction) {
    let transaction = decode_transaction(&command.0[8..]).expect("the workload's encoding");
    (command_id(command), transaction)
}

/// The simulated cell as the runtime of one of its replicas, checking the replica against what
/// its disk holds as it goes.
struct ReplicaRuntime<'a> {
    cell: &'a mut SimCell,
    replica: usize,
    /// The snapshot asked for, taken once the step's checks are done.
    snapshot_wanted: Option<Slot>,
}

impl Runtime for ReplicaRuntime<'_> {
    /// Deleting what a snapshot covers may happen at any time; here it happens at once, so that
    /// the disk always holds what the replica holds.
    fn compacted(&mut self, through: Slot) {
        let disk = &mut self.cell.disks[self.replica];
        assert_eq!(disk.snapshot_slot, through, "a durable snapshot covers it");
        disk.votes.retain(|voted, _| *voted > through);
    }

    fn persist(&mut self, hard_state: Option<HardState>, votes: Vec<(Slot, Vote)>) {
        let disk = &mut self.cell.disks[self.replica];
        if let Some(hard_state) = hard_state {
            disk.hard_state = hard_state;
        }
        disk.votes.extend(votes);
        let replica = &self.cell.replicas[self.replica];
        assert_eq!(disk.hard_state, replica.hard_state());
        assert_eq!(&disk.votes, replica.votes(), "votes persisted");
    }

    fn send(&mut self, envelope: colony_core::multipaxos::Envelope) {
        let from = self.cell.configs[self.replica].id;
        let packet = Envelope {
            to: envelope.to,
            message: Packet::Message(envelope.message),
        };
        self.cell.network.send(from, [packet]);
    }

    fn apply(&mut self, slot: Slot, entry: Entry) {
        let index = slot_index(slot);
        let disk = &self.cell.disks[self.replica];
        assert_eq!(
            index,
            disk.snapshot_slot.0 as usize + disk.decided.len(),
            "{} applies {slot} out of order",
            self.cell.configs[self.replica].id
        );
        self.cell.disks[self.replica].decided.push(entry.clone());
        self.cell.apply(self.replica, index, &entry);
    }

    fn abandoned(&mut self, command: Command) {
        assert!(
            self.cell.submitted.contains_key(&command_id(&command)),
            "abandoned unknown"
        );
        self.cell.abandoned += 1;
    }

    fn send_snapshot(&mut self, transfer: SnapshotTransfer) {
        let (last_slot, state) = self.cell.snapshots[self.replica]
            .clone()
            .expect("a replica sends only a snapshot its runtime holds");
        assert_eq!(
            last_slot, transfer.last_slot,
            "the durable snapshot is sent"
        );
        let packet = Packet::Snapshot { last_slot, state };
        let from = self.cell.configs[self.replica].id;
        self.cell.network.send(
            from,
            [Envelope {
                to: transfer.to,
                message: packet,
            }],
        );
    }

    fn snapshot_wanted(&mut self, slot: Slot) {
        self.snapshot_wanted = Some(slot);
    }
}
