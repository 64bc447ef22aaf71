//! Table-driven cases, for cells of 5 and 7.
//!
//! There, one scenario has up to millions of folded combinations (a learner hearing 7 votes of
//! two ballots: 13,383,609), too many for a `#[test]` each. A table-driven case holds the
//! scenario's messages, which of them are interchangeable, and the model's expectation for
//! every set of messages (or every state and message) the node can reach; the harness's
//! `check_all` walks the same folded combinations ([`colony_model::deliveries`]) and checks the
//! node at every step against the table. The generator enumerates every combination too, asks
//! the model once per set of messages delivered (what the spec allows after a delivery depends
//! on nothing else), and writes down how many combinations there are, which the harness checks.
//!
//! **Folding.** Two messages are interchangeable when they differ only in the acceptor that
//! sent them (for example the votes of two acceptors for one value in one ballot). The spec
//! treats every acceptor alike, so swapping two such senders maps a combination to one the
//! node must handle in exactly the same way, up to renaming; one combination per class of such
//! renamings is kept ([`colony_model::deliveries::for_each`]).

use colony_model::deliveries;
use colony_model::paxos::Msg;
use std::collections::BTreeMap;

/// One table-driven case: a scenario, and a table of what the spec expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCase<R, M = Msg> {
    /// The test's name, and the prefix of every combination's name.
    pub name: String,
    /// The messages that may arrive, each lost, delivered once or twice, in any order (of
    /// `Paxos.tla` unless said otherwise).
    pub messages: Vec<M>,
    /// Message `i`'s class: messages of one class are interchangeable.
    pub classes: Vec<u8>,
    /// The model's expectations.
    pub rows: Vec<R>,
    /// How many folded combinations the scenario has.
    pub combinations: u64,
}

/// One row of a transition table: from this state, this message gives this outcome.
pub type TransitionRow<L, M, S> = (L, M, Option<(L, S)>);

/// A node's transition table named `name`: from every state it passes through in any
/// combination of `messages` (none folded) starting at `prior`, each message's outcome as
/// `expect` gives it (the next state and the message sent, or `None` when the spec's action is
/// not enabled), and the number of combinations. `expect` is asked once per state and message.
pub fn transition_case<L, M, S>(
    name: String,
    prior: L,
    messages: Vec<M>,
    mut expect: impl FnMut(L, M) -> Option<(L, S)>,
) -> TableCase<TransitionRow<L, M, S>, M>
where
    L: Copy + Ord,
    M: Copy + Ord,
    S: Copy,
{
    let classes: Vec<u8> = (0..messages.len() as u8).collect();
    let mut rows = BTreeMap::new();
    let combinations = deliveries::for_each(&classes, &mut |sequence| {
        let mut current = prior;
        for &index in sequence {
            let m = messages[index];
            let outcome = *rows
                .entry((current, m))
                .or_insert_with(|| expect(current, m));
            if let Some((next, _)) = outcome {
                current = next;
            }
        }
    });
    let rows = rows
        .into_iter()
        .map(|((from, m), outcome)| (from, m, outcome))
        .collect();
    TableCase {
        name,
        messages,
        classes,
        rows,
        combinations,
    }
}

/// Message `i`'s class: the index of the first message equal to it but for its sender.
pub fn classes_up_to_sender(messages: &[Msg]) -> Vec<u8> {
    classes_by(messages, |m| match m {
        Msg::M1b {
            bal, mbal, mval, ..
        } => Msg::M1b {
            acc: 0,
            bal,
            mbal,
            mval,
        },
        Msg::M2b { bal, val, .. } => Msg::M2b { acc: 0, bal, val },
        Msg::M1a { .. } | Msg::M2a { .. } => m,
    })
}

/// Message `i`'s class: the index of the first message whose `anonymous` form (the message
/// with its sender left out) equals message `i`'s.
pub fn classes_by<M: Copy, K: PartialEq>(messages: &[M], anonymous: impl Fn(M) -> K) -> Vec<u8> {
    messages
        .iter()
        .map(|&m| {
            let first = messages
                .iter()
                .position(|&other| anonymous(other) == anonymous(m))
                .expect("a message is equal to itself");
            first as u8
        })
        .collect()
}

/// The set of messages `sequence` delivers, a bit per message.
pub fn delivered_set(sequence: &[usize]) -> u8 {
    sequence.iter().fold(0, |set, &i| set | 1 << i)
}

/// The classes of more than one message of `table`, each as the list of its messages' senders
/// as `sender` names them (`{a1, a2}`).
pub fn interchangeable<R, M>(
    table: &TableCase<R, M>,
    sender: impl Fn(&M) -> String,
) -> Vec<String> {
    let mut groups = Vec::new();
    for (i, &class) in table.classes.iter().enumerate() {
        if class as usize != i {
            continue;
        }
        let members: Vec<String> = (0..table.classes.len())
            .filter(|&j| table.classes[j] == class)
            .map(|j| sender(&table.messages[j]))
            .collect();
        if members.len() > 1 {
            groups.push(format!("{{{}}}", members.join(", ")));
        }
    }
    groups
}

/// Enumerates every folded combination of messages of `classes` (each delivered at most
/// `copies_max` times), asks `expect` what the spec says after each set of messages the
/// combinations deliver (once per set), and returns how many combinations there are and the
/// answer for every set reached.
pub fn expectations_by_set<T>(
    classes: &[u8],
    copies_max: usize,
    mut expect: impl FnMut(u8) -> T,
) -> (u64, BTreeMap<u8, T>) {
    // Indexed by the set itself: the walk visits up to a hundred million combinations.
    let mut by_set: Vec<Option<T>> = (0..=u8::MAX).map(|_| None).collect();
    let combinations = deliveries::for_each_with_copies(classes, copies_max, &mut |sequence| {
        let set = delivered_set(sequence);
        by_set[usize::from(set)].get_or_insert_with(|| expect(set));
    });
    let by_set = (0..=u8::MAX)
        .zip(by_set)
        .filter_map(|(set, answer)| Some((set, answer?)))
        .collect();
    (combinations, by_set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_differing_only_in_sender_share_a_class() {
        let vote = |acc, bal| Msg::M2b { acc, bal, val: 1 };
        let messages = [vote(1, 0), vote(2, 1), vote(3, 0), vote(4, 1)];
        assert_eq!(classes_up_to_sender(&messages), [0, 1, 0, 1]);
        let prepare = [Msg::M1a { bal: 0 }, Msg::M1a { bal: 1 }];
        assert_eq!(classes_up_to_sender(&prepare), [0, 1]);
    }

    #[test]
    fn every_set_of_delivered_messages_is_asked_about_once() {
        let mut asked = Vec::new();
        let (combinations, by_set) =
            expectations_by_set(&[0, 1, 2], deliveries::COPIES_MAX, |set| {
                asked.push(set);
                set.count_ones()
            });
        assert_eq!(combinations, 271);
        assert_eq!(asked.len(), 8, "every subset of 3 messages, once");
        assert_eq!(by_set[&0b101], 2);
    }
}
