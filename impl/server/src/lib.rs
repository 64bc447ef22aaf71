//! The Colony server: one node of a cluster, as a process.
//!
//! A node's host and write-ahead log are driven by one thread, the node loop
//! ([`node_loop`]), exactly as the simulator drives them; around it, tokio runs the network:
//! two connections to each peer ([`peers`]: votes, and bulk for snapshots, so that a snapshot
//! never delays a vote), a task per client connection ([`clients`]), and the metrics endpoint
//! ([`metrics`]). They meet at the node loop's bounded inbox.
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
use colony_net::{accept, Channel, Role, Security};
use colony_node::host::HostConfig;
use colony_node::storage::{FileStorage, StorageError};
use metrics::{MeteredStorage, Metrics};
use node_loop::{Command, LoopConfig, PeerOutboxes};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
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

/// Runs node `config.node` until `shutdown` completes or the storage fails.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    if !config.nodes.contains_key(&config.node) {
        return Err(ServerError::Config(format!(
            "node {} is not among the cluster's nodes {:?}",
            config.node.0,
            config.nodes.keys().map(|n| n.0).collect::<Vec<_>>()
        )));
    }
    let listener =
        TcpListener::bind(&config.listen)
            .await
            .map_err(|source| ServerError::Listen {
                addr: config.listen.clone(),
                source,
            })?;
    let metrics = Arc::new(Metrics::default());
    let metrics_task = match &config.metrics_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Listen {
                    addr: addr.clone(),
                    source,
                })?;
            Some(tokio::spawn(metrics::serve(listener, metrics.clone())))
        }
        None => None,
    };
    let data_dir = config.data_dir.clone();
    let storage = tokio::task::spawn_blocking(move || FileStorage::open(&data_dir))
        .await
        .map_err(|e| ServerError::Config(format!("opening the storage panicked: {e}")))??;
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
            senders.push(tokio::spawn(
                peers::keep_connected(
                    source,
                    config.node,
                    *peer,
                    addr.clone(),
                    channel,
                    config.security.clone(),
                    rx,
                )
                .instrument(span),
            ));
        }
    }

    let (inbox, inbox_rx) = std::sync::mpsc::sync_channel(node_loop::INBOX_MAX);
    let loop_config = LoopConfig {
        host: HostConfig::new(config.node, seed_of(config.node)),
        nodes: config.nodes.clone(),
        tick: config.tick,
    };
    let (loop_done, mut loop_result) = tokio::sync::oneshot::channel();
    let loop_metrics = metrics.clone();
    let loop_thread = std::thread::Builder::new()
        .name(format!("node-{}", config.node.0))
        .spawn(move || {
            let result = node_loop::run(storage, loop_config, outboxes, inbox_rx, loop_metrics);
            let _ = loop_done.send(result);
        })
        .map_err(|e| ServerError::Config(format!("cannot start the node loop: {e}")))?;

    tracing::info!(
        node = config.node.0,
        listen = %config.listen,
        data = %config.data_dir.display(),
        tls = matches!(config.security, Security::Tls(_)),
        "node {} serving on {}",
        config.node.0,
        config.listen
    );
    let acceptor = tokio::spawn(accept_all(
        listener,
        config.clone(),
        inbox.clone(),
        metrics.clone(),
    ));

    let result = tokio::select! {
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
    let _ = tokio::task::spawn_blocking(move || loop_thread.join()).await;
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
    listener: TcpListener,
    config: ServerConfig,
    inbox: SyncSender<Command>,
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
        let _ = tcp.set_nodelay(true);
        let config = config.clone();
        let inbox = inbox.clone();
        let metrics = metrics.clone();
        connections.spawn(async move {
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
