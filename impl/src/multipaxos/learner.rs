//! The learner: finds out which entry was chosen in each slot, and keeps the decided log.

use super::log::{Entry, Slot};
use crate::group::{Ballot, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// How many ballots' votes the learner tracks per slot; the lowest are dropped first. An entry
/// chosen in a dropped ballot is still learned: every higher ballot that gathers a quorum in the
/// slot carries the same entry (`VotesSafe`), and catch-up brings it otherwise.
const BALLOTS_TRACKED_MAX: usize = 4;

/// How far above the decided prefix the learner counts votes, in slots. A replica that lags
/// further learns those slots by catch-up instead, so that its tallies stay bounded whatever it
/// hears.
pub const SLOTS_TALLIED_MAX: u64 = 4096;

/// The votes heard in one slot, per ballot: the entry and who voted for it.
type Tally = BTreeMap<Ballot, (Entry, BTreeSet<NodeId>)>;

/// A learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Learner {
    quorum: usize,
    /// The decided log: `decided[i]` is the entry of slot `i + 1`. Always a prefix: a slot is
    /// added only after every slot before it.
    decided: Vec<Entry>,
    /// Entries learned chosen above the decided prefix, waiting for the slots below them.
    chosen_ahead: BTreeMap<Slot, Entry>,
    tallies: BTreeMap<Slot, Tally>,
}

impl Learner {
    /// A learner that needs votes from `quorum` acceptors in one ballot, restarted with the
    /// decided log it had persisted.
    pub fn new(quorum: usize, decided: Vec<Entry>) -> Learner {
        assert!(quorum >= 1);
        Learner {
            quorum,
            decided,
            chosen_ahead: BTreeMap::new(),
            tallies: BTreeMap::new(),
        }
    }

    /// The decided log, slot 1 first.
    pub fn decided(&self) -> &[Entry] {
        &self.decided
    }

    /// The last slot of the decided prefix (`Slot(0)` when nothing is decided).
    pub fn decided_through(&self) -> Slot {
        Slot(self.decided.len() as u64)
    }

    /// The first slot not known to be decided.
    pub fn first_undecided(&self) -> Slot {
        self.decided_through().next()
    }

    /// The entry decided in `slot`, if this learner knows it.
    pub fn entry(&self, slot: Slot) -> Option<&Entry> {
        let index = usize::try_from(slot.0.checked_sub(1)?).ok()?;
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
        if self.entry(slot).is_some() || slot.0 > self.decided_through().0 + SLOTS_TALLIED_MAX {
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
        self.tallies.remove(&slot);
        self.chosen_ahead.insert(slot, entry);
        let mut added = Vec::new();
        while let Some(entry) = self.chosen_ahead.remove(&self.first_undecided()) {
            added.push((self.first_undecided(), entry.clone()));
            self.decided.push(entry);
        }
        assert!(self
            .chosen_ahead
            .keys()
            .all(|s| *s > self.first_undecided()));
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
        let horizon = Slot(SLOTS_TALLIED_MAX);
        let mut learner = Learner::new(2, Vec::new());
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
        let mut learner = Learner::new(2, Vec::new());
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
        let mut learner = Learner::new(2, Vec::new());
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
