//! `colony bench` against a real local cluster that `colony dev` starts: the cells it needs are
//! created, every write is counted, and the report is the JSON a script reads.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `colony dev` cluster, stopped (gracefully, so that it stops its nodes) when dropped.
struct Dev {
    child: Child,
    endpoints: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn colony() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_colony"));
    for var in [
        "COLONY_ENDPOINTS",
        "COLONY_CACERT",
        "COLONY_CERT",
        "COLONY_KEY",
        "COLONY_INSECURE",
        "COLONY_CELL",
    ] {
        command.env_remove(var);
    }
    command
}

/// Starts a plaintext cluster of three nodes, trying other ports when some are taken.
fn start_dev() -> Dev {
    // Ports from 20,000 to under 60,000 (with the metrics ports 100 above), spread by the
    // process id so that concurrent runs rarely meet.
    let first = std::process::id() % 2_000 * 4;
    for attempt in 0..10u32 {
        let base = 20_000 + (first + attempt * 8_000) % 40_000;
        let mut child = colony()
            .args(["dev", "--nodes", "3", "--insecure", "--base-port"])
            .arg(base.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("colony dev starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let mut endpoints = None;
        let mut ready = false;
        for line in lines.by_ref() {
            if let Some(list) = line.strip_prefix("export COLONY_ENDPOINTS=") {
                endpoints = Some(list.to_string());
            }
            if line == "# Ctrl-C stops the cluster." {
                ready = true;
                break;
            }
        }
        // Keep reading what it prints, so that its last lines (as it stops) are read too.
        std::thread::spawn(move || lines.for_each(drop));
        match (ready, endpoints) {
            (true, Some(endpoints)) => {
                // No wait: the bench starts the moment the cluster says it is ready, as a user
                // would (a node once stamped what it proposed before its first tick with the
                // time 0, which expired the sessions opened then; this keeps that covered).
                return Dev { child, endpoints };
            }
            _ => {
                // Its ports were taken, or it failed: it has exited or is about to.
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    panic!("colony dev did not start on any of the ports tried");
}

#[test]
fn a_bench_writes_every_operation_to_the_cells_it_creates() {
    let dev = start_dev();
    let output = colony()
        .args(["bench", "--ops", "60", "--clients", "4", "--cells", "3"])
        .args(["--insecure", "--no-progress", "-w", "json", "--endpoints"])
        .arg(&dev.endpoints)
        .output()
        .expect("colony bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let row = &report[0];
    assert_eq!(row["ops"], 60, "{report}");
    assert_eq!(row["errors"], 0, "{report}");
    assert_eq!(
        (row["clients"].clone(), row["cells"].clone()),
        (4.into(), 3.into())
    );
    assert!(
        row["ops_per_s"].as_f64().expect("a number") > 0.0,
        "{report}"
    );
    assert!(row["p50_ms"].as_f64().expect("a number") <= row["max_ms"].as_f64().expect("a number"));

    let listed = colony()
        .args(["cell", "list", "--insecure", "-w", "json", "--endpoints"])
        .arg(&dev.endpoints)
        .output()
        .expect("colony cell list runs");
    let cells: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let names: Vec<&str> = cells
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|cell| cell["name"].as_str())
        .collect();
    for name in ["bench-0", "bench-1", "bench-2"] {
        assert!(names.contains(&name), "{names:?}");
    }
}
