//! The Stateright mirror of `tla/MultiPaxos.tla`.
//!
//! As for `Paxos.tla` ([`crate::paxos`]): the state is exactly the spec's variables
//! ([`MultiPaxosState`]), there is one action per disjunct of `Next` and per witness of every
//! `\E` TLC splits on ([`Action`]), and `next_state` returns a state for every enabled action,
//! self-loops included, so that the checker's counts equal TLC's. This first mirror keeps its
//! state in plain ordered containers; it trades speed for being easy to check against the spec.

mod actions;
mod bugs;
mod invariants;
mod msg_set;
mod state;
mod trace;

pub use actions::Action;
pub use bugs::Bug;
pub use invariants::Invariant;
pub use msg_set::MsgSet;
pub use state::{
    Acceptor, Ballot, Log, Msg, MultiPaxosState, PerNode, Replica, ShowValue, Slot, Value, Vote,
    Votes, ACCEPTORS_MAX, NONE, NO_BALLOT, NO_OP, NO_VOTE, SLOTS_MAX,
};

use crate::cfg::Config;
use crate::paxos::Quorum;
use crate::ModelError;
use stateright::{Model, Property};

/// The spec's constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constants {
    /// `NumAcceptors`.
    pub num_acceptors: u8,
    /// `NumReplicas`.
    pub num_replicas: u8,
    /// `NumCommands`: commands are `1..NumCommands`, besides `NoOp`.
    pub num_commands: u8,
    /// `MaxBallot`: ballots are `0..MaxBallot`.
    pub max_ballot: i8,
    /// `NumSlots`: slots are `1..NumSlots`.
    pub num_slots: u8,
    /// `MaxCompaction`: snapshots cover at most slots `1..MaxCompaction`; 0 turns compaction off.
    pub max_compaction: u8,
}

impl Constants {
    /// Reads the constants from a configuration, checking each is present and in bounds.
    pub fn from_config(config: &Config) -> Result<Constants, ModelError> {
        let known = [
            "NumAcceptors",
            "NumReplicas",
            "NumCommands",
            "MaxBallot",
            "NumSlots",
            "MaxCompaction",
        ];
        if let Some(name) = config
            .constants
            .keys()
            .find(|n| !known.contains(&n.as_str()))
        {
            return Err(ModelError::UnknownConstant {
                module: "MultiPaxos",
                name: name.clone(),
            });
        }
        let num_slots = config.bounded_constant("NumSlots", 1, SLOTS_MAX as i64)? as u8;
        Ok(Constants {
            num_acceptors: config.bounded_constant("NumAcceptors", 1, 7)? as u8,
            num_replicas: config.bounded_constant("NumReplicas", 1, 7)? as u8,
            num_commands: config.bounded_constant("NumCommands", 1, 100)? as u8,
            max_ballot: config.bounded_constant("MaxBallot", 0, 100)? as i8,
            num_slots,
            // The spec's `ASSUME MaxCompaction \in 0..NumSlots`.
            max_compaction: config.bounded_constant("MaxCompaction", 0, i64::from(num_slots))?
                as u8,
        })
    }
}

/// The model of `MultiPaxos.tla` for one choice of constants.
#[derive(Clone, Debug)]
pub struct MultiPaxosModel {
    /// The spec's constants.
    pub constants: Constants,
    /// The invariants to check, as listed in the `.cfg`.
    pub invariants: Vec<Invariant>,
    /// A deliberate protocol bug, to show that the invariants can fail; `None` is the spec.
    pub bug: Option<Bug>,
    /// Every quorum, in a fixed order: the witnesses of `\E Q \in Quorum`.
    quorums: Vec<Quorum>,
}

impl MultiPaxosModel {
    /// The model for `constants`, checking `invariants`.
    pub fn new(constants: Constants, invariants: Vec<Invariant>) -> MultiPaxosModel {
        assert!(usize::from(constants.num_slots) <= SLOTS_MAX);
        MultiPaxosModel {
            quorums: Quorum::all(constants.num_acceptors),
            constants,
            invariants,
            bug: None,
        }
    }

    /// The same model with `bug` in its protocol.
    pub fn with_bug(self, bug: Bug) -> MultiPaxosModel {
        MultiPaxosModel {
            bug: Some(bug),
            ..self
        }
    }

    /// The model a `.cfg` file describes: its constants, its invariants, and for a
    /// `MultiPaxosBugs` file the bug its definition override puts into the protocol.
    pub fn from_config(config: &Config) -> Result<MultiPaxosModel, ModelError> {
        let constants = Constants::from_config(config)?;
        let invariants = config
            .invariants
            .iter()
            .map(|name| Invariant::from_name(name))
            .collect::<Result<Vec<_>, _>>()?;
        let model = MultiPaxosModel::new(constants, invariants);
        match Self::bug_of_config(config)? {
            Some(bug) => Ok(model.with_bug(bug)),
            None => Ok(model),
        }
    }

    /// The bug a `.cfg`'s definition overrides put into the protocol: at most one, and only in a
    /// `MultiPaxosBugs` file, the module that defines the broken replacements.
    pub fn bug_of_config(config: &Config) -> Result<Option<Bug>, ModelError> {
        let mut bug = None;
        for (name, replacement) in &config.overrides {
            if config.module != "MultiPaxosBugs" {
                return Err(ModelError::OverrideOutsideBugs {
                    module: config.module.clone(),
                    replacement: replacement.clone(),
                });
            }
            let found = Bug::from_override(name, replacement).ok_or_else(|| {
                let known: Vec<String> = Bug::ALL
                    .iter()
                    .filter_map(|bug| bug.tla_override())
                    .map(|(name, replacement)| format!("{name} <- {replacement}"))
                    .collect();
                ModelError::UnknownOverride {
                    module: "MultiPaxosBugs",
                    name: name.clone(),
                    replacement: replacement.clone(),
                    known: known.join(", "),
                }
            })?;
            if bug.replace(found).is_some() {
                return Err(ModelError::BadFlags(
                    "a .cfg may replace one definition only: one bug at a time",
                ));
            }
        }
        Ok(bug)
    }

    /// `Acceptor`.
    pub fn acceptors(&self) -> impl Iterator<Item = Acceptor> {
        1..=self.constants.num_acceptors
    }

    /// `Replica`.
    pub fn replicas(&self) -> impl Iterator<Item = Replica> {
        1..=self.constants.num_replicas
    }

    /// `Ballot`.
    pub fn ballots(&self) -> impl Iterator<Item = Ballot> {
        0..=self.constants.max_ballot
    }

    /// `Slot`.
    pub fn slots(&self) -> impl Iterator<Item = Slot> {
        1..=self.constants.num_slots
    }

    /// `Command`.
    pub fn commands(&self) -> impl Iterator<Item = Value> {
        1..=self.constants.num_commands as Value
    }

    /// `Value`: `NoOp` and the commands.
    pub fn values(&self) -> impl Iterator<Item = Value> {
        std::iter::once(NO_OP).chain(self.commands())
    }
}

impl Model for MultiPaxosModel {
    type State = MultiPaxosState;
    type Action = Action;

    fn init_states(&self) -> Vec<MultiPaxosState> {
        vec![MultiPaxosState::init(
            self.constants.num_acceptors,
            self.constants.num_replicas,
        )]
    }

    fn actions(&self, state: &MultiPaxosState, actions: &mut Vec<Action>) {
        self.enabled_actions(state, actions);
    }

    fn next_state(&self, state: &MultiPaxosState, action: Action) -> Option<MultiPaxosState> {
        Some(self.apply(state, action))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        crate::check::invariant_properties(
            self.invariants
                .iter()
                .map(|invariant| (invariant.name(), invariant.condition())),
        )
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }
}
