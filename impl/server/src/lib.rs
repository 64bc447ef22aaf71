//! The Colony server: one node of a cluster, as a process.
//!
//! A node's host and write-ahead log are driven by one task, the node loop ([`node_loop`]),
//! exactly as the simulator drives them; around it, tokio runs the network:
//! two connections to each peer ([`peers`]: votes, and bulk for snapshots, so that a snapshot
//! never delays a vote), a task per client connection ([`clients`]), and the metrics endpoint
//! ([`metrics`]). They meet at the node loop's bounded inbox.
//!
//! **One server, two environments.** [`Environment`] says what the node runs on: the machine's
//! TCP, clock and threads ([`Environment::machine`]), or a simulation's (the fault tests run
//! this same code under turmoil, with a simulated disk given to [`run_with_storage`]).
//!
//! **Durability.** Nothing is acknowledged before it is durable: the host holds every reply
//! and frame until the batch it depends on is synced, and the node loop syncs before it sends.
//! A failed sync stops the server. A graceful shutdown therefore loses nothing acknowledged; it
//! stops taking requests, flushes once more, and exits.

#![deny(missing_docs)]

pub mod clients;
pub mod metrics;
pub mod node_loop;
pub mod peers;

use colony_core::group::NodeId;
use colony_net::{accept, Channel, Listener, Net, Role, Security};
use colony_node::host::HostConfig;
use colony_node::storage::{FileStorage, Storage, StorageError};
use metrics::{MeteredStorage, Metrics};
use node_loop::{Command, Inbox, LoopConfig, PeerOutboxes};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

/// How one node is run.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This node.
    pub node: NodeId,
    /// The address to listen on for peers and clients.
    pub listen: String,
    /// Every node of the cluster, this one too, with the address others reach it at.
    pub nodes: BTreeMap<NodeId, String>,
    /// Where the node keeps its write-ahead log and its store.
    pub data_dir: PathBuf,
    /// Mutual TLS, or plaintext when asked for.
    pub security: Security,
    /// Where to serve metrics (`GET /metrics`), if anywhere.
    pub metrics_listen: Option<String>,
    /// Time between two ticks of the host.
    pub tick: Duration,
    /// What the node runs on.
    pub environment: Environment,
}

/// What a node runs on: its network, its clock, and how its tasks are run.
#[derive(Clone, Debug)]
pub struct Environment {
    /// Where streams come from.
    pub network: Net,
    /// Milliseconds since the Unix epoch, the clock sessions expire by.
    pub wall_clock_ms: fn() -> u64,
    /// How the server's tasks are run.
    pub tasks: Tasks,
}

/// How a server's tasks are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tasks {
    /// On tokio's runtime, whichever it is, with the node loop on a thread of its own, where
    /// its syncs block nothing else.
    Machine,
    /// Every task, the node loop too, on the current thread's `LocalSet` (a turmoil host's).
    /// A local set drops its tasks in the order they were spawned, so a simulated crash ends
    /// them in an order the run's seed fixes; tokio's runtime orders them by global task ids,
    /// which other threads' tasks would shift.
    Simulation,
}

impl Tasks {
    /// Spawns `task` as this environment runs tasks.
    fn spawn<F>(self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Tasks::Machine => tokio::spawn(task),
            Tasks::Simulation => tokio::task::spawn_local(task),
        }
    }

    /// Spawns `task` into `set`, as this environment runs tasks.
    fn spawn_into<F>(self, set: &mut tokio::task::JoinSet<()>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        match self {
            Tasks::Machine => set.spawn(task),
            Tasks::Simulation => set.spawn_local(task),
        };
    }
}

impl Environment {
    /// The machine's TCP, the system's clock, and tokio's runtime with a thread for the node
    /// loop.
    pub fn machine() -> Environment {
        Environment {
            network: Net::tcp(),
            wall_clock_ms: node_loop::wall_clock_ms,
            tasks: Tasks::Machine,
        }
    }
}

impl ServerConfig {
    /// The default time between ticks: 10 ms, so that a cell's leader is elected within about
    /// 100 ms of the last one failing (the replica's election timeout is 10 ticks).
    pub const TICK_DEFAULT: Duration = Duration::from_millis(10);
}

/// Why a server could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is inconsistent.
    #[error("bad configuration: {0}")]
    Config(String),
    /// An address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The storage failed: at start, or a sync while running (never retried).
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// Runs node `config.node` on its write-ahead log in `config.data_dir` until `shutdown`
/// completes or the storage fails.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    check(&config)?;
    let data_dir = config.data_dir.clone();
    let storage = tokio::task::spawn_blocking(move || FileStorage::open(&data_dir))
        .await
        .map_err(|e| ServerError::Config(format!("opening the storage panicked: {e}")))??;
    run_with_storage(config, storage, shutdown).await
}

/// Checks what can be checked of a configuration before anything is opened.
fn check(config: &ServerConfig) -> Result<(), ServerError> {
    if !config.nodes.contains_key(&config.node) {
        return Err(ServerError::Config(format!(
            "node {} is not among the cluster's nodes {:?}",
            config.node.0,
            config.nodes.keys().map(|n| n.0).collect::<Vec<_>>()
        )));
    }
    Ok(())
}

/// Runs node `config.node` on `storage` (its write-ahead log, opened) until `shutdown`
/// completes or the storage fails. `config.data_dir` is only named in logs.
pub async fn run_with_storage<S: Storage + Send + 'static>(
    config: ServerConfig,
    storage: S,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    check(&config)?;
    let network = config.environment.network.clone();
    let tasks = config.environment.tasks;
    let listener = network
        .listen(&config.listen)
        .await
        .map_err(|source| ServerError::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    let metrics = Arc::new(Metrics::default());
    let metrics_task = match &config.metrics_listen {
        Some(addr) => {
            let listener = network
                .listen(addr)
                .await
                .map_err(|source| ServerError::Listen {
                    addr: addr.clone(),
                    source,
                })?;
            Some(tasks.spawn(metrics::serve(listener, metrics.clone())))
        }
        None => None,
    };
    let storage = MeteredStorage::new(storage, metrics.clone());

    let mut outboxes = PeerOutboxes {
        votes: BTreeMap::new(),
        bulk: BTreeMap::new(),
    };
    // Peers are reached from the address this node serves on when it names one, so that each
    // node is one address to the others.
    let source = config
        .listen
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified());
    let mut senders = Vec::new();
    for (peer, addr) in &config.nodes {
        if *peer == config.node {
            continue;
        }
        for channel in [Channel::Votes, Channel::Bulk] {
            let bound = match channel {
                Channel::Votes => peers::OUTBOX_FRAMES_MAX,
                Channel::Bulk => peers::BULK_OUTBOX_FRAMES_MAX,
            };
            let (tx, rx) = mpsc::channel(bound);
            match channel {
                Channel::Votes => outboxes.votes.insert(*peer, tx),
                Channel::Bulk => outboxes.bulk.insert(*peer, tx),
            };
            let span = tracing::info_span!("peer", node = peer.0, ?channel);
            senders.push(
                tasks.spawn(
                    peers::keep_connected(
                        peers::Link {
                            network: network.clone(),
                            source,
                            this: config.node,
                            peer: *peer,
                            addr: addr.clone(),
                            channel,
                            security: config.security.clone(),
                        },
                        rx,
                    )
                    .instrument(span),
                ),
            );
        }
    }

    let (inbox, inbox_rx) = mpsc::channel(node_loop::INBOX_MAX);
    let loop_config = LoopConfig {
        host: HostConfig::new(config.node, seed_of(config.node)),
        nodes: config.nodes.clone(),
        tick: config.tick,
        wall_clock_ms: config.environment.wall_clock_ms,
    };
    let (loop_done, mut loop_result) = tokio::sync::oneshot::channel();
    let loop_metrics = metrics.clone();
    let node_loop = async move {
        let result = node_loop::run(storage, loop_config, outboxes, inbox_rx, loop_metrics).await;
        let _ = loop_done.send(result);
    };
    let loop_thread = if tasks == Tasks::Machine {
        // A runtime of its own on a thread of its own: the loop's syncs block only it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| ServerError::Config(format!("cannot start the node loop: {e}")))?;
        let thread = std::thread::Builder::new()
            .name(format!("node-{}", config.node.0))
            .spawn(move || runtime.block_on(node_loop))
            .map_err(|e| ServerError::Config(format!("cannot start the node loop: {e}")))?;
        Some(thread)
    } else {
        tasks.spawn(node_loop);
        None
    };

    tracing::info!(
        node = config.node.0,
        listen = %config.listen,
        data = %config.data_dir.display(),
        tls = matches!(config.security, Security::Tls(_)),
        "node {} serving on {}",
        config.node.0,
        config.listen
    );
    let acceptor = tasks.spawn(accept_all(
        listener,
        config.clone(),
        inbox.clone(),
        metrics.clone(),
    ));

    let result = tokio::select! {
        // Biased, as every select of the server is: a simulation must not depend on tokio's
        // random choice between two ready branches.
        biased;
        () = shutdown => {
            tracing::info!("shutting down: no new requests; flushing what is in flight");
            acceptor.abort();
            let _ = inbox.try_send(Command::Shutdown);
            drop(inbox);
            loop_ended((&mut loop_result).await)
        }
        result = &mut loop_result => loop_ended(result),
    };
    acceptor.abort();
    for sender in senders {
        sender.abort();
    }
    if let Some(task) = metrics_task {
        task.abort();
    }
    if let Some(thread) = loop_thread {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    match &result {
        Ok(()) => tracing::info!("node {} stopped", config.node.0),
        Err(e) => tracing::error!("node {} stopped: {e}", config.node.0),
    }
    result
}

/// What the node loop's end says: its own result, or that it panicked (its reply slot dropped).
fn loop_ended(
    result: Result<Result<(), StorageError>, tokio::sync::oneshot::error::RecvError>,
) -> Result<(), ServerError> {
    match result {
        Ok(result) => Ok(result?),
        Err(_) => Err(ServerError::Config("the node loop panicked".into())),
    }
}

/// Each node's election timeouts are drawn from a seed of its own, so that the members of a
/// cell rarely time out together.
fn seed_of(node: NodeId) -> u64 {
    0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(u64::from(node.0) + 1)
}

/// Accepts connections until aborted: each is handshaken in its own task, then served as a
/// peer's or a client's.
async fn accept_all(
    mut listener: Box<dyn Listener>,
    config: ServerConfig,
    inbox: Inbox,
    metrics: Arc<Metrics>,
) {
    // Every connection's task is in this set, so that stopping the acceptor (at shutdown)
    // ends them all: a connection must not outlive its node.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let (tcp, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let config = config.clone();
        let inbox = inbox.clone();
        let metrics = metrics.clone();
        let tasks = config.environment.tasks;
        tasks.spawn_into(&mut connections, async move {
            let (conn, role) = match accept(tcp, &config.security, config.node).await {
                Ok(accepted) => accepted,
                Err(e) => {
                    Metrics::add(&metrics.connections_refused, 1);
                    tracing::warn!(%from, "refused a connection from {from}: {e}");
                    return;
                }
            };
            match role {
                Role::Peer { node, .. } if !config.nodes.contains_key(&node) || node == config.node => {
                    Metrics::add(&metrics.connections_refused, 1);
                    tracing::warn!(%from, "refused node {} from {from}: not a peer of this cluster", node.0);
                }
                Role::Peer { node, channel } => {
                    peers::receive(node, channel, conn, inbox, metrics).await
                }
                Role::Client => clients::serve(conn, inbox, metrics).await,
            }
        });
    }
}
