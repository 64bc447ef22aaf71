//! The subcommands, and what they share: turning a `.cfg` path and flags into a model.

pub mod bench;
pub mod check;
pub mod explore;

use clap::Args;
use colony_model::cfg::Config;
use colony_model::paxos::{Bug, PaxosModel};
use colony_model::ModelError;
use std::path::PathBuf;

/// The flags that choose a model: every subcommand takes them.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// The TLC configuration: its file name names the spec (`Paxos_*.cfg` is `Paxos.tla`).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Override a constant of the .cfg, e.g. `--constant MaxBallot=3` (repeatable).
    #[arg(long = "constant", value_name = "NAME=INTEGER")]
    pub constants: Vec<String>,
    /// Run a deliberately broken protocol, to see an invariant fail.
    #[arg(long, value_enum)]
    pub bug: Option<Bug>,
}

/// A `.cfg` turned into a model, with its name for reports.
pub struct Loaded {
    /// The file name of the `.cfg`.
    pub name: String,
    /// The configuration after overrides.
    pub config: Config,
    /// The model.
    pub model: PaxosModel,
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
            "Paxos" => PaxosModel::from_config(&config, self.bug)?,
            "MultiPaxos" => return Err(ModelError::NotInCli(config.module.clone())),
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
}

fn parse_override(assignment: &str) -> Result<(String, i64), ModelError> {
    let bad = || ModelError::BadOverride(assignment.to_string());
    let (name, value) = assignment.split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    Ok((name.to_string(), value.trim().parse().map_err(|_| bad())?))
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
