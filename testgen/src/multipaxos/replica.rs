//! Replica scenarios: replica 1 hearing votes (`2b`) for both slots, from several acceptors and
//! ballots, lost, duplicated and reordered.
//!
//! After every set of votes heard, the model says what the replica has applied: starting from
//! an empty log, `Apply(r1)` taken as long as it is enabled (it applies the next slot once a
//! quorum voted for one value there in one ballot, `ChosenValues`). The replica must report each
//! slot exactly when it joins that prefix, in slot order: a slot decided before the slots below
//! it waits for them.
//!
//! A second family starts the replica from a snapshot through slot 1, restarted with nothing
//! decided after it, in the model with `MaxCompaction = 1`: the votes that chose slot 1 arrive
//! again after the snapshot covers it, and slot 2 is decided in one ballot or after votes of two.
//! The model's `Apply(r1)` starts from the snapshot's log there, and applies slot 2 only.

use super::symmetry::classes_up_to_renaming;
use crate::tables::{expectations_by_set, TableCase};
use crate::Row;
use colony_model::deliveries::COPIES_MAX;
use colony_model::multipaxos::{
    Action, Constants, Msg, MultiPaxosModel, MultiPaxosState, Slot, Value, NO_OP,
};
use colony_model::paxos::Quorum;
use stateright::Model;

/// A replica scenario's table: per set of votes heard (a bit per message), the log applied
/// after it, by the model (sets after which nothing more than the snapshot is applied are left
/// out).
pub type Table = TableCase<(u8, Vec<Value>), Msg>;

/// One replica case: the log the replica's snapshot holds when the votes start to arrive
/// (empty for none), and its table.
pub struct Case {
    /// The snapshot's log, slot 1 first: the replica's whole log before the first vote.
    pub snapshot: Vec<Value>,
    /// The table.
    pub table: Table,
}

const C1: Value = 1;

/// One replica scenario: its name, the votes that may arrive, and a run of the spec that sends
/// them all (each of its actions must be enabled in turn: the witness that the votes can be in
/// flight at once).
pub struct Scenario {
    /// The name's label.
    pub label: &'static str,
    /// The votes, in the order the test lists them.
    pub messages: Vec<Msg>,
    /// The witness run.
    pub run: Vec<Action>,
}

/// The acceptors whose votes a cell of `n`'s scenarios hear.
struct Quorums {
    /// The lowest-numbered quorum.
    low: Vec<u8>,
    /// The highest-numbered quorum; it shares one acceptor with `low` in a cell of 3, and more
    /// in larger ones.
    high: Vec<u8>,
    /// A quorum of ballot 0 in the scenarios of two ballots, which shares only acceptor `n`
    /// with `b1`: so that ballot 0's votes but `n`'s are a minority, and ballot 1's a quorum.
    b0: Vec<u8>,
    /// The quorum of ballot 1 beside `b0`.
    b1: Vec<u8>,
}

impl Quorums {
    fn of(n: u8) -> Quorums {
        let q = n / 2 + 1;
        let mut b0: Vec<u8> = (1..q).collect();
        b0.push(n);
        Quorums {
            low: (1..=q).collect(),
            high: (n - q + 1..=n).collect(),
            b0,
            b1: (q..=n).collect(),
        }
    }
}

/// The scenarios for a cell of `n`. Acceptors that vote twice are never interchangeable with
/// others ([`classes_up_to_renaming`]), so each scenario lets only acceptors that vote once share
/// a class.
pub fn scenarios(n: u8) -> Vec<Scenario> {
    let Quorums { low, high, b0, b1 } = &Quorums::of(n);
    let mut runs = Runs::default();
    vec![
        // Slot 2 may be decided before slot 1, and then waits for it.
        {
            let run = runs.chosen(0, 2, C1, low);
            let run = run.propose(0, 1, C1, low).vote(0, 1, C1, high).take();
            Scenario {
                label: "slots_decided_out_of_order",
                messages: [votes(0, 2, C1, low), votes(0, 1, C1, high)].concat(),
                run,
            }
        },
        // The leader of ballot 0 decided slot 2; the leader of ballot 1 hears of it from the
        // acceptor both quorums share and fills the hole in slot 1 with NoOp.
        {
            let run = runs.chosen(0, 2, C1, low).chosen(1, 1, NO_OP, high);
            Scenario {
                label: "hole_filled_with_noop",
                messages: [votes(0, 2, C1, low), votes(1, 1, NO_OP, high)].concat(),
                run: run.take(),
            }
        },
        // Votes of two ballots in slot 1 never add up; a quorum in either decides it.
        {
            let run = runs.chosen(0, 1, C1, b0).chosen(1, 1, C1, b1);
            Scenario {
                label: "votes_of_two_ballots",
                messages: [
                    votes(0, 1, C1, &b0[..b0.len() - 1]),
                    votes(1, 1, C1, b1),
                    votes(0, 1, C1, &[n]),
                ]
                .concat(),
                run: run.take(),
            }
        },
    ]
}

/// The scenarios for a cell of `n` with the replica's snapshot through slot 1 (the model must
/// have `MaxCompaction = 1`). Each run chooses slot 1 in ballot 0, then applies and snapshots
/// it, so that the replica starts from a snapshot and hears votes for slot 1, which it must
/// ignore, and for slot 2.
pub fn scenarios_after_snapshot(n: u8) -> Vec<Scenario> {
    let Quorums { low, high, b0, b1 } = &Quorums::of(n);
    let mut runs = Runs::default();
    vec![
        // The quorum's votes for slot 1 arrive again after the snapshot covers the slot: they
        // decide nothing, however many arrive; a quorum for slot 2 decides it.
        {
            let run = runs.chosen(0, 1, C1, low).apply(C1).snapshot();
            let run = run.propose(0, 2, C1, low).vote(0, 2, C1, high).take();
            Scenario {
                label: "after_snapshot_slot_1_again_and_slot_2",
                messages: [votes(0, 1, C1, low), votes(0, 2, C1, high)].concat(),
                run,
            }
        },
        // Votes of two ballots in slot 2 after the snapshot never add up; the quorum of ballot
        // 1 decides it.
        {
            let minority = &b0[..b0.len() - 1];
            let run = runs.chosen(0, 1, C1, b0).apply(C1).snapshot();
            let run = run.propose(0, 2, C1, b0).vote(0, 2, C1, minority);
            let run = run.chosen(1, 2, C1, b1);
            Scenario {
                label: "after_snapshot_slot_2_in_two_ballots",
                messages: [votes(0, 2, C1, minority), votes(1, 2, C1, b1)].concat(),
                run: run.take(),
            }
        },
    ]
}

/// The votes of `acceptors` for `val` in ballot `bal` and slot `slot`.
fn votes(bal: i8, slot: u8, val: Value, acceptors: &[u8]) -> Vec<Msg> {
    let vote = |acc| Msg::M2b {
        acc,
        bal,
        slot,
        val,
    };
    acceptors.iter().map(|&acc| vote(acc)).collect()
}

/// A run of the spec, written one step of the protocol at a time.
#[derive(Default)]
struct Runs {
    actions: Vec<Action>,
}

impl Runs {
    /// `Phase1a(bal)`, then `Phase1b(a)` for each of `acceptors`.
    fn promise(&mut self, bal: i8, acceptors: &[u8]) -> &mut Runs {
        self.actions.push(Action::Phase1a { b: bal });
        let m = Msg::M1a { bal };
        self.actions
            .extend(acceptors.iter().map(|&a| Action::Phase1b { a, m }));
        self
    }

    /// `Phase2a(bal, slot, val)` with the promises of `quorum`.
    fn propose(&mut self, bal: i8, slot: u8, val: Value, quorum: &[u8]) -> &mut Runs {
        let q = Quorum(quorum.iter().fold(0, |bits, &a| bits | 1 << a));
        self.actions.push(Action::Phase2a {
            b: bal,
            s: slot,
            v: val,
            q,
        });
        self
    }

    /// `Phase2b(a)` for each of `acceptors`, on the proposal `(bal, slot, val)`.
    fn vote(&mut self, bal: i8, slot: u8, val: Value, acceptors: &[u8]) -> &mut Runs {
        let m = Msg::M2a { bal, slot, val };
        self.actions
            .extend(acceptors.iter().map(|&a| Action::Phase2b { a, m }));
        self
    }

    /// `Phase1a(bal)` and the promises of `quorum`, the proposal of `val` in `slot` with them,
    /// and the quorum's votes for it: `val` is chosen in `slot`.
    fn chosen(&mut self, bal: i8, slot: u8, val: Value, quorum: &[u8]) -> &mut Runs {
        self.promise(bal, quorum)
            .propose(bal, slot, val, quorum)
            .vote(bal, slot, val, quorum)
    }

    /// `Apply(r1)` of `val`, the next slot's chosen value.
    fn apply(&mut self, val: Value) -> &mut Runs {
        self.actions.push(Action::Apply { r: 1, v: val });
        self
    }

    /// `Snapshot(r1)`: the replica's snapshot covers its applied log.
    fn snapshot(&mut self) -> &mut Runs {
        self.actions.push(Action::Snapshot { r: 1 });
        self
    }

    /// The run written so far; the next run starts empty.
    fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }
}

/// The state `run` reaches from `Init`, checking that each of its actions is enabled.
fn replay(model: &MultiPaxosModel, run: &[Action]) -> MultiPaxosState {
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 1);
    let mut enabled = Vec::new();
    for (step, &action) in run.iter().enumerate() {
        model.actions(&state, &mut enabled);
        assert!(
            enabled.contains(&action),
            "step {step} of the witness run, {action:?}, is not enabled"
        );
        state = model
            .next_state(&state, action)
            .expect("an enabled action has a next state");
    }
    state
}

/// The replica's cases for a cell of `n` and the report row; each scenario's votes delivered at
/// most `copies_max` times. `model` is the bounded model; the scenarios use its constants but
/// for the number of acceptors (`n`) and of replicas (one, the replica under test).
pub fn tables(model: &MultiPaxosModel, n: u8, copies_max: usize) -> (Vec<Case>, Row) {
    family(model, n, scenarios(n), copies_max, "mp replica", "")
}

/// The cases of a cell of `n` whose replica starts from a snapshot through slot 1, and the
/// report row. `model` is the two-slot model with `MaxCompaction = 1`.
pub fn tables_after_snapshot(
    model: &MultiPaxosModel,
    n: u8,
    copies_max: usize,
) -> (Vec<Case>, Row) {
    assert_eq!(model.constants.max_compaction, 1, "snapshots of slot 1");
    let scenarios = scenarios_after_snapshot(n);
    let coverage = ", after a snapshot through s1";
    family(model, n, scenarios, copies_max, "mp replica k1", coverage)
}

fn family(
    model: &MultiPaxosModel,
    n: u8,
    scenarios: Vec<Scenario>,
    copies_max: usize,
    role: &'static str,
    coverage: &str,
) -> (Vec<Case>, Row) {
    let constants = Constants {
        num_acceptors: n,
        num_replicas: 1,
        ..model.constants
    };
    let model = MultiPaxosModel::new(constants, Vec::new());
    let cases: Vec<Case> = scenarios
        .into_iter()
        .map(|scenario| {
            let end = replay(&model, &scenario.run);
            let missing: Vec<&Msg> = scenario
                .messages
                .iter()
                .filter(|m| !end.msgs.contains(m))
                .collect();
            assert!(
                missing.is_empty(),
                "{}: the run sends no {missing:?}",
                scenario.label
            );
            // The harness restarts the replica from its snapshot alone, with nothing decided
            // after it: the run must leave it so.
            let snapshot = end.applied[0].to_vec();
            assert_eq!(
                usize::from(end.snapshot[0]),
                snapshot.len(),
                "{}: the replica's log is its snapshot",
                scenario.label
            );
            let table = table(&model, n, scenario, &snapshot, copies_max);
            Case { snapshot, table }
        })
        .collect();
    let mut coverage = format!("n/a: every set of votes asked{coverage}");
    if copies_max < COPIES_MAX {
        coverage += ", none duplicated";
    }
    let row = Row {
        role,
        n,
        combinations: cases.iter().map(|c| c.table.combinations).sum(),
        tests: cases.len() as u64,
        coverage,
        uncovered: Vec::new(),
    };
    (cases, row)
}

fn table(
    model: &MultiPaxosModel,
    n: u8,
    scenario: Scenario,
    snapshot: &[Value],
    copies_max: usize,
) -> Table {
    let messages = scenario.messages;
    let classes = if n == 3 {
        (0..messages.len() as u8).collect()
    } else {
        classes_up_to_renaming(&messages)
    };
    let (combinations, by_set) = expectations_by_set(&classes, copies_max, |set| {
        applied_after(model, snapshot, &messages, set)
    });
    let rows = by_set
        .into_iter()
        .filter(|(_, applied)| applied != snapshot)
        .collect();
    Table {
        name: format!("mp_replica_n{n}_{}", scenario.label),
        messages,
        classes,
        rows,
        combinations,
    }
}

/// The log replica 1 has applied, by the model, after hearing the votes of `set` from its
/// snapshot's log `snapshot`: `Apply(r1)` taken while it is enabled (never with two witnesses:
/// `Agreement`).
fn applied_after(
    model: &MultiPaxosModel,
    snapshot: &[Value],
    messages: &[Msg],
    set: u8,
) -> Vec<Value> {
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 1);
    state.applied[0] = snapshot.into();
    state.snapshot[0] = snapshot.len() as Slot;
    for (i, &m) in messages.iter().enumerate() {
        if set & (1 << i) != 0 {
            state.msgs.insert(m);
        }
    }
    let mut actions = Vec::new();
    loop {
        model.actions(&state, &mut actions);
        let applies: Vec<Action> = actions
            .drain(..)
            .filter(|a| matches!(a, Action::Apply { r: 1, .. }))
            .collect();
        assert!(applies.len() <= 1, "one value is chosen per slot");
        let Some(&apply) = applies.first() else {
            return state.applied[0].to_vec();
        };
        state = model
            .next_state(&state, apply)
            .expect("an enabled action has a next state");
    }
}
