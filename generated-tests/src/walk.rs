//! The table-driven cases of cells of 5 and 7: every folded combination of a scenario, walked
//! depth-first through a real node, checked at each step against a table the generator took
//! from the model.
//!
//! A cell of 5 or 7 has too many combinations for a `#[test]` each (a learner hearing 7 votes
//! of two ballots alone has 13 million), so a generated test holds a scenario's messages, which
//! of them are interchangeable, and the spec's expectation for every set of messages the node
//! can have heard; this walker enumerates the same folded combinations as the generator
//! ([`colony_model::deliveries`]) and replays them. Combinations share prefixes, so each one
//! costs one step of a cloned node, not a replay from the start.

use crate::spec::SpecMsg;
use colony_model::deliveries;
use std::fmt::Debug;

/// A spec message as the generator names it in a combination's name (`1a_b1`).
pub trait Label: Copy + Debug {
    /// The label.
    fn label(self) -> String;
}

impl Label for SpecMsg {
    fn label(self) -> String {
        crate::spec::label(self)
    }
}

/// A node under test, with what the spec expects of it, that can take one delivery.
pub trait Replay: Clone {
    /// Delivers message `index` of the scenario and checks what the node does against the
    /// spec's expectation; the error says what differed.
    fn deliver(&mut self, index: usize) -> Result<(), String>;
}

/// A node restarted from a spec state that takes one delivery and checks what it does against
/// the spec's outcome: the next state and the message sent, or `None` for nothing.
pub trait Receiver: Clone {
    /// The node's variables, as the spec writes them.
    type Local: Copy + PartialEq + Debug;
    /// A message the node receives, as the spec writes it.
    type Msg: Copy + PartialEq + Debug;
    /// A message the node sends, as the spec writes it.
    type Sent: Copy;
    /// The node's variables now.
    fn local(&self) -> Self::Local;
    /// Delivers `deliver`, checks the node did exactly `outcome`, and moves to its state.
    fn receive(
        &mut self,
        deliver: Self::Msg,
        outcome: Option<(Self::Local, Self::Sent)>,
    ) -> Result<(), String>;
}

/// One row of a node's transition table: from these variables, this message gives this outcome.
pub type Transition<R> = (
    <R as Receiver>::Local,
    <R as Receiver>::Msg,
    Option<(<R as Receiver>::Local, <R as Receiver>::Sent)>,
);

/// A [`Receiver`] walking a scenario, which looks each delivery's outcome up in a table.
pub struct TableWalker<'a, R: Receiver> {
    /// The node.
    pub node: R,
    /// The scenario's messages.
    pub messages: &'a [R::Msg],
    /// The spec's outcome of every message from every state the node passes through.
    pub transitions: &'a [Transition<R>],
}

impl<R: Receiver> Clone for TableWalker<'_, R> {
    fn clone(&self) -> Self {
        TableWalker {
            node: self.node.clone(),
            messages: self.messages,
            transitions: self.transitions,
        }
    }
}

impl<R: Receiver> Replay for TableWalker<'_, R> {
    fn deliver(&mut self, index: usize) -> Result<(), String> {
        let deliver = self.messages[index];
        let local = self.node.local();
        let Some(&(_, _, outcome)) = self
            .transitions
            .iter()
            .find(|&&(from, m, _)| from == local && m == deliver)
        else {
            return Err(format!(
                "the table has no row for {local:?} and {deliver:?}"
            ));
        };
        self.node.receive(deliver, outcome)
    }
}

/// One scenario's table-driven case: its name's prefix, its messages (of `Paxos.tla`, unless
/// said otherwise), and which of them are interchangeable (`classes[i]` is message `i`'s class).
pub struct Scenario<'a, M = SpecMsg> {
    /// The prefix of every combination's name, such as `learner_n7_one_ballot`.
    pub prefix: &'a str,
    /// The messages that may arrive.
    pub messages: &'a [M],
    /// Message `i`'s class: messages of one class are interchangeable.
    pub classes: &'a [u8],
}

/// Replays every folded combination of `scenario` from `start`, and checks that there are as
/// many as the generator counted. A failure names the combination the way the generator names
/// it, with every delivery in order, so that it can be replayed by hand.
pub fn walk<M: Label, R: Replay>(scenario: &Scenario<'_, M>, start: R, combinations_expected: u64) {
    walk_with_copies(
        scenario,
        deliveries::COPIES_MAX,
        start,
        combinations_expected,
    );
}

/// [`walk`] over the combinations that deliver each message at most `copies_max` times.
pub fn walk_with_copies<M: Label, R: Replay>(
    scenario: &Scenario<'_, M>,
    copies_max: usize,
    start: R,
    combinations_expected: u64,
) {
    assert_eq!(scenario.messages.len(), scenario.classes.len());
    // `after[i]` is the node after the first `i` deliveries of the current combination. The
    // enumeration is depth-first and visits a combination right after one of its prefixes or
    // its siblings' subtrees, so the entries below the current length are always its prefix's.
    let mut after: Vec<R> = vec![start];
    let mut visit = |sequence: &[usize]| {
        let Some((&last, prefix)) = sequence.split_last() else {
            return;
        };
        after.truncate(sequence.len());
        let mut node = after[prefix.len()].clone();
        if let Err(fault) = node.deliver(last) {
            panic!(
                "{}\n  step {}: {fault}\n  deliveries: {:?}",
                name(scenario, sequence),
                sequence.len(),
                sequence
                    .iter()
                    .map(|&i| scenario.messages[i])
                    .collect::<Vec<_>>()
            );
        }
        after.push(node);
    };
    let combinations = deliveries::for_each_with_copies(scenario.classes, copies_max, &mut visit);
    assert_eq!(
        combinations, combinations_expected,
        "the walk and the generator enumerate the same combinations"
    );
}

/// `{prefix}_deliver_{delivered...}_drop_{lost...}`, as the generator names combinations.
fn name<M: Label>(scenario: &Scenario<'_, M>, sequence: &[usize]) -> String {
    let mut name = format!("{}_deliver", scenario.prefix);
    for &i in sequence {
        name += &format!("_{}", scenario.messages[i].label());
    }
    let lost: Vec<usize> = (0..scenario.messages.len())
        .filter(|i| !sequence.contains(i))
        .collect();
    if !lost.is_empty() {
        name += "_drop";
    }
    for i in lost {
        name += &format!("_{}", scenario.messages[i].label());
    }
    name
}

/// The bit of message `index` in a set of delivered messages.
pub fn bit(index: usize) -> u8 {
    assert!(index < 8, "a scenario has at most 8 messages");
    1 << index
}

/// Fails with both sides when `actual` is not `expected`. `what` is formatted only then (pass
/// `format_args!`), because the walk checks hundreds of millions of steps.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(
    actual: T,
    expected: T,
    what: impl std::fmt::Display,
) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {expected:?}, the node gave {actual:?}"
        ))
    }
}
