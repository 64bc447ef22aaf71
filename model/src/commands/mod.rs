//! The subcommands, and what they share: turning a `.cfg` path and flags into a model of the
//! spec the file names, and what a subcommand needs of any such model ([`CliModel`]).

pub mod bench;
pub mod check;
pub mod explore;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, ValueEnum};
use colony_model::cfg::Config;
use colony_model::check::Representative;
use colony_model::multipaxos::{self, MultiPaxosModel};
use colony_model::paxos::{self, PaxosModel};
use colony_model::trace::SpecTrace;
use colony_model::ModelError;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::path::PathBuf;

/// The flags that choose a model: every subcommand takes them.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// The TLC configuration: its file name names the spec (`Paxos_*.cfg` is `Paxos.tla`,
    /// `MultiPaxos_*.cfg` is `MultiPaxos.tla`).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Override a constant of the .cfg, e.g. `--constant MaxBallot=3` (repeatable).
    #[arg(long = "constant", value_name = "NAME=INTEGER")]
    pub constants: Vec<String>,
    /// Run a deliberately broken protocol, to see an invariant fail; each spec has its own bugs.
    #[arg(long, value_name = "BUG", value_parser = bug_parser())]
    pub bug: Option<String>,
}

/// What a subcommand needs of a spec's model: the checker's and the Explorer's bounds, traces,
/// and a few facts for reports.
pub trait CliModel:
    SpecTrace<
        State: Clone + Debug + Hash + PartialEq + Send + Sync + 'static,
        Action: Clone + Debug + Display + PartialEq + Send + Sync + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The spec module the model mirrors.
    const MODULE: &'static str;
    /// The names of the invariants the model checks, as the spec names them.
    fn invariant_names(&self) -> Vec<&'static str>;
    /// The deliberate bug the model runs with, by its variant name (`IgnoreReportedVotes`).
    fn bug_name(&self) -> Option<String>;
    /// The canonical representative of a state's symmetry class, if the model has a symmetry
    /// reduction.
    fn symmetry(&self) -> Option<Representative<Self>>;
}

impl CliModel for PaxosModel {
    const MODULE: &'static str = "Paxos";

    fn invariant_names(&self) -> Vec<&'static str> {
        self.invariants.iter().map(|i| i.name()).collect()
    }

    fn bug_name(&self) -> Option<String> {
        self.bug.map(|bug| format!("{bug:?}"))
    }

    fn symmetry(&self) -> Option<Representative<Self>> {
        Some(paxos::representative)
    }
}

impl CliModel for MultiPaxosModel {
    const MODULE: &'static str = "MultiPaxos";

    fn invariant_names(&self) -> Vec<&'static str> {
        self.invariants.iter().map(|i| i.name()).collect()
    }

    fn bug_name(&self) -> Option<String> {
        self.bug.map(|bug| format!("{bug:?}"))
    }

    fn symmetry(&self) -> Option<Representative<Self>> {
        // Acceptors are interchangeable here too, but no reduction has been written and checked
        // for this model; `check --symmetry` says so instead of running without one.
        None
    }
}

/// The model of whichever spec a `.cfg` names.
pub enum AnyModel {
    /// `Paxos.tla`.
    Paxos(PaxosModel),
    /// `MultiPaxos.tla`.
    MultiPaxos(MultiPaxosModel),
}

/// Evaluates `$body` with `$model` bound to the model inside an [`AnyModel`], whichever spec it
/// mirrors. The body is compiled once per model type, so it can call a function generic over
/// [`CliModel`]: a subcommand is written once for every spec.
macro_rules! with_model {
    ($any:expr, $model:ident => $body:expr) => {
        match $any {
            $crate::commands::AnyModel::Paxos($model) => $body,
            $crate::commands::AnyModel::MultiPaxos($model) => $body,
        }
    };
}
pub(crate) use with_model;

/// A `.cfg` turned into a model, with its name for reports.
pub struct Loaded {
    /// The file name of the `.cfg`.
    pub name: String,
    /// The configuration after overrides.
    pub config: Config,
    /// The model.
    pub model: AnyModel,
}

impl ModelArgs {
    /// Reads the `.cfg`, applies the overrides and builds the model of the spec it names.
    pub fn load(&self) -> Result<Loaded, ModelError> {
        let mut config = Config::load(&self.config)?;
        for assignment in &self.constants {
            let (name, value) = parse_override(assignment)?;
            config.constants.insert(name, value);
        }
        let model = match config.module.as_str() {
            "Paxos" => AnyModel::Paxos(PaxosModel::from_config(
                &config,
                self.bug_of::<paxos::Bug>(PaxosModel::MODULE)?,
            )?),
            "MultiPaxos" | "MultiPaxosBugs" => {
                let model = MultiPaxosModel::from_config(&config)?;
                let flag = self.bug_of::<multipaxos::Bug>(MultiPaxosModel::MODULE)?;
                AnyModel::MultiPaxos(match (flag, model.bug) {
                    (Some(flag), Some(cfg)) => {
                        let (name, replacement) = config.overrides[0].clone();
                        return Err(ModelError::TwoBugs {
                            flag: format!("{flag:?}"),
                            cfg: format!("{cfg:?}"),
                            name,
                            replacement,
                        });
                    }
                    (Some(bug), None) => {
                        if let Some(why) = bug.cannot_show(&model.constants) {
                            eprintln!(
                                "warning: --bug {bug:?} cannot show with these constants: {why}"
                            );
                        }
                        model.with_bug(bug)
                    }
                    (None, _) => model,
                })
            }
            other => return Err(ModelError::UnknownModule(other.to_string())),
        };
        let name = self
            .config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        Ok(Loaded {
            name: name.unwrap_or_default(),
            config,
            model,
        })
    }

    /// The `--bug` of the command line as a bug of `module`'s model. Clap has already checked
    /// that the name is some spec's bug; this refuses one that belongs to another spec.
    fn bug_of<B: ValueEnum>(&self, module: &'static str) -> Result<Option<B>, ModelError> {
        let Some(name) = &self.bug else {
            return Ok(None);
        };
        B::from_str(name, false).map(Some).map_err(|_| {
            let names = |values: &[PossibleValue]| -> Vec<String> {
                values.iter().map(|v| v.get_name().to_string()).collect()
            };
            let owners: Vec<&str> = bugs_by_spec()
                .iter()
                .filter(|(_, values)| names(values).contains(name))
                .map(|(owner, _)| *owner)
                .collect();
            ModelError::BugOfOtherSpec {
                bug: name.clone(),
                owner: owners.join(", "),
                module,
                known: names(&possible_values::<B>()).join(", "),
            }
        })
    }
}

/// The `--bug` names of one spec's model, with their help.
fn possible_values<B: ValueEnum>() -> Vec<PossibleValue> {
    B::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .collect()
}

/// Every spec's bugs, by spec module.
fn bugs_by_spec() -> [(&'static str, Vec<PossibleValue>); 2] {
    [
        (PaxosModel::MODULE, possible_values::<paxos::Bug>()),
        (
            MultiPaxosModel::MODULE,
            possible_values::<multipaxos::Bug>(),
        ),
    ]
}

/// `--bug` accepts the bugs of every spec's model (whether the bug fits the `.cfg`'s spec is
/// known only once the file is read); `--help` lists each with the spec or specs it belongs to.
fn bug_parser() -> PossibleValuesParser {
    let specs = bugs_by_spec();
    let mut names: Vec<PossibleValue> = Vec::new();
    for value in specs.iter().flat_map(|(_, values)| values) {
        if !names.iter().any(|seen| seen.get_name() == value.get_name()) {
            names.push(value.clone());
        }
    }
    PossibleValuesParser::new(names.into_iter().map(|value| {
        let help = bug_help(&specs, value.get_name());
        value.help(help)
    }))
}

/// The help of bug `name`: its meaning in each spec that has it, a meaning two specs share
/// given once (`Paxos, MultiPaxos: ...`).
fn bug_help(specs: &[(&str, Vec<PossibleValue>)], name: &str) -> String {
    let mut meanings: Vec<(String, String)> = Vec::new();
    for (module, values) in specs {
        let Some(value) = values.iter().find(|value| value.get_name() == name) else {
            continue;
        };
        let help = value
            .get_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        match meanings.iter_mut().find(|(_, seen)| *seen == help) {
            Some((modules, _)) => *modules += &format!(", {module}"),
            None => meanings.push((module.to_string(), help)),
        }
    }
    let shown: Vec<String> = meanings
        .iter()
        .map(|(modules, help)| format!("{modules}: {help}"))
        .collect();
    shown.join("; ")
}

fn parse_override(assignment: &str) -> Result<(String, i64), ModelError> {
    let bad = || ModelError::BadOverride(assignment.to_string());
    let (name, value) = assignment.split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    let value = value.trim().parse::<i64>().map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
            ModelError::OverrideTooLarge(assignment.to_string())
        }
        _ => bad(),
    })?;
    Ok((name.to_string(), value))
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The constants as `Name=value, ...`.
pub fn constants_text(config: &Config) -> String {
    let pairs: Vec<String> = config
        .constants
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.join(", ")
}
