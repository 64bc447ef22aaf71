//! Sessions and the retry loop: a call takes a session of the cell (or opens one), sends its
//! request to the member it believes leads, follows hints, retries elsewhere, and ends in the
//! cell's reply or in an error that says whether the request may have been applied.

use crate::pool::CallError;
use crate::{lock, Client, ClientError, Route};
use colony_core::cell::{Abort, CellId, ClientId, OperationResult, Reply, Request, Transaction};
use colony_core::group::NodeId;
use colony_net::api::{ApiRequest, ApiResponse, TransactOutcome};
use rand::RngCore;
use std::time::Duration;
// tokio's clock, not the system's: the same as the system's on a machine, and the simulation's
// under a simulated network, so that a call's deadlines follow simulated time.
use tokio::time::Instant;

/// The first wait between two attempts, doubled after each, up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(10);

/// The longest wait between two attempts.
const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// The longest one attempt may take before the client tries another member: a node answers
/// within its own request timeout (5 s) or says the outcome is unknown.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(6);

/// How one call's attempts ended.
enum Ended {
    /// The cell answered.
    Reply(Reply),
    /// A node refused the request as malformed.
    Refused(NodeId, String),
    /// Out of attempts or time; the last failure.
    GaveUp(String),
    /// An answer this client cannot read.
    Protocol(String),
}

/// The most idle sessions a client keeps per cell.
const IDLE_SESSIONS_MAX: usize = 64;

/// A session: the client's identity in one cell and its next sequence number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Session {
    client: ClientId,
    next: u64,
}

impl Client {
    /// One transaction in a cell: a session from the pool (or a newly opened one), then the
    /// retry loop under its next sequence number.
    pub(crate) async fn transact_route(
        &self,
        mut route: Route,
        transaction: Transaction,
    ) -> Result<Vec<OperationResult>, ClientError> {
        let cell = route.record.cell;
        let deadline = Instant::now() + self.config.timeout;
        let mut session = match self.take_session(cell) {
            Some(session) => session,
            None => self.open_session(&mut route, deadline).await?,
        };
        // At most twice: again only when a pooled session turned out to be gone before this
        // call sent anything.
        for _ in 0..2 {
            let request = Request {
                client: session.client,
                sequence: session.next,
                transaction: transaction.clone(),
            };
            let (ended, sent) = self.attempts(&mut route, &request, deadline).await;
            let next = Session {
                client: session.client,
                next: session.next + 1,
            };
            return match ended {
                Ended::Reply(Reply::Done(Ok(results))) => {
                    self.give_back(cell, next);
                    Ok(results)
                }
                Ended::Reply(Reply::Done(Err(abort))) => {
                    self.give_back(cell, next);
                    Err(match abort {
                        Abort::Malformed(e) => ClientError::Invalid(e.to_string()),
                        abort => ClientError::Aborted(abort),
                    })
                }
                Ended::Reply(Reply::SessionExpired) if !sent => {
                    // The pooled session expired or was evicted while idle: nothing of this
                    // call is outstanding, so a new session may carry it.
                    session = self.open_session(&mut route, deadline).await?;
                    continue;
                }
                Ended::Reply(Reply::SessionExpired) => Err(ClientError::Indeterminate(
                    "the cell forgot this client's session, so an earlier attempt's fate is unknown".into(),
                )),
                Ended::Reply(Reply::Stale { last } | Reply::SequenceGap { last }) => {
                    Err(ClientError::Protocol(format!(
                        "the cell's session is at sequence {last}, this client's at {}",
                        session.next
                    )))
                }
                Ended::Reply(Reply::SequenceZero) => {
                    Err(ClientError::Protocol("sequence 0 was sent".into()))
                }
                // A session whose request an earlier attempt may have delivered is never
                // given back: its next request would get that one's remembered reply.
                Ended::Refused(_, last) | Ended::GaveUp(last) if sent => {
                    Err(ClientError::Indeterminate(last))
                }
                Ended::Refused(node, reason) => {
                    self.give_back(cell, session);
                    Err(ClientError::refused(node, reason))
                }
                Ended::GaveUp(last) => {
                    self.give_back(cell, session);
                    Err(ClientError::Unavailable(last))
                }
                Ended::Protocol(reason) if sent => Err(ClientError::Indeterminate(format!(
                    "after an attempt that may have been applied: {reason}"
                ))),
                Ended::Protocol(reason) => Err(ClientError::Protocol(reason)),
            };
        }
        Err(ClientError::Unavailable(
            "a new session was forgotten at once; the cell's clock may be far ahead".into(),
        ))
    }

    /// Opens a session: a new client id whose first request (sequence 1) is an empty
    /// transaction. The cell cannot protect a retry of a session's first request (once the
    /// session is evicted, a retry opens a new one and applies again), so no caller's request
    /// is ever a first one: an empty transaction applied twice changes nothing.
    async fn open_session(
        &self,
        route: &mut Route,
        deadline: Instant,
    ) -> Result<Session, ClientError> {
        let session = Session {
            client: self.new_session_id(),
            next: 1,
        };
        let request = Request {
            client: session.client,
            sequence: session.next,
            transaction: Transaction::default(),
        };
        match self.attempts(route, &request, deadline).await.0 {
            Ended::Reply(Reply::Done(_)) => Ok(Session {
                client: session.client,
                next: session.next + 1,
            }),
            // Nothing of the caller's was sent, whatever became of the opening.
            Ended::Reply(other) => Err(ClientError::Unavailable(format!(
                "opening a session was answered {other:?}"
            ))),
            Ended::Refused(node, reason) => Err(ClientError::refused(node, reason)),
            Ended::GaveUp(last) => Err(ClientError::Unavailable(last)),
            Ended::Protocol(reason) => Err(ClientError::Protocol(reason)),
        }
    }

    /// Sends `request` to the cell's members until one answers with the cell's reply, a node
    /// refuses it, or the attempts or the time run out. Returns how it ended, and whether an
    /// attempt before the end may have delivered it.
    async fn attempts(
        &self,
        route: &mut Route,
        request: &Request,
        deadline: Instant,
    ) -> (Ended, bool) {
        let Some(first) = route.record.members.first().copied() else {
            let reason = format!("{} has no members", route.record.cell);
            return (Ended::Protocol(reason), false);
        };
        let cell = route.record.cell;
        let mut target = route.leader.unwrap_or(first);
        let mut backoff = BACKOFF_MIN;
        let mut sent = false;
        let mut last = String::from("no attempt was made");
        for _ in 0..self.config.attempts_max {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let message = ApiRequest::Transact {
                cell,
                request: request.clone(),
            };
            let mut wait = true;
            let response = match self.nodes().get(&target).cloned() {
                Some(addr) => {
                    let budget = remaining.min(ATTEMPT_TIMEOUT);
                    self.pool.call(&addr, &message, budget).await
                }
                None => Err(CallError::NotSent(format!(
                    "node {} has no known address",
                    target.0
                ))),
            };
            match response {
                Ok(ApiResponse::Transact(outcome)) => match outcome {
                    TransactOutcome::Reply(reply) => {
                        route.leader = Some(target);
                        self.remember(route);
                        return (Ended::Reply(reply), sent);
                    }
                    TransactOutcome::NotLeader {
                        leader: Some(leader),
                    } if leader != target => {
                        last = format!(
                            "node {} does not lead the cell; node {} does",
                            target.0, leader.0
                        );
                        target = leader;
                        wait = false;
                    }
                    TransactOutcome::NotLeader { .. } => {
                        last = format!(
                            "node {} does not lead the cell and knows no leader yet",
                            target.0
                        );
                        target = next_member(&route.record.members, target);
                    }
                    TransactOutcome::NotHosted { members } => {
                        last = format!("node {} is not a member of the cell", target.0);
                        if let Some(members) = members.filter(|m| !m.is_empty()) {
                            route.record.members = members;
                            route.leader = None;
                            self.remember(route);
                        }
                        target = next_member(&route.record.members, target);
                    }
                    TransactOutcome::Refused(reason) => {
                        last = format!("node {}: {reason}", target.0);
                        target = next_member(&route.record.members, target);
                    }
                    TransactOutcome::Unknown(reason) => {
                        sent = true;
                        last = format!("node {}: {reason}", target.0);
                        target = next_member(&route.record.members, target);
                    }
                },
                Ok(ApiResponse::Error(reason)) => return (Ended::Refused(target, reason), sent),
                Ok(other) => {
                    let reason = format!("a transaction answered {other:?}");
                    return (Ended::Protocol(reason), true);
                }
                Err(CallError::NotSent(reason)) => {
                    last = format!("node {}: {reason}", target.0);
                    target = next_member(&route.record.members, target);
                }
                Err(CallError::MaybeSent(reason)) => {
                    sent = true;
                    last = format!("node {}: {reason}", target.0);
                    target = next_member(&route.record.members, target);
                }
            }
            if wait {
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(backoff.min(left)).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
        (Ended::GaveUp(last), sent)
    }

    /// A new session's id: random, so that two clients (or two sessions of one) never share
    /// one, and drawn from the client's own generator, so that a seeded client repeats itself.
    fn new_session_id(&self) -> ClientId {
        ClientId(lock(&self.session_ids).next_u64())
    }

    fn take_session(&self, cell: CellId) -> Option<Session> {
        lock(&self.sessions).get_mut(&cell).and_then(Vec::pop)
    }

    fn give_back(&self, cell: CellId, session: Session) {
        let mut sessions = lock(&self.sessions);
        let idle = sessions.entry(cell).or_default();
        if idle.len() < IDLE_SESSIONS_MAX {
            idle.push(session);
        }
    }
}

/// The member after `current`, round the list.
fn next_member(members: &[NodeId], current: NodeId) -> NodeId {
    let at = members
        .iter()
        .position(|m| *m == current)
        .map_or(0, |i| i + 1);
    members[at % members.len()]
}
