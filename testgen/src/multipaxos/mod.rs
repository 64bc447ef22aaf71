//! Generated tests of the Multi-Paxos core, from the model of `tla/MultiPaxos.tla`.
//!
//! [`follower`]: an acceptor hearing leaders: proposals for slots out of order, duplicated,
//! from an old and a new leader, and a new leader's request for promises.

pub mod follower;
pub mod render;

use colony_model::multipaxos::{Constants, MultiPaxosModel};

/// The bounded configuration prior states and expectations come from: 3 acceptors, 1 replica,
/// 1 command (and `NoOp`), ballots `0..1`, slots `1..2` (`tla/MultiPaxos_a3_r1_c1_b1_s2.cfg`),
/// no invariant (the generator asks for transitions, not verdicts).
pub(crate) fn bounded_model() -> MultiPaxosModel {
    let constants = Constants {
        num_acceptors: 3,
        num_replicas: 1,
        num_commands: 1,
        max_ballot: 1,
        num_slots: 2,
    };
    MultiPaxosModel::new(constants, Vec::new())
}
