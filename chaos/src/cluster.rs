//! Three `colony node` processes on loopback, each on an address of its own (127.0.0.1, .2,
//! .3), so that a firewall rule can cut one off from the others; and the faults done to them.

use colony_core::group::NodeId;
use colony_net::certs::{generate, CertPlan};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nftables table the partitions live in; deleted at the end of every run.
const TABLE: &str = "colony_chaos";

/// One node process.
pub struct Node {
    pub id: u8,
    pub addr: String,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Whether the running process fails its syncs (it runs under `fiu-run`).
    pub failing_syncs: bool,
}

/// The cluster of one run.
pub struct Cluster {
    pub nodes: Vec<Node>,
    colony: PathBuf,
    pub certs: PathBuf,
}

/// The address node `id` serves on.
pub fn node_ip(id: u8) -> String {
    format!("127.0.0.{id}")
}

impl Cluster {
    /// Writes certificates and configurations in `dir` and starts every node.
    pub fn start(dir: &Path, colony: &Path, nodes: u8, port: u16) -> Result<Cluster, String> {
        let certs = dir.join("certs");
        let plan = CertPlan {
            nodes: (1..=nodes).map(NodeId).collect(),
            hosts: (1..=nodes).map(node_ip).collect(),
            clients: vec!["client".into()],
        };
        generate(&certs, &plan).map_err(|e| e.to_string())?;
        let peers: Vec<String> = (1..=nodes)
            .map(|id| format!("{id}={}:{port}", node_ip(id)))
            .collect();
        let mut cluster = Cluster {
            nodes: Vec::new(),
            colony: colony.to_path_buf(),
            certs: certs.clone(),
        };
        for id in 1..=nodes {
            let config = dir.join(format!("node-{id}.toml"));
            let text = format!(
                "id = {id}\npeers = {peers:?}\ndata_dir = {:?}\ncerts = {certs:?}\n",
                dir.join(format!("node-{id}"))
            );
            std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
            cluster.nodes.push(Node {
                id,
                addr: format!("{}:{port}", node_ip(id)),
                config,
                log: dir.join(format!("node-{id}.log")),
                child: None,
                failing_syncs: false,
            });
        }
        for index in 0..cluster.nodes.len() {
            cluster.launch(index, None)?;
        }
        Ok(cluster)
    }

    /// Starts node `index`'s process; under `fiu-run`, failing each `fdatasync` and `fsync`
    /// with probability `fail_syncs`, when given.
    pub fn launch(&mut self, index: usize, fail_syncs: Option<f64>) -> Result<(), String> {
        let node = &mut self.nodes[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .map_err(|e| format!("{}: {e}", node.log.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = match fail_syncs {
            None => Command::new(&self.colony),
            Some(probability) => {
                let mut command = Command::new("fiu-run");
                command.arg("-x");
                for name in ["posix/io/sync/fdatasync", "posix/io/sync/fsync"] {
                    command.arg("-c").arg(format!(
                        "enable_random name={name},probability={probability}"
                    ));
                }
                command.arg(&self.colony);
                command
            }
        };
        let child = command
            .arg("node")
            .arg("--config")
            .arg(&node.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting node {}: {e}", node.id))?;
        node.child = Some(child);
        node.failing_syncs = fail_syncs.is_some();
        Ok(())
    }

    /// Whether node `index` has a live process; a process that ended is reaped, and its exit
    /// status returned once.
    pub fn reap(&mut self, index: usize) -> Option<std::process::ExitStatus> {
        let node = &mut self.nodes[index];
        let status = node.child.as_mut()?.try_wait().ok()??;
        node.child = None;
        Some(status)
    }

    /// Whether node `index` runs.
    pub fn is_running(&self, index: usize) -> bool {
        self.nodes[index].child.is_some()
    }

    /// kill -9.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then kill -9 if it has not stopped within ten seconds.
    pub fn stop(&mut self, index: usize) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        let Some(mut child) = self.nodes[index].child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The last lines of node `index`'s log.
    pub fn log_tail(&self, index: usize, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.nodes[index].log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops every node and removes any partition.
    pub fn shutdown(&mut self) {
        for index in 0..self.nodes.len() {
            self.stop(index);
        }
        let _ = heal();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for index in 0..self.nodes.len() {
            self.kill(index);
        }
        let _ = nft(&["delete", "table", "inet", TABLE]);
    }
}

fn nft(args: &[&str]) -> Result<(), String> {
    let output = Command::new("nft")
        .args(args)
        .output()
        .map_err(|e| format!("nft: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Cuts node `id` off from the other nodes (not from clients): every packet between its address
/// and theirs is dropped on arrival.
pub fn partition(id: u8, nodes: u8) -> Result<(), String> {
    heal()?;
    nft(&["add", "table", "inet", TABLE])?;
    nft(&[
        "add",
        "chain",
        "inet",
        TABLE,
        "input",
        "{ type filter hook input priority 0; policy accept; }",
    ])?;
    for other in (1..=nodes).filter(|o| *o != id) {
        for (from, to) in [(id, other), (other, id)] {
            let (from, to) = (node_ip(from), node_ip(to));
            nft(&[
                "add", "rule", "inet", TABLE, "input", "ip", "saddr", &from, "ip", "daddr", &to,
                "drop",
            ])?;
        }
    }
    Ok(())
}

/// Removes every partition.
pub fn heal() -> Result<(), String> {
    match nft(&["delete", "table", "inet", TABLE]) {
        Ok(()) => Ok(()),
        // No table: nothing to heal.
        Err(e) if e.contains("No such file") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether nftables can be used here (it needs root).
pub fn nft_works() -> bool {
    nft(&["add", "table", "inet", TABLE]).is_ok()
        && nft(&["delete", "table", "inet", TABLE]).is_ok()
}

/// Whether `fiu-run` is installed.
pub fn fiu_works() -> bool {
    Command::new("fiu-run")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
}
