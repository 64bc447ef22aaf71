//! The Stateright mirror of `tla/Paxos.tla`.
//!
//! The state is exactly the spec's variables ([`PaxosState`]); the actions are exactly the
//! spec's disjuncts, one per choice of every `\E` witness ([`Action`]), listed in a fixed order;
//! and `next_state` returns `Some` for every enabled action, self-loops included. That is what
//! makes the checker's counts equal TLC's "distinct states", "states generated" and "depth" for
//! the same `.cfg` (the conformance test in `model/tests/tlc_conformance.rs` checks it).

mod actions;
mod bugs;
mod invariants;
mod msg_set;
mod state;
mod symmetry;
mod trace;

pub use actions::{Action, Quorum};
pub use bugs::Bug;
pub use invariants::{chosen, Invariant};
pub use state::{
    Acceptor, Ballot, Msg, MsgSet, MsgType, Msgs, PaxosState, PerAcceptor, ShowBallot, ShowValue,
    Value, NONE, NO_BALLOT,
};
pub use symmetry::{permute, representative};

use crate::cfg::Config;
use crate::ModelError;
use state::MAX_ACCEPTORS;
use stateright::{Model, Property};

/// The spec's constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Constants {
    /// `NumAcceptors`: acceptors are `1..NumAcceptors`.
    pub num_acceptors: u8,
    /// `NumValues`: values are `1..NumValues`.
    pub num_values: u8,
    /// `MaxBallot`: ballots are `0..MaxBallot`.
    pub max_ballot: i8,
}

/// The bounds the model's compact encoding supports (values are bits of a `u16`, acceptors bits
/// of a `u8`). A cell has at most 7 nodes, so these cover every configuration Colony runs.
const NUM_ACCEPTORS_MAX: i64 = MAX_ACCEPTORS as i64;
const NUM_VALUES_MAX: i64 = 8;
const MAX_BALLOT_MAX: i64 = 100;

impl Constants {
    /// Reads the constants from a configuration, checking each is present and in bounds.
    pub fn from_config(config: &Config) -> Result<Constants, ModelError> {
        let known = ["NumAcceptors", "NumValues", "MaxBallot"];
        if let Some(name) = config
            .constants
            .keys()
            .find(|name| !known.contains(&name.as_str()))
        {
            return Err(ModelError::UnknownConstant {
                module: "Paxos",
                name: name.clone(),
            });
        }
        if let Some((name, replacement)) = config.overrides.first() {
            return Err(ModelError::UnknownOverride {
                module: "Paxos",
                name: name.clone(),
                replacement: replacement.clone(),
                known: "none".to_string(),
            });
        }
        Ok(Constants {
            num_acceptors: config.bounded_constant("NumAcceptors", 1, NUM_ACCEPTORS_MAX)? as u8,
            num_values: config.bounded_constant("NumValues", 1, NUM_VALUES_MAX)? as u8,
            max_ballot: config.bounded_constant("MaxBallot", 0, MAX_BALLOT_MAX)? as i8,
        })
    }
}

/// The model of `Paxos.tla` for one choice of constants.
#[derive(Clone, Debug)]
pub struct PaxosModel {
    /// The spec's constants.
    pub constants: Constants,
    /// The invariants to check, as listed in the `.cfg`.
    pub invariants: Vec<Invariant>,
    /// A deliberate protocol bug, to show that the invariants can fail; `None` is the spec.
    pub bug: Option<Bug>,
    /// Every quorum, in a fixed order: the witnesses of `\E Q \in Quorum`.
    quorums: Vec<Quorum>,
}

impl PaxosModel {
    /// The model for `constants`, checking `invariants`.
    pub fn new(constants: Constants, invariants: Vec<Invariant>, bug: Option<Bug>) -> PaxosModel {
        assert!((1..=NUM_ACCEPTORS_MAX).contains(&i64::from(constants.num_acceptors)));
        assert!((1..=NUM_VALUES_MAX).contains(&i64::from(constants.num_values)));
        let quorums = Quorum::all(constants.num_acceptors);
        assert!(
            !quorums.is_empty(),
            "every acceptor set has at least one majority"
        );
        PaxosModel {
            constants,
            invariants,
            bug,
            quorums,
        }
    }

    /// The model a `.cfg` file describes: its constants and its invariants.
    pub fn from_config(config: &Config, bug: Option<Bug>) -> Result<PaxosModel, ModelError> {
        let constants = Constants::from_config(config)?;
        let invariants = config
            .invariants
            .iter()
            .map(|name| Invariant::from_name(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PaxosModel::new(constants, invariants, bug))
    }

    /// The spec's `Ballot` set.
    pub fn ballots(&self) -> impl Iterator<Item = Ballot> {
        0..=self.constants.max_ballot
    }

    /// The spec's `Value` set.
    pub fn values(&self) -> impl Iterator<Item = Value> {
        1..=self.constants.num_values
    }

    /// True when `count` acceptors make a quorum (a strict majority).
    pub fn is_quorum_size(&self, count: u32) -> bool {
        2 * count > u32::from(self.constants.num_acceptors)
    }
}

impl Model for PaxosModel {
    type State = PaxosState;
    type Action = Action;

    fn init_states(&self) -> Vec<PaxosState> {
        vec![PaxosState::init(usize::from(self.constants.num_acceptors))]
    }

    fn actions(&self, state: &PaxosState, actions: &mut Vec<Action>) {
        self.enabled_actions(state, actions);
    }

    fn next_state(&self, state: &PaxosState, action: Action) -> Option<PaxosState> {
        self.apply(state, action)
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
