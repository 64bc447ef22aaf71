//! A replica's place in its cell, its timers and its batching and pipelining limits.

use super::leader::Limits;
use super::{
    ENTRY_BYTES_MAX, ENTRY_COMMANDS_MAX, LOG_SLOTS_MAX, PENDING_COMMANDS_MAX, SLOTS_IN_FLIGHT_MAX,
};
use crate::group::{check_members, MembersError, NodeId};

/// A replica's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// This replica.
    pub id: NodeId,
    /// Every member of the cell, this replica included.
    pub members: Vec<NodeId>,
    /// Ticks without a sign of a leader after which a follower starts a ballot, and after
    /// which a ballot that gathered no quorum of promises is retried higher. Give the members
    /// of a cell different values (the runtime draws them from its seed), so that they rarely
    /// start ballots at the same time.
    pub election_ticks: u32,
    /// Ticks between a leader's heartbeats (which also resend its undecided proposals); below
    /// `election_ticks`, so that followers hear a live leader before they give up on it.
    pub heartbeat_ticks: u32,
    /// The pipeline's depth: slots a leader proposes beyond the first undecided one.
    pub slots_in_flight_max: u64,
    /// The most client commands in one entry.
    pub batch_commands_max: usize,
    /// The most command bytes in one entry (a single longer command still gets an entry).
    pub batch_bytes_max: usize,
    /// The most client commands waiting for a slot.
    pub pending_commands_max: usize,
    /// How many decided slots beyond the last snapshot make the replica ask the runtime for a
    /// new one ([`super::Ready::snapshot_wanted`]); at most half of [`LOG_SLOTS_MAX`], so that a
    /// runtime slow to snapshot has as much room again before its replica stalls.
    pub snapshot_interval_slots: u64,
}

impl Config {
    /// A configuration with the default timers and limits.
    pub fn new(id: NodeId, members: Vec<NodeId>) -> Config {
        Config {
            id,
            members,
            election_ticks: 10,
            heartbeat_ticks: 3,
            slots_in_flight_max: 64,
            batch_commands_max: 256,
            batch_bytes_max: ENTRY_BYTES_MAX,
            pending_commands_max: 4096,
            snapshot_interval_slots: 1024,
        }
    }

    /// The leader's limits.
    pub(super) fn limits(&self) -> Limits {
        Limits {
            slots_in_flight_max: self.slots_in_flight_max,
            batch_commands_max: self.batch_commands_max,
            batch_bytes_max: self.batch_bytes_max,
            pending_commands_max: self.pending_commands_max,
        }
    }

    /// Checks every field, naming the first that is unusable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_members(self.id, &self.members)?;
        if self.heartbeat_ticks == 0 || self.heartbeat_ticks >= self.election_ticks {
            return Err(ConfigError::Timers {
                heartbeat_ticks: self.heartbeat_ticks,
                election_ticks: self.election_ticks,
            });
        }
        let limits = [
            (
                "slots_in_flight_max",
                self.slots_in_flight_max,
                SLOTS_IN_FLIGHT_MAX as u64,
            ),
            (
                "batch_commands_max",
                self.batch_commands_max as u64,
                ENTRY_COMMANDS_MAX as u64,
            ),
            (
                "batch_bytes_max",
                self.batch_bytes_max as u64,
                ENTRY_BYTES_MAX as u64,
            ),
            (
                "pending_commands_max",
                self.pending_commands_max as u64,
                PENDING_COMMANDS_MAX as u64,
            ),
            (
                "snapshot_interval_slots",
                self.snapshot_interval_slots,
                LOG_SLOTS_MAX / 2,
            ),
        ];
        for (name, value, max) in limits {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::Limit { name, value, max });
            }
        }
        Ok(())
    }
}

/// Why a [`Config`] is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The member list, or the replica's place in it.
    #[error(transparent)]
    Members(#[from] MembersError),
    /// The heartbeat is not at least one tick and below the election timeout.
    #[error("heartbeat_ticks ({heartbeat_ticks}) must be at least 1 and below election_ticks ({election_ticks})")]
    Timers {
        /// The heartbeat interval given.
        heartbeat_ticks: u32,
        /// The election timeout given.
        election_ticks: u32,
    },
    /// What the replica is restarted from is not a state it could have persisted.
    #[error("the durable state cannot be restarted from: {0}")]
    Durable(String),
    /// A limit is zero or above its bound.
    #[error("{name} must be 1 to {max}, not {value}")]
    Limit {
        /// The field.
        name: &'static str,
        /// The value given.
        value: u64,
        /// Its bound.
        max: u64,
    },
}
