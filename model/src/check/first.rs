//! Keeps the first counterexample of each invariant.
//!
//! Stateright re-evaluates an `always` property on every state and overwrites its discovery
//! whenever the property fails again, so a run that goes on after a violation would report the
//! last violating state it met: the deepest, not the shortest. This wrapper makes each invariant
//! report "holds" once it has failed, so the discovery that stands is the first one, which in a
//! single-threaded breadth-first search is a shortest counterexample (as TLC's would be). The
//! search still goes on, so every other invariant gets its own first counterexample too.
//!
//! It also lets the caller stop the search: once `stop` is set, no state has a successor and
//! no invariant is evaluated any more, so the checker drains the states it has queued at once
//! and finishes (stateright has no other way to stop a running search; its own
//! `target_state_count` bounds the states generated, repeats included, not the distinct states
//! that fill memory).

use stateright::{Expectation, Model, Property};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The most invariants one model may have (the size of the condition table below).
pub const PROPERTIES_MAX: usize = 16;

/// A model whose invariants each report only their first violation.
pub struct FirstCounterexample<M: Model> {
    inner: M,
    properties: Vec<Property<M>>,
    violated: Vec<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl<M: Model> FirstCounterexample<M> {
    /// Wraps `inner`, whose properties must all be `always` invariants; the search stops once
    /// `stop` is set.
    pub fn new(inner: M, stop: Arc<AtomicBool>) -> Self {
        let properties = inner.properties();
        assert!(
            properties.len() <= PROPERTIES_MAX,
            "at most {PROPERTIES_MAX} invariants"
        );
        assert!(properties
            .iter()
            .all(|p| p.expectation == Expectation::Always));
        let violated = properties.iter().map(|_| AtomicBool::new(false)).collect();
        FirstCounterexample {
            inner,
            properties,
            violated,
            stop,
        }
    }
}

impl<M: Model> Model for FirstCounterexample<M> {
    type State = M::State;
    type Action = M::Action;

    fn init_states(&self) -> Vec<M::State> {
        self.inner.init_states()
    }

    fn actions(&self, state: &M::State, actions: &mut Vec<M::Action>) {
        if !self.stop.load(Ordering::Relaxed) {
            self.inner.actions(state, actions);
        }
    }

    fn next_state(&self, state: &M::State, action: M::Action) -> Option<M::State> {
        self.inner.next_state(state, action)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let table = conditions::<M>();
        let named = self.properties.iter().zip(table);
        named
            .map(|(p, condition)| Property::always(p.name, condition))
            .collect()
    }

    fn within_boundary(&self, state: &M::State) -> bool {
        self.inner.within_boundary(state)
    }
}

type Condition<M> = fn(&FirstCounterexample<M>, &<M as Model>::State) -> bool;

/// The `I`-th invariant of the inner model, reported as holding once it has failed.
fn condition<M: Model, const I: usize>(model: &FirstCounterexample<M>, state: &M::State) -> bool {
    // A stopped search reports nothing new: the states it still drains were never expanded.
    if model.violated[I].load(Ordering::Relaxed) || model.stop.load(Ordering::Relaxed) {
        return true;
    }
    let holds = (model.properties[I].condition)(&model.inner, state);
    if !holds {
        model.violated[I].store(true, Ordering::Relaxed);
    }
    holds
}

/// One condition per invariant index: a property is a plain `fn`, so it cannot capture which
/// inner invariant it stands for; the index is a const parameter instead.
fn conditions<M: Model>() -> [Condition<M>; PROPERTIES_MAX] {
    [
        condition::<M, 0>,
        condition::<M, 1>,
        condition::<M, 2>,
        condition::<M, 3>,
        condition::<M, 4>,
        condition::<M, 5>,
        condition::<M, 6>,
        condition::<M, 7>,
        condition::<M, 8>,
        condition::<M, 9>,
        condition::<M, 10>,
        condition::<M, 11>,
        condition::<M, 12>,
        condition::<M, 13>,
        condition::<M, 14>,
        condition::<M, 15>,
    ]
}
