//! The quick start as a new user runs it: `colony dev`, then the client commands against it,
//! one node killed with kill -9 and started again, and bad requests refused.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const COLONY: &str = env!("CARGO_BIN_EXE_colony");

/// A `colony dev` cluster and what it printed.
struct Dev {
    child: Child,
    env: BTreeMap<String, String>,
    pids: Vec<u32>,
    /// Nodes the test started itself, beside `colony dev`'s.
    started: Vec<Child>,
}

impl Drop for Dev {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        for child in &mut self.started {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_dev(dir: &Path) -> Dev {
    // A base port in a range the tests' other servers do not use; another is tried if taken.
    for attempt in 0..20u16 {
        let base = 30_000 + (std::process::id() as u16 % 500) * 20 + attempt * 7;
        let mut child = Command::new(COLONY)
            .args(["dev", "--nodes", "3", "--base-port", &base.to_string()])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("colony dev starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut env = BTreeMap::new();
        let mut pids = Vec::new();
        let mut ready = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            if let Some(export) = line.strip_prefix("export ") {
                let (key, value) = export.split_once('=').expect("KEY=VALUE");
                env.insert(key.to_string(), value.to_string());
            } else if let Some(rest) = line.strip_prefix("# node ") {
                let pid = rest
                    .split("pid ")
                    .nth(1)
                    .and_then(|r| r.split(',').next())
                    .and_then(|p| p.parse().ok())
                    .expect("a pid");
                pids.push(pid);
            } else if line.starts_with("# Ctrl-C") {
                ready = true;
                break;
            }
        }
        if ready {
            return Dev {
                child,
                env,
                pids,
                started: Vec::new(),
            };
        }
        let output = child.wait_with_output().expect("exits");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("in use"), "colony dev failed: {stderr}");
    }
    panic!("no free ports for colony dev");
}

fn colony(dev: &Dev, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(COLONY)
        .args(args)
        .envs(&dev.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("colony runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("writes");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("colony ends")
}

fn ok(dev: &Dev, args: &[&str], stdin: Option<&str>) -> String {
    let output = colony(dev, args, stdin);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "colony {args:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn refused(dev: &Dev, args: &[&str], stdin: Option<&str>, code: i32, words: &str) {
    let output = colony(dev, args, stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "colony {args:?}: {stderr}"
    );
    assert!(stderr.contains(words), "colony {args:?}: {stderr}");
}

#[test]
fn the_quick_start_works_through_a_killed_and_restarted_node() {
    let dir = tempfile::tempdir().expect("dir");
    let mut dev = start_dev(dir.path());
    assert!(dev.env.contains_key("COLONY_ENDPOINTS"), "{:?}", dev.env);
    assert!(dev.env.contains_key("COLONY_CACERT"), "{:?}", dev.env);
    assert_eq!(dev.pids.len(), 3);

    let created = ok(&dev, &["cell", "create", "accounts"], None);
    assert!(
        created.contains("accounts") && created.contains("now"),
        "{created}"
    );
    ok(&dev, &["put", "alice", "100", "--cell", "accounts"], None);
    let got = ok(
        &dev,
        &["get", "alice", "--cell", "accounts", "-w", "json"],
        None,
    );
    assert!(
        got.contains("\"value\": 100") && got.contains("integer"),
        "{got}"
    );
    let txn = "if alice = 100\nthen\nput alice 90\nincr bob 10\nget alice\n";
    let out = ok(
        &dev,
        &["txn", "--cell", "accounts", "-w", "json"],
        Some(txn),
    );
    assert!(out.contains("\"result\": 90"), "{out}");
    let out = ok(
        &dev,
        &["incr", "visits", "--cell", "accounts", "-w", "json"],
        None,
    );
    assert!(out.contains("\"value\": 1"), "{out}");

    // Bad requests are refused with the reason and change nothing.
    refused(
        &dev,
        &["get", "alice", "--cell", "nope"],
        None,
        1,
        "no cell named \"nope\"",
    );
    let big = "a".repeat(70_000);
    refused(
        &dev,
        &["put", "big", &big, "--cell", "accounts"],
        None,
        2,
        "VALUE_BYTES_MAX",
    );
    refused(
        &dev,
        &["txn", "--cell", "accounts"],
        Some("frob alice\n"),
        2,
        "line 1",
    );
    refused(
        &dev,
        &["txn", "--cell", "accounts"],
        Some(txn),
        1,
        "condition 0 failed",
    );
    let got = ok(
        &dev,
        &["get", "alice", "--cell", "accounts", "-w", "json"],
        None,
    );
    assert!(got.contains("\"value\": 90"), "{got}");

    // kill -9 one node: the cell keeps its quorum.
    let killed = dev.pids[1];
    let status = Command::new("kill")
        .arg("-9")
        .arg(killed.to_string())
        .status();
    assert!(status.expect("kill runs").success());
    for expected in 2..=4 {
        let out = ok(
            &dev,
            &["incr", "visits", "--cell", "accounts", "-w", "json"],
            None,
        );
        assert!(out.contains(&format!("\"value\": {expected}")), "{out}");
    }
    // Started again on its own data, it catches up.
    let config = dir.path().join("node-2.toml");
    let restarted = Command::new(COLONY)
        .arg("node")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node 2 starts again");
    dev.pids[1] = restarted.id();
    dev.started.push(restarted);
    ok(&dev, &["incr", "visits", "--cell", "accounts"], None);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = ok(&dev, &["cell", "status", "accounts", "-w", "json"], None);
        let applied: Vec<&str> = status
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"applied\": "))
            .collect();
        if applied.len() == 3 && applied.iter().all(|a| *a == applied[0] && *a != "null,") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 2 did not catch up: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let cluster = ok(&dev, &["cluster", "status"], None);
    assert_eq!(cluster.matches("| up ").count(), 3, "{cluster}");

    // Ctrl-C (here SIGTERM) stops the cluster it started.
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(dev.child.id().to_string())
        .status();
    assert!(status.expect("kill runs").success());
    let code = dev.child.wait().expect("colony dev exits");
    assert!(code.success(), "{code}");
}
