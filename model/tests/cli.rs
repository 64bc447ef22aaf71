//! The `colony-model` command as a user meets it: exit statuses, the summary line, JSON, the
//! counterexample trace, and one-line errors for bad input.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

use std::path::PathBuf;
use std::process::{Command, Output};

fn colony_model(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_colony-model"))
        .args(args)
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("colony-model runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const B1: &str = "tla/Paxos_a3_v2_b1.cfg";

/// Runs `check` with `args`, expects exit status 0, and checks that the last line of the output
/// is the summary: it starts with `counts` and ends with `verdict`, the time between.
fn assert_summary(args: &[&str], counts: &str, verdict: &str) {
    let output = colony_model(args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(last.starts_with(counts), "{last}");
    assert!(last.ends_with(verdict), "{last}");
    assert!(last.contains(" distinct states/s; "), "{last}");
}

#[test]
fn check_ends_with_one_summary_line() {
    assert_summary(
        &["check", "--config", B1],
        "Paxos_a3_v2_b1.cfg: 3921 distinct states, 23703 states generated, depth 17, ",
        "7 invariant(s) hold",
    );
}

#[test]
fn json_has_the_counts_and_no_violations() {
    let output = colony_model(&["check", "--config", B1, "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["distinct_states"], 3921);
    assert_eq!(report["states_generated"], 23703);
    assert_eq!(report["depth"], 17);
    assert!(report["seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(report["violations"], serde_json::json!([]));
    assert_eq!(report["stopped_at_max_states"], false);
}

/// A bug that makes the two-slot space explode (an unbounded run of it used all 24 GB of the
/// development machine) stops at the state bound: exit status 3, the states explored in the
/// summary, and a last line naming the bound and how to raise it.
#[test]
fn a_search_stops_at_the_state_bound_with_a_message() {
    let args = [
        "check",
        "--config",
        "tla/MultiPaxos_a3_r1_c1_b1_s2.cfg",
        "--bug",
        "vote-below-promise",
        "--max-states",
        "20000",
        "--quiet",
    ];
    let output = colony_model(&args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    let last = message.lines().last().unwrap();
    assert!(
        last.starts_with("error: stopped at the state bound --max-states 20000 after "),
        "{last}"
    );
    assert!(last.contains("raise it with --max-states N"), "{last}");
    let summary = stdout(&output);
    let summary = summary.lines().last().unwrap();
    let distinct: usize = summary
        .split(": ")
        .nth(1)
        .and_then(|counts| counts.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no distinct states in {summary}"));
    // The checker looks at the count every few milliseconds, so it may pass the bound by a
    // little; the space itself has millions of states.
    assert!((20_000..200_000).contains(&distinct), "{summary}");
}

#[test]
fn a_state_bound_of_zero_is_refused() {
    let output = colony_model(&["check", "--config", B1, "--max-states", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--max-states"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn constants_can_be_overridden() {
    let output = colony_model(&[
        "check",
        "--config",
        B1,
        "--constant",
        "MaxBallot=0",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["constants"]["MaxBallot"], 0);
    assert!(report["distinct_states"].as_u64().unwrap() < 3921);
}

/// Runs `check` with `args` and `--trace-md` to a temporary file named after `tag`; returns the
/// output, its stdout, and the Markdown written.
fn check_with_markdown(args: &[&str], tag: &str) -> (Output, String, String) {
    let md = std::env::temp_dir().join(format!("colony-cli-{tag}-{}.md", std::process::id()));
    let md_arg = md.to_string_lossy().into_owned();
    let output = colony_model(&[args, &["--trace-md", &md_arg]].concat());
    let markdown = std::fs::read_to_string(&md).unwrap_or_default();
    let _ = std::fs::remove_file(&md);
    let text = stdout(&output);
    (output, text, markdown)
}

#[test]
fn a_violation_exits_1_with_a_numbered_trace_and_markdown() {
    let args = ["check", "--config", B1, "--bug", "ignore-reported-votes"];
    let (output, text, markdown) = check_with_markdown(&args, "paxos");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text.contains("Invariant Agreement is violated after"),
        "{text}"
    );
    assert!(text.contains("  1  Init "), "{text}");
    assert!(text.contains("  2  Phase1a(b="), "{text}");
    assert!(
        text.lines().last().unwrap().contains("VIOLATED: Agreement"),
        "{text}"
    );
    assert!(
        markdown.contains("```mermaid\nsequenceDiagram\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Note over P0,A3: Agreement violated"),
        "{markdown}"
    );
}

#[test]
fn json_lists_violations_with_their_traces() {
    let output = colony_model(&[
        "check",
        "--config",
        B1,
        "--bug",
        "vote-without-promise",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let violations = report["violations"].as_array().unwrap();
    assert_eq!(violations[0]["invariant"], "PromiseAtLeastVote");
    assert_eq!(violations[0]["steps"][0]["action"], "Init");
}

/// `--trace-md`: a counterexample replaces what the file held; a passing run removes an earlier
/// trace, which no longer holds, and says so; a path that cannot be written is refused before
/// the search.
#[test]
fn the_trace_file_holds_the_last_run_s_counterexample_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.md");
    let path = file.to_string_lossy().into_owned();
    std::fs::write(&file, "an earlier run's trace").unwrap();
    let failing = colony_model(&[
        "check",
        "--config",
        B1,
        "--bug",
        "vote-without-promise",
        "--trace-md",
        &path,
    ]);
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(
        markdown.starts_with("# Counterexample to PromiseAtLeastVote"),
        "{markdown}"
    );
    assert!(
        stderr(&failing).contains("counterexample written to"),
        "{}",
        stderr(&failing)
    );
    let passing = colony_model(&["check", "--config", B1, "--trace-md", &path]);
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    assert!(!file.exists(), "a passing run leaves no trace file behind");
    assert!(
        stderr(&passing).contains("no counterexample: removed the earlier"),
        "{}",
        stderr(&passing)
    );
    let again = colony_model(&["check", "--config", B1, "--trace-md", &path]);
    assert!(stderr(&again).contains("not written"), "{}", stderr(&again));
    assert!(!file.exists());
    let refused = colony_model(&[
        "check",
        "--config",
        "tla/Paxos_a3_v2_b2.cfg",
        "--trace-md",
        &dir.path().to_string_lossy(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("it is a directory"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !stdout(&refused).contains("distinct states"),
        "refused before the search: {}",
        stdout(&refused)
    );
}

/// The warnings a search starts with: a configuration that checks nothing, and a constant wider
/// than every other configuration of its spec beside it.
#[test]
fn warnings_come_before_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("Paxos_bare.cfg");
    std::fs::write(
        &bare,
        "CONSTANTS NumAcceptors = 3 NumValues = 1 MaxBallot = 0",
    )
    .unwrap();
    let output = colony_model(&["check", "--config", &bare.to_string_lossy(), "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("lists no INVARIANT: the search counts states and checks nothing"),
        "{}",
        stderr(&output)
    );
    let output = colony_model(&[
        "check",
        "--config",
        B1,
        "--constant",
        "MaxBallot=3",
        "--max-states",
        "1000",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "warning: MaxBallot = 3 is above every other Paxos configuration in tla (at most 2 there)"
        ),
        "{}",
        stderr(&output)
    );
    let plain = colony_model(&["check", "--config", B1, "--quiet"]);
    assert!(!stderr(&plain).contains("warning"), "{}", stderr(&plain));
}

const MULTI: &str = "tla/MultiPaxos_a3_r1_c1_b1_s2.cfg";

/// One slot keeps these runs to a fraction of a second; the log's second slot multiplies the
/// space by a hundred.
const ONE_SLOT: [&str; 2] = ["--constant", "NumSlots=1"];

#[test]
fn multipaxos_check_ends_with_one_summary_line() {
    assert_summary(
        &[&["check", "--config", MULTI][..], &ONE_SLOT].concat(),
        "MultiPaxos_a3_r1_c1_b1_s2.cfg with NumSlots=1: 2737 distinct states, 17052 states generated, depth 18, ",
        "6 invariant(s) hold",
    );
}

#[test]
fn multipaxos_depth_first_and_threads_find_the_same_states() {
    for flags in [["--search", "dfs"], ["--threads", "2"]] {
        let args = [
            &["check", "--config", MULTI, "--json"][..],
            &ONE_SLOT,
            &flags,
        ]
        .concat();
        let output = colony_model(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{flags:?}: {}",
            stderr(&output)
        );
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(report["module"], "MultiPaxos");
        assert_eq!(report["distinct_states"], 2737, "{flags:?}");
        assert_eq!(report["states_generated"], 17052, "{flags:?}");
    }
}

#[test]
fn multipaxos_violation_exits_1_with_a_numbered_trace_and_markdown() {
    let args = [
        &["check", "--config", MULTI, "--bug", "apply-unchosen"][..],
        &ONE_SLOT,
    ]
    .concat();
    let (output, text, markdown) = check_with_markdown(&args, "multipaxos");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        text.starts_with("Invariant AppliedChosen is violated after 2 steps:\n  1  Init "),
        "{text}"
    );
    assert!(
        text.contains("  2  Apply(r=1) with v=NoOp  applied[r1]: <<>> -> <<NoOp>>\n"),
        "{text}"
    );
    assert!(text.ends_with("VIOLATED: AppliedChosen\n"), "{text}");
    assert!(
        markdown.contains("R1->>R1: apply NoOp in s=1\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Note over L0,R1: AppliedChosen violated"),
        "{markdown}"
    );
}

#[test]
fn multipaxos_json_names_the_bug_and_lists_violations() {
    let args = [
        &[
            "check",
            "--config",
            MULTI,
            "--bug",
            "propose-none-when-free",
        ][..],
        &ONE_SLOT,
        &["--json"],
    ]
    .concat();
    let output = colony_model(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["bug"], "ProposeNoneWhenFree");
    let violations = report["violations"].as_array().unwrap();
    assert_eq!(violations[0]["invariant"], "TypeOK");
    let steps = violations[0]["steps"].as_array().unwrap();
    assert_eq!(
        steps.last().unwrap()["action"],
        "Phase2a(b=0, s=1, v=None) with Q={a1,a2}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("colony-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (x, y, z, raft, w) = (
        write("Paxos_x.cfg", "CONSTANTS NumAcceptors = {a}"),
        write("Paxos_y.cfg", "CONSTANTS NumAcceptors = 3 NumValues = 2"),
        write(
            "Paxos_z.cfg",
            "CONSTANTS NumAcceptors = 3 NumValues = 2 MaxBallot = 1 INVARIANT Nope",
        ),
        write("Raft_a.cfg", "CONSTANTS N = 3"),
        write(
            "Paxos_w.cfg",
            "CONSTANTS NumAcceptors = 9 NumValues = 2 MaxBallot = 1",
        ),
    );
    let huge = write(
        "Paxos_h.cfg",
        "CONSTANTS NumAcceptors = 3 NumValues = 99999999999999999999 MaxBallot = 1",
    );
    let cases = [
        (vec!["check", "--config", "tla/Missing.cfg"], "cannot read"),
        (vec!["check", "--config", &x], "is not an integer"),
        (
            vec!["check", "--config", &y],
            "constant MaxBallot is not assigned",
        ),
        (vec!["check", "--config", &z], "no invariant \"Nope\""),
        (
            vec!["check", "--config", &raft],
            "no model mirrors spec module \"Raft\"",
        ),
        (
            vec!["check", "--config", &w],
            "NumAcceptors = 9 is out of range",
        ),
        (
            vec!["check", "--config", B1, "--constant", "MaxBallot"],
            "expected Name=integer",
        ),
        (
            vec!["check", "--config", B1, "--constant", "Ballots=3"],
            "declares no constant \"Ballots\"",
        ),
        (
            vec!["check", "--config", B1, "--symmetry", "--search", "bfs"],
            "--symmetry needs --search dfs",
        ),
        (
            vec!["check", "--config", MULTI, "--bug", "vote-without-promise"],
            "--bug vote-without-promise is a bug of the Paxos model, not of the MultiPaxos model (its bugs: propose-none-when-free, ",
        ),
        (
            vec!["check", "--config", B1, "--bug", "catch-up-wrong-entry"],
            "--bug catch-up-wrong-entry is a bug of the MultiPaxos model, not of the Paxos model",
        ),
        (
            vec!["check", "--config", MULTI, "--symmetry"],
            "the MultiPaxos model has no symmetry reduction",
        ),
        (
            vec!["check", "--config", MULTI, "--constant", "NumValues=2"],
            "MultiPaxos.tla declares no constant \"NumValues\"",
        ),
        (
            vec![
                "check",
                "--config",
                B1,
                "--constant",
                "NumValues=99999999999999999999",
            ],
            "the value is too large",
        ),
        (vec!["check", "--config", &huge], "is too large"),
        (
            vec!["chek", "--config", B1],
            "tip: a similar subcommand exists: 'check'",
        ),
        (
            vec![
                "check",
                "--config",
                B1,
                "--trace-md",
                "/nonexistent-folder/trace.md",
            ],
            "cannot write /nonexistent-folder/trace.md",
        ),
        (vec!["bench", "--config", B1, "--bug", "vote-not-recorded"], "unexpected argument '--bug'"),
    ];
    for (args, expected) in cases {
        let output = colony_model(&args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(
            message.starts_with("error: ") && message.contains(expected),
            "{args:?}: {message}"
        );
    }
    let output = colony_model(&["check", "--threads", "0", "--config", B1]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap rejects bad flags with status 2"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bare_colony_model_shows_the_usage_and_the_subcommands() {
    let output = colony_model(&[]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    for expected in [
        "Usage: colony-model <COMMAND>",
        "Commands:",
        "check",
        "explore",
        "bench",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}
