//! The replay harness for Multi-Paxos leader cases: the leader of a spec ballot hearing the
//! promises of every acceptor.

use super::spec::{ballot_of, command, entry, promise, MpMsg};
pub use super::spec::{m1b, m1bc};
use crate::spec::proposer_of;
use crate::walk::{bit, ensure_eq, walk_with_copies, Replay, Scenario};
use colony_core::group::{quorum_size, NodeId};
use colony_core::multipaxos::Slot;
use colony_core::multipaxos::{Config, Durable, Entry, Envelope, Input, Message, Ready, Replica};

/// What the spec allows once a set of promises is heard: per slot, the values `Phase2a(b, s, v)`
/// may propose.
pub type Allowed<'a> = &'a [(u8, &'a [i8])];

/// One family of leader cases: the leader of spec ballot `ballot` in a cell of `n`, from a
/// model with slots `1..slots`, each promise delivered at most `copies_max` times.
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// The cell's size.
    pub n: u8,
    /// The spec ballot the leader prepares; only the promises of this ballot count.
    pub ballot: i8,
    /// The model's `NumSlots`: what the spec allows in a slot above it is not in the tables.
    pub slots: u8,
    /// The spec command a client proposed before phase 1, in the walk that starts the leader
    /// that way.
    pub waiting: i8,
    /// The most copies of one promise a combination delivers.
    pub copies_max: usize,
}

/// Walks every combination of the promises in `scenario` twice: once with the leader started by
/// its election timeout and no command waiting, once with it started by a client's proposal of
/// `family.waiting`. When the promises of its ballot heard first make a quorum, the leader must
/// propose, in every slot above the quorum's compaction up to the highest vote they report,
/// exactly one value the table allows there (`rows`: per set of promises heard, a bit per
/// message); with no command waiting nothing above, and with one the waiting command in the
/// first slot above every reported vote and every compacted slot, one the table allows there
/// (past the model's slots, where the table says nothing, by the harness's rule alone). It must
/// do nothing at any other step.
pub fn check_all(
    family: &Family,
    scenario: &Scenario<'_, MpMsg>,
    rows: &[(u8, Allowed<'_>)],
    combinations: u64,
) {
    for waiting in [None, Some(family.waiting)] {
        let prefix = match waiting {
            None => scenario.prefix.to_string(),
            Some(c) => format!("{}_c{c}_waiting", scenario.prefix),
        };
        let walked = Scenario {
            prefix: &prefix,
            ..*scenario
        };
        let start = Walker {
            leader: start_leader(family, waiting),
            family,
            waiting,
            heard: 0,
            promised: 0,
            messages: scenario.messages,
            rows,
        };
        walk_with_copies(&walked, family.copies_max, start, combinations);
    }
}

/// Replica `proposer_of(ballot)` of the family's cell, restarted after it started round
/// `ballot - 1`, once it sent its `1a` for spec ballot `ballot` (its next round): after its
/// election timer ran out, or, with a command `waiting`, as soon as a client proposed it (a
/// replica that knows of no leader queues the command and starts a ballot).
fn start_leader(family: &Family, waiting: Option<i8>) -> Replica {
    let Family { n, ballot, .. } = *family;
    let id = proposer_of(ballot, n);
    let members = (1..=n).map(NodeId).collect();
    let config = Config::new(id, members);
    let ticks = config.election_ticks;
    let mut durable = Durable::default();
    durable.hard_state.round_started_max = Some(u32::from(ballot.unsigned_abs()) - 1);
    let mut leader = Replica::new(config, durable).expect("a valid configuration");
    let ready = match waiting {
        None => {
            for _ in 1..ticks {
                assert_eq!(
                    leader.step(Input::Tick),
                    Ready::default(),
                    "waiting for the timer"
                );
            }
            leader.step(Input::Tick)
        }
        Some(c) => leader
            .propose(command(c))
            .expect("a replica that knows of no leader takes the command"),
    };
    let prepare = Message::Prepare {
        ballot: ballot_of(ballot, n),
        first_slot: Slot::FIRST,
    };
    assert!(
        !ready.messages.is_empty() && ready.messages.iter().all(|e| e.message == prepare),
        "{ready:?}"
    );
    leader
}

#[derive(Clone)]
struct Walker<'a> {
    leader: Replica,
    family: &'a Family,
    /// The command a client proposed before phase 1, if any.
    waiting: Option<i8>,
    /// The messages heard, a bit per message of the scenario.
    heard: u8,
    /// The acceptors whose promise of the leader's ballot was heard, a bit per acceptor.
    promised: u8,
    messages: &'a [MpMsg],
    rows: &'a [(u8, Allowed<'a>)],
}

impl Replay for Walker<'_> {
    fn deliver(&mut self, index: usize) -> Result<(), String> {
        let MpMsg::M1b {
            acc,
            bal,
            votes: v,
            compacted,
        } = self.messages[index]
        else {
            return Err(format!("{:?} is not a promise", self.messages[index]));
        };
        let n = self.family.n;
        // A promise goes to the proposer of its ballot: one of another ballot reaches this
        // leader only if it is one of its own earlier ballots.
        if bal != self.family.ballot && proposer_of(bal, n) != proposer_of(self.family.ballot, n) {
            return Err(format!(
                "a promise of ballot {bal} goes to {:?}, not to this leader",
                proposer_of(bal, n)
            ));
        }
        let message = promise(acc, bal, v, compacted, n);
        let ready = self.leader.step(Input::Message {
            from: NodeId(acc),
            message,
        });
        self.heard |= bit(index);
        let quorum = quorum_size(usize::from(n)) as u32;
        let before = self.promised.count_ones();
        if bal == self.family.ballot {
            self.promised |= 1 << acc;
        }
        if before >= quorum || self.promised.count_ones() < quorum {
            return ensure_eq(
                ready,
                Ready::default(),
                "no proposal before or after the quorum",
            );
        }
        self.check_proposals(ready)
    }
}

impl Walker<'_> {
    /// The promises of the leader's ballot heard so far: their acceptor, votes and compaction.
    fn counted(&self) -> impl Iterator<Item = (u8, [(i8, i8); 2], u8)> + '_ {
        (0..self.messages.len())
            .filter(|&i| self.heard & bit(i) != 0)
            .filter_map(|i| match self.messages[i] {
                MpMsg::M1b {
                    acc,
                    bal,
                    votes,
                    compacted,
                } if bal == self.family.ballot => Some((acc, votes, compacted)),
                _ => None,
            })
    }

    /// The furthest any promise counted compacted (0 for none), and the acceptors that did.
    fn compacted_heard(&self) -> (u8, Vec<u8>) {
        let furthest = self.counted().map(|(_, _, c)| c).max().unwrap_or(0);
        let members = self.counted().filter(|(_, _, c)| *c == furthest);
        (furthest, members.map(|(a, _, _)| a).collect())
    }

    /// The slot of the highest vote the promises counted report (0 for none).
    fn last_reported_slot(&self) -> u8 {
        self.counted()
            .filter_map(|(_, votes, _)| {
                (1..)
                    .zip(votes)
                    .filter(|(_, v)| v.0 >= 0)
                    .map(|(s, _)| s)
                    .max()
            })
            .max()
            .unwrap_or(0)
    }

    fn check_proposals(&self, ready: Ready) -> Result<(), String> {
        let set = self.heard;
        let Some(&(_, allowed)) = self.rows.iter().find(|(s, _)| *s == set) else {
            return Err(format!("the table has no row for the promises {set:#010b}"));
        };
        ensure_eq(ready.hard_state, None, "hearing promises persists nothing")?;
        ensure_eq(ready.decided.len(), 0, "hearing promises decides nothing")?;
        // A quorum member compacted past this leader's log (it decided nothing): the leader asks
        // one of those that compacted furthest to catch it up, and proposes only above.
        let (compacted, furthest) = self.compacted_heard();
        let (asked, sent): (Vec<Envelope>, Vec<Envelope>) = ready
            .messages
            .into_iter()
            .partition(|e| matches!(e.message, Message::CatchUpRequest { .. }));
        if compacted == 0 {
            ensure_eq(asked.len(), 0, "no catch-up asked: nobody compacted")?;
        } else {
            let ask = asked.first().map(|e| (e.to.0, e.message.clone()));
            let first_slot = Slot::FIRST;
            match ask {
                Some((to, Message::CatchUpRequest { first_slot: f }))
                    if asked.len() == 1 && furthest.contains(&to) && f == first_slot => {}
                _ => {
                    return Err(format!(
                        "asked {asked:?}, not one catch-up from {first_slot} of a member that \
                         compacted furthest ({furthest:?})"
                    ))
                }
            }
        }
        let proposals = proposals(&sent, self.family.n, self.family.ballot)?;
        let slots: Vec<u8> = proposals.iter().map(|(s, _)| *s).collect();
        let last_reported = self.last_reported_slot();
        let mut expected: Vec<u8> = (compacted + 1..=last_reported).collect();
        // The waiting command goes to the first slot no reported vote and no compaction holds:
        // the spec allows any command there, and a slot below it may need the reported value
        // or `NoOp`.
        let free = compacted.max(last_reported) + 1;
        if self.waiting.is_some() {
            expected.push(free);
        }
        let what = "the slots proposed: every slot above the quorum's compaction up to the \
                    highest reported vote";
        match self.waiting {
            None => ensure_eq(slots, expected, what)?,
            Some(c) => ensure_eq(
                slots,
                expected,
                format_args!("{what}, then the slot after them for c{c}, waiting"),
            )?,
        }
        for (slot, value) in proposals {
            // Above the model's slots the tables say nothing: there only the waiting command is
            // proposed, in the first slot past every reported vote and every compacted slot,
            // and the check is the rule below, which is what `SafeValues` gives inside the
            // bounds (any command).
            if slot <= self.family.slots {
                let values = allowed
                    .iter()
                    .find(|(s, _)| *s == slot)
                    .map_or(&[][..], |(_, v)| v);
                if !values.contains(&value) {
                    return Err(format!(
                        "proposed {value} in slot {slot}, where the spec allows {values:?}"
                    ));
                }
            }
            // The spec allows any command in the free slot; the leader must propose the one
            // its client gave.
            if let Some(c) = self.waiting.filter(|_| slot == free) {
                ensure_eq(
                    value,
                    c,
                    format_args!("the command proposed in slot {slot}"),
                )?;
            }
        }
        Ok(())
    }
}

/// The proposals in `messages`, as spec slots and values, checking that each is an `Accept` of
/// spec ballot `b` sent to every member, one slot after another.
fn proposals(messages: &[Envelope], n: u8, b: i8) -> Result<Vec<(u8, i8)>, String> {
    let mut proposals = Vec::new();
    for chunk in messages.chunks(usize::from(n)) {
        let Message::Accept {
            ballot,
            slot,
            entry: e,
        } = &chunk[0].message
        else {
            return Err(format!("sent {:?}, not a proposal", chunk[0].message));
        };
        let to: Vec<NodeId> = chunk.iter().map(|envelope| envelope.to).collect();
        ensure_eq(
            to,
            (1..=n).map(NodeId).collect(),
            "a proposal goes to every member",
        )?;
        if chunk
            .iter()
            .any(|envelope| envelope.message != chunk[0].message)
        {
            return Err(format!("one proposal, not {chunk:?}"));
        }
        ensure_eq(*ballot, ballot_of(b, n), "the ballot proposed in")?;
        let value = spec_value(e).ok_or_else(|| format!("{e:?} is no spec value"))?;
        let slot = u8::try_from(slot.0).map_err(|_| format!("{slot} is past the spec's slots"))?;
        proposals.push((slot, value));
    }
    Ok(proposals)
}

fn spec_value(e: &Entry) -> Option<i8> {
    (0..=9).find(|&v| entry(v) == *e)
}
