//! A replica of a cell: acceptor, learner and leader behind one `step` function, with the
//! timers that elect a leader and the catch-up that brings a lagging replica up to date.

use super::acceptor::Acceptor;
use super::config::{Config, ConfigError};
use super::leader::Leader;
use super::learner::Learner;
use super::log::{Command, Entry, Slot, Vote};
use super::message::Message;
use super::ready::{Durable, Envelope, HardState, Ready, SnapshotTransfer};
use super::{
    CATCH_UP_ENTRIES_MAX, COMMAND_BYTES_MAX, LOG_SLOTS_MAX, MESSAGE_BYTES_MAX, READY_BYTES_MAX,
};
use crate::group::{quorum_size, Ballot, NodeId};
use std::collections::BTreeSet;

/// One input to a replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A message from a member (possibly this replica: it sends to every member, itself too).
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        message: Message,
    },
    /// Logical time passed.
    Tick,
    /// A snapshot of the state machine through `last_slot` is durable and holds this replica's
    /// state: one the runtime took (after applying `last_slot`, when [`Ready::snapshot_wanted`]
    /// asked), or one it installed from a peer (after [`Replica::wants_snapshot`] said it lags
    /// behind it). The decided log and the votes up to it are forgotten (spec: `Compact(a)`);
    /// a snapshot past the decided prefix moves the log past it (spec: `InstallSnapshot(r)`).
    Snapshotted {
        /// The last slot the snapshot covers.
        last_slot: Slot,
    },
}

/// Why a client command was refused. Nothing was queued: the client may send it elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// The command is longer than [`COMMAND_BYTES_MAX`].
    #[error(
        "a command of {bytes} bytes is longer than the bound of {max} bytes (COMMAND_BYTES_MAX)"
    )]
    CommandTooLong {
        /// The command's length.
        bytes: usize,
        /// The bound.
        max: usize,
    },
    /// Another replica leads (or is trying to): propose there.
    #[error("replica {leader} leads this cell: propose there")]
    NotLeader {
        /// The replica that leads, as far as this one knows.
        leader: NodeId,
    },
    /// The leader's queue of commands waiting for a slot is full: try again later.
    #[error("{max} commands are waiting for a slot already (pending_commands_max)")]
    QueueFull {
        /// The bound.
        max: usize,
    },
}

/// A replica. Deterministic: the same inputs from the same durable state give the same outputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    config: Config,
    acceptor: Acceptor,
    leader: Leader,
    learner: Learner,
    /// The highest ballot a leader (this replica included) was heard to start or lead.
    leader_ballot: Option<Ballot>,
    /// Ticks since the last heartbeat (leading) or since the ballot began or a leader was last
    /// heard from (otherwise).
    ticks: u32,
    /// The members this replica's snapshot went to since the last tick: one transfer per peer
    /// per tick at most, however many of its requests or stale proposals arrive meanwhile (a
    /// leader resends every proposal in flight on each heartbeat).
    snapshot_sent: BTreeSet<NodeId>,
}

impl Replica {
    /// A replica restarted from what it persisted (`Durable::default()` for a new one).
    pub fn new(config: Config, durable: Durable) -> Result<Replica, ConfigError> {
        config.validate()?;
        let quorum = quorum_size(config.members.len());
        let Durable {
            hard_state,
            votes,
            snapshot_slot,
            decided,
        } = durable;
        if decided.len() as u64 > LOG_SLOTS_MAX {
            return Err(ConfigError::Durable(format!(
                "{} decided entries after the snapshot, past LOG_SLOTS_MAX ({LOG_SLOTS_MAX})",
                decided.len()
            )));
        }
        let past = votes
            .keys()
            .find(|slot| slot.0 > snapshot_slot.0.saturating_add(LOG_SLOTS_MAX));
        if let Some(slot) = past {
            return Err(ConfigError::Durable(format!(
                "a vote in {slot}, past the snapshot's {snapshot_slot} + LOG_SLOTS_MAX \
                 ({LOG_SLOTS_MAX})"
            )));
        }
        let mut leader = Leader::new(
            config.id,
            quorum,
            config.limits(),
            hard_state.round_started_max,
        );
        // The ballot it promised is one it saw: a ballot it starts must be above it, or its own
        // acceptor would refuse it.
        if let Some(promised) = hard_state.promised {
            leader.observe(promised);
        }
        Ok(Replica {
            acceptor: Acceptor::new(config.id, hard_state.promised, snapshot_slot, votes),
            leader,
            learner: Learner::new(quorum, snapshot_slot, decided),
            leader_ballot: hard_state.promised,
            ticks: 0,
            snapshot_sent: BTreeSet::new(),
            config,
        })
    }

    /// This replica's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The small part of what must be kept across crashes.
    pub fn hard_state(&self) -> HardState {
        HardState {
            promised: self.acceptor.promised(),
            round_started_max: self.leader.round_started_max(),
        }
    }

    /// Spec: `votes[a]`, this replica's acceptor's votes.
    pub fn votes(&self) -> &std::collections::BTreeMap<Slot, Vote> {
        self.acceptor.votes()
    }

    /// The decided log this replica holds after its snapshot, slot `snapshot_slot() + 1` first:
    /// with the snapshot, the spec's `applied[r]`.
    pub fn decided(&self) -> &[Entry] {
        self.learner.decided()
    }

    /// The last slot of the decided prefix of the log this replica knows (`Slot(0)`: none).
    pub fn decided_through(&self) -> Slot {
        self.learner.decided_through()
    }

    /// Spec: `snapshot[r]`, the last slot the durable snapshot this replica's log starts after
    /// covers (`Slot(0)`: none).
    pub fn snapshot_slot(&self) -> Slot {
        self.learner.base()
    }

    /// Spec: `compacted[a]`, the last slot whose vote this replica's acceptor forgot.
    pub fn compacted(&self) -> Slot {
        self.acceptor.compacted()
    }

    /// Whether a peer's snapshot through `last_slot` would move this replica's log forward: the
    /// runtime installs a snapshot it receives only then (an older one would take its state
    /// back in time).
    pub fn wants_snapshot(&self, last_slot: Slot) -> bool {
        last_slot > self.learner.decided_through()
    }

    /// The ballot this replica leads, once a quorum promised it.
    pub fn leading(&self) -> Option<Ballot> {
        self.leader.ballot().filter(|_| self.leader.is_leading())
    }

    /// How many slots this replica proposed as leader and does not yet know to be decided.
    pub fn proposals_in_flight(&self) -> usize {
        self.leader.in_flight().len()
    }

    /// How many client commands wait here for a slot.
    pub fn pending_count(&self) -> usize {
        self.leader.pending_count()
    }

    /// The replica believed to lead the cell (or to be trying to), this one included.
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_ballot.map(|ballot| ballot.proposer)
    }

    /// A client asks for `command` to be decided. The leader queues it and proposes it when the
    /// pipeline has room; a replica that knows of no leader queues it and starts a ballot. The
    /// command's client learns its fate when it is applied (`Ready::decided`) or given up
    /// (`Ready::abandoned`).
    pub fn propose(&mut self, command: Command) -> Result<Ready, ProposeError> {
        if command.0.len() > COMMAND_BYTES_MAX {
            return Err(ProposeError::CommandTooLong {
                bytes: command.0.len(),
                max: COMMAND_BYTES_MAX,
            });
        }
        if self.leader.ballot().is_none() {
            if let Some(leader) = self.leader_hint().filter(|l| *l != self.config.id) {
                return Err(ProposeError::NotLeader { leader });
            }
        }
        if !self.leader.enqueue(command) {
            let max = self.config.pending_commands_max;
            return Err(ProposeError::QueueFull { max });
        }
        Ok(self.step_with(|replica, ready| {
            if replica.leader.ballot().is_none() {
                replica.start_ballot(ready);
            } else {
                replica.propose_pending(ready);
            }
        }))
    }

    /// Takes one input and returns what the caller must do, in the order [`Ready`] states.
    pub fn step(&mut self, input: Input) -> Ready {
        self.step_with(|replica, ready| match input {
            Input::Message { from, message } => replica.on_message(from, message, ready),
            Input::Tick => replica.on_tick(ready),
            Input::Snapshotted { last_slot } => replica.on_snapshotted(last_slot, ready),
        })
    }

    fn step_with(&mut self, handle: impl FnOnce(&mut Replica, &mut Ready)) -> Ready {
        let before = self.hard_state();
        let decided_before = self.learner.decided_through();
        let mut ready = Ready::default();
        handle(self, &mut ready);
        let after = self.hard_state();
        if after != before {
            ready.hard_state = Some(after);
        }
        let decided_through = self.learner.decided_through();
        let first_reported = ready.decided.first().map(|(slot, _)| *slot);
        assert!(
            first_reported
                .is_none_or(|first| first.0 == decided_through.0 + 1 - ready.decided.len() as u64),
            "the slots reported decided end the decided prefix"
        );
        assert!(
            decided_before.0 + ready.decided.len() as u64 == decided_through.0
                || self.learner.base() > decided_before,
            "every slot that joins the decided prefix is reported once, but those a snapshot \
             installed"
        );
        if cfg!(debug_assertions) {
            let bytes = ready.payload_bytes();
            assert!(
                bytes <= READY_BYTES_MAX,
                "a step sends {bytes} distinct command bytes, past READY_BYTES_MAX"
            );
        }
        let beyond = decided_through.0 - self.learner.base().0;
        if !ready.decided.is_empty() && beyond >= self.config.snapshot_interval_slots {
            ready.snapshot_wanted = Some(decided_through);
        }
        ready
    }

    fn on_message(&mut self, from: NodeId, message: Message, ready: &mut Ready) {
        if !self.config.members.contains(&from) {
            return; // Not of this cell: ignored, as the network may deliver anything.
        }
        if let Some(ballot) = message.leader_ballot() {
            self.observe_leader(ballot, ready);
        }
        match message {
            Message::Prepare { ballot, first_slot } => {
                if let Some(promise) = self.acceptor.on_prepare(ballot, first_slot) {
                    self.send(ballot.proposer, promise, ready);
                }
            }
            Message::Promise {
                ballot,
                acceptor,
                votes,
                compacted,
            } => self.on_promise(ballot, acceptor, compacted, votes, ready),
            Message::Accept {
                ballot,
                slot,
                entry,
            } => {
                if let Some(vote) = self.acceptor.on_accept(ballot, slot, entry.clone()) {
                    ready.votes.push((slot, Vote { ballot, entry }));
                    self.broadcast(vote, ready);
                } else if slot <= self.acceptor.compacted() {
                    // The slot is decided and compacted here, and a leader proposes only from
                    // its own first undecided slot on: it lags behind this replica's snapshot,
                    // and no acceptor that compacted will vote to teach it the slot.
                    self.send_snapshot(ballot.proposer, ready);
                }
            }
            Message::Accepted {
                ballot,
                acceptor,
                slot,
                entry,
            } => {
                let decided = self.learner.on_accepted(ballot, acceptor, slot, entry);
                self.on_decided(decided, ready);
            }
            Message::Heartbeat {
                decided_through, ..
            } => {
                if decided_through >= self.learner.first_undecided() {
                    self.ask_to_catch_up(from, ready);
                } else if decided_through < self.learner.decided_through() {
                    // The leader lags behind this follower: nobody else would tell it (votes
                    // for the slots it misses may be gone with compaction), so the follower
                    // sends what it misses as if the leader had asked, on every heartbeat
                    // until it has it.
                    self.on_catch_up_request(from, decided_through.next(), ready);
                }
            }
            Message::CatchUpRequest { first_slot } => {
                self.on_catch_up_request(from, first_slot, ready)
            }
            Message::CatchUp {
                first_slot,
                entries,
            } => self.on_catch_up(from, first_slot, entries, ready),
        }
    }

    /// A leader's message for `ballot` arrived: a higher ballot deposes this replica's own. A
    /// ballot at least as high as any heard and as this replica's promise is a sign of a live
    /// leader that can still make progress here, and holds off an election; one below the
    /// promise is not, so that a leader whose ballot a quorum abandoned is replaced.
    fn observe_leader(&mut self, ballot: Ballot, ready: &mut Ready) {
        if self.leader.observe(ballot) {
            ready.abandoned.extend(self.leader.step_down());
        }
        let live = self.acceptor.promised().is_none_or(|p| ballot >= p)
            && self.leader_ballot.is_none_or(|known| ballot >= known);
        if live {
            self.leader_ballot = Some(ballot);
            if ballot.proposer != self.config.id {
                self.ticks = 0;
            }
        }
    }

    fn on_promise(
        &mut self,
        ballot: Ballot,
        acceptor: NodeId,
        compacted: Slot,
        votes: std::collections::BTreeMap<Slot, Vote>,
        ready: &mut Ready,
    ) {
        let was_leading = self.leader.is_leading();
        let learner = &self.learner;
        let (reproposed, furthest) =
            self.leader
                .on_promise(ballot, acceptor, compacted, votes, |slot| {
                    learner.is_decided(slot)
                });
        if was_leading || !self.leader.is_leading() {
            assert!(reproposed.is_empty());
            return;
        }
        self.ticks = 0;
        self.send_proposals(ballot, reproposed, ready);
        // A quorum member compacted past this leader's log: the slots up to there are decided,
        // and the new leader learns them from that member's snapshot before it proposes past
        // its pipeline (which starts at its own first undecided slot).
        if let Some((peer, compacted)) = furthest {
            if compacted >= self.learner.first_undecided() {
                self.ask_to_catch_up(peer, ready);
            }
        }
        self.propose_pending(ready);
    }

    /// A durable snapshot through `last_slot` now holds the state machine (see
    /// [`Input::Snapshotted`]). Spec: `InstallSnapshot(r)` when it is past the decided prefix,
    /// and `Compact(a)` to it.
    fn on_snapshotted(&mut self, last_slot: Slot, ready: &mut Ready) {
        if last_slot <= self.learner.base() {
            return; // An older snapshot than the one the log starts after: nothing to forget.
        }
        if last_slot > self.learner.decided_through() {
            ready.abandoned.extend(self.leader.on_installed(last_slot));
            let decided = self.learner.install(last_slot);
            self.on_decided(decided, ready);
        } else {
            self.learner.compact(last_slot);
        }
        self.acceptor.compact(last_slot);
        ready.compacted = Some(last_slot);
        self.propose_pending(ready);
    }

    /// Spec: `Apply(r)` (or `CatchUp(r)`) for each slot in `decided`.
    fn on_decided(&mut self, decided: Vec<(Slot, Entry)>, ready: &mut Ready) {
        if decided.is_empty() {
            return;
        }
        for (slot, entry) in &decided {
            ready.abandoned.extend(self.leader.on_decided(*slot, entry));
        }
        ready.decided.extend(decided);
        self.propose_pending(ready);
    }

    fn on_tick(&mut self, ready: &mut Ready) {
        self.ticks = self.ticks.saturating_add(1);
        self.snapshot_sent.clear();
        if self.leader.is_leading() {
            if self.ticks >= self.config.heartbeat_ticks {
                self.ticks = 0;
                self.heartbeat(ready);
            }
        } else if self.ticks >= self.config.election_ticks {
            self.start_ballot(ready);
        }
    }

    /// Spec: `Phase1a(b)`.
    fn start_ballot(&mut self, ready: &mut Ready) {
        let ballot = self.leader.start(self.learner.first_undecided());
        self.leader_ballot = Some(ballot);
        self.ticks = 0;
        let first_slot = self.learner.first_undecided();
        self.broadcast(Message::Prepare { ballot, first_slot }, ready);
    }

    /// Spec: `Phase2a(b, s, v)` for the waiting commands.
    fn propose_pending(&mut self, ready: &mut Ready) {
        let Some(ballot) = self.leading() else {
            return;
        };
        let proposals = self.leader.propose_pending(self.learner.first_undecided());
        self.send_proposals(ballot, proposals, ready);
    }

    /// Tells the followers the leader is alive and how far the log is decided, and resends the
    /// undecided proposals, whose `2a` or `2b` messages may have been lost.
    fn heartbeat(&mut self, ready: &mut Ready) {
        let Some(ballot) = self.leading() else {
            return;
        };
        let decided_through = self.learner.decided_through();
        self.broadcast(
            Message::Heartbeat {
                ballot,
                decided_through,
            },
            ready,
        );
        self.send_proposals(ballot, self.leader.in_flight(), ready);
    }

    fn ask_to_catch_up(&mut self, peer: NodeId, ready: &mut Ready) {
        let first_slot = self.learner.first_undecided();
        self.send(peer, Message::CatchUpRequest { first_slot }, ready);
    }

    /// Spec: `CatchUp(r)` from this replica, or `InstallSnapshot(r)` from it when the asker lags
    /// behind its snapshot: the entries below it are gone, so the runtime sends the snapshot.
    fn on_catch_up_request(&mut self, peer: NodeId, first_slot: Slot, ready: &mut Ready) {
        if first_slot < Slot::FIRST || first_slot > self.learner.decided_through() {
            return; // Nothing to give: the asker knows as much as this replica.
        }
        let base = self.learner.base();
        if first_slot <= base {
            self.send_snapshot(peer, ready);
            return;
        }
        let start = (first_slot.0 - base.0 - 1) as usize;
        let mut bytes = 0;
        let entries: Vec<Entry> = self.learner.decided()[start..]
            .iter()
            .take(CATCH_UP_ENTRIES_MAX)
            .take_while(|entry| {
                bytes += entry.bytes();
                bytes <= MESSAGE_BYTES_MAX || bytes == entry.bytes()
            })
            .cloned()
            .collect();
        self.send(
            peer,
            Message::CatchUp {
                first_slot,
                entries,
            },
            ready,
        );
    }

    fn on_catch_up(
        &mut self,
        peer: NodeId,
        first_slot: Slot,
        entries: Vec<Entry>,
        ready: &mut Ready,
    ) {
        if first_slot < Slot::FIRST || entries.len() > CATCH_UP_ENTRIES_MAX {
            return; // Malformed: a peer never sends it, so it is ignored like any stray message.
        }
        // A reply cut short by the count or the byte bound says the peer may have more.
        let bytes: usize = entries.iter().map(Entry::bytes).sum();
        let full = entries.len() == CATCH_UP_ENTRIES_MAX
            || bytes + super::ENTRY_BYTES_MAX > MESSAGE_BYTES_MAX;
        let decided = self.learner.on_catch_up(first_slot, entries);
        let progressed = !decided.is_empty();
        self.on_decided(decided, ready);
        if full && progressed {
            self.ask_to_catch_up(peer, ready); // The peer may have more.
        }
    }

    /// Spec: `InstallSnapshot(r)` at `peer`, once its runtime installs it: asks the runtime to
    /// send the durable snapshot this replica's log starts after, unless it went to `peer` since
    /// the last tick.
    fn send_snapshot(&mut self, peer: NodeId, ready: &mut Ready) {
        let last_slot = self.learner.base();
        assert!(last_slot > Slot(0), "only a snapshot that exists is sent");
        if peer != self.config.id && self.snapshot_sent.insert(peer) {
            ready.snapshots.push(SnapshotTransfer {
                to: peer,
                last_slot,
            });
        }
    }

    /// Spec: `Phase2a(b, s, v)`, once per proposal: a `2a` to every member.
    fn send_proposals(&self, ballot: Ballot, proposals: Vec<(Slot, Entry)>, ready: &mut Ready) {
        for (slot, entry) in proposals {
            let accept = Message::Accept {
                ballot,
                slot,
                entry,
            };
            self.broadcast(accept, ready);
        }
    }

    fn send(&self, to: NodeId, message: Message, ready: &mut Ready) {
        ready.messages.push(Envelope { to, message });
    }

    fn broadcast(&self, message: Message, ready: &mut Ready) {
        for &to in &self.config.members {
            self.send(to, message.clone(), ready);
        }
    }
}
