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

mod call;
mod error;
mod pool;

pub use error::ClientError;

use call::Session;
use colony_core::cell::{Abort, CellId, Key, Operation, OperationResult, Transaction, Value};
use colony_core::group::NodeId;
use colony_net::api::{
    check_cell_name, ApiRequest, ApiResponse, CellRecord, CellStatus, Location, NodeStatus,
    DIRECTORY_CELL,
};
use colony_net::directory;
use colony_net::{Net, Security};
use pool::Pool;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

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
    /// The network: the machine's TCP unless a simulation gives its own.
    pub network: Net,
    /// Where session ids come from: a seed makes a simulated run repeatable; without one they
    /// are drawn from the system's randomness.
    pub seed: Option<u64>,
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
            network: Net::tcp(),
            seed: None,
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
    session_ids: Mutex<StdRng>,
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
            pool: Pool::new(
                config.network.clone(),
                config.security.clone(),
                config.source,
            ),
            session_ids: Mutex::new(match config.seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            }),
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
