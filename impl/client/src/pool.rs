//! Connections from a client to nodes, pooled by address: a call takes an idle connection or
//! opens one, sends one request, reads one response and gives the connection back.

use colony_net::api::{decode_response, encode_request, ApiRequest, ApiResponse};
use colony_net::{connect_from, Conn, Net, Role, Security};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// The longest wait for a connection to open, within a call's time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The most idle connections kept per address.
const IDLE_CONNECTIONS_MAX: usize = 64;

/// Why a call got no response, and whether the request may have reached the node.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// The request was not sent (no connection could be opened, or it does not encode).
    #[error("{0}")]
    NotSent(String),
    /// The request may have been sent: the connection failed after it was written, or the
    /// answer did not come in time.
    #[error("{0}")]
    MaybeSent(String),
}

pub(crate) struct Pool {
    network: Net,
    security: Security,
    source: Option<IpAddr>,
    idle: Mutex<BTreeMap<String, Vec<Conn>>>,
}

impl Pool {
    pub(crate) fn new(network: Net, security: Security, source: Option<IpAddr>) -> Pool {
        Pool {
            network,
            security,
            source,
            idle: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sends `request` to `addr` and waits at most `timeout` for the response.
    pub(crate) async fn call(
        &self,
        addr: &str,
        request: &ApiRequest,
        timeout: Duration,
    ) -> Result<ApiResponse, CallError> {
        let bytes = encode_request(request).map_err(|e| CallError::NotSent(e.to_string()))?;
        let idle = crate::lock(&self.idle).get_mut(addr).and_then(Vec::pop);
        let mut conn = match idle {
            Some(conn) => conn,
            None => match tokio::time::timeout(
                timeout.min(CONNECT_TIMEOUT),
                connect_from(
                    &self.network,
                    self.source,
                    addr,
                    &self.security,
                    Role::Client,
                    None,
                ),
            )
            .await
            {
                Ok(Ok((conn, _))) => conn,
                Ok(Err(e)) => return Err(CallError::NotSent(e.to_string())),
                Err(_) => {
                    return Err(CallError::NotSent(format!(
                        "no connection within {:?}",
                        timeout.min(CONNECT_TIMEOUT)
                    )))
                }
            },
        };
        let exchange = async {
            conn.send(bytes).await?;
            conn.recv().await
        };
        let response = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(Ok(None)) => {
                return Err(CallError::MaybeSent(
                    "the node closed the connection".into(),
                ))
            }
            Ok(Err(e)) => return Err(CallError::MaybeSent(e.to_string())),
            Err(_) => {
                return Err(CallError::MaybeSent(format!(
                    "no answer within {timeout:?}"
                )))
            }
        };
        let response =
            decode_response(&response).map_err(|e| CallError::MaybeSent(e.to_string()))?;
        let mut idle = crate::lock(&self.idle);
        let conns = idle.entry(addr.to_string()).or_default();
        if conns.len() < IDLE_CONNECTIONS_MAX {
            conns.push(conn);
        }
        Ok(response)
    }
}
