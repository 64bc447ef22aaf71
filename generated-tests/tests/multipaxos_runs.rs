//! Random transaction workloads applied through the Multi-Paxos log of a simulated cell
//! (`colony_generated_tests::multipaxos::cell`): clients propose transactions at random replicas
//! while the network loses, duplicates and reorders messages and replicas crash and restart.
//! After every step the cell checks that the replicas' logs are prefixes of one history and that
//! every replica's state is the serial execution's; at the end of a run, that every result a
//! client got is the one the serial history gives, in an order that respects real time; then,
//! with faults over, that the cell elects a leader, decides a new transaction and converges.
//!
//! A failing run prints proptest's minimal list of operations, which replays the failure exactly
//! (the core is deterministic); proptest also saves the case's seed next to this file.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony_core::cell::{Condition, Key, Operation, Transaction, Value};
use colony_generated_tests::multipaxos::cell::{Fault, SimCell};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Rounds of deliver-everything-then-tick a settled cell may take.
const SETTLE_ROUNDS_MAX: usize = 200;

/// One thing that happens in a run.
#[derive(Clone, Debug)]
enum Op {
    Fault(Fault),
    /// A client proposes the transaction at this replica.
    Propose(usize, Transaction),
}

fn key() -> impl Strategy<Value = Key> {
    prop::sample::select(vec!["a", "b", "c"]).prop_map(Key::from)
}

fn small_integer() -> impl Strategy<Value = Value> {
    (-2i64..3).prop_map(Value::from)
}

/// Transactions over three keys, whose conditions often fail and whose increments often meet a
/// key holding bytes, so that aborts and results both depend on the order of the log.
fn transaction() -> impl Strategy<Value = Transaction> {
    let condition = prop_oneof![
        key().prop_map(|key| Condition::Exists { key }),
        key().prop_map(|key| Condition::Absent { key }),
        (key(), small_integer()).prop_map(|(key, value)| Condition::Equals { key, value }),
    ];
    let operation = prop_oneof![
        key().prop_map(|key| Operation::Read { key }),
        (key(), small_integer()).prop_map(|(key, value)| Operation::Write { key, value }),
        key().prop_map(|key| Operation::Write {
            key,
            value: Value::from("x")
        }),
        key().prop_map(|key| Operation::Delete { key }),
        (key(), -2i64..3).prop_map(|(key, n)| Operation::Increment {
            key,
            amount: n.into()
        }),
    ];
    (vec(condition, 0..2), vec(operation, 1..4)).prop_map(|(conditions, operations)| Transaction {
        conditions,
        operations,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => any::<usize>().prop_map(|i| Op::Fault(Fault::Deliver(i))),
        2 => any::<usize>().prop_map(|i| Op::Fault(Fault::Duplicate(i))),
        2 => any::<usize>().prop_map(|i| Op::Fault(Fault::Drop(i))),
        3 => any::<usize>().prop_map(|r| Op::Fault(Fault::Tick(r))),
        1 => any::<usize>().prop_map(|r| Op::Fault(Fault::Crash(r))),
        3 => (any::<usize>(), transaction()).prop_map(|(r, t)| Op::Propose(r, t)),
    ]
}

/// Runs `ops` on a cell of `size`, then settles it and decides one more transaction. With
/// `snapshot_interval_slots`, replicas ask for a snapshot that often, so that acceptors compact,
/// decided logs are cut and lagging replicas install their peers' snapshots under faults.
fn run(size: u8, ops: &[Op], snapshot_interval_slots: Option<u64>) -> Result<(), TestCaseError> {
    let mut cell = SimCell::new(size, |mut config| {
        if let Some(interval) = snapshot_interval_slots {
            config.snapshot_interval_slots = interval;
        }
        config
    });
    for op in ops {
        match op {
            Op::Fault(fault) => cell.fault(fault),
            // A refusal (not the leader, queue full) is an answer the client handles.
            Op::Propose(replica, transaction) => {
                let _ = cell.propose(*replica, transaction.clone());
            }
        }
    }
    cell.check_results();
    cell.settle(SETTLE_ROUNDS_MAX)
        .map_err(TestCaseError::fail)?;
    let decided_before = cell.history().len();
    let settled = cell.describe();
    let last = Transaction {
        conditions: vec![],
        operations: vec![Operation::Read { key: "a".into() }],
    };
    prop_assert!(
        cell.propose_at_leader(0, last),
        "the leader takes a transaction"
    );
    cell.settle(SETTLE_ROUNDS_MAX)
        .map_err(TestCaseError::fail)?;
    prop_assert!(
        cell.history().len() > decided_before,
        "the new transaction was not decided; settled:\n{settled}\nthen:\n{}",
        cell.describe()
    );
    cell.check_results();
    if let Some(interval) = snapshot_interval_slots {
        let (taken, _) = cell.snapshot_counts();
        prop_assert!(
            (cell.history().len() as u64) < interval || taken > 0,
            "{} slots decided and no snapshot taken",
            cell.history().len()
        );
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn cell_of_3_serializes_random_workloads(ops in vec(op(), 100..400)) {
        run(3, &ops, None)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// The same workloads with a snapshot every two slots: compaction, snapshots sent, lost,
    /// duplicated and installed, and restarts from a snapshot, all under the same checks.
    #[test]
    fn cell_of_3_serializes_random_workloads_with_compaction(ops in vec(op(), 100..400)) {
        run(3, &ops, Some(2))?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn cell_of_5_serializes_random_workloads(ops in vec(op(), 100..400)) {
        run(5, &ops, None)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn cell_of_7_serializes_random_workloads(ops in vec(op(), 100..400)) {
        run(7, &ops, None)?;
    }
}

/// No faults: the first replica to time out leads, and every transaction proposed at it is
/// decided, batched while the one-slot pipeline is busy.
#[test]
fn a_busy_leader_batches_behind_a_short_pipeline() {
    let mut cell = SimCell::new(3, |mut config| {
        config.slots_in_flight_max = 1;
        config
    });
    cell.settle(SETTLE_ROUNDS_MAX).unwrap();
    let leader = cell.stable_leader().unwrap();
    for n in 0..10 {
        let increment = Transaction {
            conditions: vec![],
            operations: vec![Operation::Increment {
                key: "a".into(),
                amount: n.into(),
            }],
        };
        cell.propose(leader, increment).unwrap();
    }
    cell.settle(SETTLE_ROUNDS_MAX).unwrap();
    cell.check_results();
    let batch_sizes: Vec<usize> = cell.history().iter().map(|e| e.commands().len()).collect();
    assert_eq!(
        batch_sizes,
        vec![1, 9],
        "one in flight, the other nine in one batch"
    );
    assert_eq!(cell.submitted_and_completed(), (10, 10));
}

/// A long run keeps what each replica holds bounded: more than 10,000 slots decided while
/// replicas snapshot every 64 slots, with messages lost now and then (so that a replica falls
/// behind and catches up from entries), a replica cut off from its cell for 300 steps every
/// 2,000 (so that it falls behind its peers' snapshots and installs one) and a crash every few
/// thousand steps. The faults are a function of the step's number, so the run is the same every time.
/// It prints the most decided entries after its snapshot and the most votes any replica held.
#[test]
fn compaction_keeps_the_log_and_the_votes_bounded_over_ten_thousand_slots() {
    const SLOTS_MIN: usize = 10_000;
    const INTERVAL: u64 = 64;
    let mut cell = SimCell::new(3, |mut config| {
        config.snapshot_interval_slots = INTERVAL;
        config.slots_in_flight_max = 4;
        config
    });
    cell.settle(SETTLE_ROUNDS_MAX).unwrap();
    let mut step = 0usize;
    while cell.history().len() < SLOTS_MIN {
        step += 1;
        let write = Transaction {
            conditions: vec![],
            operations: vec![Operation::Increment {
                key: Key::from(["a", "b", "c"][step % 3]),
                amount: 1.into(),
            }],
        };
        let _ = cell.propose_at_leader(step, write);
        if step % 7 == 0 {
            cell.fault(&Fault::Drop(step));
        }
        if step % 3_001 == 0 {
            cell.fault(&Fault::Crash(step));
        }
        let cut_off = step % 2_000 < 300;
        for _ in 0..40 {
            if cut_off {
                cell.isolate(step / 2_000);
            }
            cell.fault(&Fault::Deliver(0));
        }
        cell.fault(&Fault::Tick(step));
        assert!(step < 20 * SLOTS_MIN, "no progress: {}", cell.describe());
    }
    cell.settle(SETTLE_ROUNDS_MAX).unwrap();
    cell.check_results();
    let (entries, votes) = cell.held_max();
    let (taken, installed) = cell.snapshot_counts();
    println!(
        "{} slots decided in {step} steps, {taken} snapshots taken, {installed} installed from a \
         peer; the most held by one replica: {entries} decided entries after its snapshot, \
         {votes} votes",
        cell.history().len()
    );
    assert!(
        installed > 0,
        "a replica that fell behind installed a peer's snapshot"
    );
    let snapshots = cell.replicas().iter().map(|r| r.snapshot_slot().0);
    assert!(
        snapshots.clone().all(|slot| slot > 0),
        "every replica snapshotted"
    );
    // A replica asks for a snapshot once INTERVAL slots are decided past the last one and the
    // runtime takes it at once, so its log never holds more than that and a catch-up reply's
    // worth; its acceptor holds votes only above its compaction point, in the slots the
    // leaders' pipelines reached since.
    let bound = (INTERVAL + colony_core::multipaxos::CATCH_UP_ENTRIES_MAX as u64) as usize;
    assert!(
        entries <= bound,
        "{entries} decided entries held, past {bound}"
    );
    assert!(votes <= bound, "{votes} votes held, past {bound}");
}
