//! Stateright models that mirror Colony's TLA+ specs state for state, and the machinery of the
//! `colony-model` command: reading `.cfg` files, running the checker, rendering counterexamples
//! and running TLC for comparison. Also the model of a cell's transactions ([`cell`]), the
//! reference the generated transaction tests take their expectations from.
//!
//! **Architecture invariant:** this crate does not depend on `impl/` (the product). The judge is
//! not derived from the code it judges.

pub mod cell;
pub mod cfg;
pub mod check;
pub mod deliveries;
pub mod multipaxos;
pub mod paxos;
pub mod tlc;
pub mod tlc_record;
pub mod trace;

/// The spec modules in `tla/` that a model here mirrors. `MultiPaxosBugs` is `MultiPaxos` with
/// one operator replaced by a broken one, which the model reads as its bug.
pub const MIRRORED_SPECS: &[&str] = &["Paxos", "MultiPaxos", "MultiPaxosBugs"];

/// Why a configuration cannot be turned into a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The `.cfg` file is malformed.
    #[error(transparent)]
    Cfg(#[from] cfg::CfgError),
    /// No model mirrors the spec module the `.cfg` names.
    #[error("no model mirrors spec module {0:?} (known: Paxos, MultiPaxos, MultiPaxosBugs)")]
    UnknownModule(String),
    /// `--bug` names a bug of another spec's model.
    #[error(
        "--bug {bug} is a bug of the {owner} model, not of the {module} model (its bugs: {known})"
    )]
    BugOfOtherSpec {
        /// The bug's name on the command line.
        bug: String,
        /// The spec module (or modules) whose model has that bug.
        owner: String,
        /// The spec module of the `.cfg`.
        module: &'static str,
        /// The bugs of the `.cfg`'s model, by their command-line names.
        known: String,
    },
    /// `--symmetry` for a model that has no symmetry reduction.
    #[error("--symmetry: the {0} model has no symmetry reduction; drop --symmetry")]
    NoSymmetry(&'static str),
    /// The `.cfg` assigns a constant the spec does not declare.
    #[error("{module}.tla declares no constant {name:?}")]
    UnknownConstant {
        /// The spec module.
        module: &'static str,
        /// The constant.
        name: String,
    },
    /// The `.cfg` replaces a definition the model has no broken version of.
    #[error("{module}: the model cannot replace {name} by {replacement} (the replacements it knows: {known})")]
    UnknownOverride {
        /// The spec module.
        module: &'static str,
        /// The definition replaced.
        name: String,
        /// The definition replacing it.
        replacement: String,
        /// The replacements the model knows, as `Name <- Replacement`.
        known: String,
    },
    /// A definition override in a `.cfg` of a module that does not define the replacements.
    #[error("{module}.tla defines no replacement {replacement}: the broken definitions are in MultiPaxosBugs.tla, so name the file MultiPaxosBugs_<bug>.cfg")]
    OverrideOutsideBugs {
        /// The spec module of the `.cfg`.
        module: String,
        /// The definition replacing another.
        replacement: String,
    },
    /// A `.cfg` that puts a bug into the protocol, and a `--bug` as well.
    #[error("--bug {flag}: the .cfg already puts bug {cfg} into the protocol ({name} <- {replacement}); drop --bug")]
    TwoBugs {
        /// The `--bug` given.
        flag: String,
        /// The bug of the `.cfg`.
        cfg: String,
        /// The definition replaced.
        name: String,
        /// The definition replacing it.
        replacement: String,
    },
    /// The `.cfg` leaves a constant unassigned.
    #[error("constant {0} is not assigned (add `{0} = <integer>` under CONSTANTS or pass --constant {0}=<integer>)")]
    MissingConstant(&'static str),
    /// A constant is outside what the model supports.
    #[error("constant {name} = {value} is out of range: the model supports {min}..={max}")]
    ConstantOutOfRange {
        /// The constant.
        name: &'static str,
        /// Its value.
        value: i64,
        /// The least supported value.
        min: i64,
        /// The greatest supported value.
        max: i64,
    },
    /// The `.cfg` lists an invariant the model does not define.
    #[error("{module}.tla has no invariant {name:?} in the model (known: {known})")]
    UnknownInvariant {
        /// The spec module.
        module: &'static str,
        /// The invariant named in the `.cfg`.
        name: String,
        /// The invariants the model defines.
        known: String,
    },
    /// Flags that contradict each other.
    #[error("{0}")]
    BadFlags(&'static str),
    /// An output file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The Explorer cannot listen on the address asked for.
    #[error("cannot listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: String,
        /// The operating system's reason.
        reason: String,
    },
    /// TLC could not be run.
    #[error("{0}")]
    Tlc(String),
    /// A `--constant` override is not `Name=integer`.
    #[error("--constant {0:?}: expected Name=integer, for example NumAcceptors=5")]
    BadOverride(String),
    /// A `--constant` override's integer does not fit in 64 bits.
    #[error("--constant {0:?}: the value is too large (the model's constants are 64-bit integers; a state space this wide could not be searched anyway)")]
    OverrideTooLarge(String),
}

impl cfg::Config {
    /// The constant `name`, checked to be assigned and within `min..=max`.
    pub fn bounded_constant(
        &self,
        name: &'static str,
        min: i64,
        max: i64,
    ) -> Result<i64, ModelError> {
        let value = self
            .constant_value(name)
            .ok_or(ModelError::MissingConstant(name))?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(ModelError::ConstantOutOfRange {
                name,
                value,
                min,
                max,
            })
        }
    }
}
