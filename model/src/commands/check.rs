//! `colony-model check`: explore every reachable state and report TLC's three numbers, or a
//! counterexample per violated invariant.

use super::{constants_text, thousands, with_model, CliModel, Loaded, ModelArgs};
use clap::Args;
use colony_model::cfg::Config;
use colony_model::check::{
    check, CheckOptions, Counts, Outcome, Search, DISTINCT_STATES_MAX_DEFAULT,
};
use colony_model::trace::{SpecTrace, Trace};
use colony_model::ModelError;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use stateright::Model;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flags of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Search order; breadth-first reports TLC's depth.
    #[arg(long, value_enum)]
    search: Option<Search>,
    /// Reduce by symmetry of acceptors and values (Paxos only; depth-first; counts differ from
    /// TLC's).
    #[arg(long)]
    symmetry: bool,
    /// Checker threads. One keeps the breadth-first depth equal to TLC's.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also write each counterexample as Markdown with a Mermaid sequence diagram.
    #[arg(long, value_name = "FILE")]
    trace_md: Option<PathBuf>,
    /// No progress display.
    #[arg(long)]
    quiet: bool,
    /// Stop once this many distinct states are found (exit status 3), so that a bug that makes
    /// the space explode ends with a message instead of exhausting memory.
    #[arg(long, value_name = "N", default_value_t = DISTINCT_STATES_MAX_DEFAULT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_states: usize,
}

/// The exit status of a search stopped at `--max-states`: not 1 (an invariant violated) nor 2
/// (bad arguments), since the search did not finish.
pub const EXIT_STOPPED_AT_BOUND: u8 = 3;

#[derive(Serialize)]
struct Report<'a> {
    config: &'a str,
    module: &'a str,
    constants: &'a std::collections::BTreeMap<String, i64>,
    invariants: Vec<&'static str>,
    bug: Option<String>,
    search: Search,
    symmetry: bool,
    threads: u16,
    max_states: usize,
    stopped_at_max_states: bool,
    #[serde(flatten)]
    counts: Counts,
    seconds: f64,
    distinct_states_per_second: f64,
    violations: Vec<Trace>,
}

/// Runs `check`; exit status 1 when an invariant is violated.
pub fn run(args: &CheckArgs) -> Result<ExitCode, ModelError> {
    let Loaded {
        name,
        config,
        model,
    } = args.model.load()?;
    with_model!(model, model => check_model(args, &name, &config, model))
}

/// `check` for the model of one spec.
fn check_model<M: CliModel>(
    args: &CheckArgs,
    name: &str,
    config: &Config,
    model: M,
) -> Result<ExitCode, ModelError> {
    let search =
        match (args.search, args.symmetry) {
            (Some(Search::Bfs), true) => return Err(ModelError::BadFlags(
                "--symmetry needs --search dfs: stateright's breadth-first search ignores symmetry",
            )),
            (Some(search), _) => search,
            (None, symmetry) => {
                if symmetry {
                    Search::Dfs
                } else {
                    Search::Bfs
                }
            }
        };
    let symmetry = if args.symmetry {
        Some(model.symmetry().ok_or(ModelError::NoSymmetry(M::MODULE))?)
    } else {
        None
    };
    let options = CheckOptions::<M> {
        search,
        symmetry,
        threads: args.threads.into(),
        progress_interval: Duration::from_millis(250),
        distinct_states_max: args.max_states,
    };
    let invariants = model.invariant_names();
    let bug = model.bug_name();
    // The trace file is checked before the search, so that a path that cannot be written is
    // found before the run, not after it.
    let trace_file = args.trace_md.as_deref().map(TraceFile::open).transpose()?;
    for warning in warnings(&args.model, config, &invariants) {
        eprintln!("warning: {warning}");
    }
    if !args.quiet {
        eprintln!(
            "Checking {name} ({}){} by {search:?} with {} thread(s){}; invariants: {}",
            constants_text(config),
            bug.as_ref()
                .map(|b| format!(" with bug {b}"))
                .unwrap_or_default(),
            args.threads,
            if args.symmetry {
                ", symmetry-reduced"
            } else {
                ""
            },
            if invariants.is_empty() {
                "none".to_string()
            } else {
                invariants.join(", ")
            },
        );
    }
    let mut progress = Progress::new(args.quiet);
    let explored = Arc::new(Explored::default());
    explored.report_on_interrupt(&run_name(name, &args.model.constants));
    let outcome = check(model.clone(), &options, &mut |counts, elapsed| {
        explored.update(counts, elapsed);
        progress.show(counts, elapsed)
    });
    progress.finish();
    let traces: Vec<Trace> = outcome
        .violations
        .iter()
        .map(|(inv, path)| Trace::of(&model, inv, path))
        .collect();
    if let Some(file) = &trace_file {
        file.finish(&markdown(&model, name, &traces));
    }
    let seconds = outcome.elapsed.as_secs_f64();
    let per_second = outcome.counts.distinct_states as f64 / seconds.max(1e-9);
    if args.json {
        let report = Report {
            config: name,
            module: &config.module,
            constants: &config.constants,
            invariants,
            bug,
            search,
            symmetry: args.symmetry,
            threads: args.threads,
            max_states: args.max_states,
            stopped_at_max_states: outcome.stopped_at_bound,
            counts: outcome.counts,
            seconds,
            distinct_states_per_second: per_second,
            violations: traces,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("the report serializes")
        );
    } else {
        for trace in &traces {
            println!("{}", trace.to_text());
        }
        println!(
            "{}",
            summary(
                &run_name(name, &args.model.constants),
                &outcome,
                &invariants,
                args.symmetry,
                per_second
            )
        );
    }
    if outcome.stopped_at_bound {
        eprintln!("{}", bound_message(args.max_states, outcome.counts));
        return Ok(ExitCode::from(EXIT_STOPPED_AT_BOUND));
    }
    Ok(if outcome.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The configuration's name as the summary gives it: with the constants the command line
/// overrode, so that a line read later says what was checked.
fn run_name(name: &str, overrides: &[String]) -> String {
    if overrides.is_empty() {
        name.to_string()
    } else {
        format!("{name} with {}", overrides.join(", "))
    }
}

/// What the user should know before a search: a configuration that checks nothing, and
/// constants wider than any configuration beside it (the space grows exponentially with them).
fn warnings(args: &ModelArgs, config: &Config, invariants: &[&str]) -> Vec<String> {
    let mut warnings = Vec::new();
    if invariants.is_empty() {
        warnings.push(format!(
            "{} lists no INVARIANT: the search counts states and checks nothing",
            args.config.display()
        ));
    }
    let folder = args.config.parent().unwrap_or(Path::new("."));
    let mut widest: std::collections::BTreeMap<String, i64> = Default::default();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path == args.config || path.extension().is_none_or(|e| e != "cfg") {
            continue;
        }
        let Ok(other) = Config::load(&path) else {
            continue;
        };
        if other.module != config.module {
            continue;
        }
        for (name, value) in &other.constants {
            let widest = widest.entry(name.clone()).or_insert(*value);
            *widest = (*widest).max(*value);
        }
    }
    for (name, value) in &config.constants {
        if let Some(widest) = widest.get(name) {
            if value > widest {
                warnings.push(format!(
                    "{name} = {value} is above every other {} configuration in {} (at most {widest} there): \
                     the state space grows exponentially with it, and --max-states bounds the search",
                    config.module,
                    folder.display()
                ));
            }
        }
    }
    warnings
}

/// The search's latest counts, for the line Ctrl-C prints.
#[derive(Default)]
struct Explored {
    distinct_states: AtomicUsize,
    states_generated: AtomicUsize,
    depth: AtomicUsize,
    elapsed_ms: AtomicU64,
}

impl Explored {
    fn update(&self, counts: Counts, elapsed: Duration) {
        self.distinct_states
            .store(counts.distinct_states, Ordering::Relaxed);
        self.states_generated
            .store(counts.states_generated, Ordering::Relaxed);
        self.depth.store(counts.depth, Ordering::Relaxed);
        self.elapsed_ms
            .store(elapsed.as_millis() as u64, Ordering::Relaxed);
    }

    /// On Ctrl-C, prints what the search had explored by its last progress report (every
    /// 250 ms) and exits with status 130, as a shell reports an interrupted program.
    fn report_on_interrupt(self: &Arc<Explored>, name: &str) {
        let explored = self.clone();
        let name = name.to_string();
        // Only one handler per process; a second search in the same process keeps the first.
        let _ = ctrlc::set_handler(move || {
            eprintln!(
                "\ninterrupted: {name}: {} distinct states, {} states generated, depth {} in {:.1} s explored; \
                 the search did not finish, so no invariant is known to hold",
                explored.distinct_states.load(Ordering::Relaxed),
                explored.states_generated.load(Ordering::Relaxed),
                explored.depth.load(Ordering::Relaxed),
                explored.elapsed_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            );
            std::process::exit(130);
        });
    }
}

/// The one line a search stopped at `--max-states` ends with: the bound, what was found, and
/// how to go further.
pub fn bound_message(max_states: usize, counts: Counts) -> String {
    format!(
        "error: stopped at the state bound --max-states {max_states} after {} distinct states, \
         before exploring every state; raise it with --max-states N or give the spec smaller \
         constants with --constant",
        thousands(counts.distinct_states as u64)
    )
}

fn summary<M: Model>(
    name: &str,
    outcome: &Outcome<M>,
    invariants: &[&str],
    symmetry: bool,
    per_second: f64,
) -> String {
    let c = outcome.counts;
    let verdict = if outcome.violations.is_empty() && outcome.stopped_at_bound {
        "INCOMPLETE: no invariant violated in the states explored".to_string()
    } else if outcome.violations.is_empty() {
        format!("{} invariant(s) hold", invariants.len())
    } else {
        let names: Vec<&str> = outcome.violations.iter().map(|(n, _)| *n).collect();
        format!("VIOLATED: {}", names.join(", "))
    };
    format!(
        "{name}{}: {} distinct states, {} states generated, depth {}, {:.2} s, {} distinct states/s; {verdict}",
        if symmetry { " (symmetry-reduced)" } else { "" },
        c.distinct_states,
        c.states_generated,
        c.depth,
        outcome.elapsed.as_secs_f64(),
        thousands(per_second as u64),
    )
}

/// The counterexamples as Markdown, `None` when there are none.
fn markdown<M: SpecTrace>(model: &M, name: &str, traces: &[Trace]) -> Option<String> {
    if traces.is_empty() {
        return None;
    }
    let sections: Vec<String> = traces
        .iter()
        .map(|t| {
            t.to_markdown(
                model,
                &format!("Counterexample to {} in {name}", t.invariant),
            )
        })
        .collect();
    Some(sections.join("\n"))
}

/// The file of `--trace-md`: opened (created when missing, never truncated) before the search,
/// so that a run never ends with a counterexample it cannot write; after it, the
/// counterexamples replace what the file held, or a file without one is removed.
struct TraceFile {
    path: PathBuf,
    existed: bool,
}

impl TraceFile {
    fn open(path: &Path) -> Result<TraceFile, ModelError> {
        let existed = path.exists();
        let refused = |reason: String| ModelError::Write {
            path: path.display().to_string(),
            reason,
        };
        if path.is_dir() {
            return Err(refused("it is a directory".into()));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| refused(e.to_string()))?;
        Ok(TraceFile {
            path: path.to_path_buf(),
            existed,
        })
    }

    /// Writes the counterexamples, or removes the file when there are none. A counterexample
    /// that cannot be written where asked goes to a file of its own in the temporary folder,
    /// or to stderr: a trace that was found is never dropped.
    fn finish(&self, markdown: &Option<String>) {
        let path = self.path.display();
        let Some(text) = markdown else {
            let _ = std::fs::remove_file(&self.path);
            if self.existed {
                eprintln!("no counterexample: removed the earlier {path}, which no longer holds");
            } else {
                eprintln!("no counterexample: {path} not written");
            }
            return;
        };
        match std::fs::write(&self.path, text) {
            Ok(()) => eprintln!("counterexample written to {path}"),
            Err(e) => {
                let fallback = std::env::temp_dir()
                    .join(format!("colony-model-trace-{}.md", std::process::id()));
                match std::fs::write(&fallback, text) {
                    Ok(()) => eprintln!(
                        "error: cannot write {path}: {e}; the counterexample is in {}",
                        fallback.display()
                    ),
                    Err(_) => {
                        eprintln!("error: cannot write {path}: {e}; the counterexample:\n{text}")
                    }
                }
            }
        }
    }
}

/// A spinner on a terminal; a line every few seconds otherwise (CI logs). Nothing is shown for
/// runs shorter than a second.
struct Progress {
    quiet: bool,
    terminal: bool,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        Progress {
            quiet,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            last_line: None,
        }
    }

    fn show(&mut self, counts: Counts, elapsed: Duration) {
        if self.quiet || elapsed < Duration::from_secs(1) {
            return;
        }
        let message = format!(
            "{} distinct states, {} generated, depth {}, {} distinct states/s",
            thousands(counts.distinct_states as u64),
            thousands(counts.states_generated as u64),
            counts.depth,
            thousands((counts.distinct_states as f64 / elapsed.as_secs_f64()) as u64),
        );
        if self.terminal {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new_spinner();
                let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}");
                bar.set_style(style.expect("the template is valid"));
                bar
            });
            bar.set_message(message);
            bar.tick();
        } else if self
            .last_line
            .is_none_or(|last| last.elapsed() >= Duration::from_secs(5))
        {
            eprintln!("progress [{:.0} s]: {message}", elapsed.as_secs_f64());
            self.last_line = Some(Instant::now());
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
