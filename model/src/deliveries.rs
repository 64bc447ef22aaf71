//! Every way the network can deliver a set of messages to one node: each message lost, delivered once or delivered
//! twice, and every order of the delivered copies.
//!
//! A combination is the sequence of message indices in delivery order; a message that does not
//! appear was lost. For `k` distinct messages there are 3, 19, 271, 7365, 326011, ... of them
//! (`k` = 1, 2, 3, 4, 5), so for larger `k` the test generator folds combinations by a sound
//! equivalence: messages in one *class* are interchangeable (for example the promises of
//! acceptors that are in the same state, since the protocol treats acceptors alike), and two
//! combinations that differ by a permutation within classes behave the same up to renaming.
//! One representative per equivalence class is emitted: the one in which, within each class,
//! messages are first delivered in increasing index order and the lost ones are the highest.

/// How many copies of one message may be delivered: lost, once, or twice.
pub const COPIES_MAX: usize = 2;

/// The most messages one scenario may have: past this the enumeration is too large to emit.
pub const MESSAGES_MAX: usize = 8;

/// Calls `visit` with every combination of delivering the messages whose classes are `classes`
/// (`classes[i]` is message `i`'s class), one per equivalence class, in lexicographic order of
/// the delivery sequences. Returns how many combinations were visited.
pub fn for_each(classes: &[u8], visit: &mut dyn FnMut(&[usize])) -> u64 {
    for_each_with_copies(classes, COPIES_MAX, visit)
}

/// [`for_each`] with at most `copies_max` copies of each message delivered: `1` for the
/// combinations in which nothing is duplicated (each message lost or delivered once, in every
/// order), which is what a scenario too large for duplicates is walked with.
pub fn for_each_with_copies(
    classes: &[u8],
    copies_max: usize,
    visit: &mut dyn FnMut(&[usize]),
) -> u64 {
    assert!(
        classes.len() <= MESSAGES_MAX,
        "at most {MESSAGES_MAX} messages per scenario"
    );
    assert!(
        (1..=COPIES_MAX).contains(&copies_max),
        "between 1 and {COPIES_MAX} copies of a message"
    );
    let mut search = Search {
        classes,
        copies_max,
        copies: vec![0; classes.len()],
        sequence: Vec::with_capacity(classes.len() * copies_max),
        visited: 0,
    };
    search.extend(visit);
    search.visited
}

/// The combinations of `classes`, collected (for tests and small scenarios).
pub fn all(classes: &[u8]) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    for_each(classes, &mut |sequence| all.push(sequence.to_vec()));
    all
}

struct Search<'a> {
    classes: &'a [u8],
    copies_max: usize,
    copies: Vec<usize>,
    sequence: Vec<usize>,
    visited: u64,
}

impl Search<'_> {
    /// Visits the current sequence, then every extension of it by one more delivery.
    fn extend(&mut self, visit: &mut dyn FnMut(&[usize])) {
        assert!(self.sequence.len() <= self.classes.len() * self.copies_max);
        visit(&self.sequence);
        self.visited += 1;
        for message in 0..self.classes.len() {
            if !self.may_deliver(message) {
                continue;
            }
            self.copies[message] += 1;
            self.sequence.push(message);
            self.extend(visit);
            self.sequence.pop();
            self.copies[message] -= 1;
        }
    }

    /// A message may be delivered if it has copies left and, when this is its first delivery,
    /// every lower message of its class was delivered already (the canonical representative).
    fn may_deliver(&self, message: usize) -> bool {
        if self.copies[message] == self.copies_max {
            return false;
        }
        if self.copies[message] > 0 {
            return true;
        }
        let class = self.classes[message];
        (0..message).all(|lower| self.classes[lower] != class || self.copies[lower] > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn distinct(k: usize) -> Vec<u8> {
        (0..k as u8).collect()
    }

    #[test]
    fn distinct_messages_give_every_combination() {
        let counts: Vec<u64> = (0..=4)
            .map(|k| for_each(&distinct(k), &mut |_| {}))
            .collect();
        assert_eq!(counts, [1, 3, 19, 271, 7365]);
        assert_eq!(all(&distinct(1)), [vec![], vec![0], vec![0, 0]]);
    }

    /// With one copy each, `k` distinct messages give every arrangement of every subset:
    /// the sum over `j` of `k! / (k - j)!`.
    #[test]
    fn one_copy_gives_every_arrangement_of_every_subset() {
        let counts: Vec<u64> = (0..=5)
            .map(|k| for_each_with_copies(&distinct(k), 1, &mut |_| {}))
            .collect();
        assert_eq!(counts, [1, 2, 5, 16, 65, 326]);
        let mut folded = Vec::new();
        for_each_with_copies(&[0, 0], 1, &mut |s| folded.push(s.to_vec()));
        assert_eq!(folded, [vec![], vec![0], vec![0, 1]]);
    }

    #[test]
    fn combinations_are_unique_and_respect_the_copy_bound() {
        let combinations = all(&distinct(3));
        let unique: BTreeSet<&Vec<usize>> = combinations.iter().collect();
        assert_eq!(unique.len(), combinations.len());
        for sequence in &combinations {
            for message in 0..3 {
                assert!(sequence.iter().filter(|&&m| m == message).count() <= COPIES_MAX);
            }
        }
    }

    /// Brute force: every combination of distinct messages, renamed within classes by order of
    /// first delivery, gives exactly the representatives the folded enumeration emits.
    #[test]
    fn folding_keeps_one_representative_per_class_permutation() {
        for classes in [
            vec![0, 0, 0],
            vec![0, 0, 1],
            vec![0, 1, 0, 1],
            vec![0, 0, 0, 0],
        ] {
            let folded: BTreeSet<Vec<usize>> = all(&classes).into_iter().collect();
            let canonical: BTreeSet<Vec<usize>> = all(&distinct(classes.len()))
                .into_iter()
                .map(|sequence| canonical(&classes, &sequence))
                .collect();
            assert_eq!(folded, canonical, "classes {classes:?}");
            assert!(
                folded.len() < all(&distinct(classes.len())).len(),
                "folding folds"
            );
        }
    }

    /// Renames messages within each class in order of first delivery (lost ones last).
    fn canonical(classes: &[u8], sequence: &[usize]) -> Vec<usize> {
        let mut renamed = vec![usize::MAX; classes.len()];
        for &message in sequence {
            if renamed[message] == usize::MAX {
                let class = classes[message];
                let taken = renamed
                    .iter()
                    .enumerate()
                    .filter(|&(m, &r)| classes[m] == class && r != usize::MAX)
                    .count();
                let members: Vec<usize> = (0..classes.len())
                    .filter(|&m| classes[m] == class)
                    .collect();
                renamed[message] = members[taken];
            }
        }
        sequence.iter().map(|&m| renamed[m]).collect()
    }
}
