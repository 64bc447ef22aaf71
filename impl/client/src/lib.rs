//! The Colony client library.
//!
//! A [`Client`] is given a few endpoints; it learns every node of the cluster from the first
//! that answers. A call names a cell by name; the client finds its members through the
//! directory (and caches them), sends the request to the member it believes leads the cell,
//! follows "not the leader" hints, and retries on failure, each retry under the same session
//! and sequence number, so that the cell applies the request once however many times it
//! arrives (the cell's sessions, `colony_core::cell`). Every call is bounded in attempts and in
//! time, and ends in a result or a [`ClientError`] that says what the caller may do.
//!
//! Sessions are pooled per cell: concurrent calls on one cell each take a session of their
//! own (a client id and its next sequence number), because a session carries one request at
//! a time.

#![deny(missing_docs)]

mod error;
mod pool;

pub use error::ClientError;

use colony_core::cell::{
    Abort, CellId, ClientId, Key, Operation, OperationResult, Reply, Request, Transaction, Value,
};
use colony_core::group::NodeId;
use colony_net::api::{
    check_cell_name, ApiRequest, ApiResponse, CellRecord, CellStatus, Location, NodeStatus,
    TransactOutcome, DIRECTORY_CELL,
};
use colony_net::directory;
use colony_net::Security;
use pool::{CallError, Pool};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a client reaches the cluster.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Addresses of some of the cluster's nodes (`host:port`).
    pub endpoints: Vec<String>,
    /// Mutual TLS, or plaintext.
    pub security: Security,
    /// How long one call may take, retries included.
    pub timeout: Duration,
    /// The most attempts one call makes.
    pub attempts_max: u32,
    /// The local address to connect from, if not the system's choice.
    pub source: Option<std::net::IpAddr>,
}

impl ClientConfig {
    /// A configuration with the default bounds: 10 s and 32 attempts a call.
    pub fn new(endpoints: Vec<String>, security: Security) -> ClientConfig {
        ClientConfig {
            endpoints,
            security,
            timeout: Duration::from_secs(10),
            attempts_max: 32,
            source: None,
        }
    }
}

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
struct Session {
    client: ClientId,
    next: u64,
}

impl Session {
    fn fresh() -> Session {
        Session {
            client: ClientId(rand::random::<u64>()),
            next: 1,
        }
    }
}

/// A cell's members, and the member last seen leading it.
#[derive(Clone, Debug)]
struct Route {
    record: CellRecord,
    leader: Option<NodeId>,
}

/// What a call of [`Client::create_cell`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The cell's record.
    pub record: CellRecord,
    /// Whether the directory already had it (this call only finished its placement).
    pub existed: bool,
}

/// A connection to a cluster. See the crate's documentation.
pub struct Client {
    config: ClientConfig,
    pool: Pool,
    nodes: Mutex<BTreeMap<NodeId, String>>,
    routes: Mutex<BTreeMap<String, Route>>,
    sessions: Mutex<BTreeMap<CellId, Vec<Session>>>,
}

impl Client {
    /// Connects to the first endpoint that answers and learns the cluster's nodes from it.
    pub async fn connect(config: ClientConfig) -> Result<Client, ClientError> {
        if config.endpoints.is_empty() {
            return Err(ClientError::Invalid(
                "no endpoints: give --endpoints or set COLONY_ENDPOINTS".into(),
            ));
        }
        let client = Client {
            pool: Pool::new(config.security.clone(), config.source),
            config,
            nodes: Mutex::new(BTreeMap::new()),
            routes: Mutex::new(BTreeMap::new()),
            sessions: Mutex::new(BTreeMap::new()),
        };
        let mut failures = Vec::new();
        for endpoint in &client.config.endpoints {
            match client
                .pool
                .call(endpoint, &ApiRequest::NodeStatus, client.config.timeout)
                .await
            {
                Ok(ApiResponse::NodeStatus(status)) => {
                    *lock(&client.nodes) = status.nodes.into_iter().collect();
                    return Ok(client);
                }
                Ok(other) => failures.push(format!("{endpoint}: {other:?}")),
                Err(e) => failures.push(format!("{endpoint}: {e}")),
            }
        }
        Err(ClientError::Unavailable(format!(
            "no endpoint answered: {}",
            failures.join("; ")
        )))
    }

    /// Every node of the cluster, as the first endpoint told.
    pub fn nodes(&self) -> BTreeMap<NodeId, String> {
        lock(&self.nodes).clone()
    }

    /// Applies `transaction` in the cell called `cell`: one result per operation, or why it
    /// failed.
    pub async fn transact(
        &self,
        cell: &str,
        transaction: Transaction,
    ) -> Result<Vec<OperationResult>, ClientError> {
        transaction
            .validate()
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let route = self.route(cell).await?;
        self.transact_route(route, transaction).await
    }

    /// Reads one key.
    pub async fn get(&self, cell: &str, key: &[u8]) -> Result<Option<Value>, ClientError> {
        let results = self
            .transact(
                cell,
                single(Operation::Read {
                    key: Key(key.to_vec()),
                }),
            )
            .await?;
        match results.into_iter().next() {
            Some(OperationResult::Read(value)) => Ok(value),
            other => Err(ClientError::Protocol(format!("a read answered {other:?}"))),
        }
    }

    /// Sets one key.
    pub async fn put(&self, cell: &str, key: &[u8], value: Value) -> Result<(), ClientError> {
        let operation = Operation::Write {
            key: Key(key.to_vec()),
            value,
        };
        self.transact(cell, single(operation)).await.map(|_| ())
    }

    /// Creates the cell called `name` on `replicas` distinct nodes, the least loaded first, and
    /// records it in the directory. Creating a cell that exists finishes its placement (asks its
    /// members again) and says it existed.
    pub async fn create_cell(&self, name: &str, replicas: usize) -> Result<Created, ClientError> {
        check_cell_name(name).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let statuses = self.cluster_status().await;
        let mut candidates: Vec<(u64, u64, NodeId)> = statuses
            .iter()
            .filter_map(|(node, status)| status.as_ref().ok().map(|s| (*node, s.cells)))
            .map(|(node, cells)| (cells, spread(name, node), node))
            .collect();
        candidates.sort();
        let record = CellRecord {
            name: name.to_string(),
            cell: directory::cell_id_of(name),
            members: candidates
                .iter()
                .take(replicas)
                .map(|(_, _, n)| *n)
                .collect(),
        };
        let directory_route = self.directory_route();
        let existing = self.read_record(&directory_route, name).await?;
        let (record, existed) = match existing {
            Some(existing) => (existing, true),
            None => {
                if replicas == 0 || record.members.len() < replicas {
                    return Err(ClientError::Unavailable(format!(
                        "{replicas} replicas need {replicas} reachable nodes; {} answered",
                        record.members.len()
                    )));
                }
                let create = directory::create_transaction(&record)
                    .map_err(|e| ClientError::Invalid(e.to_string()))?;
                match self.transact_route(directory_route.clone(), create).await {
                    Ok(_) => (record, false),
                    Err(ClientError::Aborted(Abort::ConditionFailed { index: 0, .. })) => {
                        // Created meanwhile by another caller: finish its placement.
                        match self.read_record(&directory_route, name).await? {
                            Some(existing) => (existing, true),
                            None => {
                                return Err(ClientError::Protocol(
                                    "a cell recorded and gone".into(),
                                ))
                            }
                        }
                    }
                    Err(ClientError::Aborted(Abort::ConditionFailed { index: 1, .. })) => {
                        return Err(ClientError::Invalid(format!(
                            "the id of {name:?} ({}) is another cell's; choose another name",
                            record.cell.0
                        )));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let mut failed = Vec::new();
        for member in &record.members {
            let request = ApiRequest::CreateCell {
                cell: record.cell,
                members: record.members.clone(),
            };
            match self.call_node(*member, &request).await {
                Ok(ApiResponse::Created) => {}
                Ok(ApiResponse::Error(reason)) => {
                    failed.push(format!("node {}: {reason}", member.0))
                }
                Ok(other) => failed.push(format!("node {}: {other:?}", member.0)),
                Err(e) => failed.push(format!("node {}: {e}", member.0)),
            }
        }
        if !failed.is_empty() {
            return Err(ClientError::Placement {
                name: name.to_string(),
                members: record.members.iter().map(|n| n.0).collect(),
                failed: failed.join("; "),
            });
        }
        lock(&self.routes).insert(
            name.to_string(),
            Route {
                record: record.clone(),
                leader: None,
            },
        );
        Ok(Created { record, existed })
    }

    /// Every cell in the directory, by name.
    pub async fn list_cells(&self) -> Result<Vec<CellRecord>, ClientError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let request = ApiRequest::ListDirectory {
                after: after.clone(),
                limit: 1000,
            };
            let page = match self.call_directory(&request).await? {
                ApiResponse::Directory(page) => page,
                other => return Err(ClientError::Protocol(format!("{other:?}"))),
            };
            let done = page.len() < 1000;
            after = page.last().map(|r| r.name.clone());
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// The cell's record and how each of its members sees it.
    #[allow(clippy::type_complexity)]
    pub async fn cell_status(
        &self,
        name: &str,
    ) -> Result<
        (
            CellRecord,
            Vec<(NodeId, Result<Option<CellStatus>, ClientError>)>,
        ),
        ClientError,
    > {
        let route = self.route(name).await?;
        let mut members = Vec::new();
        for member in &route.record.members {
            let request = ApiRequest::CellStatus {
                cell: route.record.cell,
            };
            let status = match self.call_node(*member, &request).await {
                Ok(ApiResponse::CellStatus(status)) => Ok(status),
                Ok(other) => Err(ClientError::Protocol(format!("{other:?}"))),
                Err(e) => Err(e),
            };
            members.push((*member, status));
        }
        Ok((route.record, members))
    }

    /// Every node's status, or why it did not answer.
    pub async fn cluster_status(&self) -> Vec<(NodeId, Result<NodeStatus, ClientError>)> {
        let mut all = Vec::new();
        for node in self.nodes().into_keys() {
            let status = match self.call_node(node, &ApiRequest::NodeStatus).await {
                Ok(ApiResponse::NodeStatus(status)) => Ok(status),
                Ok(other) => Err(ClientError::Protocol(format!("{other:?}"))),
                Err(e) => Err(e),
            };
            all.push((node, status));
        }
        all
    }

    /// The directory cell's route: its members are the first nodes of the cluster.
    fn directory_route(&self) -> Route {
        Route {
            record: CellRecord {
                name: "(directory)".into(),
                cell: DIRECTORY_CELL,
                members: directory::directory_members(self.nodes().into_keys()),
            },
            leader: None,
        }
    }

    /// The cell's members, from the cache or the directory.
    async fn route(&self, name: &str) -> Result<Route, ClientError> {
        check_cell_name(name).map_err(|e| ClientError::Invalid(e.to_string()))?;
        if let Some(route) = lock(&self.routes).get(name) {
            return Ok(route.clone());
        }
        // A node's copy of the directory answers first; when it does not know the name (it
        // may lag), the directory's leader does, through the log.
        let located = match self
            .call_directory(&ApiRequest::Locate { name: name.into() })
            .await
        {
            Ok(ApiResponse::Located(Location::Found(record))) => Some(record),
            _ => None,
        };
        let record = match located {
            Some(record) => record,
            None => self
                .read_record(&self.directory_route(), name)
                .await?
                .ok_or_else(|| ClientError::NotFound(name.to_string()))?,
        };
        let route = Route {
            record,
            leader: None,
        };
        lock(&self.routes).insert(name.to_string(), route.clone());
        Ok(route)
    }

    /// The directory's record of `name`, read through the directory cell's log.
    async fn read_record(
        &self,
        directory: &Route,
        name: &str,
    ) -> Result<Option<CellRecord>, ClientError> {
        let read = single(Operation::Read {
            key: directory::name_key(name),
        });
        match self.transact_route(directory.clone(), read).await?.first() {
            Some(OperationResult::Read(None)) => Ok(None),
            Some(OperationResult::Read(Some(Value::Bytes(bytes)))) => {
                directory::decode_record(bytes).map(Some).map_err(|e| {
                    ClientError::Protocol(format!("the directory's record of {name:?}: {e}"))
                })
            }
            other => Err(ClientError::Protocol(format!(
                "the directory answered {other:?}"
            ))),
        }
    }

    /// Sends a request to a member of the directory cell, trying each in turn.
    async fn call_directory(&self, request: &ApiRequest) -> Result<ApiResponse, ClientError> {
        let mut last = ClientError::Unavailable("the directory has no members".into());
        for member in self.directory_route().record.members {
            match self.call_node(member, request).await {
                Ok(ApiResponse::Error(reason)) => last = ClientError::refused(member, reason),
                Ok(response) => return Ok(response),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn call_node(
        &self,
        node: NodeId,
        request: &ApiRequest,
    ) -> Result<ApiResponse, ClientError> {
        let Some(addr) = self.nodes().get(&node).cloned() else {
            return Err(ClientError::Unavailable(format!(
                "node {} has no known address",
                node.0
            )));
        };
        self.pool
            .call(&addr, request, self.config.timeout)
            .await
            .map_err(|e| ClientError::Unavailable(format!("node {} at {addr}: {e}", node.0)))
    }

    /// One transaction in a cell: a session from the pool (or a newly opened one), then the
    /// retry loop under its next sequence number.
    async fn transact_route(
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
        let session = Session::fresh();
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

    fn remember(&self, route: &Route) {
        if route.record.cell != DIRECTORY_CELL {
            lock(&self.routes).insert(route.record.name.clone(), route.clone());
        }
    }
}

/// A transaction of one operation.
pub fn single(operation: Operation) -> Transaction {
    Transaction {
        conditions: Vec::new(),
        operations: vec![operation],
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

/// Ties between equally loaded nodes are broken by a hash of the cell's name and the node, so
/// that cells created on an empty cluster spread over every node.
fn spread(name: &str, node: NodeId) -> u64 {
    directory::cell_id_of(&format!("{name}/{}", node.0)).0
}

/// Locks a mutex; a panic elsewhere while holding it leaves plain data that is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
