//! Symmetry reduction: acceptors are interchangeable, and so are values, because the spec
//! treats every acceptor and every value alike (quorums are all majorities, any value may be
//! proposed). A state is replaced by the least state of its orbit under every permutation of
//! acceptors and every relabelling of the values it uses.
//!
//! Relabelling only the values that appear keeps the result independent of `NumValues`: for any
//! relabelling into larger labels, compressing the labels in order gives a state that is no
//! greater, so the least state of an orbit always uses the labels `1..k`.

use super::state::{Msg, PaxosState, Value, NONE};
use std::collections::BTreeSet;

/// The canonical representative of `state`'s symmetry class.
pub fn representative(state: &PaxosState) -> PaxosState {
    let used: Vec<Value> = used_values(state).into_iter().collect();
    let acceptor_orders = permutations(state.max_bal.len());
    let value_orders = permutations(used.len());
    let mut best: Option<PaxosState> = None;
    for acceptor_order in &acceptor_orders {
        for value_order in &value_orders {
            let rename_value = |v: Value| match used.iter().position(|&u| u == v) {
                Some(i) => value_order[i] as Value + 1,
                None => v,
            };
            let candidate = permute(state, acceptor_order, rename_value);
            if best.as_ref().is_none_or(|b| candidate < *b) {
                best = Some(candidate);
            }
        }
    }
    best.expect("there is at least the identity permutation")
}

/// Every value other than `None` that appears in `state`.
fn used_values(state: &PaxosState) -> BTreeSet<Value> {
    let mut used: BTreeSet<Value> = state.max_val.iter().copied().collect();
    for m in &state.msgs {
        match m {
            Msg::M1a { .. } => {}
            Msg::M1b { mval, .. } => {
                used.insert(mval);
            }
            Msg::M2a { val, .. } | Msg::M2b { val, .. } => {
                used.insert(val);
            }
        }
    }
    used.remove(&NONE);
    used
}

/// `state` with acceptor `i + 1` renamed `order[i] + 1` and every value renamed.
pub fn permute(
    state: &PaxosState,
    order: &[usize],
    rename_value: impl Fn(Value) -> Value,
) -> PaxosState {
    let n = order.len();
    let mut next = PaxosState::init(n);
    for (i, &j) in order.iter().enumerate() {
        next.max_bal[j] = state.max_bal[i];
        next.max_vbal[j] = state.max_vbal[i];
        next.max_val[j] = rename_value(state.max_val[i]);
    }
    let rename_acceptor = |a: u8| order[usize::from(a) - 1] as u8 + 1;
    next.msgs = state
        .msgs
        .iter()
        .map(|m| match m {
            Msg::M1a { bal } => Msg::M1a { bal },
            Msg::M1b {
                acc,
                bal,
                mbal,
                mval,
            } => Msg::M1b {
                acc: rename_acceptor(acc),
                bal,
                mbal,
                mval: rename_value(mval),
            },
            Msg::M2a { bal, val } => Msg::M2a {
                bal,
                val: rename_value(val),
            },
            Msg::M2b { acc, bal, val } => Msg::M2b {
                acc: rename_acceptor(acc),
                bal,
                val: rename_value(val),
            },
        })
        .collect();
    next
}

/// Every ordering of `0..n`, in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    assert!(
        n <= 8,
        "permutations of more than 8 elements are too many to enumerate"
    );
    let mut all = vec![Vec::new()];
    for _ in 0..n {
        let mut longer = Vec::new();
        for prefix in &all {
            for i in (0..n).filter(|i| !prefix.contains(i)) {
                let mut next: Vec<usize> = prefix.clone();
                next.push(i);
                longer.push(next);
            }
        }
        all = longer;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_states_share_one_representative() {
        let mut left = PaxosState::init(3);
        left.max_bal[0] = 1;
        left.msgs.insert(Msg::M2b {
            acc: 1,
            bal: 0,
            val: 2,
        });
        let mut right = PaxosState::init(3);
        right.max_bal[2] = 1;
        right.msgs.insert(Msg::M2b {
            acc: 3,
            bal: 0,
            val: 1,
        });
        assert_eq!(representative(&left), representative(&right));
        assert_ne!(representative(&left), representative(&PaxosState::init(3)));
    }

    #[test]
    fn permutations_are_all_orderings() {
        assert_eq!(permutations(3).len(), 6);
        assert_eq!(permutations(0), vec![Vec::<usize>::new()]);
    }
}
