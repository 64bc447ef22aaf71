//! `colony-testgen`: writes the generated tests into `generated-tests/` and prints, per role and
//! cell size, how many combinations it enumerated, how many tests it emitted, and how many of
//! the spec's reachable per-node transitions those tests exercise.
//!
//! Run it as `cargo xtask codegen` from anywhere in the repository.

use std::path::Path;
use std::process::ExitCode;

/// A row's cell size, `-` for rows that have none (the cell's transactions).
fn n(n: u8) -> String {
    if n == 0 {
        "-".to_string()
    } else {
        n.to_string()
    }
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (files, rows) = colony_testgen::generate();
    for file in &files {
        let path = root.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &file.text));
        if let Err(error) = written {
            eprintln!("error: cannot write {}: {error}", file.path);
            return ExitCode::from(2);
        }
        println!("wrote {}", file.path);
    }
    println!(
        "{:<14} {:>3} {:>14} {:>8}   coverage",
        "role", "N", "combinations", "tests"
    );
    for row in &rows {
        println!(
            "{:<14} {:>3} {:>14} {:>8}   {}",
            row.role,
            n(row.n),
            row.combinations,
            row.tests,
            row.coverage
        );
    }
    for row in &rows {
        for transition in &row.uncovered {
            println!("not covered ({} n={}): {transition}", row.role, row.n);
        }
    }
    ExitCode::SUCCESS
}
