//! The harness of the Multi-Paxos core (`tla/MultiPaxos.tla`): the spec's notation and its
//! mapping to the implementation ([`spec`]), the replay of generated follower, leader and
//! replica cases ([`follower`], [`leader`], [`replica`]), and a simulated cell for random
//! workloads ([`cell`]).

pub mod cell;
pub mod follower;
pub mod leader;
pub mod replica;
pub mod spec;
