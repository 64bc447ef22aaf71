//! Runs the Stateright checker on any model and collects what the CLI reports: TLC's three
//! numbers, the time taken, and a counterexample per violated invariant.

mod first;

use first::FirstCounterexample;
use serde::Serialize;
use stateright::{Checker, Model, Path, Property};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default bound on the distinct states a search may find before it stops: 10 million.
/// Found states cost memory: the queue of states still to expand, the fingerprints of those
/// seen, the bookkeeping to rebuild paths. A bug that makes the two-slot Multi-Paxos space
/// explode (`--bug vote-below-promise` on `MultiPaxos_a3_r1_c1_b1_s2.cfg`, breadth-first) took
/// 2.3 GB at 3 million distinct states and 7.7 GB at 10 million, about 770 bytes a state, where
/// the unbounded run used all 24 GB of the development machine; 10 million keeps such a run
/// to about a third of that. Every configuration in `tla/` has fewer than a million states.
pub const DISTINCT_STATES_MAX_DEFAULT: usize = 10_000_000;

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
    /// The search stops once it has found this many distinct states (it may find a few more
    /// before it notices: it looks every few milliseconds).
    pub distinct_states_max: usize,
}

/// The result of a completed run.
pub struct Outcome<M: Model> {
    /// The final counts.
    pub counts: Counts,
    /// Wall-clock time from spawning the checker to its last thread finishing.
    pub elapsed: Duration,
    /// A counterexample path per violated invariant, in the model's property order.
    pub violations: Vec<(&'static str, Counterexample<M>)>,
    /// True when the search stopped at [`CheckOptions::distinct_states_max`] before it had
    /// explored every reachable state: the counts are then not TLC's, and an invariant with no
    /// counterexample holds only in the states explored.
    pub stopped_at_bound: bool,
}

/// Checks `model` to completion or to `distinct_states_max`, calling `on_progress` every
/// `progress_interval`.
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
    assert!(
        options.distinct_states_max >= 1,
        "a bound of at least one state"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut builder = FirstCounterexample::new(model, Arc::clone(&stop))
        .checker()
        .threads(options.threads);
    if let Some(representative) = options.symmetry {
        builder = builder.symmetry_fn(representative);
    }
    let start = Instant::now();
    let watch = Watch {
        start,
        interval: options.progress_interval,
        distinct_states_max: options.distinct_states_max,
        stop: &stop,
    };
    let (counts, discoveries, stopped_at_bound) = match options.search {
        Search::Bfs => wait(builder.spawn_bfs(), &watch, on_progress),
        Search::Dfs => wait(builder.spawn_dfs(), &watch, on_progress),
    };
    let elapsed = start.elapsed();
    let mut violations: Vec<_> = discoveries.into_iter().collect();
    violations.sort_by_key(|(name, _)| property_names.iter().position(|p| p == name));
    Outcome {
        counts,
        elapsed,
        violations,
        stopped_at_bound,
    }
}

/// What [`wait`] watches a running search for.
struct Watch<'a> {
    start: Instant,
    interval: Duration,
    distinct_states_max: usize,
    stop: &'a AtomicBool,
}

type Discoveries<M> =
    std::collections::HashMap<&'static str, Path<<M as Model>::State, <M as Model>::Action>>;

/// Waits for the checker's threads, reporting progress, and stops the search once it has found
/// `distinct_states_max` distinct states; returns the counts, the counterexamples, and whether
/// it stopped the search.
fn wait<M, C>(
    mut checker: C,
    watch: &Watch<'_>,
    on_progress: &mut dyn FnMut(Counts, Duration),
) -> (Counts, Discoveries<M>, bool)
where
    M: Model,
    M::State: Clone + PartialEq + Hash,
    M::Action: Clone + PartialEq,
    C: Checker<M>,
{
    let handles = checker.handles();
    let poll = Duration::from_millis(5);
    let mut next_report = watch.start + watch.interval;
    while !handles.iter().all(|handle| handle.is_finished()) {
        std::thread::sleep(poll);
        if checker.unique_state_count() >= watch.distinct_states_max {
            watch.stop.store(true, Ordering::Relaxed);
        }
        if Instant::now() >= next_report {
            on_progress(counts_of(&checker), watch.start.elapsed());
            next_report += watch.interval;
        }
    }
    for handle in handles {
        handle.join().expect("a checker thread panicked");
    }
    // Stateright rebuilds each counterexample by replaying its actions through the model, which
    // a stopped model would refuse: let it take actions again first.
    let stopped = watch.stop.swap(false, Ordering::Relaxed);
    (counts_of(&checker), checker.discoveries(), stopped)
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
