//! The learner: finds out which entry was chosen in each slot, and keeps the decided log from
//! the last snapshot on.

use super::log::{Entry, Slot};
use super::LOG_SLOTS_MAX;
use crate::group::{Ballot, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// How many ballots' votes the learner tracks per slot; the lowest are dropped first. An entry
/// chosen in a dropped ballot is still learned: every higher ballot that gathers a quorum in the
/// slot carries the same entry (`VotesSafe`), and catch-up brings it otherwise.
const BALLOTS_TRACKED_MAX: usize = 4;

/// The votes heard in one slot, per ballot: the entry and who voted for it.
type Tally = BTreeMap<Ballot, (Entry, BTreeSet<NodeId>)>;

/// A learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Learner {
    quorum: usize,
    /// The last slot of the snapshot the decided log starts after (`Slot(0)`: none). The slots up
    /// to it are decided; their entries are in the state machine's snapshot, not here.
    base: Slot,
    /// The decided log after `base`: `decided[i]` is the entry of slot `base + i + 1`. Always a
    /// prefix: a slot is added only after every slot before it. At most [`LOG_SLOTS_MAX`]
    /// entries: past that, the learner waits for a snapshot before it decides more.
    decided: Vec<Entry>,
    /// Entries learned chosen above the decided prefix, waiting for the slots below them.
    chosen_ahead: BTreeMap<Slot, Entry>,
    tallies: BTreeMap<Slot, Tally>,
}

impl Learner {
    /// A learner that needs votes from `quorum` acceptors in one ballot, restarted from the
    /// snapshot through `base` and the decided log after it that it had persisted (at most
    /// [`LOG_SLOTS_MAX`] entries).
    pub fn new(quorum: usize, base: Slot, decided: Vec<Entry>) -> Learner {
        assert!(quorum >= 1);
        assert!(decided.len() as u64 <= LOG_SLOTS_MAX);
        Learner {
            quorum,
            base,
            decided,
            chosen_ahead: BTreeMap::new(),
            tallies: BTreeMap::new(),
        }
    }

    /// The last slot the snapshot the decided log starts after covers (`Slot(0)`: none).
    pub fn base(&self) -> Slot {
        self.base
    }

    /// The decided log after the snapshot, slot `base + 1` first.
    pub fn decided(&self) -> &[Entry] {
        &self.decided
    }

    /// The last slot of the decided prefix (`Slot(0)` when nothing is decided).
    pub fn decided_through(&self) -> Slot {
        Slot(self.base.0 + self.decided.len() as u64)
    }

    /// The last slot this learner may decide before a snapshot: it holds at most
    /// [`LOG_SLOTS_MAX`] entries after its base.
    fn last_decidable(&self) -> Slot {
        Slot(self.base.0 + LOG_SLOTS_MAX)
    }

    /// Whether `slot` is known decided here: in the snapshot, the decided log, or chosen ahead.
    pub fn is_decided(&self, slot: Slot) -> bool {
        slot <= self.decided_through() || self.chosen_ahead.contains_key(&slot)
    }

    /// Forgets the decided entries up to `slot`, which a durable snapshot now covers. Nothing
    /// changes for a slot at or below the base; a slot past the decided prefix is the caller's
    /// error (a snapshot of what this replica did not apply), and panics.
    pub fn compact(&mut self, slot: Slot) {
        if slot <= self.base {
            return;
        }
        assert!(
            slot <= self.decided_through(),
            "a snapshot through {slot} of a log decided through {}",
            self.decided_through()
        );
        let drop = (slot.0 - self.base.0) as usize;
        self.decided.drain(..drop);
        self.base = slot;
    }

    /// Spec: `InstallSnapshot(r)`. A snapshot through `slot`, past the decided prefix, now holds
    /// the state machine's state (a peer's, installed by the runtime): the log resumes after it.
    /// Returns the slots chosen ahead that now follow the decided prefix, in order. A snapshot
    /// not past the decided prefix is compaction ([`Learner::compact`]).
    pub fn install(&mut self, slot: Slot) -> Vec<(Slot, Entry)> {
        if slot <= self.decided_through() {
            self.compact(slot);
            return Vec::new();
        }
        self.base = slot;
        self.decided.clear();
        self.chosen_ahead = self.chosen_ahead.split_off(&slot.next());
        self.tallies = self.tallies.split_off(&slot.next());
        self.advance()
    }

    /// The first slot not known to be decided.
    pub fn first_undecided(&self) -> Slot {
        self.decided_through().next()
    }

    /// The entry decided in `slot`, if this learner still holds it (not for a slot the snapshot
    /// covers).
    pub fn entry(&self, slot: Slot) -> Option<&Entry> {
        let index = usize::try_from(slot.0.checked_sub(self.base.0 + 1)?).ok()?;
        self.decided
            .get(index)
            .or_else(|| self.chosen_ahead.get(&slot))
    }

    /// Spec: `ChosenIn(s, v, b)`. Counts a vote; returns the slots that joined the decided prefix
    /// (spec: `Apply(r)`, once each), in order: none until a quorum of acceptors voted for one
    /// entry in one ballot in the first undecided slot.
    pub fn on_accepted(
        &mut self,
        ballot: Ballot,
        acceptor: NodeId,
        slot: Slot,
        entry: Entry,
    ) -> Vec<(Slot, Entry)> {
        // Past the log's bound the votes are not counted: the slot waits for a snapshot, and
        // catch-up brings it then, so that the tallies stay bounded whatever the learner hears.
        if self.is_decided(slot) || slot > self.last_decidable() {
            return Vec::new();
        }
        let tally = self.tallies.entry(slot).or_default();
        let (ballot_entry, voters) = tally
            .entry(ballot)
            .or_insert_with(|| (entry.clone(), BTreeSet::new()));
        if *ballot_entry != entry {
            debug_assert!(
                false,
                "OneValuePerBallot: {slot} has two entries in {ballot}"
            );
            return Vec::new();
        }
        voters.insert(acceptor);
        if voters.len() >= self.quorum {
            return self.learn(slot, entry);
        }
        while tally.len() > BALLOTS_TRACKED_MAX {
            tally.pop_first();
        }
        Vec::new()
    }

    /// Spec: `CatchUp(r)`. Takes entries a peer decided, from `first_slot` on; returns the slots
    /// that joined the decided prefix, in order.
    pub fn on_catch_up(&mut self, first_slot: Slot, entries: Vec<Entry>) -> Vec<(Slot, Entry)> {
        let mut added = Vec::new();
        let mut slot = first_slot;
        for entry in entries {
            if slot > self.last_decidable() {
                break; // The rest waits for a snapshot; catch-up brings it again.
            }
            if slot == self.first_undecided() {
                added.extend(self.learn(slot, entry));
            } else if let Some(known) = self.entry(slot) {
                debug_assert_eq!(
                    *known, entry,
                    "Agreement: a peer decided another entry in {slot}"
                );
            }
            slot = slot.next();
        }
        added
    }

    /// Records `entry` as chosen in `slot` and moves every slot that now follows the decided
    /// prefix into it.
    fn learn(&mut self, slot: Slot, entry: Entry) -> Vec<(Slot, Entry)> {
        assert!(slot >= self.first_undecided(), "{slot} is decided already");
        assert!(
            slot <= self.last_decidable(),
            "{slot} is past the log's bound"
        );
        self.tallies.remove(&slot);
        self.chosen_ahead.insert(slot, entry);
        self.advance()
    }

    /// Moves every entry chosen ahead that follows the decided prefix into it.
    fn advance(&mut self) -> Vec<(Slot, Entry)> {
        let mut added = Vec::new();
        while let Some(entry) = self.chosen_ahead.remove(&self.first_undecided()) {
            added.push((self.first_undecided(), entry.clone()));
            self.decided.push(entry);
        }
        assert!(self
            .chosen_ahead
            .keys()
            .all(|s| *s > self.first_undecided()));
        assert!(self.decided.len() as u64 <= LOG_SLOTS_MAX);
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(round: u32) -> Ballot {
        Ballot {
            round,
            proposer: NodeId(1),
        }
    }

    /// Acceptor `acceptor`'s vote for `NoOp` in `slot` and the ballot of `round`; what joined the
    /// decided prefix.
    fn vote(learner: &mut Learner, round: u32, acceptor: u8, slot: Slot) -> Vec<(Slot, Entry)> {
        learner.on_accepted(ballot(round), NodeId(acceptor), slot, Entry::NoOp)
    }

    #[test]
    fn votes_are_tallied_up_to_the_horizon_and_not_past_it() {
        let horizon = Slot(LOG_SLOTS_MAX);
        let mut learner = Learner::new(2, Slot(0), Vec::new());
        vote(&mut learner, 1, 1, horizon);
        vote(&mut learner, 1, 2, horizon);
        assert_eq!(
            learner.entry(horizon),
            Some(&Entry::NoOp),
            "the last slot tallied"
        );
        let past = horizon.next();
        vote(&mut learner, 1, 1, past);
        vote(&mut learner, 1, 2, past);
        assert_eq!(
            learner.entry(past),
            None,
            "past the horizon, catch-up brings it"
        );
    }

    #[test]
    fn a_quorum_completes_in_every_ballot_tracked() {
        let slot = Slot::FIRST;
        let mut learner = Learner::new(2, Slot(0), Vec::new());
        for round in 1..=BALLOTS_TRACKED_MAX as u32 {
            assert_eq!(
                vote(&mut learner, round, 1, slot),
                [],
                "one vote is no quorum"
            );
        }
        assert_eq!(
            vote(&mut learner, 1, 2, slot),
            [(slot, Entry::NoOp)],
            "the lowest of {BALLOTS_TRACKED_MAX} ballots is still tracked"
        );
    }

    #[test]
    fn the_lowest_ballot_is_dropped_past_the_bound() {
        let slot = Slot::FIRST;
        let mut learner = Learner::new(2, Slot(0), Vec::new());
        for round in 1..=BALLOTS_TRACKED_MAX as u32 + 1 {
            assert_eq!(
                vote(&mut learner, round, 1, slot),
                [],
                "one vote is no quorum"
            );
        }
        assert_eq!(vote(&mut learner, 1, 2, slot), [], "ballot 1 was dropped");
        assert_eq!(vote(&mut learner, 2, 2, slot), [(slot, Entry::NoOp)]);
    }
}
