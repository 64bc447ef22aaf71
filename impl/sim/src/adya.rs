//! Running `adya`, the external checker of Elle histories, on a history written to a file: used
//! by the simulator and by the real-process fault tests alike.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The adya to run for `choice`: none, `auto` (the one on PATH, if any; said when there is
/// none) or a path, checked by running it.
pub fn binary(choice: &Option<String>) -> Result<Option<PathBuf>, String> {
    match choice.as_deref() {
        None => Ok(None),
        Some("auto") => {
            let found = Command::new("adya").arg("--version").output();
            match found {
                Ok(output) if output.status.success() => Ok(Some(PathBuf::from("adya"))),
                _ => {
                    eprintln!("adya is not on PATH (cargo install adya); histories are checked by the simulator alone");
                    Ok(None)
                }
            }
        }
        Some(path) => {
            let path = PathBuf::from(path);
            match Command::new(&path).arg("--version").output() {
                Ok(output) if output.status.success() => Ok(Some(path)),
                Ok(output) => Err(format!(
                    "{} --version failed: {}",
                    path.display(),
                    String::from_utf8_lossy(&output.stderr)
                )),
                Err(e) => Err(format!("cannot run {}: {e}", path.display())),
            }
        }
    }
}

/// Checks `history` (Elle JSON lines, written to `file`) with adya for strict serializability;
/// the violations it reports.
pub fn check(adya: &Path, file: &Path) -> Vec<String> {
    let output = Command::new(adya)
        .args(["check", "-m", "list-append", "-c", "strict-serializable"])
        .arg(file)
        .output();
    match output {
        Ok(output) => match output.status.code() {
            Some(0) => Vec::new(),
            Some(1) => vec![format!(
                "adya: not strict serializable: {}",
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join(" | ")
            )],
            // 2: unknown (no dependencies inferred, or a timeout): not a violation, but said.
            Some(2) => {
                eprintln!(
                    "adya could not decide {}: {}",
                    file.display(),
                    String::from_utf8_lossy(&output.stdout).trim()
                );
                Vec::new()
            }
            _ => vec![format!(
                "adya failed on {}: {}",
                file.display(),
                String::from_utf8_lossy(&output.stderr)
            )],
        },
        Err(e) => vec![format!("cannot run adya: {e}")],
    }
}
