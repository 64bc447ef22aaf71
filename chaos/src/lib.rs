//! Colony's fault tests of the whole system, two ways:
//!
//! - the `colony-chaos` program: real `colony node` processes on loopback, killed, partitioned
//!   by nftables and failing their syncs under `fiu-run`, their histories checked by adya;
//! - [`simulation`]: the same server code under turmoil, a deterministic simulation of the
//!   network, the clocks and the disks, where a seed replays a run exactly.
//!
//! Both run the same clients ([`workload`]) and the same checks.

#![deny(missing_docs)]

pub mod simulation;
pub mod workload;
