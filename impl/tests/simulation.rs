//! Whole cells of real nodes over a simulated network that loses, duplicates and reorders
//! messages, with crashes that lose everything not persisted. Proptest draws the schedules and
//! shrinks a failing one to a short list of operations, which it prints: that list replays the
//! failure exactly, as the core is deterministic.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use colony::paxos::{Config, Envelope, HardState, Input, Node, NodeId, Ready, Value};
use proptest::prelude::*;

/// One thing that happens to the cell. Indices are taken modulo what they index.
#[derive(Clone, Debug)]
enum Op {
    /// Deliver the in-flight message at this index, removing it.
    Deliver(usize),
    /// Deliver the in-flight message at this index and keep a copy in flight.
    Duplicate(usize),
    /// Lose the in-flight message at this index.
    Drop(usize),
    /// A client asks this node to propose a value.
    Propose(usize, u8),
    /// Logical time passes at this node.
    Tick(usize),
    /// This node crashes and restarts from what it persisted.
    Crash(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<usize>().prop_map(Op::Deliver),
        1 => any::<usize>().prop_map(Op::Duplicate),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => (any::<usize>(), 0..3u8).prop_map(|(n, v)| Op::Propose(n, v)),
        1 => any::<usize>().prop_map(Op::Tick),
        1 => any::<usize>().prop_map(Op::Crash),
    ]
}

struct Cell {
    configs: Vec<Config>,
    nodes: Vec<Node>,
    disks: Vec<HardState>,
    in_flight: Vec<(NodeId, Envelope)>,
    learned: Vec<Option<Value>>,
    proposed: Vec<Value>,
}

impl Cell {
    fn new(size: u8) -> Cell {
        let members: Vec<NodeId> = (1..=size).map(NodeId).collect();
        let configs: Vec<Config> = members
            .iter()
            .map(|&id| Config {
                id,
                members: members.clone(),
                retry_ticks: 3,
            })
            .collect();
        let nodes = configs
            .iter()
            .map(|c| Node::new(c.clone(), HardState::default()).unwrap())
            .collect();
        Cell {
            configs,
            nodes,
            disks: vec![HardState::default(); usize::from(size)],
            in_flight: Vec::new(),
            learned: vec![None; usize::from(size)],
            proposed: Vec::new(),
        }
    }

    /// Carries out a step's duties in order: persist, then send, then record what was learned.
    fn apply(&mut self, node: usize, ready: Ready) {
        if let Some(hard_state) = ready.hard_state {
            self.disks[node] = hard_state;
        }
        assert_eq!(
            self.disks[node],
            self.nodes[node].hard_state(),
            "persisted before sending"
        );
        let from = self.configs[node].id;
        self.in_flight
            .extend(ready.messages.into_iter().map(|m| (from, m)));
        if let Some(value) = ready.learned {
            assert!(self.learned[node].is_none(), "a node learns once");
            self.learned[node] = Some(value);
        }
        self.check_agreement();
    }

    fn deliver(&mut self, index: usize, keep_copy: bool) {
        if self.in_flight.is_empty() {
            return;
        }
        let index = index % self.in_flight.len();
        let (from, envelope) = if keep_copy {
            self.in_flight[index].clone()
        } else {
            self.in_flight.remove(index)
        };
        let node = usize::from(envelope.to.0) - 1;
        let ready = self.nodes[node].step(Input::Message {
            from,
            message: envelope.message,
        });
        self.apply(node, ready);
    }

    fn run(&mut self, op: &Op) {
        let size = self.nodes.len();
        match *op {
            Op::Deliver(i) => self.deliver(i, false),
            Op::Duplicate(i) => self.deliver(i, true),
            Op::Drop(i) if !self.in_flight.is_empty() => {
                let len = self.in_flight.len();
                self.in_flight.remove(i % len);
            }
            Op::Drop(_) => {}
            Op::Propose(n, v) => {
                let value = Value(vec![b'a' + v]);
                self.proposed.push(value.clone());
                let ready = self.nodes[n % size].step(Input::Propose(value));
                self.apply(n % size, ready);
            }
            Op::Tick(n) => {
                let ready = self.nodes[n % size].step(Input::Tick);
                self.apply(n % size, ready);
            }
            Op::Crash(n) => {
                let n = n % size;
                self.nodes[n] = Node::new(self.configs[n].clone(), self.disks[n].clone()).unwrap();
                self.learned[n] = None;
            }
        }
    }

    /// Spec: `Agreement`, and nothing is chosen that no client proposed.
    fn check_agreement(&self) {
        let learned: Vec<&Value> = self.learned.iter().flatten().collect();
        assert!(
            learned.windows(2).all(|w| w[0] == w[1]),
            "Agreement: learned {learned:?}"
        );
        assert!(
            learned.iter().all(|v| self.proposed.contains(v)),
            "learned an unproposed value"
        );
    }

    /// With faults over: deliver everything in order, and let the first node that has not
    /// learned drive a ballot (a node that forgot in a crash learns again from the votes of a
    /// new ballot), until every node learned. Returns the deliveries it took, `None` past the
    /// bound.
    fn settle(&mut self) -> Option<usize> {
        const DELIVERIES_MAX: usize = 10_000;
        for delivery in 0..DELIVERIES_MAX {
            let Some(driver) = self.learned.iter().position(Option::is_none) else {
                return Some(delivery);
            };
            if self.in_flight.is_empty() {
                self.run(&Op::Propose(driver, 0));
            }
            // The driver retries with a higher ballot after its retry timeout.
            for _ in 0..self.configs[driver].retry_ticks {
                if self.in_flight.is_empty() {
                    self.run(&Op::Tick(driver));
                }
            }
            if self.in_flight.is_empty() {
                return None;
            }
            self.deliver(0, false);
        }
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn agreement_holds_under_loss_duplication_reordering_and_crashes(
        size in prop_oneof![Just(3u8), Just(5u8)],
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let mut cell = Cell::new(size);
        for op in &ops {
            cell.run(op);
        }
        cell.check_agreement();
    }

    #[test]
    fn a_cell_decides_once_the_faults_stop(
        ops in proptest::collection::vec(op(), 0..100),
    ) {
        let mut cell = Cell::new(3);
        for op in &ops {
            cell.run(op);
        }
        prop_assert!(cell.settle().is_some(), "not every node learned after the faults stopped");
        cell.check_agreement();
    }
}
