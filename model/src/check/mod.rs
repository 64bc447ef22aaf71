//! Runs the Stateright checker on any model and collects what the CLI reports: TLC's three
//! numbers, the time taken, and a counterexample per violated invariant.

mod first;

use first::FirstCounterexample;
use serde::Serialize;
use stateright::{Checker, Model, Path, Property};
use std::fmt::Debug;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// The search strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Search {
    /// Breadth-first, as TLC: the depth it reports equals TLC's (with one thread).
    Bfs,
    /// Depth-first: the same states, less memory; the only search that applies symmetry.
    Dfs,
}

/// The three numbers TLC reports at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// TLC's "distinct states found".
    pub distinct_states: usize,
    /// TLC's "states generated": every successor computed, repeats included, plus the
    /// initial states.
    pub states_generated: usize,
    /// TLC's "depth of the complete state graph search", the initial state being depth 1.
    pub depth: usize,
}

/// A function from a state to the canonical representative of its symmetry class.
pub type Representative<M> = fn(&<M as Model>::State) -> <M as Model>::State;

/// A path from an initial state to a state that violates an invariant.
pub type Counterexample<M> = Path<<M as Model>::State, <M as Model>::Action>;

/// How to run the checker.
pub struct CheckOptions<M: Model> {
    /// Breadth- or depth-first.
    pub search: Search,
    /// Canonical representative for symmetry reduction (depth-first only).
    pub symmetry: Option<Representative<M>>,
    /// Worker threads; with more than one, a breadth-first depth may exceed TLC's.
    pub threads: usize,
    /// How often to report progress.
    pub progress_interval: Duration,
}

/// The result of a completed run.
pub struct Outcome<M: Model> {
    /// The final counts.
    pub counts: Counts,
    /// Wall-clock time from spawning the checker to its last thread finishing.
    pub elapsed: Duration,
    /// A counterexample path per violated invariant, in the model's property order.
    pub violations: Vec<(&'static str, Counterexample<M>)>,
}

/// Checks `model` to completion, calling `on_progress` every `progress_interval`.
pub fn check<M>(
    model: M,
    options: &CheckOptions<M>,
    on_progress: &mut dyn FnMut(Counts, Duration),
) -> Outcome<M>
where
    M: Model + Send + Sync + 'static,
    M::State: Debug + Hash + Send + Sync + Clone + PartialEq + 'static,
    M::Action: Debug + Clone + PartialEq,
{
    assert!(
        options.threads >= 1,
        "the checker needs at least one thread"
    );
    assert!(
        options.symmetry.is_none() || options.search == Search::Dfs,
        "stateright applies symmetry in depth-first search only"
    );
    let property_names: Vec<&'static str> = model.properties().iter().map(|p| p.name).collect();
    let mut builder = FirstCounterexample::new(model)
        .checker()
        .threads(options.threads);
    if let Some(representative) = options.symmetry {
        builder = builder.symmetry_fn(representative);
    }
    let start = Instant::now();
    let (counts, discoveries) = match options.search {
        Search::Bfs => wait(
            builder.spawn_bfs(),
            start,
            options.progress_interval,
            on_progress,
        ),
        Search::Dfs => wait(
            builder.spawn_dfs(),
            start,
            options.progress_interval,
            on_progress,
        ),
    };
    let elapsed = start.elapsed();
    let mut violations: Vec<_> = discoveries.into_iter().collect();
    violations.sort_by_key(|(name, _)| property_names.iter().position(|p| p == name));
    Outcome {
        counts,
        elapsed,
        violations,
    }
}

type Discoveries<M> =
    std::collections::HashMap<&'static str, Path<<M as Model>::State, <M as Model>::Action>>;

fn wait<M, C>(
    mut checker: C,
    start: Instant,
    interval: Duration,
    on_progress: &mut dyn FnMut(Counts, Duration),
) -> (Counts, Discoveries<M>)
where
    M: Model,
    M::State: Clone + PartialEq + Hash,
    M::Action: Clone + PartialEq,
    C: Checker<M>,
{
    let handles = checker.handles();
    let poll = Duration::from_millis(5);
    let mut next_report = start + interval;
    while !handles.iter().all(|handle| handle.is_finished()) {
        std::thread::sleep(poll);
        if Instant::now() >= next_report {
            on_progress(counts_of(&checker), start.elapsed());
            next_report += interval;
        }
    }
    for handle in handles {
        handle.join().expect("a checker thread panicked");
    }
    (counts_of(&checker), checker.discoveries())
}

fn counts_of<M: Model, C: Checker<M>>(checker: &C) -> Counts {
    Counts {
        distinct_states: checker.unique_state_count(),
        states_generated: checker.state_count(),
        depth: checker.max_depth(),
    }
}

/// The checker's properties for a spec's invariants: one `always` property per invariant, named
/// as in the spec. With none, an always-true property: the checker stops after the first state
/// when it has no property to look for, where TLC explores everything.
pub fn invariant_properties<M: Model>(
    invariants: impl Iterator<Item = (&'static str, fn(&M, &M::State) -> bool)>,
) -> Vec<Property<M>> {
    let mut properties: Vec<Property<M>> = invariants
        .map(|(name, condition)| Property::always(name, condition))
        .collect();
    if properties.is_empty() {
        properties.push(Property::always("(no invariant)", |_, _| true));
    }
    properties
}
