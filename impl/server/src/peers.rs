//! Connections between nodes: from this node to each peer, two connections (votes and bulk),
//! each kept open by its own task, which reconnects with backoff; into this node, a task per
//! accepted connection that decodes frames and hands them to the node loop.
//!
//! Each direction of a node pair has its own connections, so a node only ever writes to the
//! connections it opened and reads from those it accepted: no connection is shared between a
//! reader and a writer, and the handshake on each names the sender.

use crate::metrics::Metrics;
use crate::node_loop::{offer, Command, Inbox, NotTaken};
use colony_core::group::NodeId;
use colony_net::{connect_from, Channel, Conn, Net, Role, Security};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The most frames waiting for one peer on the votes channel. Past it frames are dropped, as a
/// network would drop them: a slow or absent peer must not hold the node's memory.
pub const OUTBOX_FRAMES_MAX: usize = 4096;

/// The most snapshots waiting for one peer: each may be large, and a replica asks again for
/// one that was dropped.
pub const BULK_OUTBOX_FRAMES_MAX: usize = 16;

/// The longest wait for a connection to a peer to open, handshake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest a frame may take to be written to a peer. A connection whose writes stall
/// this long (a partition that drops packets, a peer that stopped reading) is given up and
/// opened again, rather than waiting out TCP's own retransmission timeout of many minutes.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// An accepted votes connection that brings nothing for this long is closed: a live peer pings
/// every few ticks, so silence means the connection is dead (half-open after a partition).
/// The bulk connection is quiet between snapshots and has no such bound.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first wait before reconnecting to a peer, doubled after each failure.
pub const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(50);

/// The longest wait before reconnecting to a peer.
pub const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// How this node reaches one peer on one channel.
#[derive(Clone, Debug)]
pub struct Link {
    /// The network to connect over.
    pub network: Net,
    /// The local address to connect from (the node's own), when it serves on one.
    pub source: Option<IpAddr>,
    /// This node.
    pub this: NodeId,
    /// The peer.
    pub peer: NodeId,
    /// The peer's address.
    pub addr: String,
    /// Which of the two connections to the peer.
    pub channel: Channel,
    /// Mutual TLS, or plaintext.
    pub security: Security,
}

/// Keeps the connection of `link` open, sending what arrives on `outbox`, until the outbox
/// closes. Its log lines are in a span naming the peer and the channel.
pub async fn keep_connected(link: Link, mut outbox: mpsc::Receiver<Vec<u8>>) {
    let Link {
        network,
        source,
        this,
        peer,
        addr,
        channel,
        security,
    } = link;
    let role = Role::Peer {
        node: this,
        channel,
    };
    let mut backoff = RECONNECT_BACKOFF_MIN;
    let mut last_error = String::new();
    loop {
        let attempt = connect_from(&network, source, &addr, &security, role, Some(peer));
        let connected = match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
        };
        match connected {
            Ok((conn, _)) => {
                tracing::info!("connected to node {} at {addr}", peer.0);
                backoff = RECONNECT_BACKOFF_MIN;
                last_error.clear();
                if !send_all(conn, &mut outbox).await {
                    return;
                }
                tracing::info!("lost the connection to node {}", peer.0);
            }
            Err(error) => {
                // One line per kind of failure, not one per attempt.
                if error != last_error {
                    tracing::warn!("cannot reach node {} at {addr}: {error}", peer.0);
                    last_error = error;
                }
            }
        }
        // Frames queued while there is no connection are stale by the time there is one; the
        // protocol resends what still matters.
        while outbox.try_recv().is_ok() {}
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
        if outbox.is_closed() {
            return;
        }
    }
}

/// Sends frames until the connection fails or stalls for [`SEND_TIMEOUT`] (returns true) or
/// the outbox closes (false).
async fn send_all(mut conn: Conn, outbox: &mut mpsc::Receiver<Vec<u8>>) -> bool {
    while let Some(frame) = outbox.recv().await {
        match tokio::time::timeout(SEND_TIMEOUT, conn.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return true,
        }
    }
    false
}

/// Reads frames from an accepted peer connection until it closes, and hands each to the node
/// loop. A frame that does not decode ends the connection: the peer runs a broken or other
/// build, and its next connection's handshake will say which.
pub async fn receive(
    from: NodeId,
    channel: Channel,
    mut conn: Conn,
    inbox: Inbox,
    metrics: Arc<Metrics>,
) {
    loop {
        let idle = match channel {
            Channel::Votes => IDLE_TIMEOUT,
            Channel::Bulk => Duration::MAX,
        };
        let Ok(received) = tokio::time::timeout(idle, conn.recv()).await else {
            tracing::info!(
                peer = from.0,
                "node {} sent nothing for {IDLE_TIMEOUT:?}: closing its connection",
                from.0
            );
            return;
        };
        let bytes = match received {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(peer = from.0, "connection from node {} failed: {e}", from.0);
                return;
            }
        };
        let frame = match colony_node::wire::decode_frame(&bytes) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(
                    peer = from.0,
                    "node {} sent a frame that does not decode: {e}",
                    from.0
                );
                return;
            }
        };
        Metrics::add(&metrics.frames_received, 1);
        // A full inbox drops the frame, as a network would; a stopped node ends the connection.
        if offer(&inbox, Command::Peer { from, frame }) == Err(NotTaken::Stopped) {
            return;
        }
    }
}
