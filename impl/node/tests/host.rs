//! The host on a tiny perfect network: three nodes in one process, each a driver over memory
//! storage, every frame delivered in order. What the host promises, one behaviour at a time;
//! the simulator (`colony-sim`) runs it under faults.

use colony_core::cell::{ClientId, Key, Operation, OperationResult, Reply, Request, Transaction};
use colony_core::group::NodeId;
use colony_node::driver::{Driver, Outbox};
use colony_node::host::{ClientReply, Frame, HostConfig, Input, Outcome};
use colony_node::storage::MemoryStorage;
use colony_node::CellId;
use std::collections::VecDeque;

struct Cluster {
    nodes: Vec<Option<Driver<MemoryStorage, Outbox>>>,
    storages: Vec<Option<MemoryStorage>>,
    config: fn(NodeId) -> HostConfig,
    wire: VecDeque<(NodeId, NodeId, Frame)>,
    replies: Vec<(NodeId, ClientReply)>,
    now_ms: u64,
    frames_sent: u64,
}

fn config(node: NodeId) -> HostConfig {
    HostConfig::new(node, 7)
}

impl Cluster {
    fn new(size: u8, config: fn(NodeId) -> HostConfig) -> Cluster {
        let nodes = (1..=size)
            .map(|n| {
                Some(
                    Driver::start(config(NodeId(n)), MemoryStorage::new(), Outbox::default())
                        .expect("starts"),
                )
            })
            .collect();
        Cluster {
            nodes,
            storages: (0..size).map(|_| None).collect(),
            config,
            wire: VecDeque::new(),
            replies: Vec::new(),
            now_ms: 0,
            frames_sent: 0,
        }
    }

    fn node(&mut self, node: NodeId) -> &mut Driver<MemoryStorage, Outbox> {
        self.nodes[usize::from(node.0 - 1)]
            .as_mut()
            .expect("the node is up")
    }

    fn input(&mut self, node: NodeId, input: Input) {
        let driver = self.node(node);
        driver.submit(input);
        driver.flush().expect("flushes");
        self.collect(node);
    }

    fn collect(&mut self, node: NodeId) {
        let outbox = std::mem::take(self.node(node).transport());
        for (to, frame) in outbox.frames {
            self.frames_sent += 1;
            self.wire.push_back((node, to, frame));
        }
        for reply in outbox.replies {
            self.replies.push((node, reply));
        }
    }

    /// Delivers every frame in flight, and what they lead to, to the nodes that are up.
    fn settle(&mut self) {
        let mut deliveries = 0;
        while let Some((from, to, frame)) = self.wire.pop_front() {
            deliveries += 1;
            assert!(deliveries < 1_000_000, "the cluster does not settle");
            if self.nodes[usize::from(to.0 - 1)].is_some() {
                self.input(to, Input::Peer { from, frame });
            }
        }
    }

    fn tick(&mut self, ticks: u32) {
        for _ in 0..ticks {
            self.now_ms += 10;
            for n in 0..self.nodes.len() {
                if self.nodes[n].is_some() {
                    let now_ms = self.now_ms;
                    self.input(NodeId(n as u8 + 1), Input::Tick { now_ms });
                }
            }
            self.settle();
        }
    }

    fn create(&mut self, cell: u64) {
        for n in 1..=self.nodes.len() as u8 {
            let members = (1..=3).map(NodeId).collect();
            self.input(
                NodeId(n),
                Input::CreateCell {
                    cell: CellId(cell),
                    members,
                },
            );
        }
        self.settle();
    }

    /// Sends `request` to `node` until some node replies with the cell's reply, following
    /// leader hints; the reply.
    fn request(&mut self, cell: u64, request: Request) -> Reply {
        let mut node = NodeId(1);
        for _ in 0..200 {
            self.replies.clear();
            self.input(
                node,
                Input::Client {
                    cell: CellId(cell),
                    request: request.clone(),
                },
            );
            self.settle();
            for _ in 0..30 {
                if !self.replies.is_empty() {
                    break;
                }
                self.tick(1);
            }
            let Some((_, reply)) = self.replies.first().cloned() else {
                continue;
            };
            match reply.outcome {
                Outcome::Reply(reply) => return reply,
                Outcome::NotLeader {
                    leader: Some(leader),
                } => node = leader,
                _ => node = NodeId(node.0 % 3 + 1),
            }
        }
        panic!("no reply to {request:?}");
    }

    /// Lets the cell settle, then checks every replica applied the same log to the same state.
    fn assert_replicas_agree(&mut self, cell: u64) {
        self.tick(5);
        let digests: Vec<_> = (1..=3)
            .map(|n| self.node(NodeId(n)).host().cell_digest(CellId(cell)))
            .collect();
        assert!(digests.iter().all(|d| d == &digests[0]), "{digests:?}");
    }

    fn crash(&mut self, node: NodeId) {
        let index = usize::from(node.0 - 1);
        let mut storage = self.nodes[index].take().expect("up").into_storage();
        storage.crash();
        self.storages[index] = Some(storage);
    }

    fn restart(&mut self, node: NodeId) {
        let index = usize::from(node.0 - 1);
        let storage = self.storages[index].take().expect("crashed");
        self.nodes[index] =
            Some(Driver::start((self.config)(node), storage, Outbox::default()).expect("starts"));
    }
}

fn increment(client: u64, sequence: u64) -> Request {
    Request {
        client: ClientId(client),
        sequence,
        transaction: Transaction {
            conditions: vec![],
            operations: vec![Operation::Increment {
                key: key("n"),
                amount: 1.into(),
            }],
        },
    }
}

fn key(name: &str) -> Key {
    Key(name.as_bytes().to_vec())
}

fn incremented(reply: &Reply) -> i64 {
    match reply {
        Reply::Done(Ok(results)) => match &results[..] {
            [OperationResult::Incremented(n)] => i64::try_from(n).expect("small"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_transaction_commits_through_the_leader_and_a_retry_applies_once() {
    let mut cluster = Cluster::new(3, config);
    cluster.create(1);
    assert_eq!(incremented(&cluster.request(1, increment(10, 1))), 1);
    assert_eq!(incremented(&cluster.request(1, increment(10, 2))), 2);
    // The reply of sequence 2 was lost: the retry gets it again, and nothing is applied twice.
    assert_eq!(incremented(&cluster.request(1, increment(10, 2))), 2);
    assert_eq!(incremented(&cluster.request(1, increment(11, 1))), 3);
    cluster.assert_replicas_agree(1);
}

#[test]
fn an_idle_cell_goes_quiet_and_sends_nothing() {
    let mut cluster = Cluster::new(3, config);
    cluster.create(1);
    cluster.request(1, increment(10, 1));
    let quiet = config(NodeId(1)).quiet_ticks;
    cluster.tick(quiet + 20);
    for n in 1..=3 {
        assert_eq!(
            cluster.node(NodeId(n)).host().metrics().ticking,
            0,
            "node {n}"
        );
    }
    // From now on only the nodes' pings travel: one per pair every ping_ticks.
    let before = cluster.frames_sent;
    let ping_ticks = config(NodeId(1)).ping_ticks;
    cluster.tick(10 * ping_ticks);
    assert_eq!(cluster.frames_sent - before, 10 * 6, "pings only");
    // A request wakes the cell.
    assert_eq!(incremented(&cluster.request(1, increment(10, 2))), 2);
}

#[test]
fn no_more_cells_are_active_than_the_bound_and_every_cell_still_serves() {
    fn small(node: NodeId) -> HostConfig {
        HostConfig {
            active_cells_max: 4,
            ..HostConfig::new(node, 7)
        }
    }
    let mut cluster = Cluster::new(3, small);
    for cell in 1..=12 {
        cluster.create(cell);
    }
    for round in 1..=2 {
        for cell in 1..=12 {
            let reply = cluster.request(cell, increment(100 + cell, round));
            assert_eq!(incremented(&reply), round as i64, "cell {cell}");
            for n in 1..=3 {
                let active = cluster.node(NodeId(n)).host().metrics().active;
                assert!(active <= 4, "node {n}: {active} active");
            }
        }
    }
    assert!(cluster.node(NodeId(1)).host().metrics().evictions > 0);
    assert_eq!(cluster.node(NodeId(1)).host().cells().count(), 12);
}

#[test]
fn a_restarted_node_recovers_its_cells_from_storage() {
    let mut cluster = Cluster::new(3, config);
    cluster.create(1);
    cluster.create(2);
    for sequence in 1..=5 {
        cluster.request(1, increment(10, sequence));
    }
    cluster.tick(5);
    let before = cluster.node(NodeId(2)).host().cell_digest(CellId(1));
    cluster.crash(NodeId(2));
    cluster.restart(NodeId(2));
    assert_eq!(
        cluster.node(NodeId(2)).host().cell_digest(CellId(1)),
        before
    );
    assert_eq!(cluster.node(NodeId(2)).host().cells().count(), 2);
    // The whole cell goes on, the restarted node with it.
    assert_eq!(incremented(&cluster.request(1, increment(10, 6))), 6);
    cluster.assert_replicas_agree(1);
}

#[test]
fn a_request_for_an_unknown_cell_is_refused_by_name() {
    let mut cluster = Cluster::new(3, config);
    cluster.input(
        NodeId(1),
        Input::Client {
            cell: CellId(99),
            request: increment(1, 1),
        },
    );
    match &cluster.replies[..] {
        [(
            _,
            ClientReply {
                outcome: Outcome::Refused { reason },
                ..
            },
        )] => assert!(reason.contains("cell 99"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_replica_that_lags_behind_the_snapshots_catches_up_by_one() {
    fn often(node: NodeId) -> HostConfig {
        HostConfig {
            snapshot_interval_slots: 4,
            ..HostConfig::new(node, 7)
        }
    }
    let mut cluster = Cluster::new(3, often);
    cluster.create(1);
    cluster.request(1, increment(10, 1));
    cluster.crash(NodeId(3));
    for sequence in 2..=30 {
        cluster.request(1, increment(10, sequence));
    }
    assert!(cluster.node(NodeId(1)).host().metrics().snapshots_taken > 0);
    cluster.restart(NodeId(3));
    assert_eq!(incremented(&cluster.request(1, increment(10, 31))), 31);
    // The leader's heartbeats tell the restarted replica how far the log is decided; it asks,
    // gets the snapshot and then the entries after it.
    cluster.tick(20);
    cluster.assert_replicas_agree(1);
    let node3 = cluster.node(NodeId(3)).host().metrics();
    assert!(node3.snapshots_installed > 0, "{node3:?}");
}

#[test]
fn a_bad_creation_is_refused_by_name_and_a_repeated_one_does_nothing() {
    let mut cluster = Cluster::new(3, config);
    cluster.create(1);
    let mut events = Vec::new();
    for members in [
        vec![NodeId(1), NodeId(2), NodeId(3)],
        vec![NodeId(1), NodeId(2)],
        vec![NodeId(2), NodeId(3)],
        (1..=8).map(NodeId).collect(),
    ] {
        let driver = cluster.node(NodeId(1));
        driver.submit(Input::CreateCell {
            cell: CellId(1),
            members,
        });
        driver.flush().expect("flushes");
        events.push(std::mem::take(&mut driver.transport().events));
    }
    assert!(events[0].is_empty(), "{:?}", events[0]);
    for (i, reason) in [(1, "other members"), (2, "not among"), (3, "1 to 7")] {
        match &events[i][..] {
            [colony_node::host::Event::CreateRefused { reason: r, .. }] => {
                assert!(r.contains(reason), "{r}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(cluster.node(NodeId(1)).host().cells().count(), 1);
}
