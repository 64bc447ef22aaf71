//! The harness of the Multi-Paxos core (`tla/MultiPaxos.tla`): the spec's notation and its
//! mapping to the implementation ([`spec`]), the replay of generated follower, leader, replica
//! and catch-up cases ([`follower`], [`leader`], [`replica`], [`catch_up`]), a simulated
//! cell for random workloads ([`cell`]), and the refinement mapping of a cell of real replicas
//! to the spec ([`refinement`]), which the core-in-the-checker search uses.

pub mod catch_up;
pub mod cell;
pub mod follower;
pub mod leader;
pub mod refinement;
pub mod replica;
pub mod spec;
