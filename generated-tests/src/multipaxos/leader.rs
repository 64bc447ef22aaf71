//! The replay harness for Multi-Paxos leader cases: the leader of a spec ballot hearing the
//! promises of every acceptor.

use super::spec::{ballot_of, entry, promise, MpMsg};
pub use super::spec::{m1b, m1bc};
use crate::spec::proposer_of;
use crate::walk::{bit, ensure_eq, walk_with_copies, Replay, Scenario};
use colony::group::{quorum_size, NodeId};
use colony::multipaxos::Slot;
use colony::multipaxos::{Config, Durable, Entry, Envelope, Input, Message, Ready, Replica};

/// What the spec allows once a set of promises is heard: per slot, the values `Phase2a(b, s, v)`
/// may propose.
pub type Allowed<'a> = &'a [(u8, &'a [i8])];

/// Starts the leader of spec ballot `ballot` in a cell of `n` (when its election timer runs
/// out) and walks every combination of the promises in `scenario` that delivers each at most
/// `copies_max` times. When the
/// promises heard first make a quorum, the leader must propose, in every slot up to the highest
/// vote they report, exactly one value the table allows there (`rows`: per set of promises, a
/// bit per message), and nothing above it: it has no client command. It must do nothing at any
/// other step.
pub fn check_all(
    n: u8,
    ballot: i8,
    copies_max: usize,
    scenario: &Scenario<'_, MpMsg>,
    rows: &[(u8, Allowed<'_>)],
    combinations: u64,
) {
    let start = Walker {
        leader: start_leader(n, ballot),
        n,
        ballot,
        heard: 0,
        messages: scenario.messages,
        rows,
    };
    walk_with_copies(scenario, copies_max, start, combinations);
}

/// Replica `proposer_of(ballot)` of a cell of `n`, restarted after it started round
/// `ballot - 1`, after its election timer ran out and it sent its `1a` for spec ballot `ballot`
/// (its next round).
fn start_leader(n: u8, ballot: i8) -> Replica {
    let id = proposer_of(ballot, n);
    let members = (1..=n).map(NodeId).collect();
    let config = Config::new(id, members);
    let ticks = config.election_ticks;
    let mut durable = Durable::default();
    durable.hard_state.round_started_max = Some(u32::from(ballot.unsigned_abs()) - 1);
    let mut leader = Replica::new(config, durable).expect("a valid configuration");
    for _ in 1..ticks {
        assert_eq!(
            leader.step(Input::Tick),
            Ready::default(),
            "waiting for the timer"
        );
    }
    let ready = leader.step(Input::Tick);
    let prepare = Message::Prepare {
        ballot: ballot_of(ballot, n),
        first_slot: Slot::FIRST,
    };
    assert!(
        ready.messages.iter().all(|e| e.message == prepare),
        "{ready:?}"
    );
    leader
}

#[derive(Clone)]
struct Walker<'a> {
    leader: Replica,
    n: u8,
    ballot: i8,
    /// The acceptors whose promises were heard, a bit per acceptor.
    heard: u8,
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
        let message = promise(acc, bal, v, compacted, self.n);
        let ready = self.leader.step(Input::Message {
            from: NodeId(acc),
            message,
        });
        let quorum = quorum_size(usize::from(self.n)) as u32;
        let before = self.heard.count_ones();
        self.heard |= 1 << acc;
        if before >= quorum || self.heard.count_ones() < quorum {
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
    /// The messages heard so far, as a bit per message of the scenario.
    fn heard_set(&self) -> u8 {
        (0..self.messages.len())
            .filter(|&i| matches!(self.messages[i], MpMsg::M1b { acc, .. } if self.heard & (1 << acc) != 0))
            .fold(0, |set, i| set | bit(i))
    }

    /// The furthest any promise heard compacted (0 for none), and the acceptors that did.
    fn compacted_heard(&self) -> (u8, Vec<u8>) {
        let set = self.heard_set();
        let heard = (0..self.messages.len())
            .filter(|&i| set & bit(i) != 0)
            .filter_map(|i| match self.messages[i] {
                MpMsg::M1b { acc, compacted, .. } => Some((acc, compacted)),
                _ => None,
            });
        let furthest = heard.clone().map(|(_, c)| c).max().unwrap_or(0);
        let members = heard.filter(|(_, c)| *c == furthest).map(|(a, _)| a);
        (furthest, members.collect())
    }

    /// The slot of the highest vote the promises heard report (0 for none).
    fn last_reported_slot(&self) -> u8 {
        let set = self.heard_set();
        (0..self.messages.len())
            .filter(|&i| set & bit(i) != 0)
            .filter_map(|i| match self.messages[i] {
                MpMsg::M1b { votes, .. } => (1..)
                    .zip(votes)
                    .filter(|(_, v)| v.0 >= 0)
                    .map(|(s, _)| s)
                    .max(),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    fn check_proposals(&self, ready: Ready) -> Result<(), String> {
        let set = self.heard_set();
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
        let proposals = proposals(&sent, self.n, self.ballot)?;
        let slots: Vec<u8> = proposals.iter().map(|(s, _)| *s).collect();
        let expected: Vec<u8> = (compacted + 1..=self.last_reported_slot()).collect();
        ensure_eq(
            slots,
            expected,
            "the slots proposed: every slot above the quorum's compaction up to the highest \
             reported vote",
        )?;
        for (slot, value) in proposals {
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
