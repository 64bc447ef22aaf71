//! Whole servers in one process, on loopback: a cluster of three nodes, a client, and a node
//! stopped and started again.

use colony_client::{Client, ClientConfig, ClientError};
use colony_core::cell::{Abort, Condition, Key, Operation, OperationResult, Transaction, Value};
use colony_core::group::NodeId;
use colony_net::certs::{generate, CertPlan};
use colony_net::{Security, Tls, TlsFiles};
use colony_server::{run, Environment, ServerConfig};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Node {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), colony_server::ServerError>>,
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    listener.local_addr().expect("address").to_string()
}

fn start(id: u8, nodes: &BTreeMap<NodeId, String>, data: &Path, security: Security) -> Node {
    start_with_metrics(id, nodes, data, security, None)
}

fn start_with_metrics(
    id: u8,
    nodes: &BTreeMap<NodeId, String>,
    data: &Path,
    security: Security,
    metrics_listen: Option<String>,
) -> Node {
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServerConfig {
        node: NodeId(id),
        listen: nodes[&NodeId(id)].clone(),
        nodes: nodes.clone(),
        data_dir: data.join(format!("node-{id}")),
        security,
        metrics_listen,
        tick: ServerConfig::TICK_DEFAULT,
        environment: Environment::machine(),
    };
    let task = tokio::spawn(run(config, async {
        let _ = stopped.await;
    }));
    Node { stop, task }
}

async fn stop(node: Node) {
    let _ = node.stop.send(());
    node.task.await.expect("joins").expect("stops cleanly");
}

fn tls(dir: &Path, name: &str) -> Security {
    Security::Tls(Arc::new(
        Tls::load(&TlsFiles::in_dir(dir, name)).expect("loads"),
    ))
}

fn incr(key: &str) -> Transaction {
    colony_client::single(Operation::Increment {
        key: Key(key.as_bytes().to_vec()),
        amount: 1.into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_of_three_serves_a_cell_through_a_failure_and_a_restart() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("dir");
    let certs = dir.path().join("certs");
    generate(
        &certs,
        &CertPlan {
            nodes: vec![NodeId(1), NodeId(2), NodeId(3)],
            hosts: vec!["127.0.0.1".into()],
            clients: vec!["client".into()],
        },
    )
    .expect("certificates");
    let nodes: BTreeMap<NodeId, String> = (1..=3).map(|i| (NodeId(i), free_addr())).collect();
    let metrics = free_addr();
    let mut running: BTreeMap<u8, Node> = (1..=3)
        .map(|i| {
            let listen = (i == 2).then(|| metrics.clone());
            let security = tls(&certs, &format!("node-{i}"));
            (
                i,
                start_with_metrics(i, &nodes, dir.path(), security, listen),
            )
        })
        .collect();

    let mut config = ClientConfig::new(nodes.values().cloned().collect(), tls(&certs, "client"));
    config.timeout = Duration::from_secs(20);
    // The servers bind their ports as they start: wait for one to answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let client = loop {
        match Client::connect(config.clone()).await {
            Ok(client) => break client,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("no server answered: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let created = client.create_cell("accounts", 3).await.expect("creates");
    assert!(!created.existed);
    assert_eq!(created.record.members.len(), 3);
    // Creating it again finishes nothing new and says it existed.
    assert!(
        client
            .create_cell("accounts", 3)
            .await
            .expect("again")
            .existed
    );

    client
        .put("accounts", b"alice", Value::Integer(100.into()))
        .await
        .expect("puts");
    assert_eq!(
        client.get("accounts", b"alice").await.expect("gets"),
        Some(Value::Integer(100.into()))
    );
    let failing = Transaction {
        conditions: vec![Condition::Equals {
            key: Key(b"alice".to_vec()),
            value: Value::Integer(99.into()),
        }],
        operations: vec![Operation::Delete {
            key: Key(b"alice".to_vec()),
        }],
    };
    match client.transact("accounts", failing).await {
        Err(ClientError::Aborted(Abort::ConditionFailed { index: 0, .. })) => {}
        other => panic!("{other:?}"),
    }
    match client.get("nobody", b"x").await {
        Err(ClientError::NotFound(name)) => assert_eq!(name, "nobody"),
        other => panic!("{other:?}"),
    }

    // Node 1 stops; the cell keeps a quorum and keeps serving.
    stop(running.remove(&1).expect("node 1")).await;
    for _ in 0..5 {
        client
            .transact("accounts", incr("visits"))
            .await
            .expect("increments");
    }
    // Node 1 starts again on its log and catches up.
    let restarted = start(1, &nodes, dir.path(), tls(&certs, "node-1"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    if restarted.task.is_finished() {
        panic!("{:?}", restarted.task.await);
    }
    running.insert(1, restarted);
    for _ in 0..5 {
        client
            .transact("accounts", incr("visits"))
            .await
            .expect("increments");
    }
    let results = client
        .transact("accounts", incr("visits"))
        .await
        .expect("increments");
    assert_eq!(results, vec![OperationResult::Incremented(11.into())]);

    // Node 2's metrics, in Prometheus's text format.
    let page = http_get(&metrics, "/metrics").await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    let fsyncs: u64 = page
        .lines()
        .find_map(|l| l.strip_prefix("colony_fsyncs_total "))
        .and_then(|v| v.parse().ok())
        .expect("an fsync count");
    assert!(fsyncs > 0, "{page}");
    assert!(
        page.contains("colony_request_seconds_bucket{le=\"+Inf\"}"),
        "{page}"
    );
    assert!(http_get(&metrics, "/other")
        .await
        .starts_with("HTTP/1.1 404"));

    let listed = client.list_cells().await.expect("lists");
    assert_eq!(
        listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["accounts"]
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, members) = client.cell_status("accounts").await.expect("status");
        let applied: Vec<u64> = members
            .iter()
            .filter_map(|(_, s)| {
                s.as_ref()
                    .ok()
                    .and_then(|s| s.as_ref())
                    .map(|s| s.applied.0)
            })
            .collect();
        if applied.len() == 3 && applied.iter().all(|a| *a == applied[0]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node 1 did not catch up: {members:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (_, node) in running {
        stop(node).await;
    }
}

async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: colony\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut page = String::new();
    stream.read_to_string(&mut page).await.expect("reads");
    page
}
