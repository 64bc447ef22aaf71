//! The simulator: whole Colony nodes, many in one process, over a simulated network, disk and
//! clock, with clients running transactions against many cells, deterministic from one seed.
//!
//! Each node is the real host and the real driver ([`colony_node::driver::Driver`]) over the
//! simulated disk ([`colony_node::storage::SimStorage`]). The network loses, duplicates, delays
//! (and so reorders) frames and partitions nodes; nodes crash (losing what was not synced, or
//! tearing it), fail a sync, and restart; a crashed node's disk may flip a bit. Clients run
//! list-append transactions (conditional writes of a list, and reads) with retries and timeouts,
//! and every run ends with checks:
//!
//! - the replicas of each cell agree: those applied through the same slot hold the same state;
//! - every committed transaction is in its cell's log exactly once and none is lost, whatever
//!   crashed ([`history::History::check`]);
//! - the history is strictly serializable: checked here per key in real time, and by `adya`
//!   on the history in Elle's format (see the command line).
//!
//! Every choice is drawn from one seeded generator and every map is ordered, so a rerun of a
//! seed replays the same run; [`Report::trace_hash`] says so.

pub mod adya;
pub mod history;
pub mod list_append;
mod world;

pub use world::{FaultCounts, Options, Report};

/// Runs one seed.
pub fn run(seed: u64, options: &Options) -> Report {
    world::World::new(seed, options).run()
}
