//! The processes the bench starts, and their end: every one is asked to stop (SIGTERM), then
//! killed if it has not within a grace period, whether the bench finished, failed, was
//! interrupted or panicked.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a process has to stop after SIGTERM. `colony dev` stops its three nodes in turn,
/// each with its own 10 s bound, so it gets more than that.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// A child process that is stopped when dropped.
pub struct Process {
    name: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Process {
    /// Starts `command` with standard input closed and standard error to `log` (and standard
    /// output too, unless the command already says where it goes).
    pub fn spawn(
        name: &str,
        command: &mut Command,
        log: &Path,
        stdout_to_log: bool,
    ) -> Result<Process, String> {
        let file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        if stdout_to_log {
            let copy = file
                .try_clone()
                .map_err(|e| format!("{}: {e}", log.display()))?;
            command.stdout(copy);
        }
        let child = command
            .stdin(Stdio::null())
            .stderr(file)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        Ok(Process {
            name: name.to_string(),
            log: log.to_path_buf(),
            child: Some(child),
        })
    }

    /// The child, to take its piped output.
    pub fn child_mut(&mut self) -> Option<&mut Child> {
        self.child.as_mut()
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Says that the process exited and what its log ends with.
    pub fn died(&self, status: ExitStatus) -> String {
        format!(
            "{} exited ({status}); the end of its log {}:\n{}",
            self.name,
            self.log.display(),
            log_tail(&self.log)
        )
    }

    fn terminate(&self) {
        if let Some(pid) = self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }

    /// Waits until `deadline` for the process to exit, then kills it.
    fn reap(&mut self, deadline: Instant) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    eprintln!(
                        "{} did not stop within {STOP_GRACE:?}; killing it",
                        self.name
                    );
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.terminate();
        self.reap(Instant::now() + STOP_GRACE);
    }
}

/// Stops every process at once: all are asked first, then each is waited for.
pub fn stop_all(processes: &mut Vec<Process>) {
    for process in processes.iter() {
        process.terminate();
    }
    let deadline = Instant::now() + STOP_GRACE;
    for process in processes.iter_mut() {
        process.reap(deadline);
    }
    processes.clear();
}

/// The last lines of a log, to say why a process failed.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Refuses an address something already listens on, so that the bench never measures a
/// stranger's server.
pub fn check_free(addr: &str, flag: &str) -> Result<(), String> {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "{addr} is in use: stop what listens there, or pass another {flag}"
        )),
    }
}
