//! The distinguished proposer: runs phase 1 once for the log, then phase 2 per slot, several
//! slots at once, batching the client commands that wait for a slot.

use super::log::{Command, Entry, Slot, Vote};
use super::IN_FLIGHT_BYTES_MAX;
use crate::group::{Ballot, NodeId};
use std::collections::{BTreeMap, VecDeque};

/// How the leader batches and pipelines (checked by [`super::Config`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The most slots proposed by this leader and not yet known decided, beyond the first
    /// undecided slot: the pipeline's depth.
    pub slots_in_flight_max: u64,
    /// The most commands in one entry.
    pub batch_commands_max: usize,
    /// The most command bytes in one entry (one command alone may reach
    /// [`super::COMMAND_BYTES_MAX`], which is at most this).
    pub batch_bytes_max: usize,
    /// The most client commands waiting for a slot; past it, proposals are refused.
    pub pending_commands_max: usize,
}

/// What the end of phase 1 gives a new leader: its proposals, and the member of its quorum that
/// compacted furthest with how far (none: nobody compacted).
pub type PhaseOneEnd = (Vec<(Slot, Entry)>, Option<(NodeId, Slot)>);

/// Where a ballot this node started stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// Phase 1: the promises received so far, acceptor to how far it compacted and the votes
    /// it reported. At most one entry per member.
    Preparing {
        promises: BTreeMap<NodeId, (Slot, BTreeMap<Slot, Vote>)>,
    },
    /// Phase 2: a quorum promised. `next_slot` is the first slot without a proposal in this
    /// ballot, and `proposals` the entries proposed and not yet known decided.
    Leading {
        next_slot: Slot,
        proposals: BTreeMap<Slot, Entry>,
    },
}

/// One ballot this node started, as its leader.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Term {
    ballot: Ballot,
    first_slot: Slot,
    phase: Phase,
}

/// The proposer of a replica: idle (a follower), preparing a ballot, or leading one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Leader {
    id: NodeId,
    quorum: usize,
    limits: Limits,
    round_started_max: Option<u32>,
    round_seen_max: u32,
    term: Option<Term>,
    pending: VecDeque<Command>,
}

impl Leader {
    /// A proposer that needs `quorum` promises, restarted knowing the highest round it started.
    pub fn new(id: NodeId, quorum: usize, limits: Limits, round_started_max: Option<u32>) -> Self {
        assert!(quorum >= 1);
        Leader {
            id,
            quorum,
            limits,
            round_started_max,
            round_seen_max: round_started_max.unwrap_or(0),
            term: None,
            pending: VecDeque::new(),
        }
    }

    /// The highest round this node started (part of the hard state).
    pub fn round_started_max(&self) -> Option<u32> {
        self.round_started_max
    }

    /// The ballot this node is preparing or leading, if any.
    pub fn ballot(&self) -> Option<Ballot> {
        self.term.as_ref().map(|term| term.ballot)
    }

    /// True once a quorum promised this node's ballot.
    pub fn is_leading(&self) -> bool {
        matches!(
            self.term,
            Some(Term {
                phase: Phase::Leading { .. },
                ..
            })
        )
    }

    /// How many client commands wait for a slot.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Notes a ballot seen in any message, so that the next ballot started is above it; returns
    /// true when it is above this node's own ballot, which this node must then give up.
    pub fn observe(&mut self, ballot: Ballot) -> bool {
        self.round_seen_max = self.round_seen_max.max(ballot.round);
        self.ballot().is_some_and(|own| ballot > own)
    }

    /// Queues a client command; returns false when the queue is full.
    pub fn enqueue(&mut self, command: Command) -> bool {
        if self.pending.len() >= self.limits.pending_commands_max {
            return false;
        }
        self.pending.push_back(command);
        true
    }

    /// Gives up the ballot (a higher one exists); returns the commands that were never proposed,
    /// which this node no longer will. Commands already proposed may still be decided.
    pub fn step_down(&mut self) -> Vec<Command> {
        self.term = None;
        self.pending.drain(..).collect()
    }

    /// Spec: `Phase1a(b)`. Starts a ballot above every round started or seen, asking for votes
    /// from `first_slot` on; the caller must persist the new `round_started_max` before sending
    /// the `1a` messages.
    pub fn start(&mut self, first_slot: Slot) -> Ballot {
        let ballot = Ballot::next(self.id, self.round_started_max, self.round_seen_max);
        assert!(
            self.ballot().is_none_or(|own| own < ballot),
            "ballots only increase"
        );
        self.round_started_max = Some(ballot.round);
        self.term = Some(Term {
            ballot,
            first_slot,
            phase: Phase::Preparing {
                promises: BTreeMap::new(),
            },
        });
        ballot
    }

    /// Spec: `Phase2a(b, s, v)` for the slots phase 1 found. Records a promise for the ballot
    /// being prepared; once a quorum promised, returns the proposals the spec's `SafeValues`
    /// allows in every slot from the first one asked about up to the highest reported vote: the
    /// entry of the highest-ballot vote reported in the slot, or `NoOp` in a hole. Slots in
    /// `decided` (known decided here) are skipped, and so is every slot one of the quorum
    /// compacted (spec: `CompactedIn`): it is decided, and the vote that would say with what may
    /// be gone. Returns nothing before the quorum, for a promise of another ballot, and after
    /// phase 1 ended; with the proposals, the member of the quorum that compacted furthest and
    /// how far, from which a leader that lags behind it catches up.
    pub fn on_promise(
        &mut self,
        ballot: Ballot,
        acceptor: NodeId,
        compacted: Slot,
        votes: BTreeMap<Slot, Vote>,
        is_decided: impl Fn(Slot) -> bool,
    ) -> PhaseOneEnd {
        let Some(term) = self.term.as_mut().filter(|t| t.ballot == ballot) else {
            return (Vec::new(), None);
        };
        let Phase::Preparing { promises } = &mut term.phase else {
            return (Vec::new(), None);
        };
        debug_assert!(
            votes.values().all(|v| v.ballot < ballot),
            "a promise reports lower votes"
        );
        debug_assert!(
            votes.keys().all(|slot| *slot > compacted),
            "a promise reports no vote it compacted"
        );
        promises.insert(acceptor, (compacted, votes));
        if promises.len() < self.quorum {
            return (Vec::new(), None);
        }
        let furthest = promises
            .iter()
            .map(|(acceptor, (compacted, _))| (*acceptor, *compacted))
            .max_by_key(|(_, compacted)| *compacted)
            .filter(|(_, compacted)| *compacted > Slot(0));
        let first_slot = match furthest {
            Some((_, compacted)) => term.first_slot.max(compacted.next()),
            None => term.first_slot,
        };
        let mut highest: BTreeMap<Slot, &Vote> = BTreeMap::new();
        for (slot, vote) in promises.values().flat_map(|(_, votes)| votes) {
            if *slot >= first_slot && highest.get(slot).is_none_or(|h| h.ballot < vote.ballot) {
                highest.insert(*slot, vote);
            }
        }
        let last_reported = highest.keys().next_back().copied();
        let mut proposals = BTreeMap::new();
        let mut slot = first_slot;
        while last_reported.is_some_and(|last| slot <= last) {
            if !is_decided(slot) {
                let entry = highest.get(&slot).map_or(Entry::NoOp, |v| v.entry.clone());
                proposals.insert(slot, entry);
            }
            slot = slot.next();
        }
        let reproposed = proposals.iter().map(|(s, e)| (*s, e.clone())).collect();
        term.phase = Phase::Leading {
            next_slot: slot,
            proposals,
        };
        (reproposed, furthest)
    }

    /// Spec: `Phase2a(b, s, v)` with a new command. Packs the waiting commands into entries, one
    /// per free slot of the pipeline (slots below `first_undecided + slots_in_flight_max`, while
    /// the bytes in flight stay within [`IN_FLIGHT_BYTES_MAX`]), and returns the proposals. Every
    /// slot proposed is above every vote phase 1 reported and every slot its quorum compacted,
    /// where the spec allows any command.
    pub fn propose_pending(&mut self, first_undecided: Slot) -> Vec<(Slot, Entry)> {
        let limits = self.limits;
        let Some(Term {
            phase:
                Phase::Leading {
                    next_slot,
                    proposals,
                },
            ..
        }) = self.term.as_mut()
        else {
            return Vec::new();
        };
        // A slot below the first undecided one is decided already: only a higher ballot could
        // have decided it, so this one is stale, and a command proposed there would be lost.
        *next_slot = (*next_slot).max(first_undecided);
        let end = first_undecided.0.saturating_add(limits.slots_in_flight_max);
        let mut in_flight_bytes: usize = proposals.values().map(Entry::bytes).sum();
        let mut proposed = Vec::new();
        while let Some(front) = self.pending.front() {
            // A command fits an empty pipeline (`IN_FLIGHT_BYTES_MAX` is above
            // `COMMAND_BYTES_MAX`, checked where both are defined), so one always goes out.
            if next_slot.0 >= end || in_flight_bytes + front.0.len() > IN_FLIGHT_BYTES_MAX {
                break;
            }
            let budget = IN_FLIGHT_BYTES_MAX - in_flight_bytes;
            let entry = Entry::batch(take_batch(&mut self.pending, &limits, budget));
            in_flight_bytes += entry.bytes();
            proposals.insert(*next_slot, entry.clone());
            proposed.push((*next_slot, entry));
            *next_slot = next_slot.next();
        }
        assert!(proposed.len() as u64 <= limits.slots_in_flight_max);
        // Phase 1's proposals may pass the bound alone (they are what the quorum reported); new
        // commands join only while there is room.
        assert!(proposed.is_empty() || in_flight_bytes <= IN_FLIGHT_BYTES_MAX);
        proposed
    }

    /// Forgets the proposals of slots now known decided, freeing the pipeline. Returns the
    /// commands of a proposal that lost its slot to another entry (possible only if a higher
    /// ballot decided the slot): they were not decided there, and the caller reports them.
    pub fn on_decided(&mut self, slot: Slot, decided: &Entry) -> Vec<Command> {
        let Some(Term {
            phase: Phase::Leading { proposals, .. },
            ..
        }) = self.term.as_mut()
        else {
            return Vec::new();
        };
        match proposals.remove(&slot) {
            Some(proposed) if proposed != *decided => proposed.commands().to_vec(),
            _ => Vec::new(),
        }
    }

    /// A snapshot through `last_slot` was installed: every slot up to it is decided, with entries
    /// this replica does not know. Forgets its proposals there and returns their commands, whose
    /// fate it cannot tell (a retry of one that was decided is for the client's session to
    /// recognise).
    pub fn on_installed(&mut self, last_slot: Slot) -> Vec<Command> {
        let Some(Term {
            phase: Phase::Leading { proposals, .. },
            ..
        }) = self.term.as_mut()
        else {
            return Vec::new();
        };
        let kept = proposals.split_off(&last_slot.next());
        let covered = std::mem::replace(proposals, kept);
        covered
            .into_values()
            .flat_map(|entry| entry.commands().to_vec())
            .collect()
    }

    /// The proposals not yet known decided, to send again (a lost `2a` is resent as is: the
    /// spec's `msgs` already holds it).
    pub fn in_flight(&self) -> Vec<(Slot, Entry)> {
        match &self.term {
            Some(Term {
                phase: Phase::Leading { proposals, .. },
                ..
            }) => proposals.iter().map(|(s, e)| (*s, e.clone())).collect(),
            _ => Vec::new(),
        }
    }
}

/// Takes the next batch off the queue: at least one command, then as many as fit the limits and
/// `budget_bytes` (what the pipeline has room for).
fn take_batch(
    pending: &mut VecDeque<Command>,
    limits: &Limits,
    budget_bytes: usize,
) -> Vec<Command> {
    let bytes_max = limits.batch_bytes_max.min(budget_bytes);
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(command) = pending.front() {
        let full = batch.len() >= limits.batch_commands_max
            || (!batch.is_empty() && bytes + command.0.len() > bytes_max);
        if full {
            break;
        }
        bytes += command.0.len();
        batch.extend(pending.pop_front());
    }
    assert!(!batch.is_empty() && batch.len() <= limits.batch_commands_max);
    batch
}
