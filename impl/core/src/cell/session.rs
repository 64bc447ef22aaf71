//! Client sessions: what makes a client's retries exactly-once (the Raft dissertation, §6.3).
//!
//! A client sends a [`Request`] under its [`ClientId`] with a sequence number, 1 for its first
//! request and one more for each next one, and sends the next only once it got the reply of the
//! one before. A node stamps the request with its clock reading and proposes the [`Command`]; the
//! cell's log decides it; every replica applies it to its [`CellState`], which remembers, for each
//! client, the last sequence number it applied and the reply it gave. A retry of that number (the
//! client lost the reply) gets the remembered reply without applying the transaction again.
//!
//! Every decision is made from the log's contents alone, so every replica makes the same one: the
//! cell's clock is the largest `now_ms` of the commands applied so far (it never goes back, even
//! when nodes' clocks disagree), and a session expires when the cell's clock passes its last
//! activity by more than the expiry, not when some node's clock does.

use super::state_machine::{
    Abort, ConditionFailure, Fnv1a, OperationFailure, OperationResult, StateMachine,
};
use super::transaction::{integer_size_bytes, Key, Transaction, Value};
use super::{REPLY_BYTES_MAX, SESSIONS_MAX, SESSION_EXPIRY_MS, SESSION_REPLIES_BYTES_MAX};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A client's identity in a cell: chosen by the client, unique among the clients of the cell (a
/// random 64-bit number is), and never reused once a session under it expired or was evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientId(pub u64);

/// What a client sends: its transaction, under its identity and sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Who sends it.
    pub client: ClientId,
    /// 1 for the client's first request, one more for each next one. A client has at most one
    /// request outstanding and sends `sequence + 1` only after it got the reply of `sequence`;
    /// it retries a request under the same number.
    pub sequence: u64,
    /// What to apply.
    pub transaction: Transaction,
}

/// What a cell's log holds: a request stamped, by the node that proposes it, with that node's
/// clock reading, so that expiry is decided by the log's contents and every replica agrees.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    /// The client's request.
    pub request: Request,
    /// The proposing node's clock, in milliseconds since some epoch every node shares. Nodes'
    /// clocks may disagree and go back; the cell's clock never goes back.
    pub now_ms: u64,
}

/// What applying a transaction gave: one result per operation, or why nothing changed.
pub type Outcome = Result<Vec<OperationResult>, Abort>;

/// The cell's answer to a command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reply {
    /// The request's transaction was applied, once, with this outcome (a malformed transaction's
    /// is [`Abort::Malformed`]). A retry of the same request gets the same reply, equal to the
    /// first, without applying the transaction again.
    Done(Outcome),
    /// The cell has no session for the client and the request is not its first (sequence 1):
    /// the session expired or was evicted, so whether the client's earlier request was applied
    /// is unknown to the cell. Nothing was applied. The client must report its pending request
    /// as indeterminate and start again under a new client id.
    SessionExpired,
    /// The request's sequence number is below the last one the cell applied for the client: a
    /// delayed duplicate of an older request, whose reply the client already had. Nothing was
    /// applied.
    Stale {
        /// The last sequence number the cell applied for the client.
        last: u64,
    },
    /// The request's sequence number is more than one past the last one applied for the client:
    /// the client broke the rule of one request outstanding. Nothing was applied and the session
    /// is as it was.
    SequenceGap {
        /// The last sequence number the cell applied for the client.
        last: u64,
    },
    /// The request's sequence number is 0, which no client sends (they start at 1). Nothing was
    /// applied. The encoding refuses such a command; this answers one built in memory.
    SequenceZero,
}

/// The limits of a cell's session table. The defaults are the bounds of [`super`]; tests use
/// smaller ones, so that a table of two sessions fills up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionLimits {
    /// The most sessions the table holds; opening one more evicts the least recently active.
    pub sessions_max: usize,
    /// A session whose last activity is more than this before the cell's clock is dropped.
    pub expiry_ms: u64,
    /// The most bytes of remembered replies in the table (see [`outcome_size_bytes`]);
    /// remembering one more reply evicts the least recently active other sessions until it fits.
    pub replies_bytes_max: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            sessions_max: SESSIONS_MAX,
            expiry_ms: SESSION_EXPIRY_MS,
            replies_bytes_max: SESSION_REPLIES_BYTES_MAX,
        }
    }
}

/// Why [`CellState::with_limits`] refused limits. The limits may only be smaller than the
/// defaults, since the snapshot bound and the decoder of a state assume the defaults; and they
/// must leave room for one session with the largest reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SessionLimitsError {
    /// `sessions_max` is 0 or more than [`SESSIONS_MAX`].
    #[error("sessions_max {found} is not between 1 and {max} (SESSIONS_MAX)")]
    SessionsMax {
        /// The limit given.
        found: usize,
        /// [`SESSIONS_MAX`].
        max: usize,
    },
    /// `expiry_ms` is more than [`SESSION_EXPIRY_MS`].
    #[error("expiry_ms {found} is more than {max} (SESSION_EXPIRY_MS)")]
    ExpiryMs {
        /// The limit given.
        found: u64,
        /// [`SESSION_EXPIRY_MS`].
        max: u64,
    },
    /// `replies_bytes_max` is below [`REPLY_BYTES_MAX`] or above [`SESSION_REPLIES_BYTES_MAX`].
    #[error(
        "replies_bytes_max {found} is not between {min} (REPLY_BYTES_MAX) and {max} \
         (SESSION_REPLIES_BYTES_MAX)"
    )]
    RepliesBytesMax {
        /// The limit given.
        found: usize,
        /// [`REPLY_BYTES_MAX`].
        min: usize,
        /// [`SESSION_REPLIES_BYTES_MAX`].
        max: usize,
    },
}

/// What the cell remembers of one client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    last_sequence: u64,
    last_active_ms: u64,
    reply: Outcome,
    /// [`outcome_size_bytes`] of `reply`, kept so that eviction does not measure it again.
    reply_bytes: usize,
}

impl Session {
    /// The last sequence number applied for the client.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// The cell's clock when the session was last active: opened, or answered a request with
    /// [`Reply::Done`] (a new request or a retry).
    pub fn last_active_ms(&self) -> u64 {
        self.last_active_ms
    }

    /// The outcome of the last request applied, which a retry of it gets again.
    pub fn reply(&self) -> &Outcome {
        &self.reply
    }
}

/// A cell's whole replicated state: its keys ([`StateMachine`]), its session table and its clock.
/// [`CellState::apply`] is pure and deterministic, so replicas that applied the same commands in
/// the same order are equal (`==`) and have equal [`CellState::digest`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellState {
    machine: StateMachine,
    sessions: BTreeMap<ClientId, Session>,
    /// Every session as (last activity, client), so that the least recently active session,
    /// ties broken by the smaller client id, is the first: expiry and eviction take sessions
    /// from the front instead of scanning the table.
    by_activity: BTreeSet<(u64, ClientId)>,
    /// The sum of the sessions' `reply_bytes`.
    replies_bytes: usize,
    clock_ms: u64,
    limits: SessionLimits,
}

impl Default for CellState {
    fn default() -> Self {
        CellState::empty(SessionLimits::default())
    }
}

impl CellState {
    /// An empty cell with the default limits ([`SESSIONS_MAX`], [`SESSION_EXPIRY_MS`],
    /// [`SESSION_REPLIES_BYTES_MAX`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cell with smaller limits, for tests. Refuses limits above the defaults, a table
    /// of no session, and room for replies smaller than one reply.
    pub fn with_limits(limits: SessionLimits) -> Result<Self, SessionLimitsError> {
        if limits.sessions_max == 0 || limits.sessions_max > SESSIONS_MAX {
            return Err(SessionLimitsError::SessionsMax {
                found: limits.sessions_max,
                max: SESSIONS_MAX,
            });
        }
        if limits.expiry_ms > SESSION_EXPIRY_MS {
            return Err(SessionLimitsError::ExpiryMs {
                found: limits.expiry_ms,
                max: SESSION_EXPIRY_MS,
            });
        }
        if !(REPLY_BYTES_MAX..=SESSION_REPLIES_BYTES_MAX).contains(&limits.replies_bytes_max) {
            return Err(SessionLimitsError::RepliesBytesMax {
                found: limits.replies_bytes_max,
                min: REPLY_BYTES_MAX,
                max: SESSION_REPLIES_BYTES_MAX,
            });
        }
        Ok(CellState::empty(limits))
    }

    fn empty(limits: SessionLimits) -> Self {
        CellState {
            machine: StateMachine::new(),
            sessions: BTreeMap::new(),
            by_activity: BTreeSet::new(),
            replies_bytes: 0,
            clock_ms: 0,
            limits,
        }
    }

    /// Applies one command of the log and returns the reply for its client. In order:
    ///
    /// 1. The cell's clock becomes `max(clock, now_ms)`, and every session whose last activity
    ///    is more than the expiry before it is dropped (a session exactly the expiry old stays).
    /// 2. Sequence 0: [`Reply::SequenceZero`].
    /// 3. No session for the client: sequence 1 opens one (evicting the least recently active
    ///    session, ties by the smaller client id, if the table is full), applies the transaction
    ///    and remembers its outcome; any other sequence gets [`Reply::SessionExpired`].
    /// 4. A session whose last sequence is `last`: `last` again gets the remembered reply (and
    ///    refreshes the session's activity); below `last`, [`Reply::Stale`]; above `last + 1`,
    ///    [`Reply::SequenceGap`] (both leave the session as it was); `last + 1` applies the
    ///    transaction, remembers its outcome and refreshes the session's activity.
    ///
    /// Remembering an outcome that would take the table's replies past their bound first evicts
    /// the least recently active other sessions until it fits.
    pub fn apply(&mut self, command: &Command) -> Reply {
        self.clock_ms = self.clock_ms.max(command.now_ms);
        self.expire();
        let request = &command.request;
        if request.sequence == 0 {
            return Reply::SequenceZero;
        }
        let Some(session) = self.sessions.get(&request.client) else {
            if request.sequence != 1 {
                return Reply::SessionExpired;
            }
            while self.sessions.len() >= self.limits.sessions_max {
                if !self.evict_least_recently_active() {
                    break;
                }
            }
            return self.apply_and_remember(request);
        };
        let last = session.last_sequence;
        if request.sequence == last {
            let reply = session.reply.clone();
            self.touch(request.client);
            return Reply::Done(reply);
        }
        if request.sequence < last {
            return Reply::Stale { last };
        }
        if request.sequence - last > 1 {
            return Reply::SequenceGap { last };
        }
        self.apply_and_remember(request)
    }

    /// The cell's keys.
    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }

    /// The cell's clock: the largest `now_ms` of the commands applied so far, 0 before any.
    pub fn clock_ms(&self) -> u64 {
        self.clock_ms
    }

    /// The limits this cell was made with.
    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// Every session, by client id.
    pub fn sessions(&self) -> impl Iterator<Item = (ClientId, &Session)> {
        self.sessions
            .iter()
            .map(|(&client, session)| (client, session))
    }

    /// The session of one client, if the cell has one.
    pub fn session(&self, client: ClientId) -> Option<&Session> {
        self.sessions.get(&client)
    }

    /// The bytes of remembered replies in the table (see [`outcome_size_bytes`]).
    pub fn replies_bytes(&self) -> usize {
        self.replies_bytes
    }

    /// A 64-bit digest of the whole state: the keys ([`StateMachine::digest`]), the clock and
    /// every session with its remembered reply (as its encoding, which is deterministic), by
    /// FNV-1a, equal on replicas with equal states on every platform. Not cryptographic.
    pub fn digest(&self) -> u64 {
        let mut hash = Fnv1a::new();
        hash.write(&self.machine.digest().to_le_bytes());
        hash.write(&self.clock_ms.to_le_bytes());
        hash.write(
            &u64::try_from(self.sessions.len())
                .unwrap_or(u64::MAX)
                .to_le_bytes(),
        );
        for (client, session) in &self.sessions {
            hash.write(&client.0.to_le_bytes());
            hash.write(&session.last_sequence.to_le_bytes());
            hash.write(&session.last_active_ms.to_le_bytes());
            // Encoding into a growable buffer cannot fail; were it to, the digest would still
            // be a function of the state, as the empty encoding is written alike everywhere.
            let reply = postcard::to_extend(&session.reply, Vec::new()).unwrap_or_default();
            hash.write_bytes(&reply);
        }
        hash.0
    }

    /// A state from a decoded snapshot's parts, which the decoder checked (bounds, order, every
    /// session active no later than the clock and not expired), with the default limits. The
    /// activity index and the byte count are rebuilt from the table, so they cannot disagree
    /// with it.
    pub(super) fn from_parts(
        keys: BTreeMap<Key, Value>,
        sessions: impl IntoIterator<Item = (ClientId, u64, u64, Outcome)>,
        clock_ms: u64,
    ) -> Self {
        let mut state = CellState::empty(SessionLimits::default());
        state.machine = StateMachine::from_store(keys);
        state.clock_ms = clock_ms;
        for (client, last_sequence, last_active_ms, reply) in sessions {
            state.insert(client, last_sequence, last_active_ms, reply);
        }
        state
    }

    /// Drops every session whose last activity is more than the expiry before the clock: the
    /// front of the activity index, up to the first session young enough.
    fn expire(&mut self) {
        while let Some(&(active, client)) = self.by_activity.first() {
            if self.clock_ms.saturating_sub(active) <= self.limits.expiry_ms {
                break;
            }
            self.remove(client);
        }
    }

    /// Evicts the least recently active session (ties by the smaller client id); false if the
    /// table is empty.
    fn evict_least_recently_active(&mut self) -> bool {
        match self.by_activity.first() {
            Some(&(_, client)) => {
                self.remove(client);
                true
            }
            None => false,
        }
    }

    /// Applies the request's transaction and remembers its outcome as the client's last reply.
    fn apply_and_remember(&mut self, request: &Request) -> Reply {
        let outcome = self.machine.apply(&request.transaction);
        self.remove(request.client);
        let bytes = outcome_size_bytes(&outcome);
        while self.replies_bytes.saturating_add(bytes) > self.limits.replies_bytes_max {
            if !self.evict_least_recently_active() {
                break;
            }
        }
        self.insert(
            request.client,
            request.sequence,
            self.clock_ms,
            outcome.clone(),
        );
        Reply::Done(outcome)
    }

    /// Marks the client's session active at the clock.
    fn touch(&mut self, client: ClientId) {
        if let Some(session) = self.sessions.get_mut(&client) {
            self.by_activity.remove(&(session.last_active_ms, client));
            session.last_active_ms = self.clock_ms;
            self.by_activity.insert((self.clock_ms, client));
        }
    }

    fn insert(
        &mut self,
        client: ClientId,
        last_sequence: u64,
        last_active_ms: u64,
        reply: Outcome,
    ) {
        let reply_bytes = outcome_size_bytes(&reply);
        self.remove(client);
        self.replies_bytes = self.replies_bytes.saturating_add(reply_bytes);
        self.by_activity.insert((last_active_ms, client));
        let session = Session {
            last_sequence,
            last_active_ms,
            reply,
            reply_bytes,
        };
        self.sessions.insert(client, session);
    }

    fn remove(&mut self, client: ClientId) {
        if let Some(session) = self.sessions.remove(&client) {
            self.by_activity.remove(&(session.last_active_ms, client));
            self.replies_bytes = self.replies_bytes.saturating_sub(session.reply_bytes);
        }
    }
}

/// The size of an outcome as bounded by [`REPLY_BYTES_MAX`] and [`SESSION_REPLIES_BYTES_MAX`]:
/// the bytes of every key and value it holds, each value sized as [`Value::size_bytes`] does
/// (the tags and lengths of its encoding are bounded per result, see [`super`]).
pub fn outcome_size_bytes(outcome: &Outcome) -> usize {
    let key = |key: &Key| key.0.len();
    match outcome {
        Ok(results) => results
            .iter()
            .map(|result| match result {
                OperationResult::Read(Some(value)) => value.size_bytes(),
                OperationResult::Incremented(integer) => integer_size_bytes(integer),
                OperationResult::Read(None)
                | OperationResult::Written
                | OperationResult::Deleted => 0,
            })
            .fold(0, usize::saturating_add),
        Err(Abort::ConditionFailed { reason, .. }) => match reason {
            ConditionFailure::KeyAbsent { key: k } => key(k),
            ConditionFailure::KeyPresent { key: k, found } => key(k) + found.size_bytes(),
            ConditionFailure::ValueDiffers {
                key: k,
                found,
                expected,
            } => key(k)
                .saturating_add(found.size_bytes())
                .saturating_add(expected.size_bytes()),
        },
        Err(Abort::OperationFailed { reason, .. }) => match reason {
            OperationFailure::NotAnInteger { key: k, found } => {
                key(k).saturating_add(found.size_bytes())
            }
            OperationFailure::IntegerTooLarge { key: k, .. } => key(k),
        },
        Err(Abort::Malformed(_) | Abort::CellFull { .. }) => 0,
    }
}
