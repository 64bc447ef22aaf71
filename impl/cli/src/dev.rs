//! `colony dev`: a local cluster on loopback in one command, each node its own `colony node`
//! process (so that a user can kill one and start it again), with certificates, until Ctrl-C.
//!
//! It prints first the shell `export` lines that let the client commands reach the cluster,
//! then each node's pid, address, metrics and log, as `cockroach demo` and `tiup playground`
//! do.

use crate::Failure;
use clap::Args;
use colony_client::{Client, ClientConfig};
use colony_core::group::NodeId;
use colony_net::certs::{generate, CertPlan};
use colony_net::{Security, Tls, TlsFiles};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints a line, and goes on quietly when standard output is closed (the reader went away):
/// the cluster must still be torn down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// How long the nodes have to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a node has to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings of `colony dev`.
#[derive(Args, Debug)]
pub struct DevArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=64))]
    nodes: u8,
    /// Keep the cluster's certificates, configurations, logs and data here, and reuse them
    /// next time (default: a new temporary directory, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Node N listens on BASE+N-1 and serves metrics on BASE+100+N-1.
    #[arg(long, default_value_t = 7001)]
    base_port: u16,
    /// Plaintext, without TLS.
    #[arg(long)]
    insecure: bool,
}

struct Node {
    id: u8,
    addr: String,
    metrics: String,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// Runs the cluster until Ctrl-C or SIGTERM.
pub async fn run(args: DevArgs) -> Result<(), Failure> {
    let failed = |e: String| Failure::Failed(e);
    let temporary;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("colony-dev-")
                .tempdir()
                .map_err(|e| failed(format!("a temporary directory: {e}")))?;
            temporary.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| failed(format!("{}: {e}", dir.display())))?;
    let certs = dir.join("certs");
    if !args.insecure && !certs.join("ca.pem").exists() {
        let plan = CertPlan {
            nodes: (1..=args.nodes).map(NodeId).collect(),
            hosts: vec!["127.0.0.1".into(), "localhost".into()],
            clients: vec!["client".into()],
        };
        generate(&certs, &plan).map_err(|e| failed(e.to_string()))?;
    }

    let port = |offset: u16| -> Result<u16, Failure> {
        args.base_port
            .checked_add(offset)
            .ok_or_else(|| Failure::Usage(format!("--base-port {} is too high", args.base_port)))
    };
    let mut nodes = Vec::new();
    for id in 1..=args.nodes {
        let addr = format!("127.0.0.1:{}", port(u16::from(id) - 1)?);
        let metrics = format!("127.0.0.1:{}", port(100 + u16::from(id) - 1)?);
        for taken in [&addr, &metrics] {
            if std::net::TcpListener::bind(taken).is_err() {
                return Err(Failure::Usage(format!(
                    "{taken} is in use: stop what listens there, or pass another --base-port"
                )));
            }
        }
        nodes.push(Node {
            id,
            addr,
            metrics,
            config: dir.join(format!("node-{id}.toml")),
            log: dir.join(format!("node-{id}.log")),
            child: None,
        });
    }
    let peers: Vec<String> = nodes
        .iter()
        .map(|n| format!("{}={}", n.id, n.addr))
        .collect();
    for node in &nodes {
        let mut text = format!(
            "id = {}\npeers = {:?}\ndata_dir = {:?}\nmetrics = {:?}\n",
            node.id,
            peers,
            dir.join(format!("node-{}", node.id)),
            node.metrics
        );
        if args.insecure {
            text.push_str("insecure = true\n");
        } else {
            text.push_str(&format!("certs = {certs:?}\n"));
        }
        std::fs::write(&node.config, text)
            .map_err(|e| failed(format!("{}: {e}", node.config.display())))?;
    }

    let exe = std::env::current_exe().map_err(|e| failed(format!("this program's path: {e}")))?;
    for node in &mut nodes {
        node.child = Some(spawn(&exe, node).map_err(failed)?);
    }
    let security = if args.insecure {
        Security::Insecure
    } else {
        let files = TlsFiles::in_dir(&certs, "client");
        Security::Tls(Arc::new(
            Tls::load(&files).map_err(|e| failed(e.to_string()))?,
        ))
    };
    if let Err(e) = wait_until_serving(&mut nodes, &security).await {
        stop_all(&mut nodes);
        return Err(failed(e));
    }

    let endpoints: Vec<&str> = nodes.iter().map(|n| n.addr.as_str()).collect();
    say!("export COLONY_ENDPOINTS={}", endpoints.join(","));
    if args.insecure {
        say!("export COLONY_INSECURE=true");
    } else {
        let client = TlsFiles::in_dir(&certs, "client");
        say!("export COLONY_CACERT={}", quote(&client.ca));
        say!("export COLONY_CERT={}", quote(&client.cert));
        say!("export COLONY_KEY={}", quote(&client.key));
    }
    for node in &nodes {
        let pid = node.child.as_ref().map_or(0, Child::id);
        say!(
            "# node {}: pid {pid}, {}, metrics http://{}/metrics, log {}",
            node.id,
            node.addr,
            node.metrics,
            node.log.display()
        );
    }
    say!("# Ctrl-C stops the cluster.");

    let mut signal = Box::pin(crate::node::shutdown_signal());
    loop {
        tokio::select! {
            () = &mut signal => break,
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        for node in &mut nodes {
            let Some(child) = &mut node.child else {
                continue;
            };
            if let Ok(Some(status)) = child.try_wait() {
                say!(
                    "# node {} (pid {}) exited ({status}); start it again with: {} node --config {}",
                    node.id,
                    child.id(),
                    exe.display(),
                    quote(&node.config)
                );
                node.child = None;
            }
        }
    }
    say!("# stopping the cluster");
    stop_all(&mut nodes);
    if args.dir.is_none() {
        say!("# removed {}", dir.display());
    } else {
        say!("# kept {}", dir.display());
    }
    Ok(())
}

fn spawn(exe: &Path, node: &Node) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&node.log)
        .map_err(|e| format!("{}: {e}", node.log.display()))?;
    let err = log
        .try_clone()
        .map_err(|e| format!("{}: {e}", node.log.display()))?;
    Command::new(exe)
        .arg("node")
        .arg("--config")
        .arg(&node.config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("starting node {}: {e}", node.id))
}

/// Waits until every node answers a client, or one exits, or [`START_TIMEOUT`] passes.
async fn wait_until_serving(nodes: &mut [Node], security: &Security) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    for node in nodes.iter_mut() {
        loop {
            if let Some(child) = &mut node.child {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
                    return Err(format!(
                        "node {} exited at start ({status}); its log {}:\n{}",
                        node.id,
                        node.log.display(),
                        log.lines()
                            .rev()
                            .take(20)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<Vec<_>>()
                            .join("\n")
                    ));
                }
            }
            let mut config = ClientConfig::new(vec![node.addr.clone()], security.clone());
            config.timeout = Duration::from_millis(500);
            if Client::connect(config).await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "node {} did not answer within {START_TIMEOUT:?}; see {}",
                    node.id,
                    node.log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Asks every node still running to stop (SIGTERM: a graceful shutdown), and kills those that
/// have not within [`STOP_TIMEOUT`].
fn stop_all(nodes: &mut [Node]) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    for node in nodes.iter() {
        if let Some(child) = &node.child {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    for node in nodes.iter_mut() {
        let Some(child) = &mut node.child else {
            continue;
        };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        node.child = None;
    }
}

/// A path as a shell reads it: quoted when it holds anything but plain characters.
fn quote(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
