//! `colony node`: one node of a cluster, configured by flags, a TOML file, or both (flags win).

use crate::Failure;
use clap::Args;
use colony_core::group::NodeId;
use colony_net::{Security, Tls, TlsFiles};
use colony_server::{run as serve, Environment, ServerConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The settings of `colony node`.
#[derive(Args, Debug, Default)]
pub struct NodeArgs {
    /// A TOML file with any of these settings (`id`, `listen`, `peers`, `data_dir`, `certs`,
    /// `insecure`, `metrics`, `tick_ms`); a flag overrides the file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// This node's id, 1 to 255.
    #[arg(long)]
    pub id: Option<u8>,
    /// The address to listen on (default: this node's address in --peers).
    #[arg(long)]
    pub listen: Option<String>,
    /// Every node of the cluster, this one too, as ID=HOST:PORT, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Where the node keeps its log and its store.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// A directory holding ca.pem, node-ID.pem and node-ID-key.pem (as `colony certs` writes).
    #[arg(long)]
    pub certs: Option<PathBuf>,
    /// Plaintext, without TLS: peers and clients are not authenticated.
    #[arg(long)]
    pub insecure: bool,
    /// Serve metrics in Prometheus's format at http://ADDR/metrics.
    #[arg(long)]
    pub metrics: Option<String>,
    /// Milliseconds between two ticks (a cell elects a new leader after about 10 ticks).
    #[arg(long)]
    pub tick_ms: Option<u64>,
}

/// The same settings, from a file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    id: Option<u8>,
    listen: Option<String>,
    peers: Option<Vec<String>>,
    data_dir: Option<PathBuf>,
    certs: Option<PathBuf>,
    insecure: Option<bool>,
    metrics: Option<String>,
    tick_ms: Option<u64>,
}

/// Reads `1=127.0.0.1:7001`-style entries.
pub fn parse_peers(entries: &[String]) -> Result<BTreeMap<NodeId, String>, String> {
    let mut nodes = BTreeMap::new();
    for entry in entries {
        let (id, addr) = entry
            .split_once('=')
            .ok_or_else(|| format!("peer {entry:?} is not ID=HOST:PORT"))?;
        let id: u8 = id
            .trim()
            .parse()
            .map_err(|_| format!("peer {entry:?}: {id:?} is not a node id from 1 to 255"))?;
        if id == 0 {
            return Err(format!("peer {entry:?}: node ids start at 1"));
        }
        if !addr.contains(':') {
            return Err(format!("peer {entry:?}: {addr:?} has no port"));
        }
        if nodes.insert(NodeId(id), addr.trim().to_string()).is_some() {
            return Err(format!("node {id} is given twice"));
        }
    }
    Ok(nodes)
}

fn resolve(args: NodeArgs) -> Result<ServerConfig, String> {
    let file = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            toml::from_str::<NodeFile>(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => NodeFile::default(),
    };
    let id = args
        .id
        .or(file.id)
        .ok_or("no node id: give --id (or id in the config file)")?;
    let peers = if args.peers.is_empty() {
        file.peers.unwrap_or_default()
    } else {
        args.peers
    };
    let nodes = parse_peers(&peers)?;
    let Some(own) = nodes.get(&NodeId(id)) else {
        return Err(format!(
            "node {id} is not in --peers; list every node of the cluster, this one too, as ID=HOST:PORT"
        ));
    };
    let listen = args.listen.or(file.listen).unwrap_or_else(|| own.clone());
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .ok_or("no data directory: give --data-dir (or data_dir in the config file)")?;
    let insecure = args.insecure || file.insecure.unwrap_or(false);
    let security = match (insecure, args.certs.or(file.certs)) {
        (true, _) => Security::Insecure,
        (false, Some(dir)) => {
            let files = TlsFiles::in_dir(&dir, &colony_net::tls::node_name(NodeId(id)));
            Security::Tls(Arc::new(Tls::load(&files).map_err(|e| e.to_string())?))
        }
        (false, None) => {
            return Err(
                "no certificates: give --certs DIR (make them with `colony certs`), \
                        or --insecure for plaintext"
                    .into(),
            )
        }
    };
    let tick = match args.tick_ms.or(file.tick_ms) {
        Some(0) => return Err("--tick-ms must be at least 1".into()),
        Some(ms) => Duration::from_millis(ms),
        None => ServerConfig::TICK_DEFAULT,
    };
    Ok(ServerConfig {
        node: NodeId(id),
        listen,
        nodes,
        data_dir,
        security,
        metrics_listen: args.metrics.or(file.metrics),
        tick,
        environment: Environment::machine(),
    })
}

/// Runs the node until SIGINT or SIGTERM, then shuts it down gracefully.
pub async fn run(args: NodeArgs) -> Result<(), Failure> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let config = resolve(args).map_err(Failure::Usage)?;
    serve(config, shutdown_signal())
        .await
        .map_err(|e| Failure::Failed(e.to_string()))
}

/// Completes at the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_read_and_mistakes_named() {
        let nodes = parse_peers(&["1=127.0.0.1:7001".into(), "2=h:7002".into()]).expect("reads");
        assert_eq!(nodes[&NodeId(2)], "h:7002");
        for (entry, words) in [
            ("1127.0.0.1:7001", "not ID=HOST:PORT"),
            ("x=h:1", "not a node id"),
            ("0=h:1", "start at 1"),
            ("1=h", "no port"),
        ] {
            let error = parse_peers(&[entry.into()]).expect_err("refused");
            assert!(error.contains(words), "{entry}: {error}");
        }
        let error = parse_peers(&["1=h:1".into(), "1=h:2".into()]).expect_err("refused");
        assert!(error.contains("twice"), "{error}");
    }

    #[test]
    fn a_config_file_is_read_and_flags_override_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "id = 2\npeers = [\"1=127.0.0.1:7001\", \"2=127.0.0.1:7002\"]\ndata_dir = \"d\"\ninsecure = true\n",
        )
        .expect("writes");
        let args = NodeArgs {
            config: Some(path.clone()),
            listen: Some("0.0.0.0:7002".into()),
            ..NodeArgs::default()
        };
        let config = resolve(args).expect("resolves");
        assert_eq!(config.node, NodeId(2));
        assert_eq!(config.listen, "0.0.0.0:7002");
        assert_eq!(config.nodes.len(), 2);

        std::fs::write(&path, "id = 2\nport = 3\n").expect("writes");
        let args = NodeArgs {
            config: Some(path),
            ..NodeArgs::default()
        };
        let error = resolve(args).expect_err("refused");
        assert!(error.contains("unknown field `port`"), "{error}");
    }

    #[test]
    fn a_node_without_certificates_must_ask_for_plaintext() {
        let args = NodeArgs {
            id: Some(1),
            peers: vec!["1=127.0.0.1:7001".into()],
            data_dir: Some("d".into()),
            ..NodeArgs::default()
        };
        let error = resolve(args).expect_err("refused");
        assert!(error.contains("--insecure"), "{error}");
    }
}
