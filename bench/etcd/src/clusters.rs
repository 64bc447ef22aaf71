//! The two local clusters: three Colony nodes through `colony dev`, and three etcd members.
//! Both serve plaintext on loopback and keep their data in the bench's directory, on the same
//! disk, and both sync every write to it before answering.

use crate::process::{check_free, log_tail, Process};
use etcd_client::{Client as EtcdClient, ConnectOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a cluster has to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The last line `colony dev` prints once every node answers.
const DEV_READY: &str = "# Ctrl-C stops the cluster.";

/// Starts `colony dev --nodes 3 --insecure` with its data in `dir` and node N on
/// `base_port + N - 1`, waits until it says every node answers, and returns its process and
/// the nodes' addresses (from the `export COLONY_ENDPOINTS=` line it prints).
pub fn start_colony(
    colony: &Path,
    dir: &Path,
    base_port: u16,
) -> Result<(Process, Vec<String>), String> {
    let log = dir.join("colony-dev.log");
    let mut command = Command::new(colony);
    command
        .args(["dev", "--nodes", "3", "--insecure", "--base-port"])
        .arg(base_port.to_string())
        .arg("--dir")
        .arg(dir.join("colony"))
        .stdout(Stdio::piped());
    let mut process = Process::spawn("colony dev", &mut command, &log, false)?;
    let stdout = process
        .child_mut()
        .and_then(|c| c.stdout.take())
        .ok_or("colony dev has no standard output")?;
    // A thread reads what `colony dev` prints for as long as it runs (so that its pipe never
    // fills), copies it to a log, and hands the lines to this function until it is ready.
    let (lines, received) = mpsc::channel();
    let copy_to = dir.join("colony-dev.out");
    std::thread::spawn(move || {
        let mut copy = std::fs::File::create(copy_to).ok();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(file) = &mut copy {
                let _ = writeln!(file, "{line}");
            }
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + START_TIMEOUT;
    let mut endpoints = None;
    loop {
        if let Some(status) = process.exited() {
            return Err(process.died(status));
        }
        match received.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line == DEV_READY => break,
            Ok(line) => {
                if let Some(list) = line.strip_prefix("export COLONY_ENDPOINTS=") {
                    endpoints = Some(list.split(',').map(str::to_string).collect::<Vec<_>>());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "colony dev did not say it was ready within {START_TIMEOUT:?}; its log:\n{}",
                log_tail(&log)
            ));
        }
    }
    let endpoints = endpoints.ok_or("colony dev printed no export COLONY_ENDPOINTS= line")?;
    Ok((process, endpoints))
}

/// A running etcd cluster: its members' processes and client URLs, and which one leads.
pub struct Etcd {
    /// The members' processes.
    pub processes: Vec<Process>,
    /// The leader's client URL.
    pub leader: String,
}

/// Starts three etcd members on loopback (member N serves clients on `base_port + N - 1`
/// and peers on `base_port + 100 + N - 1`), with their data in `dir`, and waits until they
/// have a leader.
pub async fn start_etcd(etcd: &Path, dir: &Path, base_port: u16) -> Result<Etcd, String> {
    let port = |offset: u16| {
        base_port
            .checked_add(offset)
            .ok_or(format!("--etcd-base-port {base_port} is too high"))
    };
    let mut members = Vec::new();
    for n in 0..3u16 {
        let client = format!("127.0.0.1:{}", port(n)?);
        let peer = format!("127.0.0.1:{}", port(100 + n)?);
        check_free(&client, "--etcd-base-port")?;
        check_free(&peer, "--etcd-base-port")?;
        members.push((format!("etcd-{}", n + 1), client, peer));
    }
    let initial_cluster: Vec<String> = members
        .iter()
        .map(|(name, _, peer)| format!("{name}=http://{peer}"))
        .collect();
    let mut processes = Vec::new();
    for (name, client, peer) in &members {
        let mut command = Command::new(etcd);
        command
            .arg("--name")
            .arg(name)
            .arg("--data-dir")
            .arg(dir.join(name))
            .arg("--listen-client-urls")
            .arg(format!("http://{client}"))
            .arg("--advertise-client-urls")
            .arg(format!("http://{client}"))
            .arg("--listen-peer-urls")
            .arg(format!("http://{peer}"))
            .arg("--initial-advertise-peer-urls")
            .arg(format!("http://{peer}"))
            .arg("--initial-cluster")
            .arg(initial_cluster.join(","))
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "colony-vs-etcd"])
            .args(["--logger", "zap", "--log-outputs", "stderr"]);
        let log = dir.join(format!("{name}.log"));
        processes.push(Process::spawn(name, &mut command, &log, true)?);
    }
    let urls: Vec<String> = members
        .iter()
        .map(|(_, client, _)| format!("http://{client}"))
        .collect();
    let leader = match wait_for_leader(&urls, &mut processes).await {
        Ok(leader) => leader,
        Err(e) => {
            crate::process::stop_all(&mut processes);
            return Err(e);
        }
    };
    Ok(Etcd { processes, leader })
}

/// Connection settings for an etcd client: the same 10 s bound on a call that a Colony client
/// has by default.
pub fn etcd_options() -> ConnectOptions {
    ConnectOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(10))
}

/// Polls every member until each answers and one of them is the leader they all name, and
/// returns the leader's client URL.
async fn wait_for_leader(urls: &[String], processes: &mut [Process]) -> Result<String, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        for process in processes.iter_mut() {
            if let Some(status) = process.exited() {
                return Err(process.died(status));
            }
        }
        match find_leader(urls).await {
            Ok(Some(leader)) => return Ok(leader),
            Ok(None) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(None) => return Err(format!("etcd elected no leader within {START_TIMEOUT:?}")),
            Err(e) => return Err(format!("etcd did not serve within {START_TIMEOUT:?}: {e}")),
        }
    }
}

/// The leader's client URL once every member answers and names the same leader.
async fn find_leader(urls: &[String]) -> Result<Option<String>, etcd_client::Error> {
    let mut leaders = Vec::new();
    for url in urls {
        let mut client = EtcdClient::connect([url], Some(etcd_options())).await?;
        leaders.push(client.status().await?.leader());
    }
    let first = leaders.first().copied().unwrap_or(0);
    if first == 0 || leaders.iter().any(|l| *l != first) {
        return Ok(None);
    }
    let mut client = EtcdClient::connect(urls, Some(etcd_options())).await?;
    let members = client.member_list().await?;
    Ok(members
        .members()
        .iter()
        .find(|m| m.id() == first)
        .and_then(|m| m.client_urls().first().cloned()))
}
